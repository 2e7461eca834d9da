// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_DOT_PRODUCT_HPP
#define DISTILL_KERNELS_DETAIL_DOT_PRODUCT_HPP

/**
 * @file
 * The shared engine of dot-product kernels, k(x, x') = f(x·x', |x|², |x'|²) (FC NTK/NNGP, RBF, linear).
 *
 *   forward:   D = X1·X2ᵀ (one GEMM), then one elementwise pass K_ij = f(D_ij, n1_i, n2_j), rows in parallel.
 *   backward:  given G = ∂L/∂K, one pass computes  P_ij = G_ij ∂f/∂D_ij,  r1_i = Σ_j G_ij ∂f/∂n1_i,
 *              r2_j = Σ_i G_ij ∂f/∂n2_j;  then  dX1 = P·X2 + 2 r1∘X1  and  dX2 = Pᵀ·X1 + 2 r2∘X2 (one GEMM each).
 *
 * A kernel supplies `row_ops(sq1, sq2, d)` returning an object with
 *   void   forward(i, T* row, n2)                                  row: in = dots, out = K
 *   double backward(i, const T* dots, const T* g, T* p, T* r2, n2)  writes P row and r2 terms; returns r1_i
 */

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"

namespace distill::kernels::detail {

//! [n, ...] read as a [n, d] matrix view (no copy).
template <class T>
Tensor<T> as_rows(const Tensor<T>& x, const char* where, const char* arg) {
  DISTILL_CHECK(x.rank() >= 2, where, ": ", arg, " has shape ", show(x.shape()),
                ", expected [n, features...] (rank >= 2)");
  const std::size_t n = x.shape(0);
  return x.reshape({n, n ? x.size() / n : numel(Shape(x.shape().begin() + 1, x.shape().end()))});
}

//! Squared row norms |x_i|², with the backend's dot (SIMD, accumulated in double).
template <Backend B>
std::vector<typename B::Scalar> squared_norms(const Tensor<typename B::Scalar>& m) {
  using T = typename B::Scalar;
  const std::size_t n = m.shape(0), d = m.shape(1);
  std::vector<T> out(n);
  const long rows = static_cast<long>(n);
#pragma omp parallel for schedule(static) if (n * d >= (std::size_t(1) << 18))
  for (long i = 0; i < rows; ++i) {
    const T* r = m.data() + std::size_t(i) * d;
    out[std::size_t(i)] = T(B::dot(r, r, d));
  }
  return out;
}

//! X1·X2ᵀ through the backend's GEMM.
template <Backend B>
Tensor<typename B::Scalar> dot_products(const Tensor<typename B::Scalar>& a, const Tensor<typename B::Scalar>& b) {
  using T = typename B::Scalar;
  const std::size_t n1 = a.shape(0), n2 = b.shape(0), d = a.shape(1);
  Tensor<T> out = Tensor<T>::empty({n1, n2});
  B::gemm(Gemm<T>{.trans_a = false, .trans_b = true, .m = n1, .n = n2, .k = d, .alpha = T(1), .a = a.data(), .lda = d,
                  .b = b.data(), .ldb = d, .beta = T(0), .c = out.data(), .ldc = n2});
  return out;
}

//! Parallelise an elementwise pass only when it has enough work to pay for waking the threads. The double pass is
//! scalar with std::acos (about 30× the cost per entry of the float SIMD pass), so it pays from far fewer entries:
//! KIP's 100 × 100 K_ss in double took 1 ms on one thread.
template <class T>
bool worth_threads(std::size_t n1, std::size_t n2) {
  const std::size_t min_entries = std::is_same_v<T, float> ? 16384 : 1024;
  return n1 > 1 && n1 * n2 >= min_entries;
}

template <Backend B, class Kern>
Tensor<typename B::Scalar> dot_kernel_gram(const Kern& kernel, const Tensor<typename B::Scalar>& x1,
                                           const Tensor<typename B::Scalar>& x2, GramCache<typename B::Scalar>* cache,
                                           const char* where) {
  using T = typename B::Scalar;
  const Tensor<T> a = as_rows(x1, where, "X1"), b = as_rows(x2, where, "X2");
  DISTILL_CHECK(a.shape(1) == b.shape(1), where, ": X1 has ", a.shape(1), " features but X2 has ", b.shape(1),
                ", expected the same");
  const std::size_t n1 = a.shape(0), n2 = b.shape(0), d = a.shape(1);
  std::vector<T> sq1 = squared_norms<B>(a), sq2 = squared_norms<B>(b);
  Tensor<T> k = dot_products<B>(a, b);
  if (cache) *cache = GramCache<T>{k.clone(), sq1, sq2};
  const auto ops = kernel.row_ops(sq1, sq2, d);
  const long rows = static_cast<long>(n1);
#pragma omp parallel for schedule(static) if (worth_threads<T>(n1, n2))
  for (long i = 0; i < rows; ++i) ops.forward(std::size_t(i), k.data() + std::size_t(i) * n2, n2);
  return k;
}

template <Backend B, class Kern>
GramVjp<typename B::Scalar> dot_kernel_vjp(const Kern& kernel, const Tensor<typename B::Scalar>& x1,
                                           const Tensor<typename B::Scalar>& x2, const Tensor<typename B::Scalar>& g,
                                           VjpWrt wrt, const GramCache<typename B::Scalar>* cache, const char* where) {
  using T = typename B::Scalar;
  const Tensor<T> a = as_rows(x1, where, "X1"), b = as_rows(x2, where, "X2");
  DISTILL_CHECK(a.shape(1) == b.shape(1), where, ": X1 has ", a.shape(1), " features but X2 has ", b.shape(1),
                ", expected the same");
  const std::size_t n1 = a.shape(0), n2 = b.shape(0), d = a.shape(1);
  DISTILL_CHECK(g.rank() == 2 && g.shape(0) == n1 && g.shape(1) == n2, where, ": G has shape ", show(g.shape()),
                ", expected [", n1, ", ", n2, "] (the shape of K(X1, X2))");
  Tensor<T> dots;
  std::vector<T> sq1, sq2;
  if (cache && cache->dots.rank() == 2 && cache->dots.shape(0) == n1 && cache->dots.shape(1) == n2 &&
      cache->sq1.size() == n1 && cache->sq2.size() == n2) {
    dots = cache->dots;
    sq1 = cache->sq1;
    sq2 = cache->sq2;
  } else {
    DISTILL_CHECK(cache == nullptr, where, ": the GramCache does not match X1 [", n1, ", .] and X2 [", n2,
                  ", .]; pass the cache filled by gram() on the same inputs");
    sq1 = squared_norms<B>(a);
    sq2 = squared_norms<B>(b);
    dots = dot_products<B>(a, b);
  }
  const auto ops = kernel.row_ops(sq1, sq2, d);
  Tensor<T> p = Tensor<T>::empty({n1, n2});
  std::vector<double> r1(n1, 0.0), r2(n2, 0.0);
  const long rows = static_cast<long>(n1);
#pragma omp parallel if (worth_threads<T>(n1, n2))
  {
    std::vector<double> r2_local(n2, 0.0);
    std::vector<T> r2_row(n2);
#pragma omp for schedule(static)
    for (long ii = 0; ii < rows; ++ii) {
      const std::size_t i = std::size_t(ii);
      r1[i] = ops.backward(i, dots.data() + i * n2, g.data() + i * n2, p.data() + i * n2, r2_row.data(), n2);
      for (std::size_t j = 0; j < n2; ++j) r2_local[j] += double(r2_row[j]);
    }
#pragma omp critical(distill_kernels_vjp_reduce)
    for (std::size_t j = 0; j < n2; ++j) r2[j] += r2_local[j];
  }

  GramVjp<T> out;
  // dX1 = P·X2 + 2 r1∘X1
  if (wrt != VjpWrt::second) {
    Tensor<T> dx = Tensor<T>::empty({n1, d});
    B::gemm(Gemm<T>{.m = n1, .n = d, .k = n2, .alpha = T(1), .a = p.data(), .lda = n2, .b = b.data(), .ldb = d,
                    .beta = T(0), .c = dx.data(), .ldc = d});
    for (std::size_t i = 0; i < n1; ++i) {
      const T s = T(2 * r1[i]);
      for (std::size_t k = 0; k < d; ++k) dx.data()[i * d + k] += s * a.data()[i * d + k];
    }
    out.dx1 = dx.reshape(x1.shape());
  }
  // dX2 = Pᵀ·X1 + 2 r2∘X2
  if (wrt != VjpWrt::first) {
    Tensor<T> dx = Tensor<T>::empty({n2, d});
    B::gemm(Gemm<T>{.trans_a = true, .m = n2, .n = d, .k = n1, .alpha = T(1), .a = p.data(), .lda = n2, .b = a.data(),
                    .ldb = d, .beta = T(0), .c = dx.data(), .ldc = d});
    for (std::size_t j = 0; j < n2; ++j) {
      const T s = T(2 * r2[j]);
      for (std::size_t k = 0; k < d; ++k) dx.data()[j * d + k] += s * b.data()[j * d + k];
    }
    out.dx2 = dx.reshape(x2.shape());
  }
  return out;
}

}  // namespace distill::kernels::detail

#endif  // DISTILL_KERNELS_DETAIL_DOT_PRODUCT_HPP
