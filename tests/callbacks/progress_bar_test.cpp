// SPDX-License-Identifier: MIT
// Tests for include/distill/callbacks/progress_bar.hpp: content, ETA, CI-friendly line cadence, in-place mode.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>

#include "distill/callbacks/detail/format.hpp"
#include "distill/callbacks/progress_bar.hpp"

namespace cb = distill::callbacks;
using Catch::Matchers::Contains;

namespace {
std::size_t count(const std::string& s, char c) { return std::size_t(std::count(s.begin(), s.end(), c)); }

/// Runs `steps` steps of 0.5 s each through the bar with the given total.
void run(cb::ProgressBar& bar, std::size_t steps, std::size_t total, const std::string& phase = "kip") {
  cb::TrainingState s{.total_steps = total, .phase = phase};
  bar.on_begin(s);
  for (std::size_t i = 1; i <= steps; ++i) {
    s.step = i;
    s.loss = 1.0 / double(i);
    s.metrics["acc"] = 0.5;
    s.elapsed_seconds = 0.5 * double(i);
    bar.on_step(s);
  }
  bar.on_end(s);
}
}  // namespace

TEST_CASE("ProgressBar: a line shows step/total, percent, rate, ETA, loss and metrics", "[callbacks][progress]") {
  std::ostringstream out;
  cb::ProgressBar bar{out, {.width = 10}};
  cb::TrainingState s{.total_steps = 1000, .phase = "kip"};
  bar.on_begin(s);
  s.step = 250;
  s.loss = 0.123456;
  s.metrics["acc"] = 0.91;
  const std::string line = bar.line(s, 50.0);  // 250 steps in 50 s: 5 it/s, 750 left -> 150 s
  REQUIRE_THAT(line, Contains("kip 250/1000"));
  REQUIRE_THAT(line, Contains(" 25%"));
  REQUIRE_THAT(line, Contains("[##--------]"));
  REQUIRE_THAT(line, Contains("5.0 it/s"));
  REQUIRE_THAT(line, Contains("ETA 02:30"));
  REQUIRE_THAT(line, Contains("loss 0.1235"));
  REQUIRE_THAT(line, Contains("acc 0.91"));

  // Slow loops show seconds per step; an unknown time shows --:--.
  s.step = 2;
  REQUIRE_THAT(bar.line(s, 20.0), Contains("10.00 s/it") && Contains("ETA 2:46:20"));
  REQUIRE_THAT(bar.line(s, 0.0), Contains("ETA --:--"));
  // Unknown total: no bar or ETA, elapsed time instead.
  cb::TrainingState open{.step = 7};
  REQUIRE_THAT(bar.line(open, 65.0), Contains("step 7") && Contains("01:05") && !Contains("ETA"));
  // Epochs are shown when the method has them.
  cb::TrainingState ep{.step = 5, .total_steps = 10, .epoch = 2, .total_epochs = 4};
  REQUIRE_THAT(bar.line(ep, 1.0), Contains("epoch 2/4"));
}

TEST_CASE("ProgressBar: into a non-terminal stream it writes one line per 10% and a summary", "[callbacks][progress]") {
  std::ostringstream out;
  cb::ProgressBar bar{out};
  REQUIRE_FALSE(bar.in_place());  // a string stream is never a terminal
  run(bar, 1000, 1000);
  const std::string text = out.str();
  INFO(text);
  REQUIRE(count(text, '\r') == 0);
  REQUIRE(count(text, '\n') == 11);  // 10%, 20%, ..., 100% and "done"
  REQUIRE_THAT(text, Contains("kip 100/1000  10%"));
  REQUIRE_THAT(text, Contains("kip 1000/1000 100%"));
  REQUIRE_THAT(text, Contains("ETA 07:30"));  // at 10%: 100 steps in 50 s, 900 left
  REQUIRE_THAT(text, Contains("ETA 00:00"));
  REQUIRE_THAT(text, Contains("kip: done 1000 steps in 08:20"));

  // A run that stops early still shows its last step.
  std::ostringstream early;
  cb::ProgressBar bar2{early, {.log_percent = 25}};
  run(bar2, 333, 1000);
  REQUIRE(count(early.str(), '\n') == 3);  // 25%, the final 333/1000 line, "done"
  REQUIRE_THAT(early.str(), Contains("333/1000") && Contains("done 333 steps"));
}

TEST_CASE("ProgressBar: in place it redraws with a carriage return at most every min_interval", "[callbacks][progress]") {
  std::ostringstream out;
  cb::ProgressBar bar{out, {.min_interval = 5.0, .in_place = true}};
  REQUIRE(bar.in_place());
  run(bar, 100, 100);  // 0.5 s per step, 50 s in all: first step, then every 10 steps (5 s), and the last
  const std::string text = out.str();
  const auto redraws = count(text, '\r');
  REQUIRE(redraws >= 10);
  REQUIRE(redraws <= 12);
  REQUIRE(count(text, '\n') == 2);  // the newline after the bar and the summary
  REQUIRE_THAT(text, Contains("100/100") && Contains("done 100 steps"));
}

TEST_CASE("ProgressBar: unknown total, resumed runs and option checks", "[callbacks][progress]") {
  std::ostringstream out;
  cb::ProgressBar bar{out, {.log_interval = 10}};
  run(bar, 100, 0);  // 50 s at one line per 10 s
  const auto lines = count(out.str(), '\n');
  REQUIRE(lines >= 5);
  REQUIRE(lines <= 8);
  REQUIRE_THAT(out.str(), Contains("step 100"));

  // Resumed at step 900 of 1000: the rate counts only this run's 50 steps.
  std::ostringstream res;
  cb::ProgressBar rb{res};
  cb::TrainingState s{.step = 900, .total_steps = 1000};
  rb.on_begin(s);
  s.step = 950;
  REQUIRE_THAT(rb.line(s, 10.0), Contains("5.0 it/s") && Contains("ETA 00:10"));

  REQUIRE_THROWS_AS(cb::ProgressBar(out, {.log_percent = 0}), distill::invalid_argument);
  REQUIRE_THROWS_AS(cb::ProgressBar(out, {.min_interval = -1}), distill::invalid_argument);
  // The default constructor writes to std::cerr and does not throw.
  REQUIRE_NOTHROW(cb::ProgressBar{});
}

TEST_CASE("callbacks::detail formatting helpers", "[callbacks][progress]") {
  namespace d = cb::detail;
  REQUIRE(d::format_duration(0) == "00:00");
  REQUIRE(d::format_duration(59.6) == "01:00");
  REQUIRE(d::format_duration(3725) == "1:02:05");
  REQUIRE(d::format_duration(-1) == "--:--");
  REQUIRE(d::format_duration(std::nan("")) == "--:--");
  REQUIRE(d::format_rate(0, 1) == "");
  REQUIRE(d::format_rate(10, 2) == "5.0 it/s");
  REQUIRE(d::format_rate(1, 4) == "4.00 s/it");
  cb::TrainingState s;
  REQUIRE(d::format_values(s) == "");
  s.metrics["b"] = 2;
  s.metrics["a"] = 1;
  REQUIRE(d::format_values(s) == "a 1  b 2");
  s.loss = 0.25;
  REQUIRE(d::format_values(s) == "loss 0.25  a 1  b 2");
}
