// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_UNCERTAINTY_HPP
#define DISTILL_CORESET_UNCERTAINTY_HPP

/**
 * @file
 * Uncertainty sampling (Settles 2009, Active Learning Literature Survey; as a coreset method: Coleman et al. 2020,
 * Selection via Proxy: Efficient Data Selection for Deep Learning, ICLR; arXiv:1906.11829): score each example by
 * how unsure a briefly trained proxy is about it, and keep the most uncertain, in descending score. With the
 * proxy's probabilities p (view.probabilities()):
 *
 *   least confidence   1 − max_k p_k
 *   entropy            −Σ_k p_k log p_k
 *   margin             1 − (p_(1) − p_(2))      (p_(1) ≥ p_(2) the two largest: a small margin is uncertain)
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

//! Which uncertainty score.
enum class UncertaintyKind { least_confidence, entropy, margin };

//! The uncertainty score of one probability row (see the file comment).
template <class T>
double uncertainty_score(const T* p, std::size_t k, UncertaintyKind kind) {
  switch (kind) {
    case UncertaintyKind::least_confidence: return 1.0 - double(*std::max_element(p, p + k));
    case UncertaintyKind::entropy: {
      double h = 0;
      for (std::size_t c = 0; c < k; ++c)
        if (p[c] > 0) h -= double(p[c]) * std::log(double(p[c]));
      return h;
    }
    case UncertaintyKind::margin: {
      double first = -1, second = -1;
      for (std::size_t c = 0; c < k; ++c) {
        const double v = double(p[c]);
        if (v > first) second = first, first = v;
        else if (v > second) second = v;
      }
      return 1.0 - (first - (k > 1 ? second : 0.0));
    }
  }
  return 0;
}

/// Uncertainty sampling: the most uncertain examples of each pool (see the file comment).
struct Uncertainty {
  UncertaintyKind kind = UncertaintyKind::least_confidence;
  std::uint64_t seed = 0;  //!< order of ties

  std::string name() const {
    return kind == UncertaintyKind::entropy ? "entropy" : kind == UncertaintyKind::margin ? "margin" : "least_confidence";
  }

  /**
   * @return per pool, the count highest scores in descending order (ties in a seeded random order)
   * @throw invalid_argument on a bad budget (make_pools), or a view without a proxy model
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Uncertainty::select()");
    const Tensor<T>& p = view.probabilities();
    const std::size_t k = p.shape(1);
    std::vector<double> score(view.size());
    for (std::size_t i = 0; i < score.size(); ++i) score[i] = uncertainty_score(p.data() + i * k, k, kind);
    return select_top(pools, score, seed);
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_UNCERTAINTY_HPP
