// SPDX-License-Identifier: MIT
// Forward + backward throughput of the evaluation nets (LeNet, ConvNet-3) at batch 256 on MNIST-sized input,
// float, both backends (Eigen; xtensor with OpenBLAS): images/s and GFLOP/s, with a GEMM of ConvNet-3's biggest layer as the peak reference;
// and each pass of ConvNet-3's 128-channel layers by conv2d's own path (Winograd) and by im2col + GEMM.
//
//   build/benchmarks/nn/bench_nets --benchmark_counters_tabular=true   (prints the float GEMM peak it compares to)
//   build/benchmarks/nn/bench_nets --profile --benchmark_filter=train_step   (+ where a train step's time goes, per op)
//
// The PyTorch reference is benchmarks/pytorch_reference.py (same nets, same batch).
#include <benchmark/benchmark.h>

#include "../bench_gemm_peak.cpp"
#include "../net_flops.hpp"
#include "distill/nn.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using Eigen32 = distill::EigenBackend<float>;
#if DISTILL_HAS_XTENSOR
using Xt32 = distill::XtensorBackend<float>;
#endif
using T = float;

namespace {

using distill::bench::conv_macs;
using distill::bench::convnet3_flops;
using distill::bench::lenet_flops;

template <class B, class M>
void train_step_bench(benchmark::State& state, const M& model, double flops, const char* label) {
  const std::size_t n = std::size_t(state.range(0));
  distill::Rng rng(0);
  const auto params = model.template init<B>(rng);
  auto x = distill::Tensor<T>::empty({n, 1, 28, 28});
  B::random_uniform(rng, x.data(), x.size(), T(0), T(1));
  std::vector<std::int64_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = std::int64_t(i % 10);
  auto step = [&] {
    ad::Tape<B> tape;
    const auto vars = nn::variables(tape, params);
    const auto loss = nn::cross_entropy(model.template forward<B>(vars, ad::Var<B>(x)), labels);
    const auto grads = ad::grad(loss, vars);
    benchmark::DoNotOptimize(grads.back().value().data());
    benchmark::ClobberMemory();
  };
  // One untimed step first: it fills the buffer pool, as the first step of any training run does, so the loop
  // measures the steady state that training runs in (a cold step also pays a page fault per 4 KiB).
  step();
  for (auto _ : state) step();
  distill::bench::profile_passes(std::string(label) + " train step, batch " + std::to_string(n) + " (" +
                                     std::string(B::name) + ")",
                                 step);
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  state.counters["images/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
  distill::bench::report_flops(state, flops);  // GFLOPS and fraction_of_peak (the machine's float GEMM peak)
}

template <class B>
void BM_LeNet_train_step(benchmark::State& state) {
  train_step_bench<B>(state, nn::LeNet{}, lenet_flops(double(state.range(0))), "LeNet");
}
template <class B>
void BM_ConvNet3_train_step(benchmark::State& state) {
  train_step_bench<B>(state, nn::ConvNet{}, convnet3_flops(double(state.range(0))), "ConvNet-3");
}

// Forward only, for comparison with the PyTorch figure (≈1.2 s per 256-image forward).
template <class B>
void BM_ConvNet3_forward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  const nn::ConvNet model{};
  distill::Rng rng(0);
  const auto params = model.template init<B>(rng);
  auto x = distill::Tensor<T>::empty({n, 1, 28, 28});
  B::random_uniform(rng, x.data(), x.size(), T(0), T(1));
  (void)nn::predict<B>(model, params, x);  // untimed warm-up, as in train_step_bench
  for (auto _ : state) {
    const auto logits = nn::predict<B>(model, params, x);
    benchmark::DoNotOptimize(logits.data());
  }
  const double fwd = 2 * (conv_macs(double(n), 1, 128, 28, 3) + conv_macs(double(n), 128, 128, 14, 3) +
                          conv_macs(double(n), 128, 128, 7, 3) + double(n) * 1152 * 10);
  state.counters["images/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
  distill::bench::report_flops(state, fwd);
}

// One pass of one of ConvNet-3's 128 → 128 layers at batch 256 (range(0): the map size, 14 or 7; range(1): 0 forward,
// 1 input gradient, 2 weight gradient), by the path conv2d picks (Winograd) or by im2col + GEMM, for the ratio.
template <class B, ad::detail::ConvPath Path>
void BM_conv_pass(benchmark::State& state) {
  const std::size_t n = 256, c = 128, hw = std::size_t(state.range(0));
  const int pass = int(state.range(1));
  distill::Rng rng(0);
  auto x = distill::Tensor<T>::empty({n, c, hw, hw}), dy = distill::Tensor<T>::empty({n, c, hw, hw});
  auto w = distill::Tensor<T>::empty({c, c, 3, 3});
  for (auto* t : {&x, &dy, &w}) B::random_uniform(rng, t->data(), t->size(), T(-1), T(1));
  const distill::ConvGeometry g{n, c, hw, hw, 3, 3, 1, 1, 1, 1};
  auto run = [&] {
    distill::Tensor<T> out = pass == 0   ? ad::detail::conv_forward<B>(x, w, g, nullptr, Path)
                             : pass == 1 ? ad::detail::conv_input_grad<B>(dy, w, g, Path)
                                         : ad::detail::conv_weight_grad<B>(x, dy, g, w.shape(), Path);
    benchmark::DoNotOptimize(out.data());
  };
  run();  // warm the buffer pool
  for (auto _ : state) run();
  state.SetLabel(pass == 0 ? "forward" : pass == 1 ? "input grad" : "weight grad");
  distill::bench::report_flops(state, 2 * conv_macs(double(n), double(c), double(c), double(hw), 3));
}

// The GEMM peak reference: ConvNet-3's second convolution as one GEMM, [128 × 1152] · [1152 × 196·n/8].
template <class B>
void BM_gemm_reference(benchmark::State& state) {
  const std::size_t m = 128, k = 1152, n = 196 * 32;
  distill::Rng rng(0);
  auto a = distill::Tensor<T>::empty({m, k}), b = distill::Tensor<T>::empty({k, n}), c = distill::Tensor<T>::empty({m, n});
  B::random_uniform(rng, a.data(), a.size(), T(-1), T(1));
  B::random_uniform(rng, b.data(), b.size(), T(-1), T(1));
  const distill::Gemm<T> g{false, false, m, n, k, T(1), a.data(), k, b.data(), n, T(0), c.data(), n};
  for (auto _ : state) {
    B::gemm(g);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  distill::bench::report_flops(state, distill::gemm_flops(g));
}

}  // namespace

#define DISTILL_NET_BENCHMARKS(B)                                                                        \
  BENCHMARK_TEMPLATE(BM_gemm_reference, B)->Unit(benchmark::kMillisecond)->UseRealTime();                \
  BENCHMARK_TEMPLATE(BM_LeNet_train_step, B)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();    \
  BENCHMARK_TEMPLATE(BM_ConvNet3_forward, B)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();    \
  BENCHMARK_TEMPLATE(BM_ConvNet3_train_step, B)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();   \
  BENCHMARK_TEMPLATE(BM_conv_pass, B, ad::detail::ConvPath::automatic)                                   \
      ->ArgsProduct({{14, 7}, {0, 1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();                \
  BENCHMARK_TEMPLATE(BM_conv_pass, B, ad::detail::ConvPath::im2col)                                      \
      ->ArgsProduct({{14, 7}, {0, 1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime()
DISTILL_NET_BENCHMARKS(Eigen32);
#if DISTILL_HAS_XTENSOR
DISTILL_NET_BENCHMARKS(Xt32);
#endif
DISTILL_BENCHMARK_MAIN();
