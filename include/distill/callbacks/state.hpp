// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_STATE_HPP
#define DISTILL_CALLBACKS_STATE_HPP

/**
 * @file
 * TrainingState: what a training loop tells its callbacks.
 *
 * WHAT THIS REPRESENTS
 *   One mutable record that a method (Kip::fit, a trainer, an evaluation loop) owns and updates as it runs,
 *   and passes by reference to every hook of every callback (see invoke.hpp). Callbacks read it; a few write
 *   to it on purpose (none of the shipped ones do).
 *
 * THE METHOD'S SIDE OF THE CONTRACT
 *   - Before the first step: fill total_steps (0 if unknown), total_epochs (0 if the method has no epochs),
 *     phase, and save_checkpoint if the method can save itself; then call invoke_on_begin.
 *   - After each step: set step to the number of steps completed so far (1 after the first step, total_steps
 *     after the last; on resume it continues from the saved step), loss, metrics and elapsed_seconds; then
 *     call invoke_on_step. Stop when it returns true.
 *   - After each epoch (if it has epochs): set epoch to the number of epochs completed and call
 *     invoke_on_epoch_end. Stop when it returns true.
 *   - At the end (also after an early stop): call invoke_on_end.
 *   - Resuming is the method's job: methods take a `.resume_from` path in their options, restore what
 *     save_checkpoint wrote, set step/epoch to the saved values and continue. Callbacks only decide *when* to
 *     save (Checkpoint), never how.
 */

#include <cstddef>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <string>

namespace distill::callbacks {

/// The training loop's progress, as seen by callbacks. See the file comment for who fills what, and when.
struct TrainingState {
  std::size_t step = 0;          //!< steps completed so far (1-based once the first step is done)
  std::size_t total_steps = 0;   //!< planned number of steps; 0 when unknown
  std::size_t epoch = 0;         //!< epochs completed so far
  std::size_t total_epochs = 0;  //!< planned number of epochs; 0 for methods that do not work in epochs
  double loss = std::numeric_limits<double>::quiet_NaN();  //!< the latest training loss (NaN before the first)
  std::map<std::string, double> metrics{};  //!< any other numbers the method reports ("acc", "val_loss", "lr", ...)
  double elapsed_seconds = 0;             //!< wall time since the method started (its own clock)
  std::string phase{};                    //!< what is running, e.g. "kip", "train", "eval"
  /**
   * Saves the method's full state (parameters, optimizer, step, RNG) to a path, so that a later run with
   * `.resume_from = path` continues where this one stopped. Set by methods that support checkpoints; empty
   * otherwise. The io layer makes the save atomic (temporary file + rename).
   */
  std::function<void(const std::filesystem::path&)> save_checkpoint{};

  //! The value named `name`: "loss" or "" is the loss, anything else is looked up in metrics (NaN if absent).
  double value(const std::string& name) const {
    if (name.empty() || name == "loss") return loss;
    const auto it = metrics.find(name);
    return it == metrics.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  }
  //! True when `name` is reported ("loss" and "" always are).
  bool has(const std::string& name) const { return name.empty() || name == "loss" || metrics.count(name) != 0; }
};

}  // namespace distill::callbacks

#endif  // DISTILL_CALLBACKS_STATE_HPP
