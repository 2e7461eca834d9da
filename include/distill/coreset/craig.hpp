// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_CRAIG_HPP
#define DISTILL_CORESET_CRAIG_HPP

/**
 * @file
 * CRAIG (Mirzasoleiman, Bilmes, Leskovec 2020, Coresets for Data-efficient Training of Machine Learning Models,
 * ICML; arXiv:1906.01827): choose the subset S whose weighted gradient best approximates the full gradient, by
 * maximising the facility location function on gradient distances,
 *
 *   F(S) = Σ_{i ∈ V} max_{j ∈ S} (d_max − ‖g_i − g_j‖)          (lazy greedy, submodular.hpp)
 *   w_j  = |{i : j = argmax_{j' ∈ S} (d_max − ‖g_i − g_j'‖)}|     (the size of the cluster j represents)
 *
 * and training on S with those weights. The gradients are the proxy's last-layer gradients, per class (a fraction
 * budget is split over the classes, as in the paper's code and DeepCore), in closed form g_i = e_i ⊗ h̃_i with
 * e = p − y and h̃ = [h, 1] (view.errors(), view.inputs()), so their Gram matrix is a product of two small ones,
 * g_i · g_j = (e_i · e_j)(h̃_i · h̃_j): two GEMMs per class, never a per-sample gradient.
 */

#include <cstdint>
#include <string>
#include <vector>

#include "distill/core.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/submodular.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/**
 * The Gram matrix g_i · g_j of rank-one gradients g_i = e_i ⊗ h_i over the rows `idx`: (E Eᵀ) ∘ (H Hᵀ).
 * @param e  [N, K]; @param h  [N, F]
 */
template <class T>
std::vector<float> outer_product_gram(const Tensor<T>& e, const Tensor<T>& h, const std::vector<std::size_t>& idx) {
  const std::size_t n = idx.size(), k = e.shape(1), f = h.shape(1);
  std::vector<float> ei(n * k), hi(n * f), ge(n * n), gh(n * n);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < k; ++c) ei[r * k + c] = float(e[idx[r] * k + c]);
    for (std::size_t c = 0; c < f; ++c) hi[r * f + c] = float(h[idx[r] * f + c]);
  }
  DefaultBackend<float>::gemm({.trans_b = true, .m = n, .n = n, .k = k, .a = ei.data(), .lda = k, .b = ei.data(), .ldb = k,
                               .c = ge.data(), .ldc = n});
  DefaultBackend<float>::gemm({.trans_b = true, .m = n, .n = n, .k = f, .a = hi.data(), .lda = f, .b = hi.data(), .ldb = f,
                               .c = gh.data(), .ldc = n});
  for (std::size_t i = 0; i < n * n; ++i) ge[i] *= gh[i];
  return ge;
}

/// CRAIG (see the file comment): needs a view with a proxy model that has features().
struct Craig {
  GreedyKind greedy = GreedyKind::lazy;
  std::uint64_t seed = 0;  //!< GreedyKind::stochastic's samples
  double epsilon = 0.01;

  std::string name() const { return "craig"; }

  /**
   * @return per class, the greedy medoids; weights = cluster sizes (they sum to the pool's size); scores = gains
   * @throw invalid_argument on a bad budget, a class larger than max_pool, or a view without a proxy
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Craig::select()", /*by_class=*/true);
    const Tensor<T> e = view.errors(), h = view.inputs();
    Selection out;
    out.weights.emplace();
    for (std::size_t p = 0; p < pools.size(); ++p) {
      const auto& idx = pools[p].indices;
      DISTILL_CHECK(idx.size() <= max_pool, "Craig::select(): a class of ", idx.size(), " examples is larger than ", max_pool,
                    " (the n x n similarity matrix)");
      const Similarity s = similarity_from_gram(outer_product_gram(e, h, idx), idx.size());
      std::vector<double> gains;
      const auto picks = facility_location_greedy(s, pools[p].count, greedy, gains, seed + p, epsilon);
      std::vector<double> w(picks.size(), 0.0);
      for (std::size_t i = 0; i < idx.size(); ++i) {  // each example's medoid: the most similar pick (lowest on ties)
        std::size_t best = 0;
        for (std::size_t t = 1; t < picks.size(); ++t)
          if (s(i, picks[t]) > s(i, picks[best])) best = t;
        w[best] += 1;
      }
      for (std::size_t t = 0; t < picks.size(); ++t) {
        out.append(idx[picks[t]], gains[t]);
        out.weights->push_back(w[t]);
      }
    }
    return out;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_CRAIG_HPP
