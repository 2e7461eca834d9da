// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_FC_NTK_HPP
#define DISTILL_KERNELS_FC_NTK_HPP

/**
 * @file
 * The infinite-width NTK and NNGP kernels of a fully connected ReLU network, in closed form.
 *
 * The network is neural-tangents' `serial(Dense, Relu) × depth, Dense` in the NTK parameterisation, with weight
 * variance σ_w² and bias variance σ_b² (Jacot et al. 2018; Lee et al. 2019; Arora et al. 2019). With
 * d input features and q(x) the pre-activation variance on the diagonal:
 *
 *   first Dense:   K₁ = σ_w² x·x'/d + σ_b²,                 Θ₁ = K₁
 *   each ReLU:     c = K_l/√(q_l q_l'),  θ = arccos c
 *                  Ǩ_l = √(q_l q_l')/(2π) · (sin θ + (π − θ) c)          (arc-cosine kernel, Cho & Saul 2009)
 *                  Θ̌_l = Θ_l · (π − θ)/(2π)                               (the derivative kernel)
 *   next Dense:    K_{l+1} = σ_w² Ǩ_l + σ_b²,               Θ_{l+1} = K_{l+1} + σ_w² Θ̌_l
 *
 * The readout Dense is the last one, so `depth` ReLU layers mean depth + 1 Dense layers. On the diagonal
 * (θ = 0) the recursion is linear, q_{l+1} = σ_w² q_l/2 + σ_b², so every q_l is an affine function of |x|².
 *
 * Fast path: one GEMM for all x·x', then one elementwise pass that runs every layer in registers (SIMD packs
 * of 8–16 floats, rows in parallel with OpenMP). The gradient is hand-derived: the backward pass re-runs a
 * pack's recursion, keeps the per-layer (c, θ, sin θ, Θ_l), and walks back to ∂/∂(x·x') and ∂/∂|x|². Two
 * derivatives are used that have no singularity at θ = 0: ∂Ǩ/∂K_l = (π − θ)/(2π) and ∂Ǩ/∂√(q q') = sin θ/(2π).
 * Only Θ̌ depends on θ through arccos, whose derivative −1/sin θ blows up for (nearly) identical points; there the
 * kernel has a cone-shaped kink; below sin θ = 4·√ε (rounding noise) θ is snapped to 0 or π and the pass uses
 * the zero subgradient, which is also the exact derivative of the diagonal K(x, x) as a function of x. At zero-norm
 * inputs with σ_b² = 0 the inverse roots are set to 0, which gives finite values and a zero subgradient.
 */

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <type_traits>
#include <utility>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/dot_product.hpp"
#include "distill/kernels/detail/fc_ntk_math.hpp"
#include "distill/kernels/detail/simd.hpp"

namespace distill::kernels {

/// Which of the two infinite-width kernels: the neural tangent kernel Θ or the NNGP covariance K.
enum class KernelKind { ntk, nngp };

/**
 * The closed-form NTK (or NNGP) of a depth-`depth` fully connected ReLU network.
 *
 * @code
 * dd::kernels::FcNtk k{.depth = 3};                       // σ_w² = 2, σ_b² = 0, NTK
 * auto K = k.gram<dd::EigenBackend<float>>(x1, x2);      // [n1, n2]
 * @endcode
 */
struct FcNtk {
  std::size_t depth = 3;          //!< number of hidden ReLU layers (0 gives the linear kernel σ_w² x·x'/d + σ_b²)
  double weight_var = 2.0;        //!< σ_w²
  double bias_var = 0.0;          //!< σ_b²
  KernelKind kind = KernelKind::ntk;

  static constexpr std::size_t max_depth = detail::fc_ntk_math::max_depth;

  /**
   * The Gram matrix K(X1, X2).
   * @param x1, x2  [n1, ...] and [n2, ...] with the same number of features per row
   * @param cache   optional; receives the dot products for a later gram_vjp on the same inputs
   * @throw invalid_argument on mismatched features, zero features, or bad options
   */
  template <Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                  GramCache<typename B::Scalar>* cache = nullptr) const {
    validate("FcNtk::gram()");
    return detail::dot_kernel_gram<B>(*this, x1, x2, cache, "FcNtk::gram()");
  }

  /**
   * ∂⟨G, K(X1, X2)⟩/∂X1 and ∂/∂X2 (exact, hand-derived).
   * @param g      [n1, n2]
   * @param wrt    which gradients to return (the other stays empty)
   * @param cache  optional, filled by gram() on the same inputs: skips the GEMM for the dot products
   */
  template <Backend B>
  GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                       const Tensor<typename B::Scalar>& g, VjpWrt wrt = VjpWrt::both,
                                       const GramCache<typename B::Scalar>* cache = nullptr) const {
    validate("FcNtk::gram_vjp()");
    return detail::dot_kernel_vjp<B>(*this, x1, x2, g, wrt, cache, "FcNtk::gram_vjp()");
  }

  void validate(const char* where) const {
    DISTILL_CHECK(depth <= max_depth, where, ": depth is ", depth, ", expected at most ", max_depth);
    DISTILL_CHECK(weight_var > 0 && std::isfinite(weight_var), where, ": weight_var is ", weight_var,
                  ", expected a positive finite σ_w²");
    DISTILL_CHECK(bias_var >= 0 && std::isfinite(bias_var), where, ": bias_var is ", bias_var,
                  ", expected a finite σ_b² >= 0");
  }

  /// Per-call tables (roots of the diagonal variances per layer) and the per-row passes; see detail/dot_product.hpp.
  template <class T>
  struct RowOps {
    std::size_t depth, n1, n2;
    T w, b, inv_d;
    bool ntk;
    std::vector<T> r1, ir1, r2, ir2;  //!< [depth][n]: √q_l and 1/√q_l (0 where q_l = 0)
    std::vector<T> dq;                //!< [depth]: ∂q_l/∂|x|²

    static constexpr T inv_2pi = T(0.5) * std::numbers::inv_pi_v<T>;
    static constexpr T pi = std::numbers::pi_v<T>;
    static T sin_floor() { return T(4) * std::sqrt(std::numeric_limits<T>::epsilon()); }

    /// θ = arccos c and sin θ, snapped to θ ∈ {0, π}, sin θ = 0 where sin θ is within rounding noise of 0: there
    /// 1 − |c| is pure rounding error, and √ of it would turn that noise into an O(√ε) error in Θ̌.
    template <class V>
    DISTILL_LANE_INLINE static std::pair<V, V> angle(const V& c) {
      using L = detail::Lanes<V>;
      const V sn = L::sqrt(L::max((V(T(1)) - c) * (V(T(1)) + c), V(T(0))));
      const auto kink = sn < sin_floor();
      return {L::select(kink, L::select(c > T(0), V(T(0)), V(pi)), detail::acos_of<V>(c)), L::select(kink, V(T(0)), sn)};
    }

    /// c = cos θ of a layer, θ and sin θ: what the backward pass keeps per layer.
    template <class V>
    struct Angle {
      V c, theta, sin;
    };

    /// One layer of the recursion on the pack at column j: (K_l, Θ_l) → (K_{l+1}, Θ_{l+1}) in place.
    template <class V>
    DISTILL_LANE_INLINE Angle<V> layer(std::size_t l, T r1i, T ir1i, std::size_t j, V& k, V& th) const {
      using L = detail::Lanes<V>;
      const V s = L::load(&r2[l * n2 + j]) * r1i;
      const V is = L::load(&ir2[l * n2 + j]) * ir1i;
      const V c = L::min(L::max(k * is, V(T(-1))), V(T(1)));
      const auto [theta, sn] = angle(c);
      const V d = (V(pi) - theta) * inv_2pi;
      k = w * (s * (sn + (V(pi) - theta) * c) * inv_2pi) + b;
      th = k + w * th * d;
      return {c, theta, sn};
    }

    /// Packs per call: the depth recursion is one long dependency chain (√, polynomial, √ per layer), so running
    /// several independent packs side by side keeps the FMA units busy. With the lane helpers force-inlined this
    /// made the depth-3 forward pass 3.7× faster on Zen 3 (192 → 52 ms for 2000 × 10000 on one core).
    static constexpr std::size_t interleave = 4;

    /// A row's last columns that do not fill a pack run as one full pack ending at column n, which overlaps the
    /// pack before it; only its new columns are kept. The scalar path (std::acos per entry and layer) cost as much
    /// for KIP's 100 support columns (96 + 4) as the 96 columns in packs.
    void forward(std::size_t i, T* row, std::size_t n) const {
      using P = detail::Pack<T>;
      std::size_t j = 0;
      if constexpr (detail::use_pack<T>) {
        constexpr std::size_t lanes = detail::Lanes<P>::size;
        const std::size_t rest = n % lanes;
        alignas(64) std::array<T, lanes> tail{};
        if (n > lanes && rest != 0) {  // before the packs below overwrite the dots it reads
          std::copy_n(row + n - lanes, lanes, tail.data());
          forward_lanes<P, 1>(i, n - lanes, tail.data());
        }
        for (; j + interleave * lanes <= n; j += interleave * lanes) forward_lanes<P, interleave>(i, j, row + j);
        for (; j + lanes <= n; j += lanes) forward_lanes<P, 1>(i, j, row + j);
        if (n > lanes && rest != 0) {
          std::copy_n(tail.data() + lanes - rest, rest, row + n - rest);
          return;
        }
      }
      for (; j < n; ++j) forward_lanes<T, 1>(i, j, row + j);
    }

    /// The tables as the shared per-entry math (detail/fc_ntk_math.hpp) takes them.
    detail::fc_ntk_math::Params<T> params() const {
      return {depth, w, b, inv_d, ntk, r1.data(), ir1.data(), r2.data(), ir2.data(), n1, n2, dq.data()};
    }

    /// N packs of V starting at column j (pack u covers columns j + u·|V|). One scalar entry runs the shared
    /// host/device function, the very code of the CUDA kernels.
    template <class V, std::size_t N>
    void forward_lanes(std::size_t i, std::size_t j, T* out) const {
      if constexpr (std::is_same_v<V, T> && N == 1) {
        *out = detail::fc_ntk_math::forward(params(), i, j, *out);
        return;
      }
      using L = detail::Lanes<V>;
      constexpr std::size_t lanes = L::size;
      std::array<V, N> k, th;
      for (std::size_t u = 0; u < N; ++u) th[u] = k[u] = L::load(out + u * lanes) * (w * inv_d) + b;
      for (std::size_t l = 0; l < depth; ++l) {
        const T r1i = r1[l * n1 + i], ir1i = ir1[l * n1 + i];
        for (std::size_t u = 0; u < N; ++u) (void)layer<V>(l, r1i, ir1i, j + u * lanes, k[u], th[u]);
      }
      for (std::size_t u = 0; u < N; ++u) L::store(ntk ? th[u] : k[u], out + u * lanes);
    }

    double backward(std::size_t i, const T* dots, const T* g, T* p, T* r2_out, std::size_t n) const {
      using P = detail::Pack<T>;
      std::size_t j = 0;
      double r1_acc = 0;
      if constexpr (detail::use_pack<T>) {
        constexpr std::size_t lanes = detail::Lanes<P>::size;
        for (; j + interleave * lanes <= n; j += interleave * lanes)
          r1_acc += backward_lanes<P, interleave>(i, j, dots + j, g + j, p + j, r2_out + j);
        for (; j + lanes <= n; j += lanes) r1_acc += backward_lanes<P, 1>(i, j, dots + j, g + j, p + j, r2_out + j);
        if (const std::size_t rest = n - j; n > lanes && rest != 0) {  // one overlapping pack, as in forward()
          alignas(64) std::array<T, lanes> pt{}, rt{};
          r1_acc += backward_lanes<P, 1>(i, n - lanes, dots + n - lanes, g + n - lanes, pt.data(), rt.data(),
                                         lanes - rest);
          std::copy_n(pt.data() + lanes - rest, rest, p + n - rest);
          std::copy_n(rt.data() + lanes - rest, rest, r2_out + n - rest);
          return r1_acc;
        }
      }
      for (; j < n; ++j) r1_acc += backward_lanes<T, 1>(i, j, dots + j, g + j, p + j, r2_out + j);
      return r1_acc;
    }

    /// The backward pass of N packs of V starting at column j; returns Σ over their lanes (from first_lane on) of
    /// ∂L/∂|x1_i|².
    template <class V, std::size_t N>
    double backward_lanes(std::size_t i, std::size_t j, const T* dot, const T* gin, T* p, T* r2_out,
                          std::size_t first_lane = 0) const {
      if constexpr (std::is_same_v<V, T> && N == 1) {
        const auto grad = detail::fc_ntk_math::backward(params(), i, j, *dot, *gin);
        *p = grad.dot;
        *r2_out = grad.n2;
        return double(grad.n1);
      }
      using L = detail::Lanes<V>;
      constexpr std::size_t lanes = L::size;
      // Forward again, keeping what the backward pass needs per layer.
      std::array<std::array<Angle<V>, N>, max_depth> angles;
      std::array<std::array<V, N>, max_depth> ths;
      std::array<V, N> k, th;
      for (std::size_t u = 0; u < N; ++u) th[u] = k[u] = L::load(dot + u * lanes) * (w * inv_d) + b;
      for (std::size_t l = 0; l < depth; ++l) {
        const T r1i = r1[l * n1 + i], ir1i = ir1[l * n1 + i];
        for (std::size_t u = 0; u < N; ++u) {
          ths[l][u] = th[u];
          angles[l][u] = layer<V>(l, r1i, ir1i, j + u * lanes, k[u], th[u]);
        }
      }
      // Backward: gk = ∂L/∂K_{l+1}, gth = ∂L/∂Θ_{l+1}.
      std::array<V, N> gk, gth, gn1, gn2;
      for (std::size_t u = 0; u < N; ++u) {
        const V gv = L::load(gin + u * lanes);
        gk[u] = ntk ? V(T(0)) : gv;
        gth[u] = ntk ? gv : V(T(0));
        gn1[u] = gn2[u] = V(T(0));
      }
      const T floor = sin_floor();
      for (std::size_t l = depth; l-- > 0;) {
        const T r1i = r1[l * n1 + i], ir1i = ir1[l * n1 + i];
        // s = √q1·√q2:  ∂s/∂q1 = √q2/(2√q1),  ∂s/∂q2 = √q1/(2√q2);  q_l is affine in |x|² with slope dq_l.
        const T half_dq = T(0.5) * dq[l];
        for (std::size_t u = 0; u < N; ++u) {
          gk[u] = gk[u] + gth[u];             // Θ_{l+1} = K_{l+1} + σ_w² Θ̌_l
          const V g_relu = w * gk[u];         // ∂L/∂Ǩ_l
          const V g_deriv = w * gth[u];       // ∂L/∂Θ̌_l
          const V c = angles[l][u].c, theta = angles[l][u].theta, sn = angles[l][u].sin;
          const V d = (V(pi) - theta) * inv_2pi;
          gth[u] = g_deriv * d;               // ∂L/∂Θ_l
          const V g_theta = -(g_deriv * ths[l][u]) * inv_2pi;
          const V r2j = L::load(&r2[l * n2 + j + u * lanes]), ir2j = L::load(&ir2[l * n2 + j + u * lanes]);
          V g_kl = g_relu * d;                // ∂Ǩ/∂K_l = (π − θ)/(2π)
          V g_s = g_relu * sn * inv_2pi;      // ∂Ǩ/∂s   = sin θ/(2π)
          // θ = arccos(K_l/s): ∂θ/∂K_l = −1/(s sin θ), ∂θ/∂s = c/(s sin θ); zero subgradient at the kink.
          const V f = L::select(sn > floor, g_theta / L::max(sn, V(floor)), V(T(0))) * (ir2j * ir1i);
          g_kl = g_kl - f;
          g_s = g_s + f * c;
          gk[u] = g_kl;
          gn1[u] = gn1[u] + g_s * r2j * (ir1i * half_dq);
          gn2[u] = gn2[u] + g_s * ir2j * (r1i * half_dq);
        }
      }
      double r1_sum = 0;
      for (std::size_t u = 0; u < N; ++u) {
        L::store((gk[u] + gth[u]) * (w * inv_d), p + u * lanes);  // Θ₁ = K₁
        L::store(gn2[u], r2_out + u * lanes);
        if (first_lane == 0) {
          r1_sum += L::sum(gn1[u]);
        } else {
          alignas(64) std::array<T, lanes> lane{};
          L::store(gn1[u], lane.data());
          for (std::size_t q = first_lane; q < lanes; ++q) r1_sum += double(lane[q]);
        }
      }
      return r1_sum;
    }
  };

  template <class T>
  RowOps<T> row_ops(const std::vector<T>& sq1, const std::vector<T>& sq2, std::size_t d) const {
    DISTILL_CHECK(d > 0, "FcNtk: inputs have 0 features, expected at least 1");
    RowOps<T> ops{depth, sq1.size(), sq2.size(), T(weight_var), T(bias_var), T(1.0 / double(d)),
                  kind == KernelKind::ntk, {}, {}, {}, {}, {}};
    auto tables = [&](const std::vector<T>& sq, std::vector<T>& r, std::vector<T>& ir) {
      const std::size_t n = sq.size();
      r.assign(depth * n, T(0));
      ir.assign(depth * n, T(0));
      for (std::size_t i = 0; i < n; ++i) {
        double q = weight_var * double(sq[i]) / double(d) + bias_var;
        for (std::size_t l = 0; l < depth; ++l) {
          const double root = std::sqrt(std::max(q, 0.0));
          r[l * n + i] = T(root);
          ir[l * n + i] = root > 0 ? T(1.0 / root) : T(0);
          q = weight_var * q / 2 + bias_var;
        }
      }
    };
    tables(sq1, ops.r1, ops.ir1);
    tables(sq2, ops.r2, ops.ir2);
    ops.dq.resize(depth);
    double slope = weight_var / double(d);
    for (std::size_t l = 0; l < depth; ++l, slope *= weight_var / 2) ops.dq[l] = T(slope);
    return ops;
  }
};

template <>
struct KernelTraits<FcNtk> {
  static constexpr bool is_normalized = false;
  static constexpr bool is_dot_product = true;
};

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_FC_NTK_HPP
