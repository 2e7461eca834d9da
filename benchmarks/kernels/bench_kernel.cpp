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
//   BM_RfadStep/n/m/generic  one RFAD step (KIP with the features of 2 random width-64 ConvNet-3s, Platt-scaled
//                            cross-entropy) on n support × m target MNIST-sized images: generic = 0 is the feature
//                            path (each net once per batch), 1 the generic path through gram()/gram_vjp() (the same
//                            kernel behind a wrapper). Flops: per net, the targets' forward (2·MACs) and the
//                            support's forward and input-gradient backward (4·MACs); the Gram GEMMs are < 1 %.
// Every GFLOPS counter comes with fraction_of_peak: the float GEMM peak measured in this same run.
#include <benchmark/benchmark.h>

#include "../bench_gemm_peak.cpp"

#include "distill/kernels.hpp"
#include "distill/nn/models.hpp"
#include "distill/nn/optimizers.hpp"
#include "../net_flops.hpp"
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

namespace {
// A kernel seen only through the Kernel interface (no feature maps), so KIP takes its generic path.
template <class K>
struct GramOnly {
  K k;
  template <class B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& a, const Tensor<typename B::Scalar>& b,
                                  dk::GramCache<typename B::Scalar>* = nullptr) const {
    return k.template gram<B>(a, b);
  }
  template <class B>
  dk::GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& a, const Tensor<typename B::Scalar>& b,
                                           const Tensor<typename B::Scalar>& g, dk::VjpWrt wrt = dk::VjpWrt::both,
                                           const dk::GramCache<typename B::Scalar>* = nullptr) const {
    return k.template gram_vjp<B>(a, b, g, wrt);
  }
};
}  // namespace

template <class B>
static void BM_RfadStep(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), m = std::size_t(state.range(1)), c = 10, width = 64, nets = 2;
  auto xs = random_tensor({n, 1, 28, 28}, 1);
  const auto xt = random_tensor({m, 1, 28, 28}, 2);
  Tensor<float> ys({n, c}, -0.1f), yt({m, c}, -0.1f);
  for (std::size_t i = 0; i < n; ++i) ys[i * c + i % c] += 1.0f;
  for (std::size_t i = 0; i < m; ++i) yt[i * c + i % c] += 1.0f;
  dk::EmpiricalFeatureKernel<distill::nn::ConvNet> k{.model = {.width = width}, .inits = nets};
  const distill::synthetic::KipObjective ce{.kind = distill::synthetic::KipObjective::Kind::cross_entropy,
                                           .temperature = 0.1};
  const distill::nn::Adam adam{.lr = 0.01};
  distill::nn::Adam::State<float> st;
  std::uint64_t step = 0;
  for (auto _ : state) {
    k.resample(++step);
    auto lg = state.range(2) ? distill::synthetic::kip_loss_and_grad<B>(GramOnly<decltype(k)>{k}, xs, ys, xt, yt, 1e-6, ce)
                             : distill::synthetic::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-6, ce);
    adam.step(st, {&xs}, {&lg.d_support});
    benchmark::DoNotOptimize(xs.data());
  }
  namespace db = distill::bench;
  auto macs = [&](double images) {
    return db::conv_macs(images, 1, width, 28, 3) + db::conv_macs(images, width, width, 14, 3) +
           db::conv_macs(images, width, width, 7, 3);
  };
  set_gflops(state, double(nets) * (2 * macs(double(m)) + 4 * macs(double(n))));
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
BENCHMARK_TEMPLATE(BM_RfadStep, Eigen32)->Args({100, 500, 0})->Args({100, 500, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
#if DISTILL_HAS_XTENSOR
DISTILL_KERNEL_BENCHMARKS(Xt32);
#endif
DISTILL_BENCHMARK_MAIN();
