// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_DETAIL_FORMAT_HPP
#define DISTILL_CALLBACKS_DETAIL_FORMAT_HPP

// Small text helpers shared by the printing callbacks.

#include <cmath>
#include <cstdio>
#include <string>

#include "distill/callbacks/state.hpp"

namespace distill::callbacks::detail {

//! "1:02:03" for an hour or more, "02:03" below; "--:--" when the time is unknown (NaN, infinite, negative).
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e8) return "--:--";
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[32];
  if (h > 0) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  else std::snprintf(buf, sizeof buf, "%02lld:%02lld", m, s);
  return buf;
}

//! A number with 4 significant digits ("0.1235", "1.235e+04"), "nan" for NaN.
inline std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

//! "12.3 it/s" for fast loops, "4.56 s/it" for slow ones, "" while unknown.
inline std::string format_rate(double steps, double seconds) {
  if (!(seconds > 0) || !(steps > 0)) return "";
  char buf[32];
  const double rate = steps / seconds;
  if (rate >= 1) std::snprintf(buf, sizeof buf, "%.1f it/s", rate);
  else std::snprintf(buf, sizeof buf, "%.2f s/it", 1 / rate);
  return buf;
}

//! "loss 0.1234  acc 0.91  val_loss 0.2" (loss omitted while NaN).
inline std::string format_values(const TrainingState& s) {
  std::string out;
  if (!std::isnan(s.loss)) out += "loss " + format_number(s.loss);
  for (const auto& [name, v] : s.metrics) out += (out.empty() ? "" : "  ") + name + " " + format_number(v);
  return out;
}

}  // namespace distill::callbacks::detail

#endif  // DISTILL_CALLBACKS_DETAIL_FORMAT_HPP
