// SPDX-License-Identifier: MIT
// Elementwise maps and reductions of each backend: memory-bound, so the counter that matters is GB/s
// (bytes read + written per second); GFLOPS counts one flop per element (transcendentals as one).
//
// Run: ./bench_elementwise --benchmark_min_time=0.05
#include <benchmark/benchmark.h>

#include <vector>

#include "../bench_gemm_peak.cpp"
#include "distill/core.hpp"

namespace dd = distill;

namespace {

void set_bandwidth(benchmark::State& state, double bytes) {
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

template <class B>
std::vector<typename B::Scalar> random_buffer(std::size_t n, double lo, double hi, std::uint64_t seed) {
  using T = typename B::Scalar;
  std::vector<T> v(n);
  dd::Rng rng(seed);
  B::random_uniform(rng, v.data(), n, T(lo), T(hi));
  return v;
}

// y = f(x): reads n, writes n.
template <class B, dd::UnaryOp Op>
void BM_unary(benchmark::State& state) {
  using T = typename B::Scalar;
  const auto n = std::size_t(state.range(0));
  const auto x = random_buffer<B>(n, -3, 3, 1);
  std::vector<T> y(n);
  for (auto _ : state) {
    B::unary(Op, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bandwidth(state, 2.0 * double(n) * sizeof(T));
  dd::bench::report_flops(state, double(n));
}

// y = a ∘ b: reads 2n, writes n.
template <class B, dd::BinaryOp Op>
void BM_binary(benchmark::State& state) {
  using T = typename B::Scalar;
  const auto n = std::size_t(state.range(0));
  const auto a = random_buffer<B>(n, -3, 3, 1), b = random_buffer<B>(n, 0.5, 3, 2);
  std::vector<T> y(n);
  for (auto _ : state) {
    B::binary(Op, a.data(), b.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bandwidth(state, 3.0 * double(n) * sizeof(T));
  dd::bench::report_flops(state, double(n));
}

// Column sums of an [n/256 × 256] matrix (reduce over the middle axis of [1, n/256, 256], as a batch sum
// does) and the full sum ([1, n, 1]): reads n.
template <class B>
void BM_reduce_sum(benchmark::State& state) {
  using T = typename B::Scalar;
  const auto n = std::size_t(state.range(0));
  const std::size_t inner = state.range(1) ? 256 : 1, len = n / inner;
  const auto x = random_buffer<B>(len * inner, -1, 1, 3);
  std::vector<T> y(inner);
  for (auto _ : state) {
    B::reduce(dd::ReduceOp::sum, x.data(), y.data(), 1, len, inner);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bandwidth(state, double(len * inner) * sizeof(T));
  dd::bench::report_flops(state, double(len * inner));
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("n");
  b->Arg(1000000)->Arg(10000000);
}
void reduce_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "columns"});
  for (long n : {1000000, 10000000}) b->Args({n, 0})->Args({n, 1});
}

}  // namespace

#define DISTILL_ELEMENTWISE_BENCHMARKS(Backend)                                                                   \
  BENCHMARK_TEMPLATE(BM_unary, Backend, dd::UnaryOp::exp)->Apply(sizes)->UseRealTime()->Unit(benchmark::kMicrosecond);   \
  BENCHMARK_TEMPLATE(BM_unary, Backend, dd::UnaryOp::tanh)->Apply(sizes)->UseRealTime()->Unit(benchmark::kMicrosecond);  \
  BENCHMARK_TEMPLATE(BM_binary, Backend, dd::BinaryOp::add)->Apply(sizes)->UseRealTime()->Unit(benchmark::kMicrosecond); \
  BENCHMARK_TEMPLATE(BM_binary, Backend, dd::BinaryOp::mul)->Apply(sizes)->UseRealTime()->Unit(benchmark::kMicrosecond); \
  BENCHMARK_TEMPLATE(BM_reduce_sum, Backend)->Apply(reduce_sizes)->UseRealTime()->Unit(benchmark::kMicrosecond)

#if DISTILL_HAS_EIGEN
DISTILL_ELEMENTWISE_BENCHMARKS(dd::EigenBackend<float>);
DISTILL_ELEMENTWISE_BENCHMARKS(dd::EigenBackend<double>);
#endif
#if DISTILL_HAS_XTENSOR
DISTILL_ELEMENTWISE_BENCHMARKS(dd::XtensorBackend<float>);
DISTILL_ELEMENTWISE_BENCHMARKS(dd::XtensorBackend<double>);
#endif

DISTILL_BENCHMARK_MAIN();
