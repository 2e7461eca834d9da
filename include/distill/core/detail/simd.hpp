// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_DETAIL_SIMD_HPP
#define DISTILL_CORE_DETAIL_SIMD_HPP

/**
 * @file
 * A tiny lane abstraction for hand-vectorised loops (the NTK's elementwise pass, the direct convolution): the same
 * templated math runs on a scalar (loop tails, compilers without <experimental/simd>) and on a native SIMD pack.
 *
 * Why not plain loops: GCC and Clang refuse to vectorise std::sqrt unless -fno-math-errno is given, and they keep
 * register-blocked accumulators in registers only when the blocking is spelled out; a header-only library cannot
 * choose its users' flags. std::experimental::simd (libstdc++ ≥ 11) emits the vector instructions directly.
 * Define DISTILL_NO_SIMD to force the scalar path.
 */

#include "distill/core/config.hpp"  // first: it includes the intrinsics quietly
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <utility>

#if !defined(DISTILL_NO_SIMD) && __has_include(<experimental/simd>)
#include <experimental/simd>
#define DISTILL_HAS_SIMD 1
#else
#define DISTILL_HAS_SIMD 0
#endif

namespace distill::detail {

// GCC does not inline these one-liners on simd packs by itself (the packs then go through memory on every call,
// which made the NTK pass 3× slower); force it.
#if defined(__GNUC__)
#define DISTILL_LANE_INLINE [[gnu::always_inline]] inline
#else
#define DISTILL_LANE_INLINE inline
#endif

/// Calls f.template operator()<N>() with N = n, for a runtime n in [1, Max] (nothing for any other n): each count
/// gets its own instantiation, so a kernel's register tile (accumulators per block of outputs, rows per tile) is
/// sized at compile time and fully unrolled while the count of a loop's last, partial block is known only at run
/// time. One comparison per candidate count, all inlined.
template <std::size_t Max, class F>
DISTILL_LANE_INLINE void with_static_count(std::size_t n, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((n == I + 1 ? (f.template operator()<I + 1>(), 0) : 0), ...);
  }(std::make_index_sequence<Max>{});
}

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

#if DISTILL_HAS_SIMD
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
#else
//! Without <experimental/simd>: scalars.
template <class T>
using Pack = T;
#endif

/**
 * dst[0, n) = src[0, n) for a short row (the direct convolution's padding and staging copies, 10–32 floats), inline:
 * whole packs, and for the rest one more pack that ends at n and overlaps the one before it (half or quarter packs
 * below a pack). std::copy_n of such a row is a call to memmove, and a masked store is slow on AMD cores.
 */
template <class T>
DISTILL_LANE_INLINE void copy_row(const T* src, std::size_t n, T* dst) {
#if DISTILL_HAS_SIMD
  constexpr std::size_t lanes = Lanes<Pack<T>>::size;
  auto copy_packs = [&]<std::size_t W>() {  // n ≥ W
    using V = stdx::simd<T, stdx::simd_abi::deduce_t<T, W>>;
    std::size_t k = 0;
    for (; k + W <= n; k += W) V(src + k, stdx::element_aligned).copy_to(dst + k, stdx::element_aligned);
    if (k < n) V(src + n - W, stdx::element_aligned).copy_to(dst + n - W, stdx::element_aligned);
  };
  if (n >= lanes) return copy_packs.template operator()<lanes>();
  if constexpr (lanes >= 8)
    if (n >= lanes / 2) return copy_packs.template operator()<lanes / 2>();
  if constexpr (lanes >= 16)
    if (n >= lanes / 4) return copy_packs.template operator()<lanes / 4>();
#endif
  for (std::size_t k = 0; k < n; ++k) dst[k] = src[k];
}

}  // namespace distill::detail

#endif  // DISTILL_CORE_DETAIL_SIMD_HPP
