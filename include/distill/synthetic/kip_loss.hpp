// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_KIP_LOSS_HPP
#define DISTILL_SYNTHETIC_KIP_LOSS_HPP

/**
 * @file
 * The KIP loss and its exact gradient (the math of synthetic/kip.hpp). Kernel Inducing Points: Nguyen, Chen, Lee 2021, Dataset Meta-Learning from Kernel Ridge-Regression,
 * ICLR; arXiv:2011.00050.
 *
 * KIP learns a small support set (X_s, y_s) such that kernel ridge regression on it predicts a large target
 * batch well:
 *
 *     L(X_s, y_s) = ½ · mean ‖y_t − K_ts (K_ss + λI)⁻¹ y_s‖²,     λ = reg · tr(K_ss)/n,
 *
 * with K an infinite-width kernel (FcNtk) and y centred one-hot labels (onehot − 1/C). The mean is over the
 * m·C entries of the target batch (neural-tangents' KIP loss), so the loss does not grow with the batch.
 *
 * Gradient, by hand (no tape; α, β, r are [·, C] matrices):
 *     α = (K_ss + λI)⁻¹ y_s,   r = (K_ts α − y_t)/(mC)
 *     ∂L/∂K_ts = r αᵀ
 *     β = (K_ss + λI)⁻¹ K_tsᵀ r,        ∂L/∂y_s = β
 *     ∂L/∂K_ss = −sym(β αᵀ) − (reg/n) tr(β αᵀ) I          (the second term: λ depends on tr K_ss)
 *     ∂L/∂X_s  = kernel VJPs of K_ts (support side) and of K_ss (both sides)
 * The n×n part (K_ss, its Cholesky, α, β) runs in double: it is tiny, and with λ = 1e-6 of the mean diagonal a
 * float K_ss would be dominated by its own rounding error. The m×n part (K_ts and its VJP) runs in T.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <vector>

#include "distill/autodiff/grad.hpp"
#include "distill/autodiff/tape.hpp"
#include "distill/core.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/cholesky.hpp"
#include "distill/kernels/krr.hpp"
#include "distill/kernels/streamed_vjp.hpp"

namespace distill::synthetic {

// ---- the loss and its gradient ------------------------------------------------------------------------------

/// What kip_loss_and_grad returns.
template <std::floating_point T>
struct KipLossGrad {
  double loss = 0;        //!< ½ · mean over the m·C entries of (K_ts α − y_t)²
  Tensor<T> d_support;    //!< ∂L/∂X_s, shape of X_s
  Tensor<T> d_labels;     //!< ∂L/∂y_s, [n, C]
  double accuracy = 0;    //!< fraction of target rows whose prediction's argmax is the target's argmax
  double d_log_temperature = 0;  //!< ∂L/∂log τ (KipObjective::cross_entropy; 0 for mse)
};

/**
 * What KIP's loss measures on the KRR predictions P = K_ts (K_ss + λI)⁻¹ y_s of the target batch:
 *   mse:            ½ · mean over the m·C entries of (P − y_t)²            (Nguyen et al. 2021)
 *   cross_entropy:  mean over the m rows of −log softmax(P_i / τ)[c_i], c_i = argmax y_t,i: Platt-scaled
 *                   cross-entropy with a learned temperature τ (Loo et al. 2022, RFAD), which cares about the
 *                   ranking of the classes rather than about regressing the centred one-hot values.
 */
struct KipObjective {
  enum class Kind { mse, cross_entropy };
  Kind kind = Kind::mse;
  double temperature = 1;  //!< τ of cross_entropy (> 0)
};

namespace detail {

/// What the m×n part of a KIP step yields: the target-batch sums and the support-side VJP of K_ts.
template <std::floating_point T>
struct KipTargetPass {
  double sq = 0;            //!< Σ (pred − y_t)² over the m·C entries (mse), or Σ −log p_{c_i} over the rows
  double d_log_temperature = 0;  //!< cross_entropy: ∂L/∂log τ
  std::size_t correct = 0;  //!< rows whose argmax prediction is the target's argmax
  Tensor<double> u;         //!< K_tsᵀ r  [n, C]
  Tensor<double> r;         //!< ∂L/∂pred [m, C] (kip_residuals only; the streamed pass keeps it per block)
  Tensor<T> d_support;      //!< ∂L/∂X_s through K_ts (the support side), shape of X_s
};

/// The per-row part of the target pass, shared by both versions: for target rows [row0, row0 + rows) with kernel
/// rows k (float or double, [rows, n]) in double, pred = k α and r = ∂L/∂pred: (pred − y_t)/(mC) for mse,
/// (softmax(pred/τ) − onehot(argmax y_t))/(mτ) for cross_entropy; adds to the loss sum, correct, ∂L/∂log τ and
/// u += kᵀ r, and leaves r in `r` ([rows, C]).
template <class BD, std::floating_point T>
void kip_residual_rows(const double* k, std::size_t row0, std::size_t rows, std::size_t n, const Tensor<double>& alpha,
                       const Tensor<T>& yt, std::size_t m, const KipObjective& objective, double* pred, double* r,
                       double* u, double& sq, double& d_log_temperature, std::size_t& correct) {
  const std::size_t c = alpha.shape(1);
  BD::gemm(Gemm<double>{.m = rows, .n = c, .k = n, .a = k, .lda = n, .b = alpha.data(), .ldb = c, .c = pred, .ldc = c});
  const bool ce = objective.kind == KipObjective::Kind::cross_entropy;
  const double scale = 1.0 / double(m * c), tau = objective.temperature;
  for (std::size_t i = 0; i < rows; ++i) {
    const T* y = yt.data() + (row0 + i) * c;
    const double* p = pred + i * c;
    std::size_t best_p = 0, best_t = 0;
    for (std::size_t q = 0; q < c; ++q) {
      if (p[q] > p[best_p]) best_p = q;
      if (y[q] > y[best_t]) best_t = q;
    }
    correct += best_p == best_t;
    if (!ce) {
      for (std::size_t q = 0; q < c; ++q) {
        const double e = p[q] - double(y[q]);
        sq += e * e;
        r[i * c + q] = e * scale;
      }
      continue;
    }
    // z = p/τ; −log softmax(z)[t] = logsumexp(z) − z_t; ∂/∂p = (s − e_t)/τ; ∂/∂log τ = −Σ_q (s_q − e_tq) z_q
    const double top = p[best_p] / tau;
    double sum = 0;
    for (std::size_t q = 0; q < c; ++q) sum += std::exp(p[q] / tau - top);
    sq += top + std::log(sum) - p[best_t] / tau;
    for (std::size_t q = 0; q < c; ++q) {
      const double z = p[q] / tau, g = std::exp(z - top) / sum - (q == best_t ? 1.0 : 0.0);
      r[i * c + q] = g / (tau * double(m));
      d_log_temperature -= g * z / double(m);
    }
  }
  BD::gemm(Gemm<double>{.trans_a = true, .m = n, .n = c, .k = rows, .a = k, .lda = n, .b = r, .ldb = c, .beta = 1.0,
                        .c = u, .ldc = c});
}

/// The m×n part from a formed K_ts [m, n] (in T): predictions, loss sums and u = K_tsᵀ r, keeping r ([m, C]) for
/// ∂L/∂K_ts (kip_residual_gradient).
template <class B>
KipTargetPass<typename B::Scalar> kip_residuals(const Tensor<typename B::Scalar>& kts, const Tensor<typename B::Scalar>& yt,
                                                const Tensor<double>& alpha, const KipObjective& objective) {
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  const std::size_t m = kts.shape(0), n = kts.shape(1), c = alpha.shape(1);
  const Tensor<double> kts_d = kts.template cast<double>();
  KipTargetPass<typename B::Scalar> tp;
  tp.u = Tensor<double>({n, c}, 0.0);
  tp.r = Tensor<double>({m, c});
  Tensor<double> pred({m, c});
  kip_residual_rows<BD>(kts_d.data(), 0, m, n, alpha, yt, m, objective, pred.data(), tp.r.data(), tp.u.data(), tp.sq,
                        tp.d_log_temperature, tp.correct);
  return tp;
}

/// ∂L/∂K_ts = r αᵀ [m, n], in T (each entry a sum of C products: no cancellation to fear).
template <class B>
Tensor<typename B::Scalar> kip_residual_gradient(const KipTargetPass<typename B::Scalar>& tp, const Tensor<double>& alpha) {
  using T = typename B::Scalar;
  const std::size_t m = tp.r.shape(0), n = alpha.shape(0), c = alpha.shape(1);
  Tensor<T> g_ts = Tensor<T>::empty({m, n});
  const Tensor<T> r_t = tp.r.template cast<T>(), alpha_t = alpha.template cast<T>();
  B::gemm(Gemm<T>{.trans_b = true, .m = m, .n = n, .k = c, .a = r_t.data(), .lda = c, .b = alpha_t.data(), .ldb = c,
                  .c = g_ts.data(), .ldc = n});
  return g_ts;
}

/// The loss, ∂L/∂log τ and the batch accuracy from a target pass's sums (the mean over m·C entries for MSE, over
/// m rows for cross-entropy).
template <std::floating_point T>
KipLossGrad<T> kip_loss_of(const KipTargetPass<T>& tp, std::size_t m, std::size_t c, const KipObjective& objective) {
  KipLossGrad<T> out;
  out.loss = objective.kind == KipObjective::Kind::cross_entropy ? tp.sq / double(m) : 0.5 * tp.sq / double(m * c);
  out.d_log_temperature = tp.d_log_temperature;
  out.accuracy = double(tp.correct) / double(m);
  return out;
}

/// Dot-product kernels: streamed over blocks of target rows (kernels/streamed_vjp.hpp), so K_ts and ∂L/∂K_ts are
/// never formed and each block of X_t is read once, in cache, by both GEMMs.
template <class B, class K>
KipTargetPass<typename B::Scalar> kip_target_pass_streamed(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                          const Tensor<typename B::Scalar>& xt,
                                                          const Tensor<typename B::Scalar>& yt,
                                                          const Tensor<double>& alpha, const KipObjective& objective) {
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = alpha.shape(1);
  const Tensor<T> alpha_t = alpha.template cast<T>();
  struct Slot {
    double sq = 0, d_log_temperature = 0;
    std::size_t correct = 0;
    std::vector<double> u, k, pred, r;
    std::vector<T> r_t;
  };
  std::vector<Slot> slots(kernels::stream_slots<B>());
  auto row_grad = [&](std::size_t slot, std::size_t row0, std::size_t rows, T* kg) {
    Slot& s = slots[slot];
    s.u.resize(n * c, 0.0);
    s.k.resize(rows * n);
    s.pred.resize(rows * c);
    s.r.resize(rows * c);
    s.r_t.resize(rows * c);
    for (std::size_t e = 0; e < rows * n; ++e) s.k[e] = double(kg[e]);
    kip_residual_rows<BD>(s.k.data(), row0, rows, n, alpha, yt, m, objective, s.pred.data(), s.r.data(), s.u.data(),
                          s.sq, s.d_log_temperature, s.correct);
    // ∂L/∂K_ts rows = r αᵀ, in T (each entry a sum of C products: no cancellation to fear)
    for (std::size_t e = 0; e < rows * c; ++e) s.r_t[e] = T(s.r[e]);
    B::gemm(Gemm<T>{.trans_b = true, .m = rows, .n = n, .k = c, .a = s.r_t.data(), .lda = c, .b = alpha_t.data(),
                    .ldb = c, .c = kg, .ldc = n});
  };
  KipTargetPass<T> out;
  out.d_support = kernels::streamed_vjp_x2<B>(kernel, xt, xs, row_grad);
  out.u = Tensor<double>({n, c}, 0.0);
  for (const Slot& s : slots) {  // in slot order: the same sums for the same thread count
    out.sq += s.sq;
    out.d_log_temperature += s.d_log_temperature;
    out.correct += s.correct;
    for (std::size_t e = 0; e < s.u.size(); ++e) out.u[e] += s.u[e];
  }
  return out;
}

/// Any other kernel: K_ts and ∂L/∂K_ts as full m×n matrices, then the kernel's own VJP.
template <class B, class K>
KipTargetPass<typename B::Scalar> kip_target_pass_dense(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                        const Tensor<typename B::Scalar>& xt,
                                                        const Tensor<typename B::Scalar>& yt,
                                                        const Tensor<double>& alpha, const KipObjective& objective) {
  KipTargetPass<typename B::Scalar> out = kip_residuals<B>(kernel.template gram<B>(xt, xs), yt, alpha, objective);
  const auto g_ts = kip_residual_gradient<B>(out, alpha);
  out.d_support = kernel.template gram_vjp<B>(xt, xs, g_ts, kernels::VjpWrt::second).dx2;
  return out;
}

/// ∂L/∂K_ss = −sym(β αᵀ) − (reg/n)·tr(β αᵀ)·I (symmetric; the second term because λ depends on tr K_ss).
inline Tensor<double> support_gram_gradient(const Tensor<double>& alpha, const Tensor<double>& beta, double reg) {
  const std::size_t n = alpha.shape(0), c = alpha.shape(1);
  double tr = 0;
  for (std::size_t i = 0; i < n * c; ++i) tr += beta[i] * alpha[i];
  Tensor<double> g_ss({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < c; ++k) s += beta[i * c + k] * alpha[j * c + k] + alpha[i * c + k] * beta[j * c + k];
      g_ss[i * n + j] = -0.5 * s - (i == j ? reg / double(n) * tr : 0.0);
    }
  return g_ss;
}

/**
 * Feature kernels (K = Σ_q φ_q φ_qᵀ, kernels::FeatureKernel): each network runs once per batch. The support's
 * features are recorded on one tape with X_s as the variable and the targets' are computed without one; K_ss
 * (in double, from the float features: still exactly a Gram matrix, so positive semi-definite) and K_ts come from
 * those features, and the gradient goes back through them with ∂L/∂φ_s,q = G_tsᵀ φ_t,q + 2 G_ss φ_s,q — one
 * backward pass per map instead of the two forward passes per Gram matrix and two more per VJP of the generic path.
 */
template <class B, class K>
KipLossGrad<typename B::Scalar> kip_loss_features(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                  const Tensor<typename B::Scalar>& ys,
                                                  const Tensor<typename B::Scalar>& xt,
                                                  const Tensor<typename B::Scalar>& yt, double reg,
                                                  const KipObjective& objective) {
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = ys.shape(1), maps = kernel.feature_maps();
  DISTILL_CHECK(maps > 0, "kip_loss_and_grad(): the kernel has no feature maps");

  // 1. the features, once per map and batch; K_ss (double) and K_ts accumulated map by map
  ad::Tape<B> tape;
  const ad::Var<B> vs = tape.variable(xs);
  std::vector<ad::Var<B>> phi_s;
  std::vector<Tensor<T>> phi_t;
  Tensor<double> kss({n, n});
  Tensor<T> kts({m, n});
  for (std::size_t q = 0; q < maps; ++q) {
    phi_s.push_back(kernel.template feature_map<B>(q, vs));
    phi_t.push_back(kernel.template feature_map<B>(q, ad::Var<B>(xt)).value());
    const std::size_t f = phi_s[q].shape(1);
    DISTILL_CHECK(phi_s[q].rank() == 2 && phi_s[q].shape(0) == n && phi_t[q].rank() == 2 && phi_t[q].shape(0) == m &&
                      phi_t[q].shape(1) == f,
                  "kip_loss_and_grad(): feature map ", q, " gave ", show(phi_s[q].shape()), " for the support and ",
                  show(phi_t[q].shape()), " for the targets, expected [", n, ", F] and [", m, ", F]");
    const Tensor<double> fs = phi_s[q].value().template cast<double>();
    BD::gemm(Gemm<double>{.trans_b = true, .m = n, .n = n, .k = f, .a = fs.data(), .lda = f, .b = fs.data(), .ldb = f,
                          .beta = q == 0 ? 0.0 : 1.0, .c = kss.data(), .ldc = n});
    B::gemm(Gemm<T>{.trans_b = true, .m = m, .n = n, .k = f, .a = phi_t[q].data(), .lda = f,
                    .b = phi_s[q].value().data(), .ldb = f, .beta = q == 0 ? T(0) : T(1), .c = kts.data(), .ldc = n});
  }

  // 2. the n×n solve, the m×n residuals, the loss and ∂L/∂y_s, ∂L/∂K_ss, ∂L/∂K_ts = r αᵀ
  const auto chol = kernels::factor_ridge<K, BD>(kss, reg, "kip_loss_and_grad()");
  const Tensor<double> alpha = chol.solve(ys.template cast<double>());  // [n, C]
  const KipTargetPass<T> tp = kip_residuals<B>(kts, yt, alpha, objective);
  KipLossGrad<T> out = kip_loss_of(tp, m, c, objective);
  const Tensor<double> beta = chol.solve(tp.u);
  out.d_labels = beta.template cast<T>();
  const Tensor<T> g_ss = support_gram_gradient(alpha, beta, reg).template cast<T>();
  const Tensor<T> g_ts = kip_residual_gradient<B>(tp, alpha);

  // 3. back through the support features: ∂L/∂φ_s,q = G_tsᵀ φ_t,q + 2 G_ss φ_s,q
  out.d_support = Tensor<T>(xs.shape());
  for (std::size_t q = 0; q < maps; ++q) {
    const std::size_t f = phi_s[q].shape(1);
    Tensor<T> seed = Tensor<T>::empty({n, f});
    B::gemm(Gemm<T>{.trans_a = true, .m = n, .n = f, .k = m, .a = g_ts.data(), .lda = n, .b = phi_t[q].data(), .ldb = f,
                    .c = seed.data(), .ldc = f});
    B::gemm(Gemm<T>{.m = n, .n = f, .k = n, .alpha = T(2), .a = g_ss.data(), .lda = n, .b = phi_s[q].value().data(),
                    .ldb = f, .beta = T(1), .c = seed.data(), .ldc = f});
    const Tensor<T> d = ad::grad(phi_s[q], std::vector<ad::Var<B>>{vs}, {}, ad::Var<B>(seed))[0].value();
    B::axpby(T(1), d.data(), T(1), out.d_support.data(), d.size());
  }
  return out;
}

}  // namespace detail

/**
 * The KIP loss and its exact gradient with respect to the support images and labels.
 *
 * Dot-product kernels (FcNtk, Rbf, Linear) run the m×n part streamed over blocks of target rows; feature kernels
 * (EmpiricalFeatureKernel, NetworkFeatureKernel) run each network once per batch (detail::kip_loss_features);
 * other kernels go through gram() and gram_vjp(). All compute the same sums.
 *
 * @param xs   support images [n, ...]
 * @param ys   support labels [n, C] (centred one-hot or learned)
 * @param xt   target images [m, ...] (same features as xs)
 * @param yt   target labels [m, C]
 * @param reg  relative ridge: λ = reg · tr(K_ss)/n
 * @param objective  mse (the paper's) or Platt-scaled cross_entropy at temperature τ (then d_log_temperature is set)
 * @throw invalid_argument on mismatched shapes or τ ≤ 0; numerical_error when K_ss + λI is not positive definite
 */
template <class B, class K>
KipLossGrad<typename B::Scalar> kip_loss_and_grad(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                  const Tensor<typename B::Scalar>& ys,
                                                  const Tensor<typename B::Scalar>& xt,
                                                  const Tensor<typename B::Scalar>& yt, double reg,
                                                  const KipObjective& objective = {}) {
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::kip_loss_and_grad");
  DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::synthetic::kip_loss_and_grad");
  DISTILL_CHECK(xs.rank() >= 2 && ys.rank() == 2 && ys.shape(0) == xs.shape(0), "kip_loss_and_grad(): support images ",
                show(xs.shape()), " and labels ", show(ys.shape()), " do not match, expected [n, ...] and [n, C]");
  DISTILL_CHECK(xt.rank() >= 2 && yt.rank() == 2 && yt.shape(0) == xt.shape(0) && yt.shape(1) == ys.shape(1),
                "kip_loss_and_grad(): target images ", show(xt.shape()), " and labels ", show(yt.shape()),
                " do not match each other or the support labels ", show(ys.shape()));
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = ys.shape(1);
  DISTILL_CHECK(n > 0 && m > 0, "kip_loss_and_grad(): empty support (", n, ") or target batch (", m, ")");
  DISTILL_CHECK(objective.temperature > 0 && std::isfinite(objective.temperature), "kip_loss_and_grad(): temperature is ",
                objective.temperature, ", expected a finite τ > 0");
  DISTILL_CHECK(xs.size() / n == xt.size() / m, "kip_loss_and_grad(): support images ", show(xs.shape()),
                " and target images ", show(xt.shape()), " have different features per row");

  if constexpr (kernels::FeatureKernel<K, B>) return detail::kip_loss_features<B>(kernel, xs, ys, xt, yt, reg, objective);

  // K_ss and everything n×n in double (it also validates the kernel's options).
  const Tensor<double> xs_d = xs.template cast<double>();
  kernels::GramCache<double> cache_ss;
  const Tensor<double> kss = kernel.template gram<BD>(xs_d, xs_d, &cache_ss);  // [n, n]
  const auto chol = kernels::factor_ridge<K, BD>(kss, reg, "kip_loss_and_grad()");
  const Tensor<double> alpha = chol.solve(ys.template cast<double>());  // [n, C]

  // The m×n part: predictions, residuals, loss, u = K_tsᵀ r and the support-side VJP of K_ts.
  detail::KipTargetPass<T> tp;
  if constexpr (kernels::StreamableKernel<K, T>)
    tp = detail::kip_target_pass_streamed<B>(kernel, xs, xt, yt, alpha, objective);
  else
    tp = detail::kip_target_pass_dense<B>(kernel, xs, xt, yt, alpha, objective);
  KipLossGrad<T> out = detail::kip_loss_of(tp, m, c, objective);

  // β = (K_ss + λI)⁻¹ K_tsᵀ r = ∂L/∂y_s
  const Tensor<double> beta = chol.solve(tp.u);
  out.d_labels = beta.template cast<T>();
  const Tensor<double> g_ss = detail::support_gram_gradient(alpha, beta, reg);

  // Back through K_ss on both sides (the same X_s). The two sides give the same gradient, since ∂L/∂K_ss is
  // symmetric and the kernel is symmetric in its arguments, so one side is computed and doubled (it saves a GEMM;
  // the cache saves recomputing the dot products).
  const auto v_ss = kernel.template gram_vjp<BD>(xs_d, xs_d, g_ss, kernels::VjpWrt::first, &cache_ss);
  out.d_support = Tensor<T>::empty(xs.shape());
  for (std::size_t i = 0; i < xs.size(); ++i) out.d_support[i] = T(double(tp.d_support[i]) + 2.0 * v_ss.dx1[i]);
  return out;
}

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_KIP_LOSS_HPP
