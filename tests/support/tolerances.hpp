// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_TOLERANCES_HPP
#define DISTILL_TESTS_SUPPORT_TOLERANCES_HPP

// Named, relative tolerances per precision (stan's ad_tolerances tiers).
#include <cmath>
#include <limits>

template <class T>
struct Tolerances;
template <>
struct Tolerances<double> {
  static constexpr double value = 1e-8;          //!< values computed two ways
  static constexpr double grad = 1e-6;           //!< first-order gradients vs finite differences
  static constexpr double second_order = 1e-3;   //!< gradients of gradients, hypergradients
};
template <>
struct Tolerances<float> {
  static constexpr double value = 1e-4;
  static constexpr double grad = 1e-2;
  static constexpr double second_order = 5e-2;
};

//! |a − b| / max(|a| + |b|, tiny): well defined when a ≈ −b, unlike ‖a−b‖/‖a+b‖.
inline double relative_error(double a, double b, double tiny = 1e-12) {
  return std::abs(a - b) / std::max(std::abs(a) + std::abs(b), tiny);
}

#endif  // DISTILL_TESTS_SUPPORT_TOLERANCES_HPP
