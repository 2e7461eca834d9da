// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_IMPORTANCE_HPP
#define DISTILL_CORESET_IMPORTANCE_HPP

/**
 * @file
 * Importance sampling by sensitivity (Feldman, Langberg 2011, A Unified Framework for Approximating and Clustering
 * Data, STOC; for training losses, Katharopoulos, Fleuret 2018, Not All Samples Are Created Equal, ICML;
 * arXiv:1803.00942): sample each example with probability proportional to its sensitivity and weigh it by the
 * inverse, so that the weighted loss of the sample is an unbiased estimate of the full loss.
 *
 *   s_i = ‖∂ℓ_i/∂[W, b]‖ + mean_j ‖∂ℓ_j/∂[W, b]‖     (the last-layer gradient norm, an upper bound of the loss's
 *                                                     sensitivity, mixed with the uniform distribution so no p is 0)
 *   p_i = s_i / Σ_{j ∈ pool} s_j
 *   draw count examples without replacement, in proportion to p (Efraimidis, Spirakis 2006: the largest keys
 *   u_i^(1/s_i), u_i uniform), and weigh each by w_i = 1 / (N p_i) with N the pool's size (w = 1 when p is uniform)
 */

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "distill/core/rng.hpp"
#include "distill/coreset/grand.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/// Importance sampling by sensitivity (see the file comment): needs a view with a proxy model that has features().
struct Importance {
  std::uint64_t seed = 0;

  std::string name() const { return "importance"; }

  /**
   * @return per pool, count sampled examples; weights = 1 / (N p); scores = sensitivities
   * @throw invalid_argument on a bad budget, or a view without a proxy
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Importance::select()");
    const std::vector<double> g = error_norm_scores(view, true);
    Rng rng(seed);
    Selection out;
    out.weights.emplace();
    for (const Pool& pool : pools) {
      double mean = 0;
      for (std::size_t i : pool.indices) mean += g[i] / double(pool.indices.size());
      std::vector<double> s(pool.indices.size());
      double total = 0;
      for (std::size_t k = 0; k < s.size(); ++k) total += (s[k] = g[pool.indices[k]] + mean + 1e-12);
      std::vector<std::pair<double, std::size_t>> keys(s.size());
      for (std::size_t k = 0; k < s.size(); ++k) {
        const double u = std::max(rng.uniform(), 1e-300);
        keys[k] = {std::log(u) / s[k], k};  // log of u^(1/s): same order
      }
      std::partial_sort(keys.begin(), keys.begin() + std::ptrdiff_t(pool.count), keys.end(),
                        [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
      for (std::size_t t = 0; t < pool.count; ++t) {
        const std::size_t k = keys[t].second;
        const double p = s[k] / total;
        out.append(pool.indices[k], s[k]);
        out.weights->push_back(1.0 / (double(s.size()) * p));
      }
    }
    return out;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_IMPORTANCE_HPP
