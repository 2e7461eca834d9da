// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_SELECTION_HPP
#define DISTILL_CORESET_SELECTION_HPP

/**
 * @file
 * What a coreset selector returns (Selection) and how much it may pick (Budget), plus the two things every
 * selector shares: cutting the data into pools with a count each (one pool per class for a per-class budget,
 * one pool of everything for a global one), and ranking a pool by a score with seeded tie-breaking.
 *
 *   Budget{.images_per_class = 10}   ->  pools: class c's indices, pick 10 of each
 *   Budget{.fraction = 0.01}         ->  one pool of all N indices, pick round(0.01 · N)
 *
 * A selection becomes a distilled set like every other method's (to_distilled_set): the real images (standardised
 * per channel with the statistics of the whole training set, recorded in mean / std), hard labels, and the extra
 * keys `indices` (int64, into the training set) and, for weighted methods, `weights` (float64; eval::train weighs
 * each example's loss by it). See docs/distilled_set_format.md.
 */

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/rng.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/npy.hpp"

namespace distill::coreset {

/**
 * How many examples a selector picks: exactly one of the two fields is set.
 *   images_per_class > 0: that many of every class (the dataset-distillation convention, "IPC");
 *   fraction in (0, 1]:   round(fraction · N) of the whole set, chosen globally (classes may end up unbalanced),
 *                         except by selectors whose per-pool matrices would be N × N (CRAIG, the submodular
 *                         functions), which split it over the classes in proportion to their sizes.
 */
struct Budget {
  std::size_t images_per_class = 0;
  double fraction = 0;
};

/**
 * A selector's answer.
 *   indices  the chosen examples, as indices into the data the view was built on; per-class budgets list class 0's
 *            picks first, then class 1's, ..., each in the order the method chose them
 *   weights  one per index when the method weighs its picks (CRAIG: cluster sizes; importance sampling:
 *            1 / (N p)); absent otherwise
 *   scores   one per index: the method's score of that example (uncertainty, forgetting count, error norm), or
 *            the greedy step's value (k-center: the squared distance to the nearest earlier centre; herding: the
 *            squared distance of the running mean to the target; submodular: the marginal gain)
 */
struct Selection {
  std::vector<std::size_t> indices;
  std::optional<std::vector<double>> weights;
  std::vector<double> scores;

  std::size_t size() const { return indices.size(); }
  void append(std::size_t index, double score) {
    indices.push_back(index);
    scores.push_back(score);
  }
};

//! One pool of candidate indices (in increasing order) and how many to pick from it.
struct Pool {
  std::vector<std::size_t> indices;
  std::size_t count = 0;
};

/**
 * The pools of a budget over labels in [0, num_classes).
 * @param by_class  split a fraction budget over the classes (proportional to their sizes, rounded so the total is
 *                  round(fraction · N), largest remainders first) instead of one global pool
 * @param where     the calling selector, for messages ("KCenterGreedy::select()")
 * @throw invalid_argument when both or neither budget field is set, images_per_class exceeds a class's size,
 *        fraction is outside (0, 1] or gives 0 examples, or a class has no examples
 */
inline std::vector<Pool> make_pools(const std::vector<std::int64_t>& labels, std::size_t num_classes, const Budget& budget,
                                    std::string_view where, bool by_class = false) {
  DISTILL_CHECK(!(budget.images_per_class > 0 && budget.fraction != 0), where,
                ": the budget sets both images_per_class (", budget.images_per_class, ") and fraction (", budget.fraction,
                "), expected exactly one");
  DISTILL_CHECK(budget.images_per_class > 0 || budget.fraction != 0, where,
                ": the budget is 0 (images_per_class = 0 and fraction = 0), expected images_per_class >= 1 or a fraction "
                "in (0, 1]");
  DISTILL_CHECK(!labels.empty(), where, ": the data are empty");
  DISTILL_CHECK(num_classes > 0, where, ": num_classes is 0");
  std::vector<std::vector<std::size_t>> per(num_classes);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    DISTILL_CHECK(labels[i] >= 0 && std::uint64_t(labels[i]) < num_classes, where, ": label ", i, " is ", labels[i],
                  ", expected a class index in [0, ", num_classes, ")");
    per[std::size_t(labels[i])].push_back(i);
  }
  for (std::size_t c = 0; c < num_classes; ++c)
    DISTILL_CHECK(!per[c].empty(), where, ": class ", c, " has no examples, expected every class to be present");

  std::vector<Pool> pools;
  if (budget.images_per_class > 0) {
    for (std::size_t c = 0; c < num_classes; ++c) {
      DISTILL_CHECK(budget.images_per_class <= per[c].size(), where, ": images_per_class is ", budget.images_per_class,
                    " but class ", c, " has only ", per[c].size(), " examples");
      pools.push_back({std::move(per[c]), budget.images_per_class});
    }
    return pools;
  }
  DISTILL_CHECK(std::isfinite(budget.fraction) && budget.fraction > 0 && budget.fraction <= 1, where, ": fraction is ",
                budget.fraction, ", expected a number in (0, 1]");
  const std::size_t n = labels.size();
  const auto total = std::size_t(std::llround(budget.fraction * double(n)));
  DISTILL_CHECK(total > 0, where, ": fraction ", budget.fraction, " of ", n, " examples rounds to 0, expected at least 1");
  if (!by_class) {
    Pool all{std::vector<std::size_t>(n), total};
    std::iota(all.indices.begin(), all.indices.end(), std::size_t{0});
    pools.push_back(std::move(all));
    return pools;
  }
  // Largest remainders: floor(share) each, then +1 for the classes with the largest fractional parts (lower class
  // first on ties), so the counts sum to `total` exactly and never exceed a class's size.
  std::vector<std::size_t> count(num_classes);
  std::vector<std::pair<double, std::size_t>> rest;
  std::size_t given = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    const double share = double(total) * double(per[c].size()) / double(n);
    count[c] = std::min(per[c].size(), std::size_t(std::floor(share)));
    given += count[c];
    rest.push_back({share - std::floor(share), c});
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < total && k < rest.size(); ++k)
    if (count[rest[k].second] < per[rest[k].second].size()) ++count[rest[k].second], ++given;
  for (std::size_t c = 0; c < num_classes; ++c)
    if (count[c] > 0) pools.push_back({std::move(per[c]), count[c]});
  return pools;
}

/**
 * The `count` entries of `pool` with the largest scores (scores indexed by example), best first; ties go in a
 * seeded random order (the same seed gives the same answer), so that methods whose scores are coarse (forgetting
 * counts after a few epochs) do not favour low indices.
 */
inline std::vector<std::size_t> top_by_score(const Pool& pool, const std::vector<double>& scores, std::uint64_t seed) {
  std::vector<std::size_t> order = pool.indices;
  Rng rng(seed);
  rng.shuffle(order);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  order.resize(pool.count);
  return order;
}

//! Every pool's top `count` by score (top_by_score), pool after pool, with their scores.
inline Selection select_top(const std::vector<Pool>& pools, const std::vector<double>& scores, std::uint64_t seed) {
  Selection s;
  for (std::size_t p = 0; p < pools.size(); ++p)
    for (std::size_t i : top_by_score(pools[p], scores, seed + p)) s.append(i, scores[i]);
  return s;
}

/**
 * A selection as a distilled set (docs/distilled_set_format.md): the chosen real images standardised per channel by
 * the whole training set's statistics (so that evaluate_set trains and tests in the same space as for any other
 * method), hard labels, `method` = the selector's name, and the extra keys `indices` (int64) and `weights`
 * (float64, when the selection has them).
 * @param data          the training data the selection indexes, in [0, 1] pixel space, [N, C, H, W]
 * @param standardize   record the training set's per-channel mean / std and store standardised images (default);
 *                      false stores the pixels as they are, with no normalisation
 * @throw invalid_argument when an index is out of range or the weights do not match the indices
 */
template <std::floating_point T>
io::DistilledSet<T> to_distilled_set(const Selection& selection, const LabeledData<T>& data, std::string method,
                                     std::string options_json = "{}", bool standardize = true) {
  DISTILL_CHECK(!selection.indices.empty(), "coreset::to_distilled_set(): the selection is empty");
  DISTILL_CHECK(!selection.weights || selection.weights->size() == selection.indices.size(),
                "coreset::to_distilled_set(): the selection has ", selection.weights ? selection.weights->size() : 0,
                " weights for ", selection.indices.size(), " indices");
  const LabeledData<T> picked = data.subset(selection.indices);
  io::DistilledSet<T> set = io::DistilledSet<T>::from_labeled_data(picked, std::move(method), std::move(options_json));
  if (standardize) {
    const auto norm = io::ChannelStandardization<T>::of(data.images);
    norm.apply(set.images);
    set.mean = norm.mean;
    set.stddev = norm.stddev;
  }
  std::vector<std::int64_t> idx(selection.indices.begin(), selection.indices.end());
  set.extra["indices"] = io::NpyArray::from_values(idx);
  if (selection.weights) set.extra["weights"] = io::NpyArray::from_values(*selection.weights);
  return set;
}

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_SELECTION_HPP
