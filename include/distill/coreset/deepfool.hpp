// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_DEEPFOOL_HPP
#define DISTILL_CORESET_DEEPFOOL_HPP

/**
 * @file
 * DeepFool margins (Moosavi-Dezfooli, Fawzi, Frossard 2016, DeepFool: a simple and accurate method to fool deep
 * neural networks, CVPR; arXiv:1511.04599; for selection, Ducoffe, Precioso 2018, Adversarial Active Learning for
 * Deep Networks: a Margin Based Approach; arXiv:1802.09841): the examples nearest the proxy's decision boundary,
 * measured by the smallest perturbation that flips its prediction, go first.
 *
 *   x₀ ← x;  ŷ ← argmax z(x);  r ← 0
 *   while argmax z(x_t) = ŷ and t < max_iter:
 *     for k ≠ ŷ:  w_k ← ∇z_k(x_t) − ∇z_ŷ(x_t),  f_k ← z_k(x_t) − z_ŷ(x_t)      (the input gradients, through the tape)
 *     l ← argmin_{k ≠ ŷ} |f_k| / ‖w_k‖
 *     r_t ← (|f_l| + 1e-4) / ‖w_l‖² · w_l;  x_{t+1} ← x₀ + (1 + overshoot) Σ r;  r ← r + r_t
 *   score = ‖(1 + overshoot) r‖  (an example never flipped within max_iter keeps its accumulated norm)
 *   select in ascending score
 *
 * Batches of the standardised data go through the proxy's tape together (view.input_jacobian()), K backward passes
 * per iteration; examples already flipped keep their perturbation.
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

//! DeepFool's perturbation norm of every example of the view (see the file comment), in the standardised space.
template <class T>
std::vector<double> deepfool_margins(SelectionView<T>& view, std::size_t max_iter, double overshoot, std::size_t batch) {
  const LabeledData<T>& d = view.standardized();
  const std::size_t n = d.size(), dim = d.images.size() / n;
  std::vector<double> score(n, 0.0);
  Tensor<T> logits;
  std::vector<Tensor<T>> jac;
  for (std::size_t b = 0; b < n; b += batch) {
    const std::size_t m = std::min(batch, n - b);
    const Tensor<T> x0 = d.images.rows(b, b + m).clone();
    Tensor<T> x = x0.clone();
    std::vector<double> r(m * dim, 0.0);
    std::vector<std::size_t> pred(m);
    std::vector<std::uint8_t> active(m, 1);
    for (std::size_t it = 0; it <= max_iter; ++it) {
      view.input_jacobian(x, logits, jac);
      const std::size_t k = logits.shape(1);
      bool any = false;
      for (std::size_t i = 0; i < m; ++i) {
        const T* z = logits.data() + i * k;
        const auto top = std::size_t(std::max_element(z, z + k) - z);
        if (it == 0) pred[i] = top;
        if (!active[i]) continue;
        if (top != pred[i] || it == max_iter) {
          active[i] = 0;
          continue;
        }
        std::size_t best = k;
        double best_ratio = std::numeric_limits<double>::infinity(), best_f = 0, best_w2 = 0;
        for (std::size_t c = 0; c < k; ++c) {
          if (c == pred[i]) continue;
          double w2 = 0;
          for (std::size_t q = 0; q < dim; ++q) {
            const double w = double(jac[c][i * dim + q]) - double(jac[pred[i]][i * dim + q]);
            w2 += w * w;
          }
          const double f = double(z[c]) - double(z[pred[i]]);
          const double ratio = std::abs(f) / std::sqrt(std::max(w2, 1e-30));
          if (ratio < best_ratio) best_ratio = ratio, best = c, best_f = f, best_w2 = std::max(w2, 1e-30);
        }
        const double step = (std::abs(best_f) + 1e-4) / best_w2;
        for (std::size_t q = 0; q < dim; ++q) {
          r[i * dim + q] += step * (double(jac[best][i * dim + q]) - double(jac[pred[i]][i * dim + q]));
          x[i * dim + q] = T(double(x0[i * dim + q]) + (1 + overshoot) * r[i * dim + q]);
        }
        any = true;
      }
      if (!any) break;
    }
    for (std::size_t i = 0; i < m; ++i) {
      double s = 0;
      for (std::size_t q = 0; q < dim; ++q) s += r[i * dim + q] * r[i * dim + q];
      score[b + i] = (1 + overshoot) * std::sqrt(s);
    }
  }
  return score;
}

/// DeepFool margins (see the file comment): needs a view with a proxy model.
struct DeepFool {
  std::size_t max_iter = 50;
  double overshoot = 0.02;
  std::size_t batch_size = 256;
  std::uint64_t seed = 0;  //!< order of ties

  std::string name() const { return "deepfool"; }

  /**
   * @return per pool, the count smallest perturbation norms, smallest first; scores = the norms
   * @throw invalid_argument on a bad budget, or a view without a proxy
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    DISTILL_CHECK(batch_size > 0, "DeepFool::select(): batch_size is 0");
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "DeepFool::select()");
    const std::vector<double> margin = deepfool_margins(view, max_iter, overshoot, batch_size);
    std::vector<double> neg(margin.size());
    for (std::size_t i = 0; i < neg.size(); ++i) neg[i] = -margin[i];
    Selection s = select_top(pools, neg, seed);
    for (auto& v : s.scores) v = -v;
    return s;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_DEEPFOOL_HPP
