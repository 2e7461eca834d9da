// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_EARLY_STOP_HPP
#define DISTILL_CALLBACKS_EARLY_STOP_HPP

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "distill/callbacks/state.hpp"
#include "distill/core/error.hpp"

namespace distill::callbacks {

/**
 * Stops training when a monitored value has not improved for `patience` checks in a row (ensmallen's
 * EarlyStopAtMinLoss, Keras' EarlyStopping).
 *
 * `EarlyStop{.patience = 10, .min_delta = 1e-4, .metric = "val_acc", .mode = EarlyStop::Mode::maximize}`.
 *
 * A check is an improvement when the value beats the best so far by more than min_delta (below it for
 * minimize, above it for maximize). A NaN value (a diverged loss) is never an improvement, so a run that has
 * blown up stops after `patience` more checks. The first finite value always counts as an improvement.
 *
 * When it checks: at the end of each epoch for methods that have epochs (state.total_epochs > 0), else after
 * every `every`-th step; `.check` forces one or the other.
 *
 * @throw distill::invalid_argument at a check when `metric` is not among the values the method reports
 *        (a misspelt metric would otherwise disable early stopping without a word).
 */
struct EarlyStop {
  enum class Mode { minimize, maximize };
  enum class Check { automatic, epoch, step };

  std::size_t patience = 10;  //!< stop after this many checks in a row without improvement (0 acts like 1)
  double min_delta = 0;       //!< how much better than the best a value must be to count as an improvement
  std::string metric{};       //!< name in state.metrics; empty or "loss" monitors state.loss
  Mode mode = Mode::minimize;
  Check check = Check::automatic;
  std::size_t every = 1;      //!< when checking on steps: every this many steps

  // Progress, readable after training (reset by on_begin).
  double best = std::numeric_limits<double>::quiet_NaN();  //!< best value seen so far (NaN before the first)
  std::size_t best_step = 0;  //!< state.step at the best value
  std::size_t bad_checks = 0; //!< checks since the last improvement
  bool stopped = false;       //!< true once it has asked to stop

  void on_begin(TrainingState&) {
    DISTILL_CHECK(min_delta >= 0, "EarlyStop: min_delta is ", min_delta, ", expected >= 0");
    DISTILL_CHECK(every > 0, "EarlyStop: every is 0, expected at least 1");
    best = std::numeric_limits<double>::quiet_NaN();
    best_step = 0;
    bad_checks = 0;
    stopped = false;
  }

  bool on_step(TrainingState& s) {
    const bool on_steps = check == Check::step || (check == Check::automatic && s.total_epochs == 0);
    if (!on_steps || s.step % every != 0) return false;
    return update(s);
  }

  bool on_epoch_end(TrainingState& s) {
    const bool on_epochs = check == Check::epoch || (check == Check::automatic && s.total_epochs > 0);
    return on_epochs ? update(s) : false;
  }

  /**
   * Records one observation of the monitored value and says whether to stop. on_step/on_epoch_end call it;
   * it is public so that a custom loop can drive it directly.
   */
  bool update(const TrainingState& s) {
    DISTILL_CHECK(s.has(metric), "EarlyStop: metric \"", metric, "\" is not reported by this method (it reports: ",
                  reported(s), ")");
    const double v = s.value(metric);
    const bool improved = !std::isnan(v) && (std::isnan(best) || (mode == Mode::minimize ? v < best - min_delta
                                                                                         : v > best + min_delta));
    if (improved) {
      best = v;
      best_step = s.step;
      bad_checks = 0;
      return false;
    }
    ++bad_checks;
    stopped = bad_checks >= patience;
    return stopped;
  }

 private:
  static std::string reported(const TrainingState& s) {
    std::string names = "loss";
    for (const auto& kv : s.metrics) names += ", " + kv.first;
    return names;
  }
};

}  // namespace distill::callbacks

#endif  // DISTILL_CALLBACKS_EARLY_STOP_HPP
