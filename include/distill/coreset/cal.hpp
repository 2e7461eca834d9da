// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_CAL_HPP
#define DISTILL_CORESET_CAL_HPP

/**
 * @file
 * Contrastive active learning, CAL (Margatina, Vernikos, Barrault, Aletras 2021, Active Learning by Acquiring
 * Contrastive Examples, EMNLP; arXiv:2109.03764; as a coreset method in DeepCore, Guo, Zhao, Bai 2022): an example is
 * informative when the proxy predicts it differently from its nearest neighbours in feature space, i.e. it sits
 * near a decision boundary although it looks like its neighbours.
 *
 *   N_k(i)  = the k nearest other examples of i's pool in the view's features() (Euclidean)
 *   score_i = (1/k) Σ_{j ∈ N_k(i)} KL(p_j ‖ p_i),   KL(p ‖ q) = Σ_c p_c log(p_c / q_c)
 *   select in descending score (ties in a seeded random order)
 *
 * Neighbours are found within each pool (a fraction budget is split over the classes) from the pool's Gram matrix,
 * one block of 1024 rows at a time (never an n × n matrix).
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "distill/core.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/submodular.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/**
 * For each row of the pool `idx` of x [N, D], the positions (in idx) of its k nearest other rows (ties: the lower
 * position), nearest first.
 */
inline std::vector<std::vector<std::size_t>> nearest_neighbours(const Tensor<float>& x, const std::vector<std::size_t>& idx,
                                                                std::size_t k) {
  const std::size_t n = idx.size(), d = x.size() / std::max<std::size_t>(x.shape(0), 1), block = 1024;
  std::vector<float> rows(n * d), norms(n, 0.0f);
  for (std::size_t r = 0; r < n; ++r) {
    std::copy_n(x.data() + idx[r] * d, d, rows.data() + r * d);
    for (std::size_t q = 0; q < d; ++q) norms[r] += rows[r * d + q] * rows[r * d + q];
  }
  std::vector<std::vector<std::size_t>> out(n);
  std::vector<float> g(block * n);
  for (std::size_t b = 0; b < n; b += block) {
    const std::size_t m = std::min(block, n - b);
    DefaultBackend<float>::gemm({.trans_b = true, .m = m, .n = n, .k = d, .a = rows.data() + b * d, .lda = d,
                                 .b = rows.data(), .ldb = d, .c = g.data(), .ldc = n});
    for (std::size_t r = 0; r < m; ++r) {
      std::vector<std::pair<float, std::size_t>> dist;
      dist.reserve(n);
      for (std::size_t j = 0; j < n; ++j)
        if (j != b + r) dist.push_back({norms[b + r] + norms[j] - 2 * g[r * n + j], j});
      const std::size_t kk = std::min(k, dist.size());
      std::partial_sort(dist.begin(), dist.begin() + std::ptrdiff_t(kk), dist.end());
      for (std::size_t t = 0; t < kk; ++t) out[b + r].push_back(dist[t].second);
    }
  }
  return out;
}

/// CAL (see the file comment): needs a view with a proxy model (probabilities; features() for embedding features).
struct Cal {
  std::size_t neighbours = 10;
  std::uint64_t seed = 0;  //!< order of ties

  std::string name() const { return "cal"; }

  /**
   * @return per pool, the count highest mean neighbour KL divergences
   * @throw invalid_argument on a bad budget, neighbours = 0, or a view without a proxy
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    DISTILL_CHECK(neighbours > 0, "Cal::select(): neighbours is 0, expected at least 1");
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Cal::select()", /*by_class=*/true);
    const Tensor<T>& p = view.probabilities();
    const std::size_t k = p.shape(1);
    const Tensor<float> x = feature_matrix(view);
    std::vector<double> score(view.size(), 0.0);
    for (const Pool& pool : pools) {
      const auto nn = nearest_neighbours(x, pool.indices, neighbours);
      for (std::size_t r = 0; r < pool.indices.size(); ++r) {
        const T* q = p.data() + pool.indices[r] * k;
        double s = 0;
        for (std::size_t j : nn[r]) {
          const T* pj = p.data() + pool.indices[j] * k;
          for (std::size_t c = 0; c < k; ++c)
            if (pj[c] > 0) s += double(pj[c]) * (std::log(double(pj[c])) - std::log(std::max(double(q[c]), 1e-30)));
        }
        score[pool.indices[r]] = nn[r].empty() ? 0.0 : s / double(nn[r].size());
      }
    }
    return select_top(pools, score, seed);
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_CAL_HPP
