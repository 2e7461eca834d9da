// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_INVOKE_HPP
#define DISTILL_CALLBACKS_INVOKE_HPP

/**
 * @file
 * Calling the hooks of a pack of callbacks (ensmallen's callbacks, without its SFINAE detectors).
 *
 * A callback is any object. It may have any of the four hooks
 *     on_begin(TrainingState&)   on_step(TrainingState&)   on_epoch_end(TrainingState&)   on_end(TrainingState&)
 * (taking the state by reference or const reference), each returning void or something convertible to bool.
 * A hook that returns true asks the method to stop. invoke_on_X calls the hook on *every* callback that has it,
 * in order, even after one has asked to stop (so a progress bar still draws the step that triggered an early
 * stop), and returns true if any of them asked to stop. A callback without the hook is skipped.
 *
 * A method uses them like this:
 * @code
 * template <class... Callbacks>
 * Result fit(const Data& data, Callbacks&&... callbacks) {
 *   callbacks::TrainingState state{.total_steps = options.steps, .phase = "kip"};
 *   callbacks::invoke_on_begin(state, callbacks...);
 *   for (std::size_t s = 0; s < options.steps; ++s) {
 *     state.loss = step(...);
 *     state.step = s + 1;
 *     if (callbacks::invoke_on_step(state, callbacks...)) break;
 *   }
 *   callbacks::invoke_on_end(state, callbacks...);
 * }
 * @endcode
 */

#include <type_traits>

#include "distill/callbacks/state.hpp"

namespace distill::callbacks {
namespace detail {

// One tag per hook, so that the detection and the call are written once (call_hook) for all four.
struct OnBegin {
  static constexpr const char* name = "on_begin";
  template <class C>
  static auto call(C& c, TrainingState& s) -> decltype(c.on_begin(s)) { return c.on_begin(s); }
};
struct OnStep {
  static constexpr const char* name = "on_step";
  template <class C>
  static auto call(C& c, TrainingState& s) -> decltype(c.on_step(s)) { return c.on_step(s); }
};
struct OnEpochEnd {
  static constexpr const char* name = "on_epoch_end";
  template <class C>
  static auto call(C& c, TrainingState& s) -> decltype(c.on_epoch_end(s)) { return c.on_epoch_end(s); }
};
struct OnEnd {
  static constexpr const char* name = "on_end";
  template <class C>
  static auto call(C& c, TrainingState& s) -> decltype(c.on_end(s)) { return c.on_end(s); }
};

template <class Hook, class Cb>
concept HasHook = requires(Cb& cb, TrainingState& s) { Hook::call(cb, s); };

//! Calls the hook if `cb` has it; returns true when the hook returned true ("stop").
template <class Hook, class Cb>
bool call_hook(Cb& cb, TrainingState& state) {
  // A const callback whose hook is non-const would be skipped without a word: refuse it instead.
  static_assert(HasHook<Hook, Cb> || !HasHook<Hook, std::remove_const_t<Cb>>,
                "distill::callbacks: a callback was passed as const but its hook is non-const; pass it by "
                "non-const reference (or as a temporary) so that the hook can run");
  if constexpr (HasHook<Hook, Cb>) {
    using R = decltype(Hook::call(cb, state));
    if constexpr (std::is_void_v<R>) {
      Hook::call(cb, state);
      return false;
    } else {
      static_assert(std::is_convertible_v<R, bool>,
                    "distill::callbacks: a hook must return void or bool (true = stop training)");
      return static_cast<bool>(Hook::call(cb, state));
    }
  } else {
    return false;
  }
}

template <class Hook, class... Cbs>
bool call_all(TrainingState& state, Cbs&... cbs) {
  bool stop = false;
  // Not `||` between the calls: that would short-circuit and skip the callbacks after the first "stop".
  ((stop = call_hook<Hook>(cbs, state) || stop), ...);
  return stop;
}

}  // namespace detail

/**
 * Calls on_begin(state) on every callback that has it.
 * @return true if any hook returned true (the method should not start).
 */
template <class... Cbs>
bool invoke_on_begin(TrainingState& state, Cbs&... callbacks) {
  return detail::call_all<detail::OnBegin>(state, callbacks...);
}

/**
 * Calls on_step(state) on every callback that has it; call it after each completed step.
 * @return true if any hook returned true (the method should stop).
 */
template <class... Cbs>
bool invoke_on_step(TrainingState& state, Cbs&... callbacks) {
  return detail::call_all<detail::OnStep>(state, callbacks...);
}

/**
 * Calls on_epoch_end(state) on every callback that has it; call it after each completed epoch.
 * @return true if any hook returned true (the method should stop).
 */
template <class... Cbs>
bool invoke_on_epoch_end(TrainingState& state, Cbs&... callbacks) {
  return detail::call_all<detail::OnEpochEnd>(state, callbacks...);
}

/**
 * Calls on_end(state) on every callback that has it; call it once when the method finishes or stops.
 * @return true if any hook returned true (there is nothing left to stop; reported for completeness).
 */
template <class... Cbs>
bool invoke_on_end(TrainingState& state, Cbs&... callbacks) {
  return detail::call_all<detail::OnEnd>(state, callbacks...);
}

}  // namespace distill::callbacks

#endif  // DISTILL_CALLBACKS_INVOKE_HPP
