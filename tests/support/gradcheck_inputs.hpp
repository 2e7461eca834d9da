// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_GRADCHECK_INPUTS_HPP
#define DISTILL_TESTS_SUPPORT_GRADCHECK_INPUTS_HPP

// Inputs and scalar test functions for finite-difference gradient checks (shared by the op and layer tests).
#include <cstdint>

#include "distill/autodiff.hpp"

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

#endif  // DISTILL_TESTS_SUPPORT_GRADCHECK_INPUTS_HPP
