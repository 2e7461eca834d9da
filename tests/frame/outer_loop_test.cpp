// SPDX-License-Identifier: MIT
// frame::run_outer_loop: callbacks and epochs, per-step seeds, stop + checkpoint + resume landing on the same bytes,
// the divergence guard (stop naming the step and the quantity, or roll back with a smaller rate).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "distill/callbacks/checkpoint.hpp"
#include "distill/frame/outer_loop.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"

namespace fr = distill::frame;
using distill::Tensor;

namespace {

// A toy method: x ← x − lr · (x − target(step)) + noise from the step's Rng, with SGD momentum on the update.
struct Toy {
  Tensor<double> x{{3}, 1.0};
  distill::nn::Sgd::State<double> sgd;
  std::size_t calls = 0;
  double blow_up_at = -1;  // the step whose gradient becomes NaN (once)

  fr::LoopResult run(fr::LoopOptions opt, auto&... cbs) {
    fr::CheckpointState<double> ckpt("toy");
    ckpt.add("x", x).add("sgd", sgd).add("calls", calls);
    auto step = [&](fr::StepContext& ctx) {
      ++calls;
      Tensor<double> g({3});
      for (std::size_t i = 0; i < 3; ++i) g[i] = x[i] - double(ctx.step % 5) + 0.1 * ctx.rng.normal();
      if (double(ctx.step) == blow_up_at && ctx.lr_factor == 1.0) g[1] = std::nan("");
      ctx.require_finite("the gradient of x", g);
      distill::nn::Sgd{.lr = 0.1, .momentum = 0.9}.step(sgd, {&x}, {&g}, 0.1 * ctx.lr_factor);
      ctx.state.metrics["x0"] = x[0];
      return 0.5 * x[0] * x[0];
    };
    return fr::run_outer_loop(opt, ckpt, step, cbs...);
  }
};

struct Recorder {
  std::size_t begins = 0, steps = 0, epochs = 0, ends = 0, last_step = 0;
  void on_begin(distill::callbacks::TrainingState& s) { ++begins, last_step = s.step; }
  void on_step(distill::callbacks::TrainingState& s) { ++steps, last_step = s.step; }
  void on_epoch_end(distill::callbacks::TrainingState&) { ++epochs; }
  void on_end(distill::callbacks::TrainingState&) { ++ends; }
};

}  // namespace

TEST_CASE("run_outer_loop: hooks, epochs and the per-step seed", "[frame]") {
  Toy a, b;
  Recorder rec;
  const auto r = a.run({.phase = "toy", .steps = 12, .steps_per_epoch = 4, .seed = 3}, rec);
  CHECK(r.steps_done == 12);
  CHECK_FALSE(r.stopped_early);
  CHECK(rec.begins == 1);
  CHECK(rec.steps == 12);
  CHECK(rec.epochs == 3);
  CHECK(rec.ends == 1);
  CHECK(rec.last_step == 12);
  b.run({.phase = "toy", .steps = 12, .seed = 3});
  CHECK(distill::max_abs_diff(a.x, b.x) == 0.0);  // same seed, same bytes
  Toy c;
  c.run({.phase = "toy", .steps = 12, .seed = 4});
  CHECK(distill::max_abs_diff(a.x, c.x) > 0.0);
}

TEST_CASE("run_outer_loop: stop at step k, save, resume: the same bytes as an uninterrupted run", "[frame]") {
  const TempFile ckpt("distill_outer_loop_test");
  Toy full, first, second;
  full.run({.phase = "toy", .steps = 20, .seed = 9});
  StopAndSave stop_at_7{ckpt.path, 7};
  const auto stopped = first.run({.phase = "toy", .steps = 20, .seed = 9}, stop_at_7);
  CHECK(stopped.stopped_early);
  CHECK(stopped.steps_done == 7);
  second.x = Tensor<double>({3}, 42.0);  // everything must come from the checkpoint
  const auto resumed = second.run({.phase = "toy", .steps = 20, .seed = 9, .resume_from = ckpt.path});
  CHECK(resumed.start == 7);
  CHECK(resumed.steps_done == 20);
  CHECK(distill::max_abs_diff(full.x, second.x) == 0.0);
  CHECK(distill::max_abs_diff(full.sgd.buffer[0], second.sgd.buffer[0]) == 0.0);
  CHECK(second.calls == 20);  // 7 restored + 13 run

  // A checkpoint of another method is refused, naming both.
  fr::CheckpointState<double> other("kip");
  Tensor<double> x({3});
  other.add("x", x);
  CHECK_THROWS_WITH(other.load(ckpt.path), Catch::Contains("written by toy, not by kip"));
  // A checkpoint beyond the run's steps is refused.
  Toy shorter;
  CHECK_THROWS_WITH(shorter.run({.phase = "toy", .steps = 5, .seed = 9, .resume_from = ckpt.path}),
                    Catch::Contains("beyond the run's 5 steps"));
}

TEST_CASE("run_outer_loop: a non-finite gradient stops the run naming the step and the quantity", "[frame]") {
  Toy t;
  t.blow_up_at = 6;
  CHECK_THROWS_AS(t.run({.phase = "toy", .steps = 20}), fr::Diverged);
  Toy u;
  u.blow_up_at = 6;
  CHECK_THROWS_WITH(u.run({.phase = "toy", .steps = 20}),
                    Catch::Contains("toy: the gradient of x became NaN or infinity at step 7"));
  CHECK(u.x.all_finite());  // the guard runs before the update: nothing non-finite was ever stored
  // A Diverged is a numerical_error.
  Toy v;
  v.blow_up_at = 0;
  CHECK_THROWS_AS(v.run({.phase = "toy", .steps = 3}), distill::numerical_error);
}

TEST_CASE("run_outer_loop: OnDivergence::rollback restores the last snapshot and lowers the rate", "[frame]") {
  Toy t;
  t.blow_up_at = 13;  // diverges once, at the full rate
  const auto r = t.run({.phase = "toy", .steps = 20, .seed = 1, .on_divergence = fr::OnDivergence::rollback,
                        .snapshot_every = 5, .rollback_factor = 0.5});
  CHECK(r.rollbacks == 1);
  CHECK(r.lr_factor == 0.5);
  CHECK(r.steps_done == 20);
  CHECK(t.x.all_finite());
  // Steps 0..12 ran at the full rate, then 10..19 again at half the rate from the snapshot at step 10.
  CHECK(t.calls == 20);  // `calls` is part of the restored state: the rolled-back calls are undone
  // Rolling back too often gives up with the error.
  Toy hopeless;
  hopeless.blow_up_at = 3;
  auto always = fr::LoopOptions{.phase = "toy", .steps = 10, .on_divergence = fr::OnDivergence::rollback,
                                .snapshot_every = 2, .max_rollbacks = 0};
  CHECK_THROWS_AS(hopeless.run(always), fr::Diverged);
  CHECK_THROWS_WITH((fr::LoopOptions{.phase = "toy", .on_divergence = fr::OnDivergence::rollback, .rollback_factor = 1}
                         .validate("toy")),
                    Catch::Contains("rollback_factor is 1"));
}
