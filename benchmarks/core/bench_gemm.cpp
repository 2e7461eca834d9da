// SPDX-License-Identifier: MIT
// GEMM of each backend and precision over the shapes distill's methods run: squares, and the tall-skinny
// products of MNIST-sized training (a dense layer over 60000 images, an im2col convolution, a classifier,
// and a weight gradient Xᵀ·G; the layers of the knowledge-distillation nets). The naive reference GEMM at a small
// size is the baseline; Eigen's own product is the baseline of EigenBackend<float>'s packed AVX-512 kernel.
//
// Run: ./bench_gemm --benchmark_min_time=0.05      (counters: GFLOPS, fraction_of_peak)
#include <benchmark/benchmark.h>

#include "../bench_gemm_peak.cpp"
#include "distill/core.hpp"
#include "distill/core/detail/reference_kernels.hpp"

namespace dd = distill;

namespace {

// One GEMM C[m×n] = op(A)·op(B), dense leading dimensions. Flops per iteration: 2·m·n·k.
template <class B>
void BM_gemm(benchmark::State& state) {
  using T = typename B::Scalar;
  const auto m = std::size_t(state.range(0)), n = std::size_t(state.range(1)), k = std::size_t(state.range(2));
  const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  dd::Tensor<T> a(ta ? dd::Shape{k, m} : dd::Shape{m, k}), b(tb ? dd::Shape{n, k} : dd::Shape{k, n}), c({m, n});
  dd::Rng rng(0);
  B::random_uniform(rng, a.data(), a.size(), T(-1), T(1));
  B::random_uniform(rng, b.data(), b.size(), T(-1), T(1));
  const dd::Gemm<T> g{.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .a = a.data(), .lda = ta ? m : k,
                      .b = b.data(), .ldb = tb ? k : n, .c = c.data(), .ldc = n};
  for (auto _ : state) {
    B::gemm(g);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  dd::bench::report_flops(state, dd::gemm_flops(g));
}

#if DISTILL_HAS_EIGEN
// Eigen's own product: on AVX-512 targets EigenBackend<float>::gemm runs distill's packed kernel
// (core/detail/packed_gemm.hpp) instead, and this is the baseline it is measured against, in the same run.
struct EigenProductFloat : dd::EigenBackend<float> {
  static void gemm(const dd::Gemm<float>& g) { eigen_product(g); }
};
#endif

// The obviously-correct triple loop (double accumulation): the baseline the backends are measured against.
template <class T>
void BM_reference_gemm(benchmark::State& state) {
  const auto s = std::size_t(state.range(0));
  dd::Tensor<T> a({s, s}), b({s, s}), c({s, s});
  dd::Rng rng(0);
  dd::detail::random_uniform_loop(rng, a.data(), a.size(), T(-1), T(1));
  dd::detail::random_uniform_loop(rng, b.data(), b.size(), T(-1), T(1));
  const dd::Gemm<T> g{.m = s, .n = s, .k = s, .a = a.data(), .lda = s, .b = b.data(), .ldb = s, .c = c.data(), .ldc = s};
  for (auto _ : state) {
    dd::detail::reference_gemm(g);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  dd::bench::report_flops(state, dd::gemm_flops(g));
}

// {m, n, k, trans_a, trans_b}
void gemm_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "ta", "tb"});
  for (long s : {256, 512, 1024, 2048}) b->Args({s, s, s, 0, 0});
  b->Args({1024, 1024, 1024, 1, 0});     // Aᵀ·B
  b->Args({1024, 1024, 1024, 0, 1});     // A·Bᵀ
  b->Args({60000, 64, 784, 0, 0});       // MNIST through a 784→64 dense layer
  b->Args({784, 64, 60000, 1, 0});       // its weight gradient Xᵀ·G (k = batch)
  b->Args({50176, 128, 1152, 0, 0});     // im2col conv: 64 images·28·28 positions, 128 filters, 3·3·128 taps
  b->Args({10000, 10, 784, 0, 0});       // linear classifier on the 10000 test images
  b->Args({10000, 10000, 64, 0, 1});     // a kernel matrix X·Xᵀ of 64-d features (KIP, k-center)
  // The knowledge-distillation nets at batch 128 (784-1200-1200-10 teacher, 784-800-800-10 student):
  b->Args({128, 1200, 784, 0, 1});       // forward X·Wᵀ of the teacher's first layer
  b->Args({128, 1200, 1200, 0, 1});      // ... and its second
  b->Args({128, 800, 800, 0, 1});        // the student's second layer
  b->Args({800, 784, 128, 1, 0});        // the student's first weight gradient Gᵀ·X
  b->Args({128, 800, 800, 0, 0});        // an input gradient G·W
}

}  // namespace

#if DISTILL_HAS_EIGEN
BENCHMARK_TEMPLATE(BM_gemm, dd::EigenBackend<float>)->Apply(gemm_sizes)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_gemm, EigenProductFloat)->Apply(gemm_sizes)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_gemm, dd::EigenBackend<double>)->Apply(gemm_sizes)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
#if DISTILL_HAS_XTENSOR
BENCHMARK_TEMPLATE(BM_gemm, dd::XtensorBackend<float>)->Apply(gemm_sizes)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_gemm, dd::XtensorBackend<double>)->Apply(gemm_sizes)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
BENCHMARK_TEMPLATE(BM_reference_gemm, float)->Arg(128)->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_reference_gemm, double)->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);

DISTILL_BENCHMARK_MAIN();
