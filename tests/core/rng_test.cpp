// SPDX-License-Identifier: MIT
// Tests for include/distill/core/rng.hpp: determinism, independent forks, unbiased integers, permutations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "distill/core/rng.hpp"

namespace dd = distill;

TEST_CASE("Rng: the same seed gives the same stream, different seeds differ", "[core][rng]") {
  dd::Rng a(42), b(42), c(43);
  std::vector<std::uint64_t> xa, xb, xc;
  for (int i = 0; i < 100; ++i) {
    xa.push_back(a.next());
    xb.push_back(b.next());
    xc.push_back(c.next());
  }
  REQUIRE(xa == xb);
  REQUIRE(xa != xc);

  // reseed restarts the stream, including the cached Box–Muller spare.
  dd::Rng d(7);
  const double n0 = d.normal();
  (void)d.normal();
  d.normal();  // leaves a spare behind
  d.reseed(7);
  REQUIRE(d.normal() == n0);

  // Known-answer test: xoshiro256** seeded through splitmix64(0). The values come from an independent
  // implementation of both algorithms (a few lines of Python), so a change of algorithm, which would make
  // saved experiments irreproducible, fails here.
  dd::Rng e(0);
  REQUIRE(e.next() == 0x99ec5f36cb75f2b4ull);
  REQUIRE(e.next() == 0xbf6e1f784956452aull);
  REQUIRE(e.next() == 0x1a5f849d4933e6e0ull);
}

TEST_CASE("Rng: uniform lies in 0 <= u < 1 with mean 1/2 and variance 1/12", "[core][rng]") {
  dd::Rng r(1);
  const int n = 200000;
  double sum = 0, sq = 0, lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sq += u * u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  REQUIRE(mean == Approx(0.5).margin(0.005));
  REQUIRE(var == Approx(1.0 / 12).margin(0.002));
  REQUIRE(lo < 1e-3);
  REQUIRE(hi > 1 - 1e-3);

  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform(-3.0, 5.0);
    REQUIRE(u >= -3.0);
    REQUIRE(u < 5.0);
  }
}

TEST_CASE("Rng: normal has mean 0, variance 1 and a symmetric tail", "[core][rng]") {
  dd::Rng r(2);
  const int n = 200000;
  double sum = 0, sq = 0, cube = 0;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    sum += z;
    sq += z * z;
    cube += z * z * z;
    beyond2 += std::abs(z) > 2.0;
  }
  const double mean = sum / n;
  REQUIRE(mean == Approx(0.0).margin(0.01));
  REQUIRE(sq / n == Approx(1.0).margin(0.02));
  REQUIRE(cube / n == Approx(0.0).margin(0.05));
  // P(|Z| > 2) = 0.0455
  REQUIRE(double(beyond2) / n == Approx(0.0455).margin(0.003));

  double s2 = 0;
  for (int i = 0; i < 20000; ++i) s2 += r.normal(10.0, 0.5);
  REQUIRE(s2 / 20000 == Approx(10.0).margin(0.02));
}

TEST_CASE("Rng: forks are deterministic and independent of each other and the parent", "[core][rng]") {
  dd::Rng p1(99), p2(99);
  dd::Rng f1 = p1.fork(0), g1 = p2.fork(0);
  REQUIRE(f1.next() == g1.next());  // deterministic

  dd::Rng parent(5);
  dd::Rng a = parent.fork(0);
  dd::Rng b = parent.fork(1);
  dd::Rng c = parent.fork(0);  // same stream id but a later parent state: must differ from a
  std::vector<std::uint64_t> xa, xb, xc, xp;
  for (int i = 0; i < 64; ++i) {
    xa.push_back(a.next());
    xb.push_back(b.next());
    xc.push_back(c.next());
    xp.push_back(parent.next());
  }
  REQUIRE(xa != xb);
  REQUIRE(xa != xc);
  REQUIRE(xa != xp);

  // Streams are uncorrelated: the sample correlation of two forks' uniforms is near 0.
  dd::Rng q(11);
  dd::Rng u = q.fork(0), v = q.fork(1);
  const int n = 100000;
  double su = 0, sv = 0, suv = 0, suu = 0, svv = 0;
  for (int i = 0; i < n; ++i) {
    const double x = u.uniform(), y = v.uniform();
    su += x, sv += y, suv += x * y, suu += x * x, svv += y * y;
  }
  const double cov = suv / n - (su / n) * (sv / n);
  const double corr = cov / std::sqrt((suu / n - su * su / n / n) * (svv / n - sv * sv / n / n));
  REQUIRE(std::abs(corr) < 0.02);
}

TEST_CASE("Rng: uniform_int stays in range and is unbiased", "[core][rng]") {
  dd::Rng r(3);
  REQUIRE_THROWS_AS(r.uniform_int(0), dd::invalid_argument);
  for (int i = 0; i < 100; ++i) REQUIRE(r.uniform_int(1) == 0);

  // n = 7 does not divide 2^64: a modulo-based draw would still pass this, but a wrong range would not.
  const std::uint64_t k = 7;
  const int n = 70000;
  std::vector<int> counts(k, 0);
  for (int i = 0; i < n; ++i) {
    const auto x = r.uniform_int(k);
    REQUIRE(x < k);
    ++counts[x];
  }
  // Chi-square with 6 degrees of freedom: the 99.9% quantile is 22.46.
  double chi2 = 0;
  const double expected = double(n) / k;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  REQUIRE(chi2 < 22.46);

  // A huge n where modulo bias would be gross: 3·2^62 maps 2^64 outputs onto 3/4 of them twice as often.
  // With Lemire's method the fraction below 2^63 is 2/3 (the true share of [0, 2^63) in [0, 3·2^62)).
  const std::uint64_t big = 3ull << 62;
  int below = 0;
  const int m = 30000;
  for (int i = 0; i < m; ++i) {
    const auto x = r.uniform_int(big);
    REQUIRE(x < big);
    below += x < (1ull << 63);
  }
  REQUIRE(double(below) / m == Approx(2.0 / 3.0).margin(0.015));
}

TEST_CASE("Rng: permutation is a valid, seed-determined shuffle", "[core][rng]") {
  dd::Rng r(4), r2(4);
  for (std::size_t n : {0u, 1u, 2u, 10u, 1000u}) {
    auto p = r.permutation(n);
    REQUIRE(p.size() == n);
    auto sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < n; ++i) REQUIRE(sorted[i] == i);
    REQUIRE(r2.permutation(n) == p);
  }
  // Not the identity (for 1000 elements the chance is 1/1000!).
  auto p = r.permutation(1000);
  std::vector<std::size_t> id(1000);
  std::iota(id.begin(), id.end(), std::size_t{0});
  REQUIRE(p != id);

  // Every position is uniform: element 0 lands in each of 4 slots about 1/4 of the time.
  std::vector<int> where(4, 0);
  for (int t = 0; t < 8000; ++t) {
    auto q = r.permutation(4);
    ++where[std::find(q.begin(), q.end(), 0u) - q.begin()];
  }
  for (int w : where) REQUIRE(w == Approx(2000).margin(200));  // 5 standard deviations

  // shuffle works on any indexable container.
  std::vector<int> v{1, 2, 3, 4, 5};
  r.shuffle(v);
  std::sort(v.begin(), v.end());
  REQUIRE(v == std::vector<int>{1, 2, 3, 4, 5});
}
