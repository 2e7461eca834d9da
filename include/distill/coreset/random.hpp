// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_RANDOM_HPP
#define DISTILL_CORESET_RANDOM_HPP

/**
 * @file
 * The baseline every coreset method is measured against: a uniformly random subset of each pool (each class for
 * a per-class budget, the whole set for a fraction), drawn with a seeded Fisher–Yates shuffle.
 */

#include <cstdint>
#include <string>

#include "distill/core/rng.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

/// Uniform random selection (the "random" rows of every coreset and distillation table).
struct Random {
  std::uint64_t seed = 0;

  std::string name() const { return "random"; }

  /**
   * @return count examples per pool, uniformly without replacement; scores are 0
   * @throw invalid_argument on a bad budget (make_pools)
   */
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Random::select()");
    Rng rng(seed);
    Selection s;
    for (const Pool& pool : pools) {
      std::vector<std::size_t> order = pool.indices;
      rng.shuffle(order);
      for (std::size_t k = 0; k < pool.count; ++k) s.append(order[k], 0.0);
    }
    return s;
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_RANDOM_HPP
