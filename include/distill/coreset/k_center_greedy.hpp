// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_K_CENTER_GREEDY_HPP
#define DISTILL_CORESET_K_CENTER_GREEDY_HPP

/**
 * @file
 * k-center greedy (Sener, Savarese 2018, Active Learning for Convolutional Neural Networks: A Core-Set Approach,
 * ICLR; arXiv:1708.00489, Algorithm 1): the 2-approximation of the minimax facility location problem
 * min_S max_i min_{c ∈ S} ‖x_i − c‖.
 *
 *   S ← {the point nearest the pool's mean (or a seeded random one)};  δ_i ← ‖x_i − c‖² for this first centre c
 *   repeat until |S| = k:
 *     u ← argmax_{i ∉ S} δ_i          (the point farthest from every centre; ties: the lowest index)
 *     S ← S ∪ {u};  δ_i ← min(δ_i, ‖x_i − u‖²)   for every i
 *
 * Streaming: only δ (N numbers) and each point's nearest centre are kept, never a distance matrix. A step reads
 * each row once and computes ‖x‖² − 2 x·u + ‖u‖² with the norms precomputed (exact integers for 8-bit pixels),
 * OpenMP-parallel over the rows. Rows that cannot move are skipped without being read (exact pruning by two
 * triangle inequalities, checked on numbers already in cache): if x_i's nearest centre is a and
 * ‖u − a‖ ≥ 2‖x_i − a‖, then ‖x_i − u‖ ≥ ‖x_i − a‖; and ‖x_i − u‖ ≥ |‖x_i‖ − ‖u‖|, so (‖x_i‖ − ‖u‖)² ≥ δ_i means
 * u cannot be nearer either.
 */

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "distill/core/rng.hpp"
#include "distill/coreset/detail/rows.hpp"
#include "distill/coreset/detail/stream_stats.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/**
 * k-center greedy on one pool of rows of `x` (see the file comment), appending its picks to `out` with the
 * squared distance (in the data's units) each had to its nearest earlier centre (infinity for the first).
 * @param first  the position in pool.indices of the first centre
 * @param prune  skip rows that the triangle inequality shows cannot move (exact)
 * @param stats  if given, counts the passes and the rows they read
 */
inline void k_center_greedy(const detail::RowStore& x, const Pool& pool, std::size_t first, Selection& out,
                            bool prune = true, StreamStats* stats = nullptr) {
  const std::vector<std::size_t>& idx = pool.indices;
  const std::size_t n = idx.size();
  std::vector<double> delta(n, std::numeric_limits<double>::infinity());
  std::vector<std::uint32_t> nearest(n, 0);  // position in `centres` of each point's nearest centre
  std::vector<std::uint8_t> chosen(n, 0);
  std::vector<std::size_t> centres;          // data indices
  std::vector<double> to_new;                // ‖u − centre_a‖² for every earlier centre a
  std::vector<double> root(prune ? n : 0);  // ‖x_j‖
  for (std::size_t j = 0; j < root.size(); ++j) root[j] = std::sqrt(x.norm2(idx[j]));
  std::size_t pos = first;
  double value = std::numeric_limits<double>::infinity();
  for (std::size_t t = 0; t < pool.count; ++t) {
    const std::size_t u = idx[pos];
    chosen[pos] = 1;
    out.append(u, value * x.scale());
    centres.push_back(u);
    if (t + 1 == pool.count) break;
    const auto a_new = std::uint32_t(centres.size() - 1);
    if (prune) {
      to_new.resize(a_new + 1);
      for (std::size_t a = 0; a < a_new; ++a) to_new[a] = x.distance2(u, centres[a]);
      to_new[a_new] = 0;
    }
    std::size_t read = 0;
    const long nn = long(n);
    const double root_u = prune ? root[pos] : 0.0;
#pragma omp parallel for schedule(static) reduction(+ : read)
    for (long j = 0; j < nn; ++j) {
      if (prune) {
        const double gap = root[std::size_t(j)] - root_u;
        if (gap * gap >= delta[j] || to_new[nearest[j]] >= 4 * delta[j]) continue;  // u cannot be nearer
      }
      ++read;
      const double d = x.distance2(idx[std::size_t(j)], u);
      if (d < delta[j]) delta[j] = d, nearest[j] = a_new;
    }
    if (stats) ++stats->steps, stats->rows_read += read, stats->bytes_read += read * x.row_bytes();
    pos = n;
    for (std::size_t j = 0; j < n; ++j)
      if (!chosen[j] && (pos == n || delta[j] > delta[pos])) pos = j;
    value = delta[pos];
  }
}

/**
 * The position in pool.indices of the point nearest the pool's mean: argmin ‖x_i‖² − 2 x_i·μ (one pass; exact for
 * byte rows, whose terms are integers scaled by n).
 */
inline std::size_t nearest_to_mean(const detail::RowStore& x, const Pool& pool) {
  const std::vector<std::size_t>& idx = pool.indices;
  const std::size_t n = idx.size(), d = x.dim();
  std::vector<double> colsum(d, 0.0);
  std::vector<float> r;
  for (std::size_t j = 0; j < n; ++j) {
    r = x.row(idx[j]);
    for (std::size_t k = 0; k < d; ++k) colsum[k] += x.bytes() ? double(std::lround(r[k] * 255.0f)) : double(r[k]);
  }
  std::size_t best = 0;
  double best_v = 0;
  for (std::size_t j = 0; j < n; ++j) {
    r = x.row(idx[j]);
    double m = 0;
    for (std::size_t k = 0; k < d; ++k) m += (x.bytes() ? double(std::lround(r[k] * 255.0f)) : double(r[k])) * colsum[k];
    const double v = double(n) * x.norm2(idx[j]) - 2 * m;
    if (j == 0 || v < best_v) best_v = v, best = j;
  }
  return best;
}

//! How k-center greedy picks each pool's first centre.
enum class FirstCentre {
  nearest_mean,  //!< the point nearest the pool's mean (deterministic; at one per class, the class's most typical image)
  random,        //!< a seeded uniformly random point
};

/// k-center greedy (see the file comment) on the view's features() (pixels, or the proxy's embedding).
struct KCenterGreedy {
  std::uint64_t seed = 0;  //!< FirstCentre::random: draws each pool's first centre
  FirstCentre first = FirstCentre::nearest_mean;
  /**
   * Exact triangle-inequality pruning (true) or every row read at every step (false, the default). Measured on MNIST's
   * 784-d pixels, 600 of 60,000: pruning skips only 5 % of the rows and its per-row test makes the pass 20 % slower
   * (bench_coreset); it pays where distances are less concentrated (low-dimensional embeddings).
   */
  bool prune = false;

  std::string name() const { return "k_center_greedy"; }

  /**
   * @return per pool, count centres in the order chosen; scores = squared distance to the nearest earlier centre
   * @throw invalid_argument on a bad budget (make_pools)
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget, StreamStats* stats = nullptr) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "KCenterGreedy::select()");
    const detail::RowStore& x = view.features();
    Rng rng(seed);
    Selection s;
    for (const Pool& pool : pools) {
      const std::size_t start = first == FirstCentre::random ? std::size_t(rng.uniform_int(pool.indices.size()))
                                                             : nearest_to_mean(x, pool);
      k_center_greedy(x, pool, start, s, prune, stats);
    }
    return s;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_K_CENTER_GREEDY_HPP
