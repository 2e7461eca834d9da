// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_GLISTER_HPP
#define DISTILL_CORESET_GLISTER_HPP

/**
 * @file
 * GLISTER (Killamsetty, Sivasubramanian, Ramakrishnan, Iyer 2021, GLISTER: Generalization based Data Subset
 * Selection for Efficient and Robust Learning, AAAI; arXiv:2012.10630): choose the subset whose training step most
 * lowers the loss on held-out data, greedily, with the one-step Taylor approximation of GLISTER-ONLINE:
 *
 *   θ ← the proxy's last layer;  S ← ∅
 *   repeat k times:
 *     ∇L_V(θ) = (1/|V|) Σ_{v ∈ V} (p_v − y_v) ⊗ h̃_v          (the validation gradient at the current θ)
 *     j ← argmax_{j ∉ S} η g_j · ∇L_V(θ)                       (first-order decrease of L_V from a step on j)
 *     S ← S ∪ {j};  θ ← θ − η g_j                             (the step taken: logits move by −η e_j (h̃_j · h̃_v))
 *
 * with the last-layer gradients in closed form (g_j = e_j ⊗ h̃_j; view.errors(), view.inputs()), so a greedy step is
 * two GEMMs over the pool (the validation gradient, and every example's correlation with it) plus the logit update.
 * V is the pool itself (GLISTER's setting without a separate validation set, as in DeepCore); per class (a fraction
 * budget is split over the classes).
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
 * GLISTER's greedy on one pool (see the file comment).
 * @param logits  [N, K] the proxy's logits (log-probabilities do: softmax ignores a per-row constant)
 * @param h       [N, F] the inputs of the last layer, [h, 1]
 * @return positions in `idx`, in the order picked; the gains in `gains`
 */
template <class T>
std::vector<std::size_t> glister_greedy(const Tensor<T>& logits, const Tensor<T>& h, const std::vector<std::int64_t>& labels,
                                        const std::vector<std::size_t>& idx, std::size_t count, double eta,
                                        std::vector<double>& gains) {
  const std::size_t n = idx.size(), k = logits.shape(1), f = h.shape(1);
  std::vector<double> z(n * k), hi(n * f), e(n * k), gv(k * f), c(n * k), e0(n * k);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t q = 0; q < k; ++q) z[r * k + q] = double(logits[idx[r] * k + q]);
    for (std::size_t q = 0; q < f; ++q) hi[r * f + q] = double(h[idx[r] * f + q]);
  }
  auto errors = [&](std::vector<double>& out) {  // softmax(z) − onehot(y)
    for (std::size_t r = 0; r < n; ++r) {
      const double top = *std::max_element(z.begin() + std::ptrdiff_t(r * k), z.begin() + std::ptrdiff_t((r + 1) * k));
      double s = 0;
      for (std::size_t q = 0; q < k; ++q) s += (out[r * k + q] = std::exp(z[r * k + q] - top));
      for (std::size_t q = 0; q < k; ++q) out[r * k + q] /= s;
      out[r * k + std::size_t(labels[idx[r]])] -= 1;
    }
  };
  errors(e0);  // each candidate's own gradient is taken at the proxy's θ
  std::vector<std::uint8_t> chosen(n, 0);
  std::vector<std::size_t> picks;
  while (picks.size() < count) {
    errors(e);
    DefaultBackend<double>::gemm({.trans_a = true, .m = k, .n = f, .k = n, .alpha = 1.0 / double(n), .a = e.data(),
                                  .lda = k, .b = hi.data(), .ldb = f, .c = gv.data(), .ldc = f});
    DefaultBackend<double>::gemm({.trans_b = true, .m = n, .n = k, .k = f, .a = hi.data(), .lda = f, .b = gv.data(),
                                  .ldb = f, .c = c.data(), .ldc = k});
    std::size_t best = n;
    double best_g = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (chosen[j]) continue;
      double g = 0;
      for (std::size_t q = 0; q < k; ++q) g += e0[j * k + q] * c[j * k + q];
      g *= eta;
      if (best == n || g > best_g) best = j, best_g = g;
    }
    chosen[best] = 1;
    picks.push_back(best);
    gains.push_back(best_g);
    // θ ← θ − η e_j ⊗ h̃_j: every logit z_v moves by −η e_j (h̃_j · h̃_v).
    for (std::size_t v = 0; v < n; ++v) {
      double dh = 0;
      for (std::size_t q = 0; q < f; ++q) dh += hi[best * f + q] * hi[v * f + q];
      for (std::size_t q = 0; q < k; ++q) z[v * k + q] -= eta * e0[best * k + q] * dh;
    }
  }
  return picks;
}

/// GLISTER (see the file comment): needs a view with a proxy model that has features().
struct Glister {
  double eta = 0.1;  //!< the step size of the simulated updates

  std::string name() const { return "glister"; }

  /**
   * @return per class, the greedy picks; scores = their first-order validation-loss decreases
   * @throw invalid_argument on a bad budget, eta <= 0, or a view without a proxy
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    DISTILL_CHECK(eta > 0 && std::isfinite(eta), "Glister::select(): eta is ", eta, ", expected > 0");
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Glister::select()", /*by_class=*/true);
    Tensor<T> logits = view.proxy(0).probabilities.clone();
    for (auto& v : logits) v = T(std::log(std::max(double(v), 1e-30)));
    const Tensor<T> h = view.inputs();
    Selection out;
    for (const Pool& pool : pools) {
      std::vector<double> gains;
      const auto picks = glister_greedy(logits, h, view.data().labels, pool.indices, pool.count, eta, gains);
      for (std::size_t t = 0; t < picks.size(); ++t) out.append(pool.indices[picks[t]], gains[t]);
    }
    return out;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_GLISTER_HPP
