// SPDX-License-Identifier: MIT
// ⟨G, K(X1, X2)⟩ in double: the scalar whose gradient a kernel's gram_vjp(X1, X2, G) is, for finite-difference checks.
#ifndef DISTILL_TESTS_SUPPORT_WEIGHTED_GRAM_HPP
#define DISTILL_TESTS_SUPPORT_WEIGHTED_GRAM_HPP

#include "distill/core/tensor.hpp"

template <class B, class K>
double weighted_gram(const K& k, const distill::Tensor<double>& x1, const distill::Tensor<double>& x2,
                     const distill::Tensor<double>& g) {
  const auto kk = k.template gram<B>(x1, x2);
  double s = 0;
  for (std::size_t i = 0; i < kk.size(); ++i) s += kk[i] * g[i];
  return s;
}

#endif  // DISTILL_TESTS_SUPPORT_WEIGHTED_GRAM_HPP
