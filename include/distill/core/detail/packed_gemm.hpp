// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_DETAIL_PACKED_GEMM_HPP
#define DISTILL_CORE_DETAIL_PACKED_GEMM_HPP

/**
 * @file
 * A packed float GEMM for AVX-512 machines, C = α·op(A)·op(B) + β·C on row-major storage, which EigenBackend<float>
 * uses instead of Eigen's product when the compiler targets AVX-512.
 *
 * Why: Eigen 3.4's AVX-512 kernel keeps a 48×4 tile of C in registers, so every multiply-add of a step also waits
 * on a broadcast, and it runs at about 65 % of the core's FMA peak (135–150 of 214 GFLOP/s measured on one Zen 5
 * core); the layers of a fully connected net (batch 128 against 784–1200 wide weights) are exactly such products.
 * This one is the BLIS loop nest around a 12×32 register tile (24 accumulators, two loads of B and twelve broadcasts
 * of A per step of k), which reaches 224 GFLOP/s on the same core with its operands in L1, 1.3–1.45× Eigen's rate
 * on those layers (benchmarks/core/bench_gemm.cpp: BM_gemm of EigenBackend<float> against EigenProductFloat).
 *
 *   for jc in n, step NC:                       C's columns
 *     for pc in k, step KC:                     pack B[pc, jc] into KC×32 panels (row k of a panel: 32 columns)
 *       for ic in m, step MC:                   pack A[ic, pc] into KC×12 panels (row k of a panel: 12 rows)
 *         for each 32-column panel, for each 12-row panel: the register tile, KC steps
 *
 * Packing turns every transpose case into the same kernel; transposed operands are packed through an in-register
 * 16×16 transpose, so packing a 1200×784 weight matrix stays a small part of the product. Ragged edges are packed
 * with zeros and written back through a scratch tile. Results do not depend on the thread count: threads split C,
 * never k, so every element sums the same products in the same order.
 */

#include "distill/core/config.hpp"  // first: it includes the intrinsics quietly

#if defined(__AVX512F__) && !defined(__CUDACC__) && !defined(DISTILL_NO_SIMD) && !defined(DISTILL_NO_PACKED_GEMM)
#define DISTILL_HAS_PACKED_GEMM 1
#else
#define DISTILL_HAS_PACKED_GEMM 0
#endif

#if DISTILL_HAS_PACKED_GEMM
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "distill/core/backend.hpp"

namespace distill::detail::packed_gemm {

inline constexpr std::size_t mr = 12;    //!< rows of C in the register tile (broadcasts of A)
inline constexpr std::size_t nr = 32;    //!< columns of C in the register tile (two AVX-512 vectors of B)
inline constexpr std::size_t kc = 256;   //!< depth of a panel: a 256×32 panel of B (32 KiB) stays in L1
inline constexpr std::size_t mc = 120;   //!< rows of A packed at once (120 KiB: L2)
inline constexpr std::size_t nc = 1024;  //!< columns of B packed at once (1 MiB)

/// True when the packed kernel is worth its packing: C at least half a tile each way and a few steps of k.
/// Smaller and matrix-vector shapes stay with Eigen, whose GEMV and small-product paths waste no lanes.
inline bool suits(const Gemm<float>& g) { return g.m >= mr / 2 && g.n >= nr / 2 && g.k >= 16; }

/// A 64-byte aligned scratch buffer, grown on demand and kept per thread between calls.
class Scratch {
 public:
  float* get(std::size_t count) {
    if (count > capacity_) {
      data_.reset(static_cast<float*>(::operator new[](count * sizeof(float), std::align_val_t{64})));
      capacity_ = count;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<float[], Free> data_;
  std::size_t capacity_ = 0;
};

/// In-register transpose of a 16×16 block: on entry r[i] holds row i, on exit r[j] holds column j.
[[gnu::always_inline]] inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // interleave 32-bit elements of row pairs
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // then 64-bit pairs: u[4i + q] lane l = column 4l + q of rows 4i..4i+3
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int q = 0; q < 4; ++q) {  // then gather the 128-bit lanes: column 4l + q = lane l of u[q], u[4+q], ...
    const __m512 lo01 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44);
    const __m512 hi01 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
    const __m512 lo23 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
    const __m512 hi23 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
    r[q] = _mm512_shuffle_f32x4(lo01, hi01, 0x88);
    r[4 + q] = _mm512_shuffle_f32x4(lo01, hi01, 0xDD);
    r[8 + q] = _mm512_shuffle_f32x4(lo23, hi23, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(lo23, hi23, 0xDD);
  }
}

/// The mask of the first `count` of a vector's 16 lanes (all 16 when count ≥ 16).
[[gnu::always_inline]] inline __mmask16 first_lanes(std::size_t count) {
  return count >= 16 ? __mmask16(0xFFFFu) : __mmask16((1u << count) - 1u);
}

/**
 * Packs `width` ≤ W lines of a matrix into a depth×W panel, panel[p·W + j] = line j's element p, zero beyond
 * `width`. A "line" is a row of A (W = mr) or a column of B (W = nr). `along_depth` says how the lines are stored:
 * true when a line's elements are contiguous along k (element p of line j at src[j·ld + p]: A as stored, Bᵀ), false
 * when the lines are side by side (src[p·ld + j]: Aᵀ as stored, B).
 */
template <std::size_t W>
void pack_panel(const float* src, std::size_t ld, bool along_depth, std::size_t width, std::size_t depth,
                float* panel) {
  static_assert(W == mr || W == nr);
  std::size_t p = 0;
  if (along_depth) {
    // 16×16 blocks through the transpose; W = 12 stores 12 of the 16 lanes.
    for (; p + 16 <= depth; p += 16)
      for (std::size_t j0 = 0; j0 < W; j0 += 16) {
        __m512 r[16];
        for (std::size_t q = 0; q < 16; ++q)
          r[q] = j0 + q < width ? _mm512_loadu_ps(src + (j0 + q) * ld + p) : _mm512_setzero_ps();
        transpose16(r);
        for (std::size_t q = 0; q < 16; ++q) _mm512_mask_storeu_ps(panel + (p + q) * W + j0, first_lanes(W - j0), r[q]);
      }
    for (; p < depth; ++p)
      for (std::size_t j = 0; j < W; ++j) panel[p * W + j] = j < width ? src[j * ld + p] : 0.0f;
    return;
  }
  for (; p < depth; ++p)
    for (std::size_t j0 = 0; j0 < W; j0 += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(first_lanes(width > j0 ? width - j0 : 0), src + p * ld + j0);
      _mm512_mask_storeu_ps(panel + p * W + j0, first_lanes(W - j0), v);
    }
}

/**
 * The register tile: C[0:rows, 0:cols] = α·Σ_p a[p][r]·b[p][c] + β·C over `depth` steps of the packed panels.
 * β = 0 writes without reading C (so NaN in C is ignored). A ragged tile is written through a scratch tile. Not
 * inlined: inside the loop nest GCC runs out of the 32 vector registers and re-reads the two B vectors from the stack
 * on every multiply-add (24.7 against 12 ms for a distillation step).
 */
[[gnu::noinline]] inline void tile(std::size_t depth, const float* a, const float* b, float* c, std::size_t ldc,
                                        std::size_t rows, std::size_t cols, float alpha, float beta) {
  __m512 acc[mr][2];
  for (std::size_t r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (std::size_t p = 0; p < depth; ++p, a += mr, b += nr) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (std::size_t r = 0; r < mr; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  if (rows == mr && cols == nr) {
#pragma GCC unroll 12
    for (std::size_t r = 0; r < mr; ++r) {
      float* cr = c + r * ldc;
      if (beta == 0.0f) {
        _mm512_storeu_ps(cr, _mm512_mul_ps(va, acc[r][0]));
        _mm512_storeu_ps(cr + 16, _mm512_mul_ps(va, acc[r][1]));
      } else {
        _mm512_storeu_ps(cr, _mm512_fmadd_ps(va, acc[r][0], _mm512_mul_ps(vb, _mm512_loadu_ps(cr))));
        _mm512_storeu_ps(cr + 16, _mm512_fmadd_ps(va, acc[r][1], _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16))));
      }
    }
    return;
  }
  alignas(64) float scratch[mr][nr];
  for (std::size_t r = 0; r < mr; ++r) {
    _mm512_store_ps(scratch[r], acc[r][0]);
    _mm512_store_ps(scratch[r] + 16, acc[r][1]);
  }
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) {
      float& out = c[r * ldc + j];
      out = beta == 0.0f ? alpha * scratch[r][j] : beta * out + alpha * scratch[r][j];
    }
}

/// The loop nest on the calling thread.
inline void gemm_serial(const Gemm<float>& g) {
  static thread_local Scratch packed_a, packed_b;
  float* const pa = packed_a.get(mc * kc);
  float* const pb = packed_b.get(kc * nc);
  for (std::size_t jc = 0; jc < g.n; jc += nc) {
    const std::size_t ncols = std::min(nc, g.n - jc);
    for (std::size_t pc = 0; pc < g.k; pc += kc) {
      const std::size_t depth = std::min(kc, g.k - pc);
      const float beta = pc == 0 ? g.beta : 1.0f;  // later blocks of k accumulate onto the first
      for (std::size_t jr = 0; jr < ncols; jr += nr) {
        const std::size_t j = jc + jr;  // B(p, j) = b[p·ldb + j], Bᵀ stored: b[j·ldb + p]
        const float* src = g.trans_b ? g.b + j * g.ldb + pc : g.b + pc * g.ldb + j;
        pack_panel<nr>(src, g.ldb, g.trans_b, std::min(nr, ncols - jr), depth, pb + jr * depth);
      }
      for (std::size_t ic = 0; ic < g.m; ic += mc) {
        const std::size_t nrows = std::min(mc, g.m - ic);
        for (std::size_t ir = 0; ir < nrows; ir += mr) {
          const std::size_t i = ic + ir;  // A(i, p) = a[i·lda + p], Aᵀ stored: a[p·lda + i]
          const float* src = g.trans_a ? g.a + pc * g.lda + i : g.a + i * g.lda + pc;
          pack_panel<mr>(src, g.lda, !g.trans_a, std::min(mr, nrows - ir), depth, pa + ir * depth);
        }
        for (std::size_t jr = 0; jr < ncols; jr += nr)
          for (std::size_t ir = 0; ir < nrows; ir += mr)
            tile(depth, pa + ir * depth, pb + jr * depth, g.c + (ic + ir) * g.ldc + jc + jr, g.ldc,
                 std::min(mr, nrows - ir), std::min(nr, ncols - jr), g.alpha, beta);
      }
    }
  }
}

/**
 * C = α·op(A)·op(B) + β·C. Outside an OpenMP parallel region and with enough work, the threads take C in
 * slices of whole tiles — of columns when C is at least as wide as tall, else of rows — each running the loop nest
 * on its slice.
 */
inline void gemm(const Gemm<float>& g) {
#if defined(_OPENMP)
  const int threads = omp_in_parallel() || gemm_flops(g) < 4e6 ? 1 : omp_get_max_threads();
  const bool by_columns = g.n >= g.m;
  const std::size_t unit = by_columns ? nr : mr, extent = by_columns ? g.n : g.m;
  const std::size_t units = (extent + unit - 1) / unit;
  const auto parts = std::size_t(std::min<std::size_t>(std::size_t(std::max(threads, 1)), units));
  if (parts > 1) {
#pragma omp parallel for num_threads(int(parts)) schedule(static, 1)
    for (std::size_t t = 0; t < parts; ++t) {
      const std::size_t begin = std::min(extent, units * t / parts * unit);
      const std::size_t end = std::min(extent, units * (t + 1) / parts * unit);
      if (begin >= end) continue;
      Gemm<float> part = g;
      if (by_columns) {
        part.n = end - begin;
        part.b = g.trans_b ? g.b + begin * g.ldb : g.b + begin;
        part.c = g.c + begin;
      } else {
        part.m = end - begin;
        part.a = g.trans_a ? g.a + begin : g.a + begin * g.lda;
        part.c = g.c + begin * g.ldc;
      }
      gemm_serial(part);
    }
    return;
  }
#endif
  gemm_serial(g);
}

}  // namespace distill::detail::packed_gemm

#endif  // DISTILL_HAS_PACKED_GEMM

#endif  // DISTILL_CORE_DETAIL_PACKED_GEMM_HPP
