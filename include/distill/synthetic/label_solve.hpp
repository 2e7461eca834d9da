// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_LABEL_SOLVE_HPP
#define DISTILL_SYNTHETIC_LABEL_SOLVE_HPP

/**
 * @file
 * Label Solve (LS): Nguyen, Chen, Lee 2021, Dataset Meta-Learning from Kernel Ridge-Regression, ICLR;
 * arXiv:2011.00050, section 3.
 *
 * For a fixed support X_s, the labels that make KRR on (X_s, y_s) fit the targets (X_t, y_t) best,
 *
 *     y_s = argmin ‖y_t − K_ts (K_ss + λI)⁻¹ y_s‖²,
 *
 * have a closed form. With z = (K_ss + λI)⁻¹ y_s the problem is the least-squares fit of y_t by K_ts z, so
 *
 *     z = (K_tsᵀ K_ts + μI)⁻¹ K_tsᵀ y_t,      y_s = (K_ss + λI) z,
 *
 * where μ = solve_reg · tr(K_tsᵀ K_ts)/n is a small ridge that keeps the normal equations solvable when K_ts
 * is rank-deficient (the paper's pseudo-inverse). Everything n×n is done in double.
 */

#include <cstddef>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/cholesky.hpp"
#include "distill/kernels/krr.hpp"

namespace distill::synthetic {

/// Options of label_solve.
struct LabelSolveOptions {
  double reg = 1e-6;        //!< λ = reg · tr(K_ss)/n, the KRR ridge the labels are solved for
  double solve_reg = 1e-6;  //!< μ = solve_reg · tr(K_tsᵀK_ts)/n, the ridge of the least-squares solve
};

/**
 * The least-squares labels of a fixed support set.
 * @tparam B  a Backend (e.g. EigenBackend<float>) whose double twin runs the n×n algebra
 * @tparam K  a kernels::Kernel on B and on its double twin
 * @param xs  support images [n, ...]
 * @param xt  target images [m, ...] (same features)
 * @param yt  target labels [m, C] (e.g. kernels::centred_one_hot)
 * @return y_s [n, C]
 * @throw invalid_argument on mismatched shapes; numerical_error when a Cholesky factorisation fails
 */
template <class B, class K>
Tensor<typename B::Scalar> label_solve(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                       const Tensor<typename B::Scalar>& xt, const Tensor<typename B::Scalar>& yt,
                                       LabelSolveOptions options = {}) {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::label_solve");
  DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::synthetic::label_solve");
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  DISTILL_CHECK(xs.rank() >= 2 && xt.rank() >= 2 && yt.rank() == 2 && yt.shape(0) == xt.shape(0),
                "label_solve(): support ", show(xs.shape()), ", targets ", show(xt.shape()), " and target labels ",
                show(yt.shape()), " do not fit, expected [n, ...], [m, ...], [m, C]");
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = yt.shape(1);
  DISTILL_CHECK(n > 0 && m > 0, "label_solve(): empty support (", n, ") or targets (", m, ")");
  const Tensor<double> kts = kernel.template gram<B>(xt, xs).template cast<double>();  // [m, n]
  const Tensor<double> xs_d = xs.template cast<double>();
  const Tensor<double> kss = kernel.template gram<BD>(xs_d, xs_d);
  const Tensor<double> yt_d = yt.template cast<double>();

  // Normal equations M z = K_tsᵀ y_t with M = K_tsᵀ K_ts.
  Tensor<double> gram({n, n}), rhs({n, c});
  BD::gemm(Gemm<double>{.trans_a = true, .m = n, .n = n, .k = m, .a = kts.data(), .lda = n, .b = kts.data(), .ldb = n,
                        .c = gram.data(), .ldc = n});
  BD::gemm(Gemm<double>{.trans_a = true, .m = n, .n = c, .k = m, .a = kts.data(), .lda = n, .b = yt_d.data(), .ldb = c,
                        .c = rhs.data(), .ldc = c});
  const auto normal = kernels::factor_ridge<K, BD>(gram, options.solve_reg, "label_solve()");
  const Tensor<double> z = normal.solve(rhs);

  // y_s = (K_ss + λI) z, with λ exactly as KRR will use it.
  double trace = 0;
  for (std::size_t i = 0; i < n; ++i) trace += kss[i * n + i];
  const double lambda = options.reg * trace / double(n);
  Tensor<double> ys({n, c});
  BD::gemm(Gemm<double>{.m = n, .n = c, .k = n, .a = kss.data(), .lda = n, .b = z.data(), .ldb = c, .c = ys.data(),
                        .ldc = c});
  for (std::size_t i = 0; i < n * c; ++i) ys[i] += lambda * z[i];
  return ys.template cast<T>();
}

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_LABEL_SOLVE_HPP
