// SPDX-License-Identifier: MIT
// One outer step of unrolled-GD dataset distillation at the paper's MNIST fixed-init setting (Wang et al. 2018):
// LeNet, 10 synthetic images (one per class), 1 step × 3 epochs, a real minibatch of 1024, SGD inner update.
// Times the exact hypergradient (unrolled_hypergradient, both memory modes, both backends) and reports GFLOP/s and
// the fraction of the machine's float GEMM peak measured in the same run.
//
//   build/benchmarks/synthetic/bench_unrolled_step --benchmark_counters_tabular=true
//   build/benchmarks/synthetic/bench_unrolled_step --profile   (+ where an outer step's time goes, per op kind)
//
// The PyTorch reference for the same step is benchmarks/pytorch_unrolled_reference.py.
//
// Flops counted (convolutions and linear layers only, as in bench_nets):
//   the outer loss: forward of the real batch through θ_{T·E} and its backward to θ_{T·E}   lenet_flops(R)
//   each inner step: forward + backward on the n synthetic images (with create_graph)       lenet_flops(n)
//                    and the reverse pass through that graph to θ, x̃ and η̃, which does two
//                    products for every product of the step                                2 · lenet_flops(n)
// With R = 1024 and n = 10 the outer loss is 92 % of the count. The inner count is a slight lower bound (the
// first layer's input gradient toward x̃ is not in lenet_flops), so the fraction of the peak is too.
#include <benchmark/benchmark.h>

#include <cmath>

#include "../bench_gemm_peak.cpp"
#include "../net_flops.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/unrolled_gd.hpp"

namespace syn = distill::synthetic;
using Eigen32 = distill::EigenBackend<float>;
#if DISTILL_HAS_XTENSOR
using Xt32 = distill::XtensorBackend<float>;
#endif
using T = float;

namespace {

constexpr std::size_t kClasses = 10, kRealBatch = 1024, kSteps = 1, kEpochs = 3;

double outer_step_flops(double synthetic_images, double inner_steps, double real_batch) {
  return distill::bench::lenet_flops(real_batch) + inner_steps * 3 * distill::bench::lenet_flops(synthetic_images);
}

template <class B>
void BM_unrolled_outer_step(benchmark::State& state) {
  const auto memory = state.range(0) == 0 ? syn::Memory::full : syn::Memory::recompute;
  const distill::nn::LeNet model{};
  distill::Rng rng(0);
  const auto theta0 = model.init<B>(rng);
  std::vector<std::int64_t> labels(kClasses), real_y(kRealBatch);
  for (std::size_t c = 0; c < kClasses; ++c) labels[c] = std::int64_t(c);
  for (std::size_t i = 0; i < kRealBatch; ++i) real_y[i] = std::int64_t(i % kClasses);
  auto real_x = distill::Tensor<T>::empty({kRealBatch, 1, 28, 28});
  B::random_normal(rng, real_x.data(), real_x.size(), T(0), T(1));
  std::vector<distill::Tensor<T>> images;
  for (std::size_t t = 0; t < kSteps; ++t) {
    images.push_back(distill::Tensor<T>::empty({kClasses, 1, 28, 28}));
    B::random_normal(rng, images.back().data(), images.back().size(), T(0), T(1));
  }
  syn::UnrolledGdResult<T> set;
  set.images = images, set.labels = labels, set.steps = kSteps, set.epochs = kEpochs, set.classes = kClasses;
  set.log_lr = distill::Tensor<T>({kSteps * kEpochs}, T(std::log(0.02)));
  auto step = [&] {
    const auto hg = syn::unrolled_hypergradient<B>(model, {.set = set, .theta0 = theta0, .real_x = real_x,
                                                           .real_y = real_y, .memory = memory});
    benchmark::DoNotOptimize(hg.d_images[0].data());
    benchmark::ClobberMemory();
  };
  step();  // fills the buffer pool, as the first outer step of a run does
  for (auto _ : state) step();
  distill::bench::profile_passes(std::string("unrolled-GD outer step, ") +
                                     (memory == syn::Memory::full ? "full memory" : "recompute") + " (" +
                                     std::string(B::name) + ")",
                                 step);
  distill::bench::report_flops(state, outer_step_flops(double(kClasses), double(kSteps * kEpochs), double(kRealBatch)));
}

}  // namespace

BENCHMARK_TEMPLATE(BM_unrolled_outer_step, Eigen32)->ArgName("recompute")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
#if DISTILL_HAS_XTENSOR
BENCHMARK_TEMPLATE(BM_unrolled_outer_step, Xt32)->ArgName("recompute")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
DISTILL_BENCHMARK_MAIN();
