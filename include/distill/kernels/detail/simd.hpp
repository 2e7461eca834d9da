// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_SIMD_HPP
#define DISTILL_KERNELS_DETAIL_SIMD_HPP

/**
 * @file
 * A tiny lane abstraction for the kernels' elementwise passes: the same templated math runs on a scalar
 * (loop tails, double precision, or compilers without <experimental/simd>) and on a native SIMD pack.
 *
 * Why not plain loops: GCC and Clang refuse to vectorise std::sqrt unless -fno-math-errno is given, and a
 * header-only library cannot choose its users' flags. std::experimental::simd (libstdc++ ≥ 11) emits the
 * vector sqrt/min/max/blend directly. Define DISTILL_NO_SIMD to force the scalar path.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numbers>

#if !defined(DISTILL_NO_SIMD) && __has_include(<experimental/simd>)
#include <experimental/simd>
#define DISTILL_KERNELS_HAS_SIMD 1
#else
#define DISTILL_KERNELS_HAS_SIMD 0
#endif

namespace distill::kernels::detail {

// GCC does not inline these one-liners on simd packs by itself (the packs then go through memory on every call,
// which made the NTK pass 3× slower); force it.
#if defined(__GNUC__)
#define DISTILL_LANE_INLINE [[gnu::always_inline]] inline
#else
#define DISTILL_LANE_INLINE inline
#endif

/// Lane operations for a value type V: a scalar float/double, or a std::experimental::simd pack.
template <class V>
struct Lanes;

template <std::floating_point T>
struct Lanes<T> {
  using Scalar = T;
  static constexpr std::size_t size = 1;
  DISTILL_LANE_INLINE static T load(const T* p) { return *p; }
  DISTILL_LANE_INLINE static void store(T v, T* p) { *p = v; }
  DISTILL_LANE_INLINE static T select(bool m, T a, T b) { return m ? a : b; }
  DISTILL_LANE_INLINE static T min(T a, T b) { return std::min(a, b); }
  DISTILL_LANE_INLINE static T max(T a, T b) { return std::max(a, b); }
  DISTILL_LANE_INLINE static T sqrt(T a) { return std::sqrt(a); }
  DISTILL_LANE_INLINE static T abs(T a) { return std::abs(a); }
  DISTILL_LANE_INLINE static double sum(T a) { return double(a); }
};

#if DISTILL_KERNELS_HAS_SIMD
namespace stdx = std::experimental;
template <class T, class Abi>
struct Lanes<stdx::simd<T, Abi>> {
  using V = stdx::simd<T, Abi>;
  using Scalar = T;
  static constexpr std::size_t size = V::size();
  DISTILL_LANE_INLINE static V load(const T* p) { return V(p, stdx::element_aligned); }
  DISTILL_LANE_INLINE static void store(const V& v, T* p) { v.copy_to(p, stdx::element_aligned); }
  DISTILL_LANE_INLINE static V select(const typename V::mask_type& m, const V& a, const V& b) {
    V r = b;
    stdx::where(m, r) = a;
    return r;
  }
  DISTILL_LANE_INLINE static V min(const V& a, const V& b) { return stdx::min(a, b); }
  DISTILL_LANE_INLINE static V max(const V& a, const V& b) { return stdx::max(a, b); }
  DISTILL_LANE_INLINE static V sqrt(const V& a) { return stdx::sqrt(a); }
  DISTILL_LANE_INLINE static V abs(const V& a) { return stdx::abs(a); }
  DISTILL_LANE_INLINE static double sum(const V& a) { return double(stdx::reduce(a)); }
};
//! The widest native pack of T (float: 16 lanes with AVX-512, 8 with AVX2).
template <class T>
using Pack = stdx::native_simd<T>;
//! Float passes use packs; double passes stay scalar (std::acos for full accuracy; double is the test path).
template <class T>
inline constexpr bool use_pack = std::is_same_v<T, float>;
#else
template <class T>
using Pack = T;
template <class T>
inline constexpr bool use_pack = false;
#endif

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
