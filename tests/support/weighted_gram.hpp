// SPDX-License-Identifier: MIT
// ⟨G, K(X1, X2)⟩ in double: the scalar whose gradient a kernel's gram_vjp(X1, X2, G) is, and the check of both
// sides of gram_vjp against its central differences.
#ifndef DISTILL_TESTS_SUPPORT_WEIGHTED_GRAM_HPP
#define DISTILL_TESTS_SUPPORT_WEIGHTED_GRAM_HPP

#include <catch2/catch.hpp>

#include "distill/core/tensor.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

template <class B, class K>
double weighted_gram(const K& k, const distill::Tensor<double>& x1, const distill::Tensor<double>& x2,
                     const distill::Tensor<double>& g) {
  const auto kk = k.template gram<B>(x1, x2);
  double s = 0;
  for (std::size_t i = 0; i < kk.size(); ++i) s += kk[i] * g[i];
  return s;
}

//! gram_vjp(X1, X2, G) on both sides against central differences of ⟨G, K⟩ on every coordinate; returns the VJP.
template <class B, class K>
auto check_gram_vjp(const K& k, const distill::Tensor<double>& x1, const distill::Tensor<double>& x2,
                    const distill::Tensor<double>& g) {
  using distill::Tensor;
  const auto vjp = k.template gram_vjp<B>(x1, x2, g);
  REQUIRE(vjp.dx1.shape() == x1.shape());
  REQUIRE(vjp.dx2.shape() == x2.shape());
  CHECK(max_grad_error([&](const Tensor<double>& x) { return weighted_gram<B>(k, x, x2, g); }, x1, vjp.dx1) <
        Tolerances<double>::grad);
  CHECK(max_grad_error([&](const Tensor<double>& x) { return weighted_gram<B>(k, x1, x, g); }, x2, vjp.dx2) <
        Tolerances<double>::grad);
  return vjp;
}

#endif  // DISTILL_TESTS_SUPPORT_WEIGHTED_GRAM_HPP
