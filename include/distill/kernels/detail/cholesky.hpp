// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_CHOLESKY_HPP
#define DISTILL_KERNELS_DETAIL_CHOLESKY_HPP

/**
 * @file
 * A small dense Cholesky factorisation and the triangular solves, in double, over row-major buffers.
 *
 * Right-looking and blocked (nb = 64): factor the diagonal block, solve the panel below it, and update the
 * trailing matrix with one GEMM of the (double) backend, A22 −= L21·L21ᵀ. Kernel matrices in KIP are a few
 * hundred to a few thousand rows, so this is all the linear algebra KRR needs.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>

#include "distill/core/backend.hpp"

namespace distill::kernels::detail {

/// The same backend family over another scalar: rebind_scalar_t<EigenBackend<float>, double> = EigenBackend<double>.
template <class B, class U>
struct rebind_scalar;
template <template <std::floating_point> class BT, std::floating_point T, std::floating_point U>
struct rebind_scalar<BT<T>, U> {
  using type = BT<U>;
};
template <class B, class U>
using rebind_scalar_t = typename rebind_scalar<B, U>::type;

/**
 * In-place lower Cholesky factor of the symmetric positive definite n×n matrix `a` (row-major, lower triangle
 * read; the strict upper triangle is set to 0).
 * @return 0 on success, else 1 + the index of the first pivot that was not positive (or not finite).
 */
template <Backend BD>
  requires std::same_as<typename BD::Scalar, double>
std::size_t cholesky_lower(double* a, std::size_t n) {
  constexpr std::size_t nb = 64;
  for (std::size_t k0 = 0; k0 < n; k0 += nb) {
    const std::size_t k1 = std::min(n, k0 + nb);
    // 1. unblocked factor of the diagonal block (its left part was already subtracted by the updates)
    for (std::size_t j = k0; j < k1; ++j) {
      double djj = a[j * n + j];
      for (std::size_t p = k0; p < j; ++p) djj -= a[j * n + p] * a[j * n + p];
      if (!(djj > 0) || !std::isfinite(djj)) return j + 1;
      const double ljj = std::sqrt(djj);
      a[j * n + j] = ljj;
      for (std::size_t i = j + 1; i < k1; ++i) {
        double v = a[i * n + j];
        for (std::size_t p = k0; p < j; ++p) v -= a[i * n + p] * a[j * n + p];
        a[i * n + j] = v / ljj;
      }
    }
    if (k1 == n) break;
    // 2. panel: L21 = A21 · L11⁻ᵀ, row by row (forward substitution)
    for (std::size_t i = k1; i < n; ++i) {
      for (std::size_t j = k0; j < k1; ++j) {
        double v = a[i * n + j];
        for (std::size_t p = k0; p < j; ++p) v -= a[i * n + p] * a[j * n + p];
        a[i * n + j] = v / a[j * n + j];
      }
    }
    // 3. trailing update A22 −= L21·L21ᵀ (one GEMM; it also writes the upper triangle, which is never read)
    const std::size_t m = n - k1;
    BD::gemm(Gemm<double>{.trans_a = false, .trans_b = true, .m = m, .n = m, .k = k1 - k0, .alpha = -1.0,
                          .a = a + k1 * n + k0, .lda = n, .b = a + k1 * n + k0, .ldb = n, .beta = 1.0,
                          .c = a + k1 * n + k1, .ldc = n});
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) a[i * n + j] = 0.0;
  return 0;
}

/// Solves L·Lᵀ·X = B in place for B [n, m] (row-major), with L from cholesky_lower.
inline void cholesky_solve(const double* l, std::size_t n, double* b, std::size_t m) {
  // L·Y = B
  for (std::size_t i = 0; i < n; ++i) {
    double* bi = b + i * m;
    for (std::size_t p = 0; p < i; ++p) {
      const double lip = l[i * n + p];
      const double* bp = b + p * m;
      for (std::size_t c = 0; c < m; ++c) bi[c] -= lip * bp[c];
    }
    const double inv = 1.0 / l[i * n + i];
    for (std::size_t c = 0; c < m; ++c) bi[c] *= inv;
  }
  // Lᵀ·X = Y
  for (std::size_t i = n; i-- > 0;) {
    double* bi = b + i * m;
    const double inv = 1.0 / l[i * n + i];
    for (std::size_t c = 0; c < m; ++c) bi[c] *= inv;
    for (std::size_t p = 0; p < i; ++p) {
      const double lip = l[i * n + p];
      double* bp = b + p * m;
      for (std::size_t c = 0; c < m; ++c) bp[c] -= lip * bi[c];
    }
  }
}

}  // namespace distill::kernels::detail

#endif  // DISTILL_KERNELS_DETAIL_CHOLESKY_HPP
