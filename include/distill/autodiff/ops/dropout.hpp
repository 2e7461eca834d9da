// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_DROPOUT_HPP
#define DISTILL_AUTODIFF_OPS_DROPOUT_HPP

/**
 * @file
 * Dropout (Srivastava, Hinton, Krizhevsky, Sutskever, Salakhutdinov 2014, Dropout: A Simple Way to Prevent Neural
 * Networks from Overfitting, JMLR 15) as a differentiable op with an explicit mask.
 *
 * The mask is an argument, not hidden state: the op is then a plain function of x (y = x ⊙ mask), so a gradient
 * check with a fixed mask is exact, and a training step that draws its mask from its step's Rng is reproducible.
 * Masks are "inverted" (kept entries scaled by 1/(1 − p)), so the evaluation forward needs no rescaling.
 */

#include <cmath>

#include "distill/autodiff/tape.hpp"
#include "distill/core/rng.hpp"

namespace distill::ad {

/**
 * A dropout mask of `shape`: each entry is 0 with probability p and 1/(1 − p) otherwise, drawn in index order
 * from `rng` (so the same seed gives the same mask on every backend).
 * @throw invalid_argument when p is not in [0, 1).
 */
template <std::floating_point T>
Tensor<T> dropout_mask(const Shape& shape, double p, Rng& rng) {
  DISTILL_CHECK(p >= 0 && p < 1, "dropout_mask(): p is ", p, ", expected a drop probability in [0, 1)");
  auto mask = Tensor<T>::empty(shape);
  const T keep = T(1 / (1 - p));
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = rng.uniform() < p ? T(0) : keep;
  return mask;
}

/**
 * x ⊙ mask with a constant mask of x's shape (entries 0 or 1/(1 − p); see dropout_mask). Linear in x, so its
 * backward is the same op on the incoming gradient, and every derivative order exists.
 * @throw invalid_argument when the shapes differ.
 */
template <Backend B>
Var<B> dropout(const Var<B>& x, const Tensor<typename B::Scalar>& mask) {
  using T = typename B::Scalar;
  DISTILL_CHECK(mask.shape() == x.shape(), "dropout(): mask has shape ", show(mask.shape()), " but x has ",
                show(x.shape()));
  auto out = Tensor<T>::empty(x.shape());
  B::binary(BinaryOp::mul, x.value().data(), mask.data(), out.data(), out.size());
  return make_result<B>(std::move(out), {x},
                        [mask](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{dropout(g, mask)}; },
                        "dropout");
}

/**
 * Dropout with drop probability p and a fresh mask from `rng`; p = 0 returns x itself (no node, no draws).
 * @throw invalid_argument when p is not in [0, 1).
 */
template <Backend B>
Var<B> dropout(const Var<B>& x, double p, Rng& rng) {
  DISTILL_CHECK(p >= 0 && p < 1, "dropout(): p is ", p, ", expected a drop probability in [0, 1)");
  if (p == 0) return x;
  return dropout(x, dropout_mask<typename B::Scalar>(x.shape(), p, rng));
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_DROPOUT_HPP
