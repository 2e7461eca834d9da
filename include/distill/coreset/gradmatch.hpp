// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_GRADMATCH_HPP
#define DISTILL_CORESET_GRADMATCH_HPP

/**
 * @file
 * GradMatch (Killamsetty et al. 2021, GRAD-MATCH: Gradient Matching based Data Subset Selection for Efficient Deep
 * Model Training, ICML; arXiv:2103.00123): the weighted subset whose gradient matches the pool's full gradient,
 *
 *   min_{w ≥ 0, |supp w| ≤ k}  ‖Σ_{i ∈ V} g_i − Σ_{j ∈ S} w_j g_j‖² + λ ‖w‖²,
 *
 * found by orthogonal matching pursuit (Pati, Rezaiifar, Krishnaprasad 1993) with the ridge term:
 *
 *   r ← b = Σ_i g_i;  S ← ∅
 *   repeat k times:
 *     j ← argmax_{j ∉ S} g_j · r                     (the example most correlated with what is still unmatched)
 *     S ← S ∪ {j}
 *     w ← argmin_{w ≥ 0} ‖G_S w − b‖² + λ‖w‖²        (non-negative ridge, by exact coordinate descent)
 *     r ← b − G_S w
 *
 * per class (a fraction budget is split over the classes), with the proxy's last-layer gradients in closed form
 * g_i = e_i ⊗ h̃_i (view.errors(), view.inputs()). Nothing of size n × n or n × K(F+1) is formed: the residual is a
 * K × (F + 1) matrix R, every correlation is e_jᵀ R h̃_j (one GEMM H̃ Rᵀ per step), and the normal equations need only
 * g_s · g_t = (e_s · e_t)(h̃_s · h̃_t) and g_s · b = e_sᵀ B h̃_s. λ = lambda · mean_i ‖g_i‖², so it is scale-free.
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "distill/core.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/**
 * argmin_{w ≥ 0} ½ wᵀ A w − yᵀ w for a symmetric positive definite A (k × k, row-major), by cyclic exact coordinate
 * descent from `w` (warm start), until no coordinate moves by more than tol · max |w| or `sweeps` passes.
 */
inline void nonnegative_quadratic(const std::vector<double>& a, const std::vector<double>& y, std::vector<double>& w,
                                  std::size_t sweeps = 500, double tol = 1e-12) {
  const std::size_t k = y.size();
  w.resize(k, 0.0);
  for (std::size_t s = 0; s < sweeps; ++s) {
    double moved = 0, size = 0;
    for (std::size_t i = 0; i < k; ++i) {
      double r = y[i];
      for (std::size_t j = 0; j < k; ++j)
        if (j != i) r -= a[i * k + j] * w[j];
      const double v = std::max(0.0, r / a[i * k + i]);
      moved = std::max(moved, std::abs(v - w[i]));
      w[i] = v;
      size = std::max(size, std::abs(v));
    }
    if (moved <= tol * std::max(size, 1e-300)) break;
  }
}

/**
 * GradMatch's OMP on one pool of rank-one gradients g_i = e_i ⊗ h_i (see the file comment).
 * @param e  [N, K] and @param h  [N, F]: the factors of every example's gradient
 * @param gains  receives the correlation g_j · r of each pick
 * @return positions in `idx` in the order picked, and their weights in `weights`
 */
template <class T>
std::vector<std::size_t> gradmatch_omp(const Tensor<T>& e, const Tensor<T>& h, const std::vector<std::size_t>& idx,
                                       std::size_t count, double lambda, std::vector<double>& weights,
                                       std::vector<double>& gains) {
  const std::size_t n = idx.size(), k = e.shape(1), f = h.shape(1);
  std::vector<double> ei(n * k), hi(n * f);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < k; ++c) ei[r * k + c] = double(e[idx[r] * k + c]);
    for (std::size_t c = 0; c < f; ++c) hi[r * f + c] = double(h[idx[r] * f + c]);
  }
  // B = Σ_i e_i h_iᵀ (K × F): the pool's gradient; ridge λ = lambda · mean ‖g‖².
  std::vector<double> b(k * f, 0.0), rmat(k * f), z(n * k);
  DefaultBackend<double>::gemm({.trans_a = true, .m = k, .n = f, .k = n, .a = ei.data(), .lda = k, .b = hi.data(),
                                .ldb = f, .c = b.data(), .ldc = f});
  double mean_g2 = 0;
  for (std::size_t r = 0; r < n; ++r) {
    double se = 0, sh = 0;
    for (std::size_t c = 0; c < k; ++c) se += ei[r * k + c] * ei[r * k + c];
    for (std::size_t c = 0; c < f; ++c) sh += hi[r * f + c] * hi[r * f + c];
    mean_g2 += se * sh / double(n);
  }
  const double ridge = lambda * std::max(mean_g2, 1e-300);
  auto gdot = [&](std::size_t s, std::size_t t) {  // g_s · g_t
    double de = 0, dh = 0;
    for (std::size_t c = 0; c < k; ++c) de += ei[s * k + c] * ei[t * k + c];
    for (std::size_t c = 0; c < f; ++c) dh += hi[s * f + c] * hi[t * f + c];
    return de * dh;
  };
  auto bdot = [&](std::size_t s) {  // g_s · b = e_sᵀ B h_s
    double v = 0;
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t q = 0; q < f; ++q) v += ei[s * k + c] * b[c * f + q] * hi[s * f + q];
    return v;
  };
  std::vector<std::size_t> picks;
  std::vector<std::uint8_t> chosen(n, 0);
  std::vector<double> a, y, w;
  rmat = b;
  while (picks.size() < count) {
    // z = H Rᵀ (n × K); correlation_j = Σ_c e_jc z_jc
    DefaultBackend<double>::gemm({.trans_b = true, .m = n, .n = k, .k = f, .a = hi.data(), .lda = f, .b = rmat.data(),
                                  .ldb = f, .c = z.data(), .ldc = k});
    std::size_t best = n;
    double best_c = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (chosen[j]) continue;
      double c = 0;
      for (std::size_t q = 0; q < k; ++q) c += ei[j * k + q] * z[j * k + q];
      if (best == n || c > best_c) best = j, best_c = c;
    }
    chosen[best] = 1;
    picks.push_back(best);
    gains.push_back(best_c);
    // Grow the normal equations (A = G_Sᵀ G_S + λI, y = G_Sᵀ b) by one row and column; warm-start w.
    const std::size_t m = picks.size();
    std::vector<double> grown(m * m);
    for (std::size_t s = 0; s + 1 < m; ++s)
      for (std::size_t t = 0; t + 1 < m; ++t) grown[s * m + t] = a[s * (m - 1) + t];
    for (std::size_t s = 0; s < m; ++s) grown[s * m + m - 1] = grown[(m - 1) * m + s] = gdot(picks[s], best);
    grown[m * m - 1] += ridge;
    a = std::move(grown);
    y.push_back(bdot(best));
    w.push_back(0.0);
    nonnegative_quadratic(a, y, w);
    // R = B − Σ_s w_s e_s h_sᵀ
    rmat = b;
    for (std::size_t s = 0; s < m; ++s) {
      if (w[s] == 0) continue;
      const std::size_t p = picks[s];
      for (std::size_t c = 0; c < k; ++c)
        for (std::size_t q = 0; q < f; ++q) rmat[c * f + q] -= w[s] * ei[p * k + c] * hi[p * f + q];
    }
  }
  weights = w;
  return picks;
}

/// GradMatch (see the file comment): needs a view with a proxy model that has features().
struct GradMatch {
  double lambda = 0.01;  //!< ridge, relative to the mean squared gradient norm

  std::string name() const { return "gradmatch"; }

  /**
   * @return per class, the OMP picks in order; weights = the non-negative least-squares weights (some may be 0);
   *         scores = each pick's correlation with the residual
   * @throw invalid_argument on a bad budget, or a view without a proxy
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    DISTILL_CHECK(lambda > 0 && std::isfinite(lambda), "GradMatch::select(): lambda is ", lambda, ", expected > 0");
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "GradMatch::select()", /*by_class=*/true);
    const Tensor<T> e = view.errors(), h = view.inputs();
    Selection out;
    out.weights.emplace();
    for (const Pool& pool : pools) {
      std::vector<double> w, gains;
      const auto picks = gradmatch_omp(e, h, pool.indices, pool.count, lambda, w, gains);
      for (std::size_t t = 0; t < picks.size(); ++t) {
        out.append(pool.indices[picks[t]], gains[t]);
        out.weights->push_back(w[t]);
      }
    }
    return out;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_GRADMATCH_HPP
