// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_SUBMODULAR_HPP
#define DISTILL_CORESET_SUBMODULAR_HPP

/**
 * @file
 * Submodular selection on a pool's similarity matrix s_ij = max d − d_ij (d the Euclidean distances between the
 * view's features; Iyer, Bilmes et al., submodlib), maximised by the greedy algorithm, which is within 1 − 1/e of the
 * optimum for monotone functions (Nemhauser, Wolsey, Fisher 1978):
 *
 *   facility location   F(S) = Σ_{i ∈ V} max_{j ∈ S} s_ij            (every example represented by a chosen one)
 *   graph cut           G(S) = Σ_{i ∈ V} Σ_{j ∈ S} s_ij − λ Σ_{i,j ∈ S} s_ij   (coverage minus redundancy)
 *
 *   greedy:  S ← ∅;  repeat k times: S ← S ∪ {argmax_{j ∉ S} f(S ∪ {j}) − f(S)}     (ties: the lowest index)
 *   lazy greedy (Minoux 1978): keep the gains of earlier steps in a max-heap as upper bounds (submodularity: gains
 *     only shrink) and re-evaluate only the top until it stays on top: the same picks as the plain greedy
 *   stochastic greedy (Mirzasoleiman et al. 2015, Lazier Than Lazy Greedy, AAAI; arXiv:1409.7938): each step takes
 *     the best of ⌈(n/k) ln(1/ε)⌉ random candidates: (1 − 1/e − ε) in expectation, O(n ln(1/ε)) gains in all
 *
 * The matrix is n × n floats for a pool of n examples, so a fraction budget is split over the classes (make_pools
 * with by_class) and a pool may have at most max_pool examples. CRAIG (craig.hpp) runs facility location on
 * last-layer gradient distances.
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "distill/core.hpp"
#include "distill/core/rng.hpp"
#include "distill/coreset/detail/rows.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

//! How the greedy maximisation evaluates gains.
enum class GreedyKind {
  naive,       //!< every candidate's gain at every step (the reference)
  lazy,        //!< Minoux's lazy greedy (same picks as naive)
  stochastic,  //!< the best of a random sample of candidates per step
};

//! A pool's n × n similarity matrix (row-major floats).
struct Similarity {
  std::size_t n = 0;
  std::vector<float> s;
  float operator()(std::size_t i, std::size_t j) const { return s[i * n + j]; }
};

//! The largest pool the dense selectors accept (an n × n float matrix: 1.6 GB at 20 000).
inline constexpr std::size_t max_pool = 20000;

/**
 * s_ij = max d − d_ij from a pool's Gram matrix G (d_ij² = G_ii + G_jj − 2 G_ij, clamped at 0).
 * @param gram  n × n, overwritten
 */
inline Similarity similarity_from_gram(std::vector<float> gram, std::size_t n) {
  std::vector<float> diag(n);
  for (std::size_t i = 0; i < n; ++i) diag[i] = gram[i * n + i];
  float top = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      float& g = gram[i * n + j];
      g = std::sqrt(std::max(0.0f, diag[i] + diag[j] - 2 * g));
      top = std::max(top, g);
    }
  for (float& g : gram) g = top - g;
  return {n, std::move(gram)};
}

/**
 * The similarity matrix of one pool of rows of a float matrix x [N, D] (one GEMM for the Gram matrix).
 * @throw invalid_argument when the pool is larger than max_pool
 */
inline Similarity feature_similarity(const Tensor<float>& x, const std::vector<std::size_t>& idx, std::string_view where) {
  const std::size_t n = idx.size(), d = x.size() / std::max<std::size_t>(x.shape(0), 1);
  DISTILL_CHECK(n <= max_pool, where, ": a pool of ", n, " examples would need an ", n, " x ", n,
                " similarity matrix; use a per-class budget or fewer examples (at most ", max_pool, " per pool)");
  std::vector<float> rows(n * d), gram(n * n);
  for (std::size_t k = 0; k < n; ++k) std::copy_n(x.data() + idx[k] * d, d, rows.data() + k * d);
  DefaultBackend<float>::gemm({.trans_b = true, .m = n, .n = n, .k = d, .a = rows.data(), .lda = d, .b = rows.data(),
                               .ldb = d, .c = gram.data(), .ldc = n});
  return similarity_from_gram(std::move(gram), n);
}

//! The features of a view as a float tensor [N, D] (pixels, or the proxy's embedding).
template <class T>
Tensor<float> feature_matrix(SelectionView<T>& view) {
  const detail::RowStore& r = view.features();
  Tensor<float> x(Shape{r.rows(), r.dim()});
  for (std::size_t i = 0; i < r.rows(); ++i) {
    const auto row = r.row(i);
    std::copy(row.begin(), row.end(), x.data() + i * r.dim());
  }
  return x;
}

/**
 * Greedy facility location on a similarity matrix (see the file comment).
 * @param k        how many to pick (≤ n)
 * @param gains    receives the marginal gain of each pick
 * @param epsilon  GreedyKind::stochastic's ε
 * @return positions 0..n−1, in the order picked
 */
inline std::vector<std::size_t> facility_location_greedy(const Similarity& s, std::size_t k, GreedyKind kind,
                                                         std::vector<double>& gains, std::uint64_t seed = 0,
                                                         double epsilon = 0.01) {
  const std::size_t n = s.n;
  std::vector<float> cur(n, 0.0f);  // max_{j ∈ S} s_ij (0 for S = ∅; s ≥ 0)
  std::vector<std::uint8_t> chosen(n, 0);
  std::vector<std::size_t> picks;
  auto gain = [&](std::size_t j) {  // one contiguous row (s is symmetric), summed in float lanes (vectorised)
    const float* row = s.s.data() + j * n;
    const float* c = cur.data();
    float g = 0;
#pragma omp simd reduction(+ : g)
    for (std::size_t i = 0; i < n; ++i) g += std::max(0.0f, row[i] - c[i]);
    return double(g);
  };
  auto take = [&](std::size_t j, double g) {
    chosen[j] = 1;
    picks.push_back(j);
    gains.push_back(g);
    for (std::size_t i = 0; i < n; ++i) cur[i] = std::max(cur[i], s(j, i));
  };
  if (kind == GreedyKind::lazy) {
    // Max-heap of (upper bound, −index): ties pop the lowest index first, as the plain greedy picks it.
    std::priority_queue<std::pair<double, long>> heap;
    for (std::size_t j = 0; j < n; ++j) heap.push({gain(j), -long(j)});
    while (picks.size() < k) {
      auto [bound, neg] = heap.top();
      heap.pop();
      const auto j = std::size_t(-neg);
      const double g = gain(j);
      if (heap.empty() || g > heap.top().first || (g == heap.top().first && -neg < -heap.top().second)) take(j, g);
      else heap.push({g, neg});
    }
    return picks;
  }
  Rng rng(seed);
  const auto sample = std::size_t(std::ceil(double(n) / double(std::max<std::size_t>(k, 1)) * std::log(1.0 / epsilon)));
  while (picks.size() < k) {
    std::vector<std::size_t> cand;
    for (std::size_t j = 0; j < n; ++j)
      if (!chosen[j]) cand.push_back(j);
    if (kind == GreedyKind::stochastic && sample < cand.size()) {
      rng.shuffle(cand);
      cand.resize(sample);
      std::sort(cand.begin(), cand.end());
    }
    std::size_t best = cand[0];
    double best_g = -1;
    for (std::size_t j : cand) {
      const double g = gain(j);
      if (g > best_g) best_g = g, best = j;
    }
    take(best, best_g);
  }
  return picks;
}

/**
 * Greedy graph cut G(S) = Σ_i Σ_{j∈S} s_ij − λ Σ_{i,j∈S} s_ij (see the file comment): the gain of j is
 * c_j − λ (2 Σ_{s∈S} s_sj + s_jj) with c_j = Σ_i s_ij, kept up to date in O(n) per pick.
 * @return positions 0..n−1, in the order picked
 */
inline std::vector<std::size_t> graph_cut_greedy(const Similarity& s, std::size_t k, double lambda, GreedyKind kind,
                                                 std::vector<double>& gains, std::uint64_t seed = 0, double epsilon = 0.01) {
  const std::size_t n = s.n;
  std::vector<double> col(n, 0.0), in_s(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) col[j] += double(s(i, j));
  std::vector<std::uint8_t> chosen(n, 0);
  std::vector<std::size_t> picks;
  Rng rng(seed);
  const auto sample = std::size_t(std::ceil(double(n) / double(std::max<std::size_t>(k, 1)) * std::log(1.0 / epsilon)));
  while (picks.size() < k) {
    std::vector<std::size_t> cand;
    for (std::size_t j = 0; j < n; ++j)
      if (!chosen[j]) cand.push_back(j);
    if (kind == GreedyKind::stochastic && sample < cand.size()) {
      rng.shuffle(cand);
      cand.resize(sample);
      std::sort(cand.begin(), cand.end());
    }
    std::size_t best = cand[0];
    double best_g = -std::numeric_limits<double>::infinity();
    for (std::size_t j : cand) {  // every gain is exact and O(1): lazy and naive are the same scan
      const double g = col[j] - lambda * (2 * in_s[j] + double(s(j, j)));
      if (g > best_g) best_g = g, best = j;
    }
    chosen[best] = 1;
    picks.push_back(best);
    gains.push_back(best_g);
    for (std::size_t j = 0; j < n; ++j) in_s[j] += double(s(best, j));
  }
  return picks;
}

namespace detail {
template <class T, class Pick>
Selection select_submodular(SelectionView<T>& view, const Budget& budget, const char* where, Pick&& pick) {
  const auto pools = make_pools(view.data().labels, view.num_classes(), budget, where, /*by_class=*/true);
  const Tensor<float> x = feature_matrix(view);
  Selection out;
  for (std::size_t p = 0; p < pools.size(); ++p) {
    const Similarity s = feature_similarity(x, pools[p].indices, where);
    std::vector<double> gains;
    const auto picks = pick(s, pools[p].count, gains, p);
    for (std::size_t t = 0; t < picks.size(); ++t) out.append(pools[p].indices[picks[t]], gains[t]);
  }
  return out;
}
}  // namespace detail

/// Facility location on the view's features (see the file comment).
struct FacilityLocation {
  GreedyKind greedy = GreedyKind::lazy;
  std::uint64_t seed = 0;  //!< GreedyKind::stochastic's samples
  double epsilon = 0.01;   //!< GreedyKind::stochastic's ε

  std::string name() const { return "facility_location"; }
  //! @return per pool, the greedy picks; scores = marginal gains. @throw invalid_argument on a bad budget or pool size
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    return detail::select_submodular(view, budget, "FacilityLocation::select()",
                                     [&](const Similarity& s, std::size_t k, std::vector<double>& gains, std::size_t p) {
                                       return facility_location_greedy(s, k, greedy, gains, seed + p, epsilon);
                                     });
  }
};

/// Graph cut on the view's features (see the file comment).
struct GraphCut {
  double lambda = 0.5;     //!< the redundancy penalty (G is monotone for λ ≤ 0.5)
  GreedyKind greedy = GreedyKind::lazy;
  std::uint64_t seed = 0;
  double epsilon = 0.01;

  std::string name() const { return "graph_cut"; }
  //! @return per pool, the greedy picks; scores = marginal gains. @throw invalid_argument on a bad budget or pool size
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    return detail::select_submodular(view, budget, "GraphCut::select()",
                                     [&](const Similarity& s, std::size_t k, std::vector<double>& gains, std::size_t p) {
                                       return graph_cut_greedy(s, k, lambda, greedy, gains, seed + p, epsilon);
                                     });
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_SUBMODULAR_HPP
