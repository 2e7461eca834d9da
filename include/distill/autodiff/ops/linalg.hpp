// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_LINALG_HPP
#define DISTILL_AUTODIFF_OPS_LINALG_HPP

#include "distill/autodiff/tape.hpp"

namespace distill::ad {

/// Flags for matmul: which operand enters transposed.
struct MatmulOptions {
  bool trans_a = false;
  bool trans_b = false;
};

/**
 * y = op(a) · op(b) for rank-2 a and b (one backend GEMM; no transposed copies are made).
 * Gradients (also GEMMs, so second order works): with y = op_a(A)·op_b(B) and upstream G,
 *   dA = G·op_b(B)ᵀ (or its transpose when A entered transposed), dB = op_a(A)ᵀ·G (likewise).
 * @throw invalid_argument if a or b is not rank 2 or the inner dimensions differ.
 */
template <Backend B>
Var<B> matmul(const Var<B>& a, const Var<B>& b, MatmulOptions opt = {}) {
  using T = typename B::Scalar;
  DISTILL_CHECK(a.rank() == 2 && b.rank() == 2, "matmul(): operands must be rank 2, got ", show(a.shape()), " and ",
                show(b.shape()));
  const std::size_t m = opt.trans_a ? a.shape(1) : a.shape(0), ka = opt.trans_a ? a.shape(0) : a.shape(1);
  const std::size_t kb = opt.trans_b ? b.shape(1) : b.shape(0), n = opt.trans_b ? b.shape(0) : b.shape(1);
  DISTILL_CHECK(ka == kb, "matmul(): inner dimensions differ: op(a) is ", m, "x", ka, ", op(b) is ", kb, "x", n);
  auto out = Tensor<T>::empty(Shape{m, n});
  B::gemm(Gemm<T>{opt.trans_a, opt.trans_b, m, n, ka, T(1), a.value().data(), a.shape(1), b.value().data(), b.shape(1),
                  T(0), out.data(), n});
  return make_result<B>(std::move(out), {a, b},
                        [a, b, opt](const Var<B>&, const Var<B>& g) {
                          Var<B> ga, gb;
                          if (a.requires_grad())
                            ga = opt.trans_a ? matmul(b, g, {opt.trans_b, true}) : matmul(g, b, {false, !opt.trans_b});
                          if (b.requires_grad())
                            gb = opt.trans_b ? matmul(g, a, {true, opt.trans_a}) : matmul(a, g, {!opt.trans_a, false});
                          return std::vector<Var<B>>{ga, gb};
                        },
                        "matmul");
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_LINALG_HPP
