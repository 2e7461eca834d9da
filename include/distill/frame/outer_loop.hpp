// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_FRAME_OUTER_LOOP_HPP
#define DISTILL_FRAME_OUTER_LOOP_HPP

/**
 * @file
 * The one outer loop of every iterative method (KIP, unrolled GD, training a network, and the methods to come):
 * a method is its step function plus its state; this loop owns the rest.
 *
 *   state ← resume_from ? load(resume_from) : the method's initial state
 *   on_begin
 *   for s = start .. steps − 1:
 *     rng ← stream_rng(seed, Stream::step, s)                 (frame/seed.hpp: resumable draws)
 *     loss ← step(s, rng, lr_factor)                          (the method's algorithm box)
 *     a non-finite loss, gradient or learned rate → Diverged naming the step and the quantity:
 *        stop with that error, or (OnDivergence::rollback) restore the last in-memory snapshot and go on with
 *        lr_factor × rollback_factor
 *     on_step;  on_epoch_end at epoch boundaries;  a callback returning true stops the loop
 *   on_end
 *
 * Checkpoints: the loop puts a save function into TrainingState::save_checkpoint, which callbacks::Checkpoint
 * (or a test's stop-and-save callback) calls; it writes the method's CheckpointState atomically. Since the draws
 * of step s depend only on (seed, s) and the checkpoint holds every learned tensor and optimizer state, a run
 * stopped at step k and resumed lands on the same bytes as an uninterrupted one.
 */

#include <chrono>
#include <cmath>
#include <concepts>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "distill/callbacks/invoke.hpp"
#include "distill/callbacks/state.hpp"
#include "distill/core/error.hpp"
#include "distill/core/rng.hpp"
#include "distill/core/tensor.hpp"
#include "distill/frame/checkpoint_state.hpp"
#include "distill/frame/seed.hpp"

namespace distill::frame {

/// What the loop does when a step diverges (a non-finite loss, gradient or learned rate).
enum class OnDivergence {
  stop,      //!< throw Diverged, naming the step and the quantity (the default)
  rollback,  //!< restore the last snapshot (every snapshot_every steps) and continue with a smaller rate
};

/// A step produced a non-finite quantity. A numerical_error, so code that catches those catches it too.
struct Diverged : numerical_error {
  using numerical_error::numerical_error;
};

/// Options of run_outer_loop. Methods fill them from their own options.
struct LoopOptions {
  std::string phase;                    //!< what runs ("kip", "unrolled_gd", "train"): TrainingState::phase
  std::size_t steps = 0;                //!< total steps of the run
  std::size_t steps_per_epoch = 0;      //!< > 0: on_epoch_end after every this many steps
  std::uint64_t seed = 0;               //!< the run's seed: step s draws from stream_rng(seed, Stream::step, s)
  std::filesystem::path resume_from{};  //!< a checkpoint of this method to continue from (empty: start afresh)
  OnDivergence on_divergence = OnDivergence::stop;
  std::size_t snapshot_every = 50;      //!< rollback: steps between in-memory snapshots of the state
  double rollback_factor = 0.5;         //!< rollback: the learning-rate factor is multiplied by this, in (0, 1)
  std::size_t max_rollbacks = 5;        //!< rollback: after this many, a divergence stops the run

  void validate(std::string_view where) const {
    DISTILL_CHECK(on_divergence == OnDivergence::stop || (rollback_factor > 0 && rollback_factor < 1), where,
                  ": rollback_factor is ", rollback_factor, ", expected a factor in (0, 1)");
    DISTILL_CHECK(on_divergence == OnDivergence::stop || snapshot_every > 0, where,
                  ": snapshot_every is 0, expected a positive number of steps between rollback snapshots");
  }
};

/// What a step function receives.
struct StepContext {
  std::size_t step = 0;       //!< this step's index, 0-based (state.step is step + 1 once it is done)
  Rng& rng;                   //!< every draw of this step: a pure function of (seed, step)
  double lr_factor = 1;       //!< multiply the method's learning rates by this (lowered by rollbacks)
  callbacks::TrainingState& state;  //!< put metrics here; the loop sets step, loss and the clock

  //! Throws Diverged when `value` is not finite: "<phase>: <quantity> became NaN or infinity (<value>) at step <n>".
  void require_finite(std::string_view quantity, double value) const {
    if (!std::isfinite(value))
      DISTILL_THROW(Diverged, state.phase, ": ", quantity, " became NaN or infinity (", value, ") at step ", step + 1,
                    "; try a smaller learning rate, or OnDivergence::rollback");
  }
  //! Throws Diverged when `t` holds NaN or infinity.
  template <std::floating_point T>
  void require_finite(std::string_view quantity, const Tensor<T>& t) const {
    if (!t.all_finite())
      DISTILL_THROW(Diverged, state.phase, ": ", quantity, " became NaN or infinity at step ", step + 1,
                    "; try a smaller learning rate, or OnDivergence::rollback");
  }
};

/// What run_outer_loop reports.
struct LoopResult {
  std::size_t start = 0;       //!< the step the run started from (> 0 after a resume)
  std::size_t steps_done = 0;  //!< steps completed, including those before a resume
  bool stopped_early = false;  //!< a callback asked to stop before the last step
  std::size_t rollbacks = 0;   //!< divergences recovered by rolling back
  double lr_factor = 1;        //!< the learning-rate factor at the end
  double seconds = 0;          //!< wall time of this call
};

/**
 * Runs `step` for the steps of `opt` with checkpoint/resume, callbacks and the divergence guard.
 *
 * @param ckpt  the method's registered state; the loop adds its own "lr_factor" to it
 * @param step  `double step(StepContext&)`: one step of the method; returns the step's loss and may call
 *              ctx.require_finite on gradients and learned rates before it applies them
 * @param cbs   callbacks (ProgressBar, EarlyStop, Checkpoint, ...)
 * @throw Diverged when a step diverges (after max_rollbacks rollbacks with OnDivergence::rollback); io_error when
 *        resume_from cannot be read or does not match; whatever the step throws
 */
template <std::floating_point T, class StepFn, class... Callbacks>
LoopResult run_outer_loop(const LoopOptions& opt, CheckpointState<T>& ckpt, StepFn&& step, Callbacks&... cbs) {
  opt.validate(opt.phase.c_str());
  LoopResult result;
  ckpt.add("lr_factor", result.lr_factor);
  std::size_t s = opt.resume_from.empty() ? 0 : ckpt.load(opt.resume_from);
  DISTILL_CHECK(s <= opt.steps, opt.phase, ": checkpoint '", opt.resume_from.string(), "' is at step ", s,
                ", beyond the run's ", opt.steps, " steps");
  result.start = s;

  callbacks::TrainingState state{.step = s, .total_steps = opt.steps,
                                 .epoch = opt.steps_per_epoch ? s / opt.steps_per_epoch : 0,
                                 .total_epochs = opt.steps_per_epoch ? opt.steps / opt.steps_per_epoch : 0,
                                 .phase = opt.phase};
  state.save_checkpoint = [&](const std::filesystem::path& path) { ckpt.save(path, state.step); };
  const bool rollback = opt.on_divergence == OnDivergence::rollback;
  CheckpointArrays snapshot;
  if (rollback) snapshot = ckpt.arrays(s);

  const auto t0 = std::chrono::steady_clock::now();
  bool stop = callbacks::invoke_on_begin(state, cbs...);
  while (s < opt.steps && !stop) {
    Rng rng = stream_rng(opt.seed, Stream::step, s);
    StepContext ctx{.step = s, .rng = rng, .lr_factor = result.lr_factor, .state = state};
    double loss = 0;
    try {
      loss = step(ctx);
      ctx.require_finite("the loss", loss);
    } catch (const Diverged&) {
      if (!rollback || result.rollbacks >= opt.max_rollbacks) throw;
      const double factor = result.lr_factor * opt.rollback_factor;
      s = ckpt.restore(snapshot);
      result.lr_factor = factor;
      ++result.rollbacks;
      state.metrics["rollbacks"] = double(result.rollbacks);
      state.metrics["lr_factor"] = factor;
      continue;
    }
    ++s;
    state.step = s;
    state.loss = loss;
    state.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = callbacks::invoke_on_step(state, cbs...);
    if (opt.steps_per_epoch && s % opt.steps_per_epoch == 0) {
      state.epoch = s / opt.steps_per_epoch;
      stop = callbacks::invoke_on_epoch_end(state, cbs...) || stop;
    }
    if (rollback && s % opt.snapshot_every == 0) snapshot = ckpt.arrays(s);
  }
  result.steps_done = s;
  result.stopped_early = s < opt.steps;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.elapsed_seconds = result.seconds;
  callbacks::invoke_on_end(state, cbs...);
  return result;
}

}  // namespace distill::frame

#endif  // DISTILL_FRAME_OUTER_LOOP_HPP
