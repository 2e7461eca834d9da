// SPDX-License-Identifier: MIT
// FC-NTK Gram matrix vs the bare GEMM it is built on, and one KIP step.
//
//   BM_Gemm/n1/n2/d          X1·X2ᵀ alone (the backend GEMM): 2·n1·n2·d flops
//   BM_FcNtkGram/n1/n2/d     the depth-3 NTK Gram matrix: the same GEMM + one fused elementwise pass.
//                            GFLOPS counts the GEMM's 2·n1·n2·d only, so GFLOPS(gram)/GFLOPS(gemm) is the fraction
//                            of the GEMM's speed that the whole kernel keeps (the "within 1.3× of the GEMM").
//   BM_FcNtkVjp/n1/n2/d      gram_vjp w.r.t. X2 (what KIP needs for K_ts), with the dots cached.
//   BM_KipStep/n/m           kip_loss_and_grad + Adam on n support × m targets (784 features, depth-3 NTK);
//                            flops: forward GEMM 2mnd + backward GEMM 2mnd (the n×n part is negligible).
//   BM_FcNtkGram/10000/60000/784 is the full MNIST test-vs-train matrix (2.4 GB of output), timed once; its GEMM
//   alone is BM_Gemm/10000/60000/784. Skip both with --benchmark_filter='-/60000' for a quick run.
// Every GFLOPS counter comes with fraction_of_peak: the float GEMM peak measured in this same run.
#include <benchmark/benchmark.h>

#include "../bench_gemm_peak.cpp"

#include "distill/kernels.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/synthetic/kip.hpp"

namespace dk = distill::kernels;
using Eigen32 = distill::EigenBackend<float>;
#if DISTILL_HAS_XTENSOR
using Xt32 = distill::XtensorBackend<float>;
#endif
using distill::Tensor;

namespace {
Tensor<float> random_tensor(distill::Shape shape, std::uint64_t seed) {
  Tensor<float> t(shape);
  distill::Rng rng(seed);
  Eigen32::random_normal(rng, t.data(), t.size(), 0.0f, 1.0f);
  return t;
}
void set_gflops(benchmark::State& state, double flops) { distill::bench::report_flops(state, flops); }
}  // namespace

template <class B>
static void BM_Gemm(benchmark::State& state) {
  const auto n1 = std::size_t(state.range(0)), n2 = std::size_t(state.range(1)), d = std::size_t(state.range(2));
  const auto a = random_tensor({n1, d}, 1), b = random_tensor({n2, d}, 2);
  for (auto _ : state) {
    auto k = dk::detail::dot_products<B>(a, b);
    benchmark::DoNotOptimize(k.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(n1) * double(n2) * double(d));
}

template <class B>
static void BM_FcNtkGram(benchmark::State& state) {
  const auto n1 = std::size_t(state.range(0)), n2 = std::size_t(state.range(1)), d = std::size_t(state.range(2));
  const auto a = random_tensor({n1, d}, 1), b = random_tensor({n2, d}, 2);
  const dk::FcNtk k{.depth = 3};
  for (auto _ : state) {
    auto g = k.gram<B>(a, b);
    benchmark::DoNotOptimize(g.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(n1) * double(n2) * double(d));
}

template <class B>
static void BM_FcNtkVjp(benchmark::State& state) {
  const auto n1 = std::size_t(state.range(0)), n2 = std::size_t(state.range(1)), d = std::size_t(state.range(2));
  const auto a = random_tensor({n1, d}, 1), b = random_tensor({n2, d}, 2), g = random_tensor({n1, n2}, 3);
  const dk::FcNtk k{.depth = 3};
  dk::GramCache<float> cache;
  (void)k.gram<B>(a, b, &cache);
  for (auto _ : state) {
    auto v = k.gram_vjp<B>(a, b, g, dk::VjpWrt::second, &cache);
    benchmark::DoNotOptimize(v.dx2.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(n1) * double(n2) * double(d));
}

template <class B>
static void BM_KipStep(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), m = std::size_t(state.range(1)), d = 784, c = 10;
  auto xs = random_tensor({n, d}, 1);
  const auto xt = random_tensor({m, d}, 2);
  Tensor<float> ys({n, c}, -0.1f), yt({m, c}, -0.1f);
  for (std::size_t i = 0; i < n; ++i) ys[i * c + i % c] += 1.0f;
  for (std::size_t i = 0; i < m; ++i) yt[i * c + i % c] += 1.0f;
  const dk::FcNtk k{.depth = 3};
  const distill::nn::Adam adam{.lr = 0.01};
  distill::nn::Adam::State<float> st;
  for (auto _ : state) {
    auto lg = distill::synthetic::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-6);
    adam.step(st, {&xs}, {&lg.d_support});
    benchmark::DoNotOptimize(xs.data());
  }
  set_gflops(state, 4.0 * double(n) * double(m) * double(d));
}

// Both backends: the same kernel code over Eigen's GEMM and over xtensor-blas (OpenBLAS).
#define DISTILL_KERNEL_BENCHMARKS(B)                                                                                    \
  BENCHMARK_TEMPLATE(BM_Gemm, B)->Args({2000, 10000, 784})->Args({5000, 100, 784})->Unit(benchmark::kMillisecond)->UseRealTime();      \
  BENCHMARK_TEMPLATE(BM_FcNtkGram, B)->Args({2000, 10000, 784})->Args({5000, 100, 784})->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_TEMPLATE(BM_Gemm, B)->Args({10000, 60000, 784})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();              \
  BENCHMARK_TEMPLATE(BM_FcNtkGram, B)->Args({10000, 60000, 784})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();         \
  BENCHMARK_TEMPLATE(BM_FcNtkVjp, B)->Args({5000, 100, 784})->Unit(benchmark::kMillisecond)->UseRealTime();                            \
  BENCHMARK_TEMPLATE(BM_KipStep, B)->Args({100, 5000})->Args({10, 5000})->Unit(benchmark::kMillisecond)->UseRealTime()
DISTILL_KERNEL_BENCHMARKS(Eigen32);
#if DISTILL_HAS_XTENSOR
DISTILL_KERNEL_BENCHMARKS(Xt32);
#endif
DISTILL_BENCHMARK_MAIN();
