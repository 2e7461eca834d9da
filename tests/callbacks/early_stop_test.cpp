// SPDX-License-Identifier: MIT
// Tests for include/distill/callbacks/early_stop.hpp: patience, min_delta, modes, metrics, NaN, when it checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "distill/callbacks/early_stop.hpp"

namespace cb = distill::callbacks;
using Catch::Matchers::Contains;

namespace {
/// Feeds the values to on_step (no epochs) and returns the step at which it asked to stop (0 = never).
std::size_t run_steps(cb::EarlyStop& es, const std::vector<double>& losses) {
  cb::TrainingState s;
  es.on_begin(s);
  for (std::size_t i = 0; i < losses.size(); ++i) {
    s.step = i + 1;
    s.loss = losses[i];
    if (es.on_step(s)) return s.step;
  }
  return 0;
}
}  // namespace

TEST_CASE("EarlyStop: stops after `patience` checks without improvement", "[callbacks][early_stop]") {
  cb::EarlyStop es{.patience = 3};
  // improves at 1, 2, 3; then 3 checks without improvement (4, 5, 6) -> stop at step 6.
  REQUIRE(run_steps(es, {5, 4, 3, 3.5, 3, 4, 1, 1}) == 6);
  REQUIRE(es.best == 3.0);
  REQUIRE(es.best_step == 3);
  REQUIRE(es.bad_checks == 3);
  REQUIRE(es.stopped);

  // An improvement resets the count.
  REQUIRE(run_steps(es, {5, 6, 6, 4, 6, 6, 6}) == 7);
  REQUIRE(es.best_step == 4);

  // Never stops while improving.
  std::vector<double> falling;
  for (int i = 0; i < 50; ++i) falling.push_back(100.0 - i);
  REQUIRE(run_steps(es, falling) == 0);
  REQUIRE_FALSE(es.stopped);

  // patience 0 and 1: stop at the first check without improvement.
  cb::EarlyStop p0{.patience = 0}, p1{.patience = 1};
  REQUIRE(run_steps(p0, {3, 2, 2}) == 3);
  REQUIRE(run_steps(p1, {3, 2, 2}) == 3);
}

TEST_CASE("EarlyStop: min_delta and maximize", "[callbacks][early_stop]") {
  // Improvements smaller than min_delta do not count.
  cb::EarlyStop es{.patience = 2, .min_delta = 0.1};
  REQUIRE(run_steps(es, {1.0, 0.95, 0.91, 0.5}) == 3);
  REQUIRE(es.best == 1.0);

  cb::EarlyStop up{.patience = 2, .metric = "acc", .mode = cb::EarlyStop::Mode::maximize};
  cb::TrainingState s;
  up.on_begin(s);
  const std::vector<double> acc{0.5, 0.6, 0.7, 0.65, 0.7, 0.9};
  std::size_t stopped_at = 0;
  for (std::size_t i = 0; i < acc.size() && !stopped_at; ++i) {
    s.step = i + 1;
    s.loss = 1.0 / double(i + 1);  // ignored: the metric is monitored
    s.metrics["acc"] = acc[i];
    if (up.on_step(s)) stopped_at = s.step;
  }
  REQUIRE(stopped_at == 5);  // 0.65 and an equal 0.7 are not improvements
  REQUIRE(up.best == 0.7);
}

TEST_CASE("EarlyStop: NaN never improves, missing metrics throw", "[callbacks][early_stop]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  cb::EarlyStop es{.patience = 2};
  REQUIRE(run_steps(es, {1.0, nan, nan, 0.1}) == 3);
  // A leading NaN is not a best value; the first finite one is.
  REQUIRE(run_steps(es, {nan, 2.0, 1.0, 1.5, 1.5}) == 5);
  REQUIRE(es.best == 1.0);

  cb::EarlyStop typo{.metric = "val_acc"};
  cb::TrainingState s{.step = 1};
  s.metrics["val_accuracy"] = 0.5;
  typo.on_begin(s);
  REQUIRE_THROWS_AS(typo.on_step(s), distill::invalid_argument);
  REQUIRE_THROWS_WITH(typo.on_step(s), Contains("\"val_acc\" is not reported") && Contains("val_accuracy"));

  cb::EarlyStop bad{.min_delta = -1};
  REQUIRE_THROWS_WITH(bad.on_begin(s), Contains("min_delta"));
  cb::EarlyStop zero_every{.every = 0};
  REQUIRE_THROWS_WITH(zero_every.on_begin(s), Contains("every"));
}

TEST_CASE("EarlyStop: checks on epochs when the method has them, on steps otherwise", "[callbacks][early_stop]") {
  SECTION("automatic with epochs: steps are ignored") {
    cb::EarlyStop es{.patience = 1};
    cb::TrainingState s{.total_epochs = 10};
    es.on_begin(s);
    s.loss = 1.0;
    REQUIRE_FALSE(es.on_epoch_end(s));
    for (int i = 0; i < 100; ++i) {
      s.step++;
      REQUIRE_FALSE(es.on_step(s));  // same loss on every step: would stop if steps were checked
    }
    s.loss = 2.0;
    REQUIRE(es.on_epoch_end(s));
  }
  SECTION("automatic without epochs: on_epoch_end is ignored") {
    cb::EarlyStop es{.patience = 1};
    cb::TrainingState s;
    es.on_begin(s);
    s.loss = 1.0;
    REQUIRE_FALSE(es.on_epoch_end(s));
    REQUIRE_FALSE(es.on_epoch_end(s));
    s.step = 1;
    REQUIRE_FALSE(es.on_step(s));
    s.step = 2;
    REQUIRE(es.on_step(s));
  }
  SECTION("forced step checks every N steps") {
    cb::EarlyStop es{.patience = 2, .check = cb::EarlyStop::Check::step, .every = 10};
    cb::TrainingState s{.total_epochs = 3};
    es.on_begin(s);
    s.loss = 1.0;
    std::size_t stopped_at = 0;
    for (std::size_t i = 1; i <= 100 && !stopped_at; ++i) {
      s.step = i;
      if (es.on_step(s)) stopped_at = i;
    }
    REQUIRE(stopped_at == 30);  // checks at 10 (best), 20, 30
    REQUIRE_FALSE(es.on_epoch_end(s));
  }
  SECTION("on_begin resets, so one EarlyStop can serve several fits") {
    cb::EarlyStop es{.patience = 1};
    REQUIRE(run_steps(es, {1, 1}) == 2);
    REQUIRE(run_steps(es, {5, 4}) == 0);
    REQUIRE(es.best == 4.0);
  }
}
