// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_CONCEPTS_HPP
#define DISTILL_CORESET_CONCEPTS_HPP

/**
 * @file
 * The Selector concept: a coreset selection method.
 *
 * WHAT THIS REPRESENTS
 *   A value of options (KCenterGreedy{}, Herding{}, Uncertainty{.kind = ...}, ...) that picks a subset of a data
 *   set from what a SelectionView offers (pixels, embeddings, probabilities, last-layer gradients, training
 *   dynamics), within a Budget.
 *
 * requires
 *   - `s.template select<T>(view, budget) -> Selection` for SelectionView<T>& view and const Budget& budget;
 *   - `s.name() -> std::string`: the method's name, which is also the distilled set's `method` and the CLI's
 *     --method ("k_center_greedy").
 *
 * ensures
 *   - the same view, budget and selector options (seed included) give the same Selection;
 *   - a bad budget (0, more than a class has, a fraction outside (0, 1]) or an empty class throws
 *     invalid_argument before any work (make_pools).
 */

#include <concepts>
#include <string>

#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

//! S selects from a SelectionView<T>: `s.template select<T>(view, budget) -> Selection`.
template <class S, class T = float>
concept HasSelect = requires(const S& s, SelectionView<T>& view, const Budget& budget) {
  { s.template select<T>(view, budget) } -> std::same_as<Selection>;
};
//! S names itself: `s.name() -> std::string` (the NPZ's `method`, the CLI's --method).
template <class S>
concept HasName = requires(const S& s) {
  { s.name() } -> std::convertible_to<std::string>;
};

/// A coreset selection method (see the file comment).
template <class S, class T = float>
concept Selector = HasSelect<S, T> && HasName<S>;

}  // namespace distill::coreset

/**
 * One static_assert per part of the Selector concept, so that a wrong type fails with one readable line:
 * `DISTILL_REQUIRE_SELECTOR(S, "distill::coreset::select")`.
 */
#define DISTILL_REQUIRE_SELECTOR(S, where)                                                                              \
  static_assert(::distill::coreset::HasSelect<S>, where ": S must provide `template <class T> Selection "             \
                                                        "select(SelectionView<T>&, const Budget&) const`; see coreset/concepts.hpp"); \
  static_assert(::distill::coreset::HasName<S>, where ": S must provide `std::string name() const`; see coreset/concepts.hpp")

#endif  // DISTILL_CORESET_CONCEPTS_HPP
