// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_FC_NTK_MATH_HPP
#define DISTILL_KERNELS_DETAIL_FC_NTK_MATH_HPP

/**
 * @file
 * The per-entry math of the FC NTK/NNGP (kernels/fc_ntk.hpp) as scalar functions that compile for the host and,
 * under nvcc, for the device: one entry's whole depth recursion and its hand-derived backward pass.
 *
 * Why one copy: the CPU path's scalar passes (every double pass, and float entries outside SIMD packs) call these
 * very functions, and the CUDA kernels of distill/cuda/fc_ntk.cuh call them per thread, so the formulas the GPU runs
 * are the ones every CPU test exercises, on every machine, GPU or not. The float SIMD pass (packs of 8–16 lanes)
 * runs the same steps on packs; tests/cuda/fc_ntk_math_test.cpp checks these functions against it.
 *
 * The per-row tables (√q_l and 1/√q_l of each row, layer-major: entry [l · n + i]) are those of FcNtk::row_ops; see
 * fc_ntk.hpp for the recursion, the kink handling at θ ∈ {0, π} and why the derivatives below have no singularity.
 */

#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#if defined(__CUDACC__)
#define DISTILL_HOST_DEVICE __host__ __device__
#define DISTILL_HD_INLINE __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define DISTILL_HOST_DEVICE
#define DISTILL_HD_INLINE inline __attribute__((always_inline))
#else
#define DISTILL_HOST_DEVICE
#define DISTILL_HD_INLINE inline
#endif

namespace distill::kernels::detail::fc_ntk_math {

/// The deepest recursion the per-entry backward pass keeps in registers (FcNtk::max_depth).
inline constexpr std::size_t max_depth = 32;

template <class T>
struct Consts {
  static constexpr T pi = T(3.141592653589793238462643383279502884L);
  static constexpr T inv_2pi = T(0.159154943091895335768883763372514362L);
};

template <class T>
DISTILL_HD_INLINE T fmin_(T a, T b) { return b < a ? b : a; }
template <class T>
DISTILL_HD_INLINE T fmax_(T a, T b) { return a < b ? b : a; }
DISTILL_HD_INLINE float sqrt_(float x) { return ::sqrtf(x); }
DISTILL_HD_INLINE double sqrt_(double x) { return ::sqrt(x); }

/// Below this sin θ the angle is snapped to 0 or π (4·√ε: 1 − |c| is rounding noise there).
template <class T>
DISTILL_HD_INLINE T sin_floor() {
  return std::is_same_v<T, float> ? T(1.38106793200497e-3f) : T(5.9604644775390625e-8);  // 4·√ε of float, double
}

/// arccos(c), c ∈ [−1, 1]: float by Abramowitz & Stegun 4.4.46 (|error| ≤ 2e-8, the SIMD pass's formula, so both
/// precisions agree with the packs), double exactly.
DISTILL_HD_INLINE float acos_(float c) {
  const float x = c < 0.0f ? -c : c;
  float p = -0.0012624911f;
  p = p * x + 0.0066700901f;
  p = p * x + -0.0170881256f;
  p = p * x + 0.0308918810f;
  p = p * x + -0.0501743046f;
  p = p * x + 0.0889789874f;
  p = p * x + -0.2145988016f;
  p = p * x + 1.5707963050f;
  const float r = ::sqrtf(1.0f - x) * p;
  return c < 0.0f ? Consts<float>::pi - r : r;
}
DISTILL_HD_INLINE double acos_(double c) { return ::acos(c); }

/// c = cos θ of a layer, θ and sin θ: what the backward pass keeps per layer.
template <class T>
struct Angle {
  T c, theta, sin;
};

/// θ = arccos c and sin θ, snapped to θ ∈ {0, π} with sin θ = 0 where sin θ is below sin_floor().
template <class T>
DISTILL_HD_INLINE Angle<T> angle(T c) {
  const T sn = sqrt_(fmax_((T(1) - c) * (T(1) + c), T(0)));
  if (sn < sin_floor<T>()) return {c, c > T(0) ? T(0) : Consts<T>::pi, T(0)};
  return {c, acos_(c), sn};
}

/// One ReLU + Dense layer: (K_l, Θ_l) → (K_{l+1}, Θ_{l+1}) in place, with s = √(q q'), is = 1/√(q q') (0 at q = 0).
template <class T>
DISTILL_HD_INLINE Angle<T> layer(T s, T is, T w, T b, T& k, T& th) {
  const T c = fmin_(fmax_(k * is, T(-1)), T(1));
  const Angle<T> a = angle(c);
  const T d = (Consts<T>::pi - a.theta) * Consts<T>::inv_2pi;
  k = w * (s * (a.sin + (Consts<T>::pi - a.theta) * c) * Consts<T>::inv_2pi) + b;
  th = k + w * th * d;
  return a;
}

/// The per-call constants of one Gram matrix and the row tables, as FcNtk::row_ops builds them.
template <class T>
struct Params {
  std::size_t depth;
  T w, b, inv_d;
  bool ntk;
  const T *r1, *ir1, *r2, *ir2;  //!< [depth][n1] and [depth][n2]: √q_l and 1/√q_l
  std::size_t n1, n2;
  const T* dq;                   //!< [depth]: ∂q_l/∂|x|²
};

/// K(x1_i, x2_j) (NTK Θ or NNGP K) from the dot product x1_i·x2_j.
template <class T>
DISTILL_HD_INLINE T forward(const Params<T>& p, std::size_t i, std::size_t j, T dot) {
  T k = dot * (p.w * p.inv_d) + p.b, th = k;
  for (std::size_t l = 0; l < p.depth; ++l)
    (void)layer(p.r1[l * p.n1 + i] * p.r2[l * p.n2 + j], p.ir2[l * p.n2 + j] * p.ir1[l * p.n1 + i], p.w, p.b, k, th);
  return p.ntk ? th : k;
}

/// What the backward pass of one entry gives: ∂/∂(x1·x2) and the two ∂/∂|x|² terms.
template <class T>
struct Grad {
  T dot, n1, n2;
};

/// The backward pass of one entry for the upstream gradient g = ∂L/∂K_ij: re-runs the recursion keeping each
/// layer's angle and Θ_l, then walks back (FcNtk::RowOps::backward_lanes on one lane).
template <class T>
DISTILL_HD_INLINE Grad<T> backward(const Params<T>& p, std::size_t i, std::size_t j, T dot, T g) {
  Angle<T> angles[max_depth];
  T ths[max_depth];
  T k = dot * (p.w * p.inv_d) + p.b, th = k;
  for (std::size_t l = 0; l < p.depth; ++l) {
    ths[l] = th;
    angles[l] = layer(p.r1[l * p.n1 + i] * p.r2[l * p.n2 + j], p.ir2[l * p.n2 + j] * p.ir1[l * p.n1 + i], p.w, p.b,
                      k, th);
  }
  T gk = p.ntk ? T(0) : g, gth = p.ntk ? g : T(0), gn1 = T(0), gn2 = T(0);
  const T floor = sin_floor<T>();
  for (std::size_t l = p.depth; l-- > 0;) {
    const T r1i = p.r1[l * p.n1 + i], ir1i = p.ir1[l * p.n1 + i];
    const T r2j = p.r2[l * p.n2 + j], ir2j = p.ir2[l * p.n2 + j];
    const T half_dq = T(0.5) * p.dq[l];
    gk = gk + gth;                    // Θ_{l+1} = K_{l+1} + σ_w² Θ̌_l
    const T g_relu = p.w * gk;        // ∂L/∂Ǩ_l
    const T g_deriv = p.w * gth;      // ∂L/∂Θ̌_l
    const Angle<T> a = angles[l];
    const T d = (Consts<T>::pi - a.theta) * Consts<T>::inv_2pi;
    gth = g_deriv * d;                // ∂L/∂Θ_l
    const T g_theta = -(g_deriv * ths[l]) * Consts<T>::inv_2pi;
    T g_kl = g_relu * d;              // ∂Ǩ/∂K_l = (π − θ)/(2π)
    T g_s = g_relu * a.sin * Consts<T>::inv_2pi;  // ∂Ǩ/∂s = sin θ/(2π)
    // θ = arccos(K_l/s): ∂θ/∂K_l = −1/(s sin θ), ∂θ/∂s = c/(s sin θ); zero subgradient at the kink.
    const T f = (a.sin > floor ? g_theta / fmax_(a.sin, floor) : T(0)) * (ir2j * ir1i);
    g_kl = g_kl - f;
    g_s = g_s + f * a.c;
    gk = g_kl;
    gn1 = gn1 + g_s * r2j * (ir1i * half_dq);
    gn2 = gn2 + g_s * ir2j * (r1i * half_dq);
  }
  return {(gk + gth) * (p.w * p.inv_d), gn1, gn2};  // Θ₁ = K₁
}

}  // namespace distill::kernels::detail::fc_ntk_math

#endif  // DISTILL_KERNELS_DETAIL_FC_NTK_MATH_HPP
