// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_FORGETTING_HPP
#define DISTILL_CORESET_FORGETTING_HPP

/**
 * @file
 * Forgetting events (Toneva et al. 2019, An Empirical Study of Example Forgetting during Deep Neural Network
 * Learning, ICLR; arXiv:1812.05159): while a proxy trains, an example is *forgotten* when it goes from correctly to
 * incorrectly classified between two consecutive epochs. Examples forgotten often are the informative ones;
 * examples learned once and never forgotten are the most redundant and go last.
 *
 *   correct[e][i]  from view.dynamics() (the proxy's prediction at the end of epoch e)
 *   forgetting_i = #{e ≥ 1 : correct[e−1][i] ∧ ¬correct[e][i]}
 *   never learned (no epoch correct): ranked first, above every count (the paper counts them as forgotten
 *   infinitely often) — or, NeverLearned::zero, counted as the 0 events they had (DeepCore's implementation, which
 *   the survey of these methods measured): at small budgets "first" picks the mislabelled and unreadable images
 *   of a class, "zero" its most often forgotten readable ones
 *   select in descending forgetting count; ties in a seeded random order
 */

#include <cstdint>
#include <string>
#include <vector>

#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

//! How Forgetting ranks an example that no epoch classified correctly (see the file comment).
enum class NeverLearned {
  first,  //!< above every count (Toneva et al.)
  zero,   //!< with the 0 forgetting events it had (DeepCore)
};

/**
 * Forgetting counts of every example from training dynamics [epoch][N] (see the file comment); a never-learned
 * example gets epochs + 1 (more than any count can be) under NeverLearned::first, 0 under NeverLearned::zero.
 */
inline std::vector<double> forgetting_counts(const std::vector<std::vector<std::uint8_t>>& correct,
                                             NeverLearned never_learned = NeverLearned::first) {
  DISTILL_CHECK(!correct.empty(), "coreset::forgetting_counts(): no epochs were recorded");
  const std::size_t n = correct[0].size(), epochs = correct.size();
  std::vector<double> count(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    bool learned = correct[0][i];
    for (std::size_t e = 1; e < epochs; ++e) {
      count[i] += correct[e - 1][i] && !correct[e][i];
      learned = learned || correct[e][i];
    }
    if (!learned && never_learned == NeverLearned::first) count[i] = double(epochs + 1);
  }
  return count;
}

/// Forgetting events (see the file comment): needs a view with a proxy model (its training dynamics).
struct Forgetting {
  std::uint64_t seed = 0;  //!< order of ties
  NeverLearned never_learned = NeverLearned::first;

  std::string name() const { return "forgetting"; }

  /**
   * @return per pool, the count most forgotten examples; scores = forgetting counts
   * @throw invalid_argument on a bad budget (make_pools), or a view without a proxy model
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Forgetting::select()");
    return select_top(pools, forgetting_counts(view.dynamics(), never_learned), seed);
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_FORGETTING_HPP
