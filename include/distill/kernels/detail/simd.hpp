// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_SIMD_HPP
#define DISTILL_KERNELS_DETAIL_SIMD_HPP

/**
 * @file
 * The kernels' lane helpers on top of core/detail/simd.hpp: which precisions use packs, and a vectorisable
 * arccos for the NTK's elementwise pass.
 */

#include <cmath>
#include <numbers>
#include <type_traits>

#include "distill/core/detail/simd.hpp"

namespace distill::kernels::detail {

using distill::detail::Lanes;
using distill::detail::Pack;

//! Float passes use packs; double passes stay scalar (std::acos for full accuracy; double is the test path).
template <class T>
inline constexpr bool use_pack = DISTILL_HAS_SIMD && std::is_same_v<T, float>;

/**
 * arccos(c) for c in [-1, 1]. Float: Abramowitz & Stegun 4.4.46, sqrt(1−|c|)·P₇(|c|), |error| ≤ 2e-8 (below
 * float rounding), branch-free so it vectorises. Double: std::acos.
 */
template <class V>
DISTILL_LANE_INLINE V acos_of(const V& c) {
  using L = Lanes<V>;
  using T = typename L::Scalar;
  if constexpr (std::is_same_v<T, double>) {
    return std::acos(c);
  } else {
    const V x = L::abs(c);
    V p = V(T(-0.0012624911));
    p = p * x + T(0.0066700901);
    p = p * x + T(-0.0170881256);
    p = p * x + T(0.0308918810);
    p = p * x + T(-0.0501743046);
    p = p * x + T(0.0889789874);
    p = p * x + T(-0.2145988016);
    p = p * x + T(1.5707963050);
    const V r = L::sqrt(V(T(1)) - x) * p;
    return L::select(c < T(0), V(std::numbers::pi_v<T>) - r, r);
  }
}

}  // namespace distill::kernels::detail

#endif  // DISTILL_KERNELS_DETAIL_SIMD_HPP
