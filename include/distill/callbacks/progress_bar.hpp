// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_PROGRESS_BAR_HPP
#define DISTILL_CALLBACKS_PROGRESS_BAR_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>

#include "distill/callbacks/detail/format.hpp"
#include "distill/callbacks/state.hpp"
#include "distill/core/error.hpp"

#if __has_include(<unistd.h>)
#include <unistd.h>
#define DISTILL_CALLBACKS_HAS_ISATTY 1
#endif

namespace distill::callbacks {

/// How a ProgressBar draws; every field has a default, so `ProgressBar{}` just works.
struct ProgressBarOptions {
  std::size_t width = 30;       //!< characters in the bar itself
  double min_interval = 0.1;    //!< seconds between redraws when drawing in place (a terminal)
  double log_percent = 10;      //!< when writing lines (a log, a file, CI): one line per this many percent
  double log_interval = 30;     //!< ... or, when total_steps is unknown, one line per this many seconds
  /// Redraw one line in place with '\r' (true) or write one line per report (false). Unset: in place only
  /// when the stream is std::cerr/std::clog/std::cout and that descriptor is a terminal.
  std::optional<bool> in_place{};
};

/**
 * A progress bar with rate and ETA: `kip 150/1000  15% [####------]  12.3 it/s  ETA 01:09  loss 0.2345`.
 *
 * On a terminal it redraws one line at most every min_interval seconds. When the output is not a terminal
 * (CI logs, a file, a std::ostringstream) it writes a full line every log_percent percent instead, so that
 * logs stay short and readable. The last step is always shown, and on_end writes the total time.
 *
 * Time comes from TrainingState::elapsed_seconds when the method sets it, else from a steady clock started
 * in on_begin. Rate and ETA count only the steps done in this run (a resumed run starts from its saved step).
 * It never asks to stop.
 */
class ProgressBar {
 public:
  //! Draws on `out` (std::cerr by default), which must outlive the bar.
  explicit ProgressBar(std::ostream& out = std::cerr, ProgressBarOptions options = {})
      : out_(&out), options_(std::move(options)) {
    DISTILL_CHECK(options_.width <= 1000, "ProgressBar: width is ", options_.width, ", expected at most 1000");
    DISTILL_CHECK(options_.log_percent > 0 && options_.log_percent <= 100, "ProgressBar: log_percent is ",
                  options_.log_percent, ", expected in (0, 100]");
    DISTILL_CHECK(options_.min_interval >= 0 && options_.log_interval >= 0,
                  "ProgressBar: min_interval and log_interval must be non-negative (got ", options_.min_interval,
                  " and ", options_.log_interval, ")");
    in_place_ = options_.in_place.value_or(is_terminal(out));
  }
  //! Draws on std::cerr with the given options.
  explicit ProgressBar(ProgressBarOptions options) : ProgressBar(std::cerr, std::move(options)) {}

  void on_begin(TrainingState& s) {
    start_ = Clock::now();
    start_step_ = s.step;
    last_draw_ = -1;
    last_bucket_ = s.total_steps ? bucket(s) : 0;
    last_line_len_ = 0;
    drawn_step_ = s.step;
    drawn_any_ = false;
  }

  void on_step(TrainingState& s) {
    const double t = elapsed(s);
    const bool last = s.total_steps != 0 && s.step >= s.total_steps;
    if (in_place_) {
      if (last || last_draw_ < 0 || t - last_draw_ >= options_.min_interval) draw(s, t);
    } else if (s.total_steps != 0) {
      const long b = bucket(s);
      if (last || b > last_bucket_) {
        last_bucket_ = b;
        draw(s, t);
      }
    } else if (last_draw_ < 0 || t - last_draw_ >= options_.log_interval) {
      draw(s, t);
    }
  }

  void on_end(TrainingState& s) {
    const double t = elapsed(s);
    if (!drawn_any_ || drawn_step_ != s.step) draw(s, t);  // the final state is always on screen
    if (in_place_) *out_ << '\n';
    *out_ << (s.phase.empty() ? "" : s.phase + ": ") << "done " << s.step << " steps in "
          << detail::format_duration(t) << '\n';
    out_->flush();
  }

  //! The line that would be drawn for this state after `seconds` of this run (exposed for tests and logs).
  std::string line(const TrainingState& s, double seconds) const {
    std::string text = s.phase.empty() ? "" : s.phase + " ";
    const std::size_t done_here = s.step >= start_step_ ? s.step - start_step_ : 0;
    if (s.total_steps != 0) {
      const double frac = std::clamp(double(s.step) / double(s.total_steps), 0.0, 1.0);
      char pct[16];
      std::snprintf(pct, sizeof pct, "%3.0f%%", 100 * frac);
      text += std::to_string(s.step) + "/" + std::to_string(s.total_steps) + " " + pct;
      if (options_.width > 0) {
        const auto filled = static_cast<std::size_t>(frac * double(options_.width));
        text += " [" + std::string(filled, '#') + std::string(options_.width - filled, '-') + "]";
      }
    } else {
      text += "step " + std::to_string(s.step);
    }
    if (s.total_epochs != 0) text += "  epoch " + std::to_string(s.epoch) + "/" + std::to_string(s.total_epochs);
    const std::string rate = detail::format_rate(double(done_here), seconds);
    if (!rate.empty()) text += "  " + rate;
    if (s.total_steps != 0) {
      double eta = std::nan("");
      if (done_here > 0 && seconds > 0)
        eta = s.step >= s.total_steps ? 0.0 : seconds / double(done_here) * double(s.total_steps - s.step);
      text += "  ETA " + detail::format_duration(eta);
    } else {
      text += "  " + detail::format_duration(seconds);
    }
    const std::string values = detail::format_values(s);
    if (!values.empty()) text += "  " + values;
    return text;
  }

  //! True when the bar redraws one line in place (a terminal), false when it writes log lines.
  bool in_place() const { return in_place_; }

 private:
  using Clock = std::chrono::steady_clock;

  static bool is_terminal(std::ostream& out) {
#ifdef DISTILL_CALLBACKS_HAS_ISATTY
    if (&out == &std::cerr || &out == &std::clog) return ::isatty(STDERR_FILENO) == 1;
    if (&out == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
#endif
    return false;  // a file, a string stream, anything else: write lines
  }

  double elapsed(const TrainingState& s) const {
    if (s.elapsed_seconds > 0) return s.elapsed_seconds;
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }

  long bucket(const TrainingState& s) const {
    const double pct = 100.0 * double(s.step) / double(s.total_steps);
    return static_cast<long>(std::floor(pct / options_.log_percent + 1e-9));
  }

  void draw(const TrainingState& s, double t) {
    std::string text = line(s, t);
    if (in_place_) {
      // Pad with spaces so that a shorter line fully covers the previous one.
      const std::size_t len = text.size();
      if (len < last_line_len_) text.append(last_line_len_ - len, ' ');
      last_line_len_ = len;
      *out_ << '\r' << text;
    } else {
      *out_ << text << '\n';
    }
    out_->flush();
    last_draw_ = t;
    drawn_step_ = s.step;
    drawn_any_ = true;
  }

  std::ostream* out_;
  ProgressBarOptions options_;
  bool in_place_ = false;
  Clock::time_point start_ = Clock::now();
  std::size_t start_step_ = 0;
  double last_draw_ = -1;
  long last_bucket_ = 0;
  std::size_t last_line_len_ = 0;
  std::size_t drawn_step_ = 0;
  bool drawn_any_ = false;
};

}  // namespace distill::callbacks

#endif  // DISTILL_CALLBACKS_PROGRESS_BAR_HPP
