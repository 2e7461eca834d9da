// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_RNG_HPP
#define DISTILL_CORE_RNG_HPP

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "distill/core/error.hpp"

namespace distill {

/**
 * The one source of randomness in distill: xoshiro256** seeded through splitmix64.
 *
 * Every method that draws random numbers takes an Rng (or a seed) explicitly. The generator and its
 * distributions are written here rather than taken from <random>, whose normal distribution differs between
 * standard libraries: the same seed gives the same bytes on every platform.
 */
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : state_) s = splitmix64(x);
    has_spare_ = false;
  }

  //! A generator for an independent stream, derived from this one's next output and `stream`.
  Rng fork(std::uint64_t stream = 0) {
    std::uint64_t x = next() ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    return Rng(splitmix64(x));
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  //! Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  //! Uniform integer in [0, n), without modulo bias (Lemire's method).
  std::uint64_t uniform_int(std::uint64_t n) {
    DISTILL_CHECK(n > 0, "Rng::uniform_int(): n must be positive (got 0)");
    __uint128_t m = static_cast<__uint128_t>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  //! Standard normal by the polar Box–Muller method (portable: no std::normal_distribution).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  //! A uniformly random permutation of 0..n-1 (Fisher–Yates).
  std::vector<std::size_t> permutation(std::size_t n) {
    std::vector<std::size_t> p(n);
    std::iota(p.begin(), p.end(), std::size_t{0});
    shuffle(p);
    return p;
  }

  template <class Vec>
  void shuffle(Vec& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      const std::size_t j = uniform_int(i);
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4]{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace distill

#endif  // DISTILL_CORE_RNG_HPP
