// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_STREAMED_VJP_HPP
#define DISTILL_KERNELS_STREAMED_VJP_HPP

/**
 * @file
 * The gradient of a row-separable loss of a dot-product kernel matrix, streamed over row blocks.
 *
 * For L = Σ_i ℓ_i(K_i·) with K = K(X1, X2) and X1 fixed (KIP's target batch against its support), ∂L/∂X2 needs
 * only one block of K's rows at a time. streamed_vjp_x2 walks X1 in blocks; per block, on one thread:
 *
 *     D = X1_b·X2ᵀ, K = f(D)                 (GEMM + the kernel's forward row pass)
 *     G = row_grad(K)                        (the caller's per-row loss gradient ∂ℓ_i/∂K_i·, in place)
 *     P, r2 = backward row pass(D, G);   dX2 += Pᵀ·X1_b          (the kernel's backward pass + GEMM)
 *
 * and at the end dX2 += 2 r2∘X2. When X2 has few rows (KIP's support set), the block runs as its transpose
 * (stream_by_columns): Dᵀ = X2·X1_bᵀ and dX2 += Pᵀ·X1_b with the skinny products of detail/skinny_gemm.hpp, and
 * each row pass runs along the whole block. The block's rows of X1 stay in cache between the two products, the
 * n1×n2 matrices (D, K, G, P) are never formed, and the whole pass is one parallel region with no serial gaps. Compared with
 * gram() + gram_vjp() this cut a KIP step (100 support × 5000 targets, 2 threads) from 29–30 to 22–23 ms
 * (with the row passes' overlapping last pack), mostly memory traffic and the serial work between full-matrix passes.
 *
 * Per-slot sums (the partial dX2 and r2 of each thread) are added in slot order, so for a given thread count the
 * result does not depend on scheduling.
 */

#include <algorithm>
#include <cstddef>
#include <vector>

#include <omp.h>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/dot_product.hpp"
#include "distill/kernels/detail/skinny_gemm.hpp"

namespace distill::kernels {

/// A kernel that streamed_vjp_x2 can run: a dot-product kernel (KernelTraits) with the row passes of
/// detail/dot_product.hpp and an option check (FcNtk, Rbf, Linear).
template <class K, class T>
concept StreamableKernel = KernelTraits<K>::is_dot_product &&
                           requires(const K& k, const std::vector<T>& sq, std::size_t d, const char* where) {
                             k.row_ops(sq, sq, d);
                             k.validate(where);
                           };

/// Rows of X1 per block. 256 × 784 floats (0.8 MB) stay in L2/L3 between the block's two GEMMs, and X2, which the
/// GEMM packs once per block, is re-read 20 times for 5000 targets rather than 80 (with 64-row blocks).
inline constexpr std::size_t default_stream_block_rows = 256;

/// The most slots (threads) streamed_vjp_x2 hands to row_grad over backend B: size per-slot state with it.
/// 1 where B's GEMM cannot be called from inside a parallel region.
template <Backend B>
std::size_t stream_slots() {
  if constexpr (!BackendTraits<B>::gemm_in_parallel_region) return 1;
#if defined(_OPENMP)
  return std::size_t(std::max(1, omp_get_max_threads()));
#else
  return 1;
#endif
}

namespace detail {
/// out [cols, rows] = inᵀ for in [rows, cols], both row-major.
template <class T>
void transpose(const T* in, std::size_t rows, std::size_t cols, T* out) {
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
}
}  // namespace detail

/// Whether streamed_vjp_x2 runs a block of `rows` rows of X1 against the n2 rows of X2 as its transpose, with the
/// skinny products of detail/skinny_gemm.hpp. The row passes vectorise along a row, in SIMD packs of 8–16 entries:
/// KIP's 10 support images make rows of 10, which ran entry by entry (a scalar arccos per entry and layer, half of
/// a 10 × 5000 KIP step); transposed, a row is the block's 256 targets. Measured on one Zen 5 core: the 10 × 5000
/// step 7.6 → 2.1 ms, the 100 × 5000 step 18.5 → 17.1 ms.
inline bool stream_by_columns(std::size_t rows, std::size_t n2) { return n2 < 128 && rows > n2; }

/**
 * ∂L/∂X2 for L = Σ_i ℓ_i(K(X1, X2)_i·), streamed over blocks of X1's rows (see the file comment).
 *
 * @param row_grad  called as row_grad(slot, row0, rows, k) with k pointing at a rows × n2 block of K (rows
 *                  row0 … row0 + rows − 1 of K(X1, X2), row-major); it must overwrite the block with ∂L/∂K for those
 *                  rows. Calls with the same slot never overlap, calls with different slots may run concurrently;
 *                  slot < stream_slots<B>(). It must not throw.
 * @param block_rows  rows of X1 per block (tests use small ones to cover ragged blocks)
 * @return ∂L/∂X2, shape of X2
 * @throw invalid_argument on mismatched features or block_rows = 0
 */
template <Backend B, class Kern, class RowGrad>
  requires StreamableKernel<Kern, typename B::Scalar>
Tensor<typename B::Scalar> streamed_vjp_x2(const Kern& kernel, const Tensor<typename B::Scalar>& x1,
                                           const Tensor<typename B::Scalar>& x2, RowGrad&& row_grad,
                                           std::size_t block_rows = default_stream_block_rows) {
  using T = typename B::Scalar;
  constexpr const char* where = "kernels::streamed_vjp_x2()";
  kernel.validate(where);
  const Tensor<T> a = detail::as_rows(x1, where, "X1"), b = detail::as_rows(x2, where, "X2");
  DISTILL_CHECK(a.shape(1) == b.shape(1), where, ": X1 has ", a.shape(1), " features but X2 has ", b.shape(1),
                ", expected the same");
  DISTILL_CHECK(block_rows > 0, where, ": block_rows is 0, expected at least 1");
  const std::size_t n1 = a.shape(0), n2 = b.shape(0), d = a.shape(1);
  const std::vector<T> sq2 = detail::squared_norms<B>(b);
  const std::size_t blocks = (n1 + block_rows - 1) / block_rows;
  const std::size_t slots = std::max<std::size_t>(1, std::min(stream_slots<B>(), blocks));

  // Each slot's share of Pᵀ·X1 and of r2, summed in slot order below.
  std::vector<Tensor<T>> dx_part(slots);
  std::vector<std::vector<double>> r2_part(slots);
#pragma omp parallel num_threads(int(slots)) if (slots > 1)
  {
    std::size_t slot = 0, threads = 1;
#if defined(_OPENMP)
    slot = std::size_t(omp_get_thread_num());
    threads = std::size_t(omp_get_num_threads());
#endif
    Tensor<T> dx({n2, d}, T(0));
    std::vector<double> r2(n2, 0.0);
    std::vector<T> dots(block_rows * n2), kg(block_rows * n2), p(block_rows * n2), r_other(std::max(n2, block_rows)), sq1;
    // A static split into equal row ranges, walked in blocks: which rows a slot sums does not depend on timing,
    // and a ragged last block does not leave one thread idle at the end.
    const std::size_t end = n1 * (slot + 1) / threads;
    for (std::size_t row0 = n1 * slot / threads; row0 < end; row0 += block_rows) {
      const std::size_t rows = std::min(block_rows, end - row0);
      const T* xb = a.data() + row0 * d;
      sq1.resize(rows);
      for (std::size_t i = 0; i < rows; ++i) sq1[i] = T(B::dot(xb + i * d, xb + i * d, d));
      if (!stream_by_columns(rows, n2)) {
        B::gemm(Gemm<T>{.trans_b = true, .m = rows, .n = n2, .k = d, .a = xb, .lda = d, .b = b.data(), .ldb = d,
                        .c = dots.data(), .ldc = n2});
        const auto ops = kernel.row_ops(sq1, sq2, d);
        std::copy_n(dots.data(), rows * n2, kg.data());
        for (std::size_t i = 0; i < rows; ++i) ops.forward(i, kg.data() + i * n2, n2);
        row_grad(slot, row0, rows, kg.data());
        for (std::size_t i = 0; i < rows; ++i) {
          (void)ops.backward(i, dots.data() + i * n2, kg.data() + i * n2, p.data() + i * n2, r_other.data(), n2);
          for (std::size_t j = 0; j < n2; ++j) r2[j] += double(r_other[j]);
        }
        B::gemm(Gemm<T>{.trans_a = true, .m = n2, .n = d, .k = rows, .a = p.data(), .lda = n2, .b = xb, .ldb = d,
                        .beta = T(1), .c = dx.data(), .ldc = d});
        continue;
      }
      // By columns: the same block as its transpose, Dᵀ = X2·X1_bᵀ [n2, rows], whose rows are long enough for the
      // row passes' SIMD packs (K is symmetric in its two arguments). row_grad still sees K's rows.
      detail::skinny_dots(b.data(), n2, xb, rows, d, dots.data(), rows);
      const auto ops = kernel.row_ops(sq2, sq1, d);
      std::copy_n(dots.data(), n2 * rows, p.data());
      for (std::size_t j = 0; j < n2; ++j) ops.forward(j, p.data() + j * rows, rows);
      detail::transpose(p.data(), n2, rows, kg.data());
      row_grad(slot, row0, rows, kg.data());
      detail::transpose(kg.data(), rows, n2, p.data());  // Gᵀ
      for (std::size_t j = 0; j < n2; ++j)  // Pᵀ into kg
        r2[j] += ops.backward(j, dots.data() + j * rows, p.data() + j * rows, kg.data() + j * rows, r_other.data(), rows);
      detail::skinny_accumulate(kg.data(), rows, n2, xb, rows, d, dx.data());
    }
    dx_part[slot] = std::move(dx);
    r2_part[slot] = std::move(r2);
  }

  Tensor<T> out({n2, d}, T(0));
  std::vector<double> r2(n2, 0.0);
  for (std::size_t s = 0; s < slots; ++s) {
    if (dx_part[s].size() == 0) continue;  // OpenMP ran fewer threads than asked
    B::axpby(T(1), dx_part[s].data(), T(1), out.data(), out.size());
    for (std::size_t j = 0; j < n2; ++j) r2[j] += r2_part[s][j];
  }
  for (std::size_t j = 0; j < n2; ++j) {
    const T s = T(2 * r2[j]);
    for (std::size_t k = 0; k < d; ++k) out.data()[j * d + k] += s * b.data()[j * d + k];
  }
  return out.reshape(x2.shape());
}

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_STREAMED_VJP_HPP
