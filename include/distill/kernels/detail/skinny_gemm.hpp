// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_SKINNY_GEMM_HPP
#define DISTILL_KERNELS_DETAIL_SKINNY_GEMM_HPP

/**
 * @file
 * The two products of a streamed kernel block when one side has only a few rows (KIP's 10 support images against a
 * block of 256 targets, 784 features):
 *
 *     skinny_dots:        D[j, r] = a_j · b_r                   (D = A·Bᵀ, A [na, d] with na small, B [nb, d])
 *     skinny_accumulate:  C[j, :] += Σ_r P[j, r] · b_r          (C += P·B, P [na, nb])
 *
 * A general GEMM packs the long operand B into its panel layout before each product and runs a micro-kernel made
 * for many rows on both sides; with na = 10 those packs and the half-empty tiles took two thirds of a 10 × 5000
 * KIP step. Here every row of A (or of P) in a chunk of up to 12 is held against B as it streams by, once, with
 * all the chunk's accumulators in registers: D's entries are whole dot products along d, C's a register tile of
 * two SIMD packs of columns that runs down all of B's rows.
 */

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "distill/kernels/detail/simd.hpp"

namespace distill::kernels::detail {

/// Rows of A (or P) per register tile: 2 × 12 accumulators fit AVX-512's 32 vector registers, 2 × 6 AVX2's 16.
template <class T>
inline constexpr std::size_t skinny_rows = sizeof(Pack<T>) >= 64 ? 12 : 6;

using distill::detail::with_static_count;

/// D[j·ldd + r] = a_j · b_r for J rows of A and R rows of B: J·R dot products accumulated side by side.
template <class T, std::size_t J, std::size_t R>
void skinny_dots_tile(const T* a, const T* b, std::size_t d, T* out, std::size_t ldd) {
  using V = Pack<T>;
  using L = Lanes<V>;
  constexpr std::size_t lanes = L::size;
  std::array<V, J * R> acc;
  acc.fill(V(T(0)));
  std::size_t k = 0;
  for (; k + lanes <= d; k += lanes) {
    std::array<V, R> bv;
    for (std::size_t r = 0; r < R; ++r) bv[r] = L::load(b + r * d + k);
    for (std::size_t j = 0; j < J; ++j) {
      const V av = L::load(a + j * d + k);
      for (std::size_t r = 0; r < R; ++r) acc[j * R + r] += av * bv[r];
    }
  }
  for (std::size_t j = 0; j < J; ++j)
    for (std::size_t r = 0; r < R; ++r) {
      T s = T(L::sum(acc[j * R + r]));
      for (std::size_t q = k; q < d; ++q) s += a[j * d + q] * b[r * d + q];
      out[j * ldd + r] = s;
    }
}

/// D [na, nb] (row stride ldd) = A·Bᵀ for A [na, d] and B [nb, d], both row-major.
template <class T>
void skinny_dots(const T* a, std::size_t na, const T* b, std::size_t nb, std::size_t d, T* out, std::size_t ldd) {
  for (std::size_t j0 = 0; j0 < na; j0 += skinny_rows<T>) {
    with_static_count<skinny_rows<T>>(std::min(skinny_rows<T>, na - j0), [&]<std::size_t J>() {
      std::size_t r = 0;
      for (; r + 2 <= nb; r += 2) skinny_dots_tile<T, J, 2>(a + j0 * d, b + r * d, d, out + j0 * ldd + r, ldd);
      if (r < nb) skinny_dots_tile<T, J, 1>(a + j0 * d, b + r * d, d, out + j0 * ldd + r, ldd);
    });
  }
}

/// C[j, k0 …] += Σ_r P[j, r]·B[r, k0 …] for J rows of P and KV packs of columns from k0 (V: a pack or a scalar).
template <class V, std::size_t J, std::size_t KV, class T>
void skinny_accumulate_tile(const T* p, std::size_t ldp, const T* b, std::size_t nb, std::size_t d, std::size_t k0,
                            T* c) {
  using L = Lanes<V>;
  constexpr std::size_t lanes = L::size;
  std::array<V, J * KV> acc;
  for (std::size_t j = 0; j < J; ++j)
    for (std::size_t v = 0; v < KV; ++v) acc[j * KV + v] = L::load(c + j * d + k0 + v * lanes);
  for (std::size_t r = 0; r < nb; ++r) {
    std::array<V, KV> bv;
    for (std::size_t v = 0; v < KV; ++v) bv[v] = L::load(b + r * d + k0 + v * lanes);
    for (std::size_t j = 0; j < J; ++j) {
      const V pj(p[j * ldp + r]);
      for (std::size_t v = 0; v < KV; ++v) acc[j * KV + v] += pj * bv[v];
    }
  }
  for (std::size_t j = 0; j < J; ++j)
    for (std::size_t v = 0; v < KV; ++v) L::store(acc[j * KV + v], c + j * d + k0 + v * lanes);
}

/// C [na, d] += P·B for P [na, nb] (row stride ldp) and B [nb, d], all row-major.
template <class T>
void skinny_accumulate(const T* p, std::size_t ldp, std::size_t na, const T* b, std::size_t nb, std::size_t d, T* c) {
  using V = Pack<T>;
  constexpr std::size_t lanes = Lanes<V>::size;
  for (std::size_t j0 = 0; j0 < na; j0 += skinny_rows<T>) {
    with_static_count<skinny_rows<T>>(std::min(skinny_rows<T>, na - j0), [&]<std::size_t J>() {
      const T* pj = p + j0 * ldp;
      T* cj = c + j0 * d;
      std::size_t k = 0;
      for (; k + 2 * lanes <= d; k += 2 * lanes) skinny_accumulate_tile<V, J, 2>(pj, ldp, b, nb, d, k, cj);
      if constexpr (lanes > 1)
        for (; k + lanes <= d; k += lanes) skinny_accumulate_tile<V, J, 1>(pj, ldp, b, nb, d, k, cj);
      for (; k < d; ++k) skinny_accumulate_tile<T, J, 1>(pj, ldp, b, nb, d, k, cj);
    });
  }
}

}  // namespace distill::kernels::detail

#endif  // DISTILL_KERNELS_DETAIL_SKINNY_GEMM_HPP
