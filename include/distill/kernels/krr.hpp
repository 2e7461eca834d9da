// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_KRR_HPP
#define DISTILL_KERNELS_KRR_HPP

/**
 * @file
 * Kernel ridge regression with the trace-scaled ridge of neural-tangents and KIP:
 *
 *     α = (K_ss + λ I)⁻¹ Y_s,   λ = reg · tr(K_ss) / n,      prediction(X) = K(X, X_s) · α
 *
 * Scaling the ridge by the mean diagonal makes `reg` independent of the kernel's overall scale (an NTK of
 * depth 5 has a much larger diagonal than one of depth 1). The solve is a Cholesky factorisation in double
 * (kernel matrices of KIP support sets are ill-conditioned: λ is 1e-6 of the mean diagonal by default).
 */

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/cholesky.hpp"
#include "distill/kernels/detail/ridge_checks.hpp"

namespace distill::kernels {

/**
 * The Cholesky factor of K + λI with λ = reg · tr(K)/n, kept in double; solve() applies (K + λI)⁻¹.
 */
class RidgeCholesky {
 public:
  RidgeCholesky() = default;

  /**
   * Factors K + λI.
   * @tparam B      the backend whose double twin runs the trailing-update GEMM
   * @param k       [n, n], symmetric
   * @param reg     relative ridge (λ = reg · tr(K)/n), >= 0
   * @param where   the calling function, for messages
   * @throw invalid_argument when k is not square, has a NaN/inf, or reg < 0
   * @throw numerical_error when K + λI is not positive definite (with the hint to increase reg)
   */
  template <Backend B>
  static RidgeCholesky factor(const Tensor<typename B::Scalar>& k, double reg, const char* where = "RidgeCholesky::factor()") {
    static_assert(HasDoubleTwin<B>, "distill::kernels::RidgeCholesky::factor: B must be a class template over its "
                                    "scalar (B<float> -> B<double>), because the factorisation runs in double");
    using BD = detail::rebind_scalar_t<B, double>;
    detail::check_ridge_input(k, reg, where);
    RidgeCholesky f;
    const std::size_t n = k.shape(0);
    f.n_ = n;
    f.l_.resize(n * n);
    f.ridge_ = detail::relative_ridge(k, reg);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) f.l_[i * n + j] = 0.5 * (double(k[i * n + j]) + double(k[j * n + i]));
    for (std::size_t i = 0; i < n; ++i) f.l_[i * n + i] += f.ridge_;
    if (const std::size_t bad = detail::cholesky_lower<BD>(f.l_.data(), n); bad != 0)
      detail::throw_not_positive_definite(where, bad - 1, n, reg, f.ridge_);
    return f;
  }

  //! (K + λI)⁻¹ · rhs for rhs [n, m] (or [n]); computed in double, returned in T.
  template <std::floating_point T>
  Tensor<T> solve(const Tensor<T>& rhs) const {
    DISTILL_CHECK(rhs.rank() >= 1 && rhs.shape(0) == n_, "RidgeCholesky::solve(): right-hand side has shape ",
                  show(rhs.shape()), ", expected ", n_, " rows");
    const std::size_t m = n_ ? rhs.size() / n_ : 0;
    std::vector<double> b(rhs.begin(), rhs.end());
    detail::cholesky_solve(l_.data(), n_, b.data(), m);
    Tensor<T> out = Tensor<T>::empty(rhs.shape());
    std::copy(b.begin(), b.end(), out.begin());
    return out;
  }

  double ridge() const { return ridge_; }  //!< λ
  std::size_t size() const { return n_; }   //!< n
  //! The factor L (row-major, lower), so that L·Lᵀ = K + λI.
  const std::vector<double>& factor_matrix() const { return l_; }

 private:
  std::vector<double> l_;
  std::size_t n_ = 0;
  double ridge_ = 0;
};

/**
 * Centred one-hot regression targets, y[i, c] = [c == labels[i]] − 1/C (the KRR and KIP convention: the
 * targets of each row sum to 0, so the prediction of an uninformative kernel is 0, not a bias towards 1/C).
 * @throw invalid_argument on a label outside [0, classes)
 */
template <std::floating_point T = float>
Tensor<T> centred_one_hot(const std::vector<std::int64_t>& labels, std::size_t classes) {
  Tensor<T> y({labels.size(), classes}, T(-1.0 / double(classes)));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    DISTILL_CHECK(labels[i] >= 0 && std::size_t(labels[i]) < classes, "centred_one_hot(): label ", i, " is ", labels[i],
                  ", expected a class in [0, ", classes, ")");
    y[i * classes + std::size_t(labels[i])] += T(1);
  }
  return y;
}

/// Options of krr_fit.
struct KrrOptions {
  double reg = 1e-6;  //!< λ = reg · tr(K_ss)/n
};

/// A fitted kernel ridge regressor: the support points and their dual coefficients.
template <std::floating_point T>
struct KrrModel {
  Tensor<T> support;  //!< X_s [n, ...]
  Tensor<T> alpha;    //!< (K_ss + λI)⁻¹ Y_s, [n, outputs]
  double ridge = 0;   //!< λ
};

/**
 * Factors K + λI (K in double) with the solver the kernel names as its `RidgeSolver`, else with RidgeCholesky on the
 * double backend BD. cuda::FcNtk names cuda::RidgeCholesky, so a GPU kernel's KIP, Label Solve and KRR solves stay
 * on the GPU; both solvers have factor(k, reg, where), solve(rhs), ridge() and size().
 */
template <class K, Backend BD>
auto factor_ridge(const Tensor<double>& k, double reg, const char* where) {
  if constexpr (requires { typename K::RidgeSolver; }) {
    return K::RidgeSolver::factor(k, reg, where);
  } else {
    return RidgeCholesky::factor<BD>(k, reg, where);
  }
}

/**
 * Fits KRR on (X_s, Y_s).
 * @tparam B  a Backend whose double twin runs the Cholesky factorisation
 * @tparam K  a Kernel on B
 * @param ys  [n, outputs] regression targets (e.g. centred one-hot labels)
 * @throw invalid_argument on mismatched rows; numerical_error when K_ss + λI is not positive definite
 */
template <class B, class K>
KrrModel<typename B::Scalar> krr_fit(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                     const Tensor<typename B::Scalar>& ys, KrrOptions options = {}) {
  DISTILL_REQUIRE_BACKEND(B, "distill::kernels::krr_fit");
  DISTILL_REQUIRE_KERNEL(K, B, "distill::kernels::krr_fit");
  DISTILL_CHECK(xs.rank() >= 2 && ys.rank() == 2 && xs.shape(0) == ys.shape(0), "krr_fit(): support has shape ",
                show(xs.shape()), " and targets ", show(ys.shape()), ", expected [n, ...] and [n, outputs]");
  const auto kss = kernel.template gram<B>(xs, xs);
  const auto chol = RidgeCholesky::factor<B>(kss, options.reg, "krr_fit()");
  return {xs, chol.solve(ys), chol.ridge()};
}

/// Predictions K(X, X_s)·α, [m, outputs].
template <class B, class K>
Tensor<typename B::Scalar> krr_predict(const K& kernel, const KrrModel<typename B::Scalar>& model,
                                       const Tensor<typename B::Scalar>& x) {
  DISTILL_REQUIRE_BACKEND(B, "distill::kernels::krr_predict");
  DISTILL_REQUIRE_KERNEL(K, B, "distill::kernels::krr_predict");
  using T = typename B::Scalar;
  const auto kxs = kernel.template gram<B>(x, model.support);
  const std::size_t m = kxs.shape(0), n = kxs.shape(1), c = model.alpha.shape(1);
  Tensor<T> out = Tensor<T>::empty({m, c});
  B::gemm(Gemm<T>{.m = m, .n = c, .k = n, .alpha = T(1), .a = kxs.data(), .lda = n, .b = model.alpha.data(), .ldb = c,
                  .beta = T(0), .c = out.data(), .ldc = c});
  return out;
}

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_KRR_HPP
