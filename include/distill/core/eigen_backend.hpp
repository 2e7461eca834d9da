// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_EIGEN_BACKEND_HPP
#define DISTILL_CORE_EIGEN_BACKEND_HPP

#include "distill/core/config.hpp"  // first: it includes the intrinsics quietly
#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "distill/core/backend.hpp"
#include "distill/core/detail/packed_gemm.hpp"
#include "distill/core/detail/reference_kernels.hpp"

namespace distill {

/**
 * The Backend on Eigen 3.4: GEMM is Eigen's blocked, vectorised product (multi-threaded with OpenMP when the
 * build enables it), or for float on AVX-512 targets distill's packed kernel (core/detail/packed_gemm.hpp);
 * elementwise maps are Eigen array expressions (SIMD exp/log/tanh/logistic), reductions are Eigen colwise/rowwise
 * sums.
 */
template <std::floating_point T>
struct EigenBackend {
  using Scalar = T;
  static constexpr std::string_view name = std::is_same_v<T, float> ? "eigen<float>" : "eigen<double>";
  //! Eigen runs a product single-threaded when called inside an OpenMP region (see BackendTraits).
  static constexpr bool gemm_in_parallel_region = true;

  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstMat = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
  using Mat = Eigen::Map<RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
  using Arr = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using ConstArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

  static void gemm(const Gemm<T>& g) {
    if (g.m == 0 || g.n == 0) return;
    if (g.k == 0) {
      Mat c(g.c, Eigen::Index(g.m), Eigen::Index(g.n), Eigen::OuterStride<>(Eigen::Index(g.ldc)));
      if (g.beta == T(0)) c.setZero(); else c *= g.beta;
      return;
    }
    if (split_long_k(g)) return;
#if DISTILL_HAS_PACKED_GEMM
    // Float products big enough to fill its register tile go to the packed AVX-512 kernel (1.3–1.45× Eigen's).
    if constexpr (std::is_same_v<T, float>)
      if (detail::packed_gemm::suits(g)) return detail::packed_gemm::gemm(g);
#endif
    eigen_product(g);
  }

  /// Eigen's own product for k > 0: what gemm runs where the packed kernel does not, and the baseline
  /// benchmarks/core/bench_gemm.cpp measures that kernel against.
  static void eigen_product(const Gemm<T>& g) {
    Mat c(g.c, Eigen::Index(g.m), Eigen::Index(g.n), Eigen::OuterStride<>(Eigen::Index(g.ldc)));
    const auto ar = Eigen::Index(g.trans_a ? g.k : g.m), ac = Eigen::Index(g.trans_a ? g.m : g.k);
    const auto br = Eigen::Index(g.trans_b ? g.n : g.k), bc = Eigen::Index(g.trans_b ? g.k : g.n);
    ConstMat a(g.a, ar, ac, Eigen::OuterStride<>(Eigen::Index(g.lda)));
    ConstMat b(g.b, br, bc, Eigen::OuterStride<>(Eigen::Index(g.ldb)));
    if (g.beta == T(0)) c.setZero();
    else if (g.beta != T(1)) c *= g.beta;
    // noalias + "+=" lets Eigen run its GEMM kernel directly into C with alpha folded in.
    if (!g.trans_a && !g.trans_b) c.noalias() += g.alpha * a * b;
    else if (g.trans_a && !g.trans_b) c.noalias() += g.alpha * a.transpose() * b;
    else if (!g.trans_a && g.trans_b) c.noalias() += g.alpha * a * b.transpose();
    else c.noalias() += g.alpha * a.transpose() * b.transpose();
  }

  /**
   * Eigen parallelises a product over the rows/columns of C, so a small C with a long inner dimension — the
   * weight gradient Xᵀ·G of a layer over a big batch — runs on one core (2 GFLOP/s measured for
   * 784×64×60000). Here the inner dimension is split across threads instead and the partial products summed.
   * @return true if it handled the product.
   */
  static bool split_long_k(const Gemm<T>& g) {
#if defined(_OPENMP)
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads < 2 || g.k < 2048 || g.k < 4 * std::max(g.m, g.n)) return false;
    std::vector<RowMat> partial(std::size_t(threads), RowMat(Eigen::Index(g.m), Eigen::Index(g.n)));
#pragma omp parallel num_threads(threads)
    {
      const auto t = std::size_t(omp_get_thread_num());
      const std::size_t k0 = g.k * t / std::size_t(threads), k1 = g.k * (t + 1) / std::size_t(threads);
      Gemm<T> part = g;
      part.k = k1 - k0;
      part.a = g.trans_a ? g.a + k0 * g.lda : g.a + k0;  // rows of a stored k×m, else columns of m×k
      part.b = g.trans_b ? g.b + k0 : g.b + k0 * g.ldb;
      part.alpha = T(1);
      part.beta = T(0);
      part.c = partial[t].data();
      part.ldc = g.n;
      gemm(part);  // inside the parallel region: Eigen runs it on this thread only
    }
    Mat c(g.c, Eigen::Index(g.m), Eigen::Index(g.n), Eigen::OuterStride<>(Eigen::Index(g.ldc)));
    if (g.beta == T(0)) c.setZero();
    else if (g.beta != T(1)) c *= g.beta;
    for (const auto& p : partial) c += g.alpha * p;
    return true;
#else
    (void)g;
    return false;
#endif
  }

  static void axpby(T alpha, const T* x, T beta, T* y, std::size_t n) {
    Arr yy(y, Eigen::Index(n));
    ConstArr xx(x, Eigen::Index(n));
    if (beta == T(0)) yy = alpha * xx;
    else yy = alpha * xx + beta * yy;
  }

  static double dot(const T* x, const T* y, std::size_t n) {
    // Blocks of 4096 in T, accumulated in double: the SIMD speed of Eigen's dot with bounded rounding error.
    double acc = 0;
    for (std::size_t i = 0; i < n; i += 4096) {
      const auto len = Eigen::Index(std::min<std::size_t>(4096, n - i));
      acc += double(ConstArr(x + i, len).matrix().dot(ConstArr(y + i, len).matrix()));
    }
    return acc;
  }

  static void unary(UnaryOp op, const T* x, T* y, std::size_t n) {
    ConstArr a(x, Eigen::Index(n));
    Arr out(y, Eigen::Index(n));
    switch (op) {
      case UnaryOp::neg: out = -a; break;
      case UnaryOp::exp: out = a.exp(); break;
      case UnaryOp::log: out = a.log(); break;
      case UnaryOp::sqrt: out = a.sqrt(); break;
      case UnaryOp::rsqrt: out = a.rsqrt(); break;
      case UnaryOp::abs: out = a.abs(); break;
      case UnaryOp::sign: out = a.sign(); break;
      case UnaryOp::square: out = a.square(); break;
      case UnaryOp::reciprocal: out = a.inverse(); break;
      case UnaryOp::relu: out = a.max(T(0)); break;
      case UnaryOp::relu_mask: out = (a > T(0)).template cast<T>(); break;
      case UnaryOp::tanh: out = a.tanh(); break;
      case UnaryOp::sigmoid: out = a.logistic(); break;
      case UnaryOp::acos: out = a.acos(); break;
      case UnaryOp::sin: out = a.sin(); break;
      case UnaryOp::cos: out = a.cos(); break;
    }
  }

  static void binary(BinaryOp op, const T* x, const T* z, T* y, std::size_t n) {
    ConstArr a(x, Eigen::Index(n)), b(z, Eigen::Index(n));
    Arr out(y, Eigen::Index(n));
    switch (op) {
      case BinaryOp::add: out = a + b; break;
      case BinaryOp::sub: out = a - b; break;
      case BinaryOp::mul: out = a * b; break;
      case BinaryOp::div: out = a / b; break;
      case BinaryOp::max: out = a.max(b); break;
      case BinaryOp::min: out = a.min(b); break;
      case BinaryOp::pow: out = a.pow(b); break;
      case BinaryOp::atan2: out = a.binaryExpr(b, [](T u, T v) { return std::atan2(u, v); }); break;
      case BinaryOp::greater: out = (a > b).template cast<T>(); break;
    }
  }

  static void binary_scalar(BinaryOp op, const T* x, T s, T* y, std::size_t n) {
    ConstArr a(x, Eigen::Index(n));
    Arr out(y, Eigen::Index(n));
    switch (op) {
      case BinaryOp::add: out = a + s; break;
      case BinaryOp::sub: out = a - s; break;
      case BinaryOp::mul: out = a * s; break;
      case BinaryOp::div: out = a / s; break;
      case BinaryOp::max: out = a.max(s); break;
      case BinaryOp::min: out = a.min(s); break;
      case BinaryOp::pow: out = a.pow(s); break;
      case BinaryOp::atan2: out = a.unaryExpr([s](T u) { return std::atan2(u, s); }); break;
      case BinaryOp::greater: out = (a > s).template cast<T>(); break;
    }
  }

  static void reduce(ReduceOp op, const T* x, T* y, std::size_t outer, std::size_t len, std::size_t inner) {
    if (len == 0) {
      std::fill_n(y, outer * inner, T(0));
      return;
    }
    // Contiguous runs only: a column-wise reduction of a strided row-major map is a scalar loop in Eigen (one
    // dependent add per element — a conv bias gradient, [N, O, H, W] → [O], took 5 % of a LeNet step that way).
    // inner = 1 reduces each contiguous row with Eigen's vectorised redux; inner > 1 folds the len rows of inner
    // contiguous values into y, one vectorised row operation each.
    for (std::size_t o = 0; o < outer; ++o) {
      const T* base = x + o * len * inner;
      T* out = y + o * inner;
      if (inner == 1) {
        const ConstArr row(base, Eigen::Index(len));
        switch (op) {
          case ReduceOp::sum: *out = row.sum(); break;
          case ReduceOp::max: *out = row.maxCoeff(); break;
          case ReduceOp::min: *out = row.minCoeff(); break;
        }
        continue;
      }
      Arr acc(out, Eigen::Index(inner));
      acc = ConstArr(base, Eigen::Index(inner));
      for (std::size_t l = 1; l < len; ++l) {
        const ConstArr row(base + l * inner, Eigen::Index(inner));
        switch (op) {
          case ReduceOp::sum: acc += row; break;
          case ReduceOp::max: acc = acc.max(row); break;
          case ReduceOp::min: acc = acc.min(row); break;
        }
      }
    }
  }

  static void fill(T* y, std::size_t n, T v) { Arr(y, Eigen::Index(n)).setConstant(v); }
  static void random_normal(Rng& rng, T* y, std::size_t n, T mean, T stddev) {
    detail::random_normal_loop(rng, y, n, mean, stddev);
  }
  static void random_uniform(Rng& rng, T* y, std::size_t n, T lo, T hi) { detail::random_uniform_loop(rng, y, n, lo, hi); }
  static void im2col(const ConvGeometry& g, const T* x, T* cols) { detail::im2col_loops(g, x, cols); }
  static void col2im(const ConvGeometry& g, const T* cols, T* x) { detail::col2im_loops(g, cols, x); }
};

static_assert(Backend<EigenBackend<float>> && Backend<EigenBackend<double>>);

}  // namespace distill

#endif  // DISTILL_CORE_EIGEN_BACKEND_HPP
