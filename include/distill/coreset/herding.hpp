// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_HERDING_HPP
#define DISTILL_CORESET_HERDING_HPP

/**
 * @file
 * Herding (Welling 2009, Herding Dynamical Weights to Learn, ICML; as used for exemplar selection by Rebuffi et al.
 * 2017, iCaRL, CVPR, and by the coreset rows of Zhao, Mopuri, Bilen 2021): greedily add the example that keeps the
 * running mean of the selection closest to the pool's mean μ.
 *
 *   S ← ∅
 *   for t = 1..k:
 *     u ← argmin_{i ∉ S} ‖μ − (Σ_{s∈S} x_s + x_i) / t‖²          (ties: the lowest index)
 *     S ← S ∪ {u}
 *
 * Expanding the square, the argmin is that of ‖x_i‖² − 2t x_i·μ + 2 a_i with a_i = Σ_{s∈S} x_i·x_s, so a step is
 * one pass that adds x_i·u to every a_i (N numbers kept, never a matrix), OpenMP-parallel over the rows; x_i·μ is
 * one pass at the start. For 8-bit pixels every term is an exact integer (scaled by N), so the order is exact.
 */

#include <limits>
#include <string>
#include <vector>

#include "distill/coreset/detail/rows.hpp"
#include "distill/coreset/detail/stream_stats.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/**
 * Herding on one pool of rows of `x` (see the file comment), appending its picks to `out` with ‖μ − mean(S)‖² (in
 * the data's units) after each pick.
 * @param stats  if given, counts the passes and the rows they read
 */
inline void herding(const detail::RowStore& x, const Pool& pool, Selection& out, StreamStats* stats = nullptr) {
  const std::vector<std::size_t>& idx = pool.indices;
  const std::size_t n = idx.size(), d = x.dim();
  // m_i = n · x_i·μ = x_i · Σ_j x_j, in double (exact for byte rows: integers below 2^53).
  std::vector<double> colsum(d, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    const std::vector<float> r = x.row(idx[j]);
    for (std::size_t k = 0; k < d; ++k) colsum[k] += x.bytes() ? double(std::lround(r[k] * 255.0f)) : double(r[k]);
  }
  std::vector<double> m(n);
  const long nn = long(n);
#pragma omp parallel for schedule(static)
  for (long j = 0; j < nn; ++j) {
    const std::vector<float> r = x.row(idx[std::size_t(j)]);
    double s = 0;
    for (std::size_t k = 0; k < d; ++k) s += (x.bytes() ? double(std::lround(r[k] * 255.0f)) : double(r[k])) * colsum[k];
    m[std::size_t(j)] = s;
  }
  double mu2n2 = 0;  // n² ‖μ‖²
  for (double c : colsum) mu2n2 += c * c;
  const double dn = double(n);
  std::vector<double> a(n, 0.0);
  std::vector<std::uint8_t> chosen(n, 0);
  double s2 = 0, mus = 0;  // ‖Σ_S x‖² and n μ·Σ_S x
  for (std::size_t t = 1; t <= pool.count; ++t) {
    // n · (‖x_i‖² − 2t x_i·μ + 2 a_i)
    std::size_t best = n;
    double best_v = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < n; ++j) {
      if (chosen[j]) continue;
      const double v = dn * x.norm2(idx[j]) - 2 * double(t) * m[j] + 2 * dn * a[j];
      if (v < best_v) best_v = v, best = j;
    }
    const std::size_t u = idx[best];
    chosen[best] = 1;
    // ‖tμ − S − u‖² / t², with S before u: t²‖μ‖² − 2t μ·(S + u) + ‖S‖² + 2 a_u + ‖u‖²
    s2 += 2 * a[best] + x.norm2(u);
    mus += m[best];
    const double dist = (double(t) * double(t) * mu2n2 / (dn * dn) - 2 * double(t) * mus / dn + s2) / (double(t) * double(t));
    out.append(u, std::max(0.0, dist) * x.scale());
    if (t == pool.count) break;
#pragma omp parallel for schedule(static)
    for (long j = 0; j < nn; ++j) a[std::size_t(j)] += x.dot(idx[std::size_t(j)], u);
    if (stats) ++stats->steps, stats->rows_read += n, stats->bytes_read += n * x.row_bytes();
  }
}

/// Herding (see the file comment) on the view's features() (pixels, or the proxy's embedding).
struct Herding {
  std::string name() const { return "herding"; }

  /**
   * @return per pool, count examples in the order chosen; scores = ‖μ − mean(S)‖² after each pick
   * @throw invalid_argument on a bad budget (make_pools)
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget, StreamStats* stats = nullptr) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Herding::select()");
    const detail::RowStore& x = view.features();
    Selection s;
    for (const Pool& pool : pools) herding(x, pool, s, stats);
    return s;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_HERDING_HPP
