// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_GRADCHECK_INPUTS_HPP
#define DISTILL_TESTS_SUPPORT_GRADCHECK_INPUTS_HPP

// Inputs and scalar test functions for finite-difference gradient checks (shared by the op and layer tests).
#include <cstdint>

#include <algorithm>
#include <cmath>

#include "distill/autodiff.hpp"
#include "support/tolerances.hpp"

template <class B>
distill::Tensor<typename B::Scalar> random_tensor(distill::Shape shape, std::uint64_t seed, double lo = -1, double hi = 1) {
  distill::Tensor<typename B::Scalar> t(shape);
  distill::Rng rng(seed);
  B::random_uniform(rng, t.data(), t.size(), typename B::Scalar(lo), typename B::Scalar(hi));
  return t;
}

// Values on a shuffled grid: pairwise gaps of 2/n and none within 1/(2n) of 0 or ±0.5, so the 6-point
// stencil (half-width 3h ≈ 0.018) never crosses the kink of a piecewise-linear op (abs, relu, clamp, max).
// `offset` 0.87 instead of 0.37 gives a grid whose every element differs from the default grid's by ≥ 1/n.
template <class B>
distill::Tensor<typename B::Scalar> spaced_tensor(distill::Shape shape, std::uint64_t seed, double offset = 0.37) {
  distill::Tensor<typename B::Scalar> t(shape);
  distill::Rng rng(seed);
  const auto perm = rng.permutation(t.size());
  const double n = double(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = typename B::Scalar((double(perm[i]) + offset) / n * 2 - 1);
  return t;
}

// sum(w ⊙ y) + 0.1·sum(y²) with a fixed random w: every output element matters, and the square gives linear ops a
// non-trivial second derivative.
template <class B>
distill::ad::Var<B> weighted(const distill::ad::Var<B>& y, std::uint64_t seed) {
  const auto w = random_tensor<B>(y.shape(), seed);
  return distill::ad::add(distill::ad::sum(distill::ad::mul(y, distill::ad::Var<B>(w))),
                          distill::ad::mul_scalar(distill::ad::sum(distill::ad::mul(y, y)), typename B::Scalar(0.1)));
}

// Standard-normal entries (times stddev), for kernel and KRR tests that need no backend.
template <class T>
distill::Tensor<T> normal_tensor(distill::Shape shape, std::uint64_t seed, double stddev = 1.0) {
  distill::Tensor<T> t(shape);
  distill::Rng rng(seed);
  for (auto& v : t) v = T(rng.normal(0.0, stddev));
  return t;
}

// Largest relative error of an analytic gradient of the scalar function f over every coordinate of x, against
// the 4-point central stencil. The error is taken against the gradient's scale, so coordinates with a
// near-zero gradient are judged by what they contribute.
template <class F>
double max_grad_error(F f, distill::Tensor<double> x, const distill::Tensor<double>& analytic) {
  double scale = 0;
  for (auto v : analytic) scale = std::max(scale, std::abs(v));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i], h = 1e-4 * std::max(1.0, std::abs(x0));
    auto at = [&](double v) {
      x[i] = v;
      return f(x);
    };
    const double fd = (-at(x0 + 2 * h) + 8 * at(x0 + h) - 8 * at(x0 - h) + at(x0 - 2 * h)) / (12 * h);
    x[i] = x0;
    worst = std::max(worst, relative_error(analytic[i], fd, 1e-3 * scale));
  }
  return worst;
}

#endif  // DISTILL_TESTS_SUPPORT_GRADCHECK_INPUTS_HPP
