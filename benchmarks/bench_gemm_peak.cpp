// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
//
// The machine's measured GEMM peak, for "fraction of peak" counters (xtensor's math_ref vs math_xtensor
// pairing; Eigen's benchmarks report GFLOPS). Included by each benchmark source:
//
//   #include "../bench_gemm_peak.cpp"
//   ...
//   distill::bench::report_flops(state, 2.0 * m * n * k);   // GFLOPS and fraction_of_peak counters
//   ...
//   DISTILL_BENCHMARK_MAIN();                                 // or BENCHMARK_MAIN(): the peak is then lazy
//
// The peak is the best GFLOP/s that any shipped backend's *float* GEMM reaches on large squares (1024, 2048),
// measured once per process, in the same run as the benchmarks that compare against it, with the same
// threads. Set DISTILL_GEMM_PEAK_GFLOPS=<number> to skip the measurement (e.g. to compare runs on one machine).
// fraction_of_peak is a ratio; Google Benchmark prints it with a "/s" suffix because it is computed as a rate.
//
// `--profile` (taken off the command line before Google Benchmark sees it) makes benchmarks that call
// profile_passes() run a few extra, untimed passes under an ad::Profile and print where the time goes per op kind
// (calls, ms, share, MB and GB/s at the op's boundary) to stderr; the timed loop itself runs unprofiled.
#ifndef DISTILL_BENCHMARKS_BENCH_GEMM_PEAK_CPP
#define DISTILL_BENCHMARKS_BENCH_GEMM_PEAK_CPP

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "distill/autodiff/tape.hpp"
#include "distill/core.hpp"

namespace distill::bench {

struct GemmPeak {
  double gflops = 0;              //!< best float GEMM GFLOP/s measured on this machine
  std::string_view backend = "";  //!< which backend reached it
  std::size_t n = 0;              //!< at which square size
  bool from_environment = false;  //!< true when DISTILL_GEMM_PEAK_GFLOPS supplied it
};

namespace detail {

//! Best GFLOP/s of backend B's float GEMM for an n×n×n product: best of a few repetitions after a warm-up.
template <class B>
double square_gemm_gflops(std::size_t n) {
  using T = typename B::Scalar;
  Tensor<T> a({n, n}), b({n, n}), c({n, n});
  Rng rng(1);
  B::random_uniform(rng, a.data(), a.size(), T(-1), T(1));
  B::random_uniform(rng, b.data(), b.size(), T(-1), T(1));
  const Gemm<T> g{.m = n, .n = n, .k = n, .a = a.data(), .lda = n, .b = b.data(), .ldb = n, .c = c.data(), .ldc = n};
  B::gemm(g);  // warm-up: thread pools, page faults, caches
  using Clock = std::chrono::steady_clock;
  double best = 0;
  const auto start = Clock::now();
  // At least 3 repetitions and about 0.25 s per size: enough for a stable best-of without a long wait.
  for (int rep = 0; rep < 3 || (rep < 50 && Clock::now() - start < std::chrono::milliseconds(250)); ++rep) {
    const auto t0 = Clock::now();
    B::gemm(g);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, gemm_flops(g) / s / 1e9);
  }
  return best;
}

inline GemmPeak measure_gemm_peak() {
  GemmPeak peak;
  if (const char* env = std::getenv("DISTILL_GEMM_PEAK_GFLOPS")) {
    const double v = std::strtod(env, nullptr);
    if (v > 0) return {.gflops = v, .backend = "environment", .n = 0, .from_environment = true};
    std::fprintf(stderr, "distill: ignoring DISTILL_GEMM_PEAK_GFLOPS=%s (not a positive number)\n", env);
  }
  auto consider = [&](double gflops, std::string_view name, std::size_t n) {
    if (gflops > peak.gflops) peak = {.gflops = gflops, .backend = name, .n = n};
  };
  for (std::size_t n : {std::size_t(1024), std::size_t(2048)}) {
#if DISTILL_HAS_EIGEN
    consider(square_gemm_gflops<EigenBackend<float>>(n), EigenBackend<float>::name, n);
#endif
#if DISTILL_HAS_XTENSOR
    consider(square_gemm_gflops<XtensorBackend<float>>(n), XtensorBackend<float>::name, n);
#endif
  }
  return peak;
}

}  // namespace detail

//! The measured peak (measured on the first call; later calls return the same value).
inline const GemmPeak& gemm_peak() {
  static const GemmPeak peak = [] {
    GemmPeak p = detail::measure_gemm_peak();
    if (p.from_environment)
      std::fprintf(stderr, "distill: float GEMM peak %.1f GFLOP/s (from DISTILL_GEMM_PEAK_GFLOPS)\n", p.gflops);
    else
      std::fprintf(stderr, "distill: float GEMM peak %.1f GFLOP/s (%.*s, n = %zu)\n", p.gflops,
                   int(p.backend.size()), p.backend.data(), p.n);
    return p;
  }();
  return peak;
}

//! Best float GEMM GFLOP/s of this machine.
inline double gemm_peak_gflops() { return gemm_peak().gflops; }

/**
 * Sets the counters every distill benchmark reports, for `flops` floating-point operations per iteration:
 * GFLOPS (shown as e.g. "52.1G/s") and fraction_of_peak (this benchmark's GFLOP/s / gemm_peak_gflops()).
 * Use ->UseRealTime() on benchmarks whose kernels are multi-threaded, so that rates divide by wall time.
 */
inline void report_flops(benchmark::State& state, double flops) {
  state.counters["GFLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
  state.counters["fraction_of_peak"] =
      benchmark::Counter(flops / (gemm_peak_gflops() * 1e9), benchmark::Counter::kIsIterationInvariantRate);
}

//! Measures the peak before any benchmark runs and records it in the run's context (JSON output too).
inline void add_peak_to_context() {
  const auto& p = gemm_peak();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", p.gflops);
  benchmark::AddCustomContext("gemm_peak_gflops", buf);
  benchmark::AddCustomContext("gemm_peak_backend", std::string(p.backend));
}

//! True when the command line asked for --profile.
inline bool& profile_requested() {
  static bool on = false;
  return on;
}

//! Removes `--profile` from argv (Google Benchmark rejects flags it does not know) and remembers it.
inline void take_profile_flag(int* argc, char** argv) {
  int kept = 0;
  for (int i = 0; i < *argc; ++i) {
    if (std::strcmp(argv[i], "--profile") == 0)
      profile_requested() = true;
    else
      argv[kept++] = argv[i];
  }
  *argc = kept;
}

/**
 * With --profile, runs `step` `passes` more times under an ad::Profile and prints the per-op table to stderr, once
 * per `name` (Google Benchmark calls a benchmark function several times). Without it, does nothing.
 */
template <class Step>
void profile_passes(const std::string& name, Step&& step, int passes = 3) {
  static std::set<std::string> printed;
  if (!profile_requested() || !printed.insert(name).second) return;
  ad::Profile profile;
  {
    const ad::ProfileScope scope(profile);
    for (int i = 0; i < passes; ++i) {
      step();
      profile.lap("(after the last tape event)", 0);  // freeing the tape, untaped work at the end of the pass
    }
  }
  profile.print(stderr, double(passes), name.c_str());
}

}  // namespace distill::bench

/// BENCHMARK_MAIN() that measures the GEMM peak first, so that it is not measured in the middle of a run.
#define DISTILL_BENCHMARK_MAIN()                                          \
  int main(int argc, char** argv) {                                       \
    ::distill::bench::take_profile_flag(&argc, argv);                     \
    ::benchmark::Initialize(&argc, argv);                                 \
    if (::benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;   \
    ::distill::bench::add_peak_to_context();                              \
    ::benchmark::RunSpecifiedBenchmarks();                                \
    ::benchmark::Shutdown();                                              \
    return 0;                                                             \
  }                                                                       \
  int main(int, char**)

#endif  // DISTILL_BENCHMARKS_BENCH_GEMM_PEAK_CPP
