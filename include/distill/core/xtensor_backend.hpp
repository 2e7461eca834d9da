// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_XTENSOR_BACKEND_HPP
#define DISTILL_CORE_XTENSOR_BACKEND_HPP

#include "distill/core/config.hpp"  // first: it includes the intrinsics quietly
#include <array>
#include <cmath>
#include <cstddef>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor-blas/xblas.hpp>

#include "distill/core/backend.hpp"
#include "distill/core/detail/reference_kernels.hpp"

namespace distill {

/**
 * The Backend on xtensor 0.24 + xtensor-blas: GEMM goes to the system CBLAS (OpenBLAS on Debian) through
 * xt::blas::gemm, elementwise maps and reductions are xtensor expressions over zero-copy xt::adapt views
 * (SIMD through xsimd when XTENSOR_USE_XSIMD is defined).
 */
template <std::floating_point T>
struct XtensorBackend {
  using Scalar = T;
  static constexpr std::string_view name = std::is_same_v<T, float> ? "xtensor<float>" : "xtensor<double>";
  /// An OpenMP build of OpenBLAS runs single-threaded inside an OpenMP region, so the loops over the batch may call
  /// the GEMM from their threads; the pthreads build would start its own pool from every thread. distill's CMake
  /// target defines DISTILL_BLAS_OPENMP=1 when it links the OpenMP build (see DISTILL_PREFER_OPENMP_BLAS).
#if defined(DISTILL_BLAS_OPENMP) && DISTILL_BLAS_OPENMP
  static constexpr bool gemm_in_parallel_region = true;
#endif

  static auto vec(T* p, std::size_t n) {
    return xt::adapt<xt::layout_type::row_major>(p, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
  }
  static auto vec(const T* p, std::size_t n) { return vec(const_cast<T*>(p), n); }
  static auto mat(const T* p, std::size_t r, std::size_t c) {
    return xt::adapt<xt::layout_type::row_major>(const_cast<T*>(p), r * c, xt::no_ownership(),
                                                 std::array<std::size_t, 2>{r, c});
  }

  static void gemm(const Gemm<T>& g) {
    if (g.m == 0 || g.n == 0) return;
    if (g.k == 0) {
      for (std::size_t i = 0; i < g.m; ++i)
        for (std::size_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = g.beta == T(0) ? T(0) : g.beta * g.c[i * g.ldc + j];
      return;
    }
    const std::size_t ar = g.trans_a ? g.k : g.m, ac = g.trans_a ? g.m : g.k;
    const std::size_t br = g.trans_b ? g.n : g.k, bc = g.trans_b ? g.k : g.n;
    // xt::blas::gemm reads the leading stride from the adaptor; padded operands are packed first.
    auto pack = [](const T* p, std::size_t r, std::size_t c, std::size_t ld) {
      xt::xtensor<T, 2> out = xt::empty<T>({r, c});
      for (std::size_t i = 0; i < r; ++i) std::copy_n(p + i * ld, c, out.data() + i * c);
      return out;
    };
    auto run = [&](const auto& a, const auto& b) {
      if (g.ldc == g.n) {
        auto c = mat(g.c, g.m, g.n);
        if (g.beta == T(0)) std::fill_n(g.c, g.m * g.n, T(0));  // BLAS may read C even with beta = 0 (NaN*0)
        xt::blas::gemm(a, b, c, g.trans_a, g.trans_b, g.alpha, g.beta);
      } else {
        xt::xtensor<T, 2> c = pack(g.c, g.m, g.n, g.ldc);
        if (g.beta == T(0)) c.fill(T(0));
        xt::blas::gemm(a, b, c, g.trans_a, g.trans_b, g.alpha, g.beta);
        for (std::size_t i = 0; i < g.m; ++i) std::copy_n(c.data() + i * g.n, g.n, g.c + i * g.ldc);
      }
    };
    const bool a_dense = g.lda == ac, b_dense = g.ldb == bc;
    if (a_dense && b_dense) run(mat(g.a, ar, ac), mat(g.b, br, bc));
    else if (a_dense) run(mat(g.a, ar, ac), pack(g.b, br, bc, g.ldb));
    else if (b_dense) run(pack(g.a, ar, ac, g.lda), mat(g.b, br, bc));
    else run(pack(g.a, ar, ac, g.lda), pack(g.b, br, bc, g.ldb));
  }

  static void axpby(T alpha, const T* x, T beta, T* y, std::size_t n) {
    auto yy = vec(y, n);
    auto xx = vec(x, n);
    if (beta == T(0)) xt::noalias(yy) = alpha * xx;
    else xt::noalias(yy) = alpha * xx + beta * yy;
  }

  static double dot(const T* x, const T* y, std::size_t n) {
    double acc = 0;
    for (std::size_t i = 0; i < n; i += 4096) {
      const std::size_t len = std::min<std::size_t>(4096, n - i);
#if defined(XTENSOR_USE_XSIMD)
      // xsimd directly: the lazy xt::sum(a * b) ran at about 1 ns per element (the squared row norms of a KIP step's
      // 5000 targets took 2 ms); two FMA accumulators per 4096-block, the blocks summed in double.
      using Batch = xsimd::batch<T>;
      constexpr std::size_t w = Batch::size;
      Batch s0(T(0)), s1(T(0));
      std::size_t k = 0;
      for (; k + 2 * w <= len; k += 2 * w) {
        s0 = xsimd::fma(Batch::load_unaligned(x + i + k), Batch::load_unaligned(y + i + k), s0);
        s1 = xsimd::fma(Batch::load_unaligned(x + i + k + w), Batch::load_unaligned(y + i + k + w), s1);
      }
      T tail = 0;
      for (; k < len; ++k) tail += x[i + k] * y[i + k];
      acc += double(xsimd::hadd(s0 + s1)) + double(tail);
#else
      acc += double(xt::sum(vec(x + i, len) * vec(y + i, len))());
#endif
    }
    return acc;
  }

  static void unary(UnaryOp op, const T* x, T* y, std::size_t n) {
    auto a = vec(x, n);
    auto out = vec(y, n);
    switch (op) {
      case UnaryOp::neg: xt::noalias(out) = -a; break;
      case UnaryOp::exp: xt::noalias(out) = xt::exp(a); break;
      case UnaryOp::log: xt::noalias(out) = xt::log(a); break;
      case UnaryOp::sqrt: xt::noalias(out) = xt::sqrt(a); break;
      case UnaryOp::rsqrt: xt::noalias(out) = T(1) / xt::sqrt(a); break;
      case UnaryOp::abs: xt::noalias(out) = xt::abs(a); break;
      case UnaryOp::sign: xt::noalias(out) = xt::sign(a); break;
      case UnaryOp::square: xt::noalias(out) = a * a; break;
      case UnaryOp::reciprocal: xt::noalias(out) = T(1) / a; break;
      case UnaryOp::relu: xt::noalias(out) = xt::maximum(a, T(0)); break;
      case UnaryOp::relu_mask: xt::noalias(out) = xt::cast<T>(a > T(0)); break;
      case UnaryOp::tanh: xt::noalias(out) = xt::tanh(a); break;
      case UnaryOp::sigmoid: xt::noalias(out) = T(1) / (T(1) + xt::exp(-a)); break;
      case UnaryOp::acos: xt::noalias(out) = xt::acos(a); break;
      case UnaryOp::sin: xt::noalias(out) = xt::sin(a); break;
      case UnaryOp::cos: xt::noalias(out) = xt::cos(a); break;
    }
  }

  static void binary(BinaryOp op, const T* x, const T* z, T* y, std::size_t n) {
    auto a = vec(x, n);
    auto b = vec(z, n);
    auto out = vec(y, n);
    switch (op) {
      case BinaryOp::add: xt::noalias(out) = a + b; break;
      case BinaryOp::sub: xt::noalias(out) = a - b; break;
      case BinaryOp::mul: xt::noalias(out) = a * b; break;
      case BinaryOp::div: xt::noalias(out) = a / b; break;
      case BinaryOp::max: xt::noalias(out) = xt::maximum(a, b); break;
      case BinaryOp::min: xt::noalias(out) = xt::minimum(a, b); break;
      case BinaryOp::pow: xt::noalias(out) = xt::pow(a, b); break;
      case BinaryOp::atan2: xt::noalias(out) = xt::atan2(a, b); break;
      case BinaryOp::greater: xt::noalias(out) = xt::cast<T>(a > b); break;
    }
  }

  static void binary_scalar(BinaryOp op, const T* x, T s, T* y, std::size_t n) {
    auto a = vec(x, n);
    auto out = vec(y, n);
    switch (op) {
      case BinaryOp::add: xt::noalias(out) = a + s; break;
      case BinaryOp::sub: xt::noalias(out) = a - s; break;
      case BinaryOp::mul: xt::noalias(out) = a * s; break;
      case BinaryOp::div: xt::noalias(out) = a / s; break;
      case BinaryOp::max: xt::noalias(out) = xt::maximum(a, s); break;
      case BinaryOp::min: xt::noalias(out) = xt::minimum(a, s); break;
      case BinaryOp::pow: xt::noalias(out) = xt::pow(a, s); break;
      case BinaryOp::atan2: xt::noalias(out) = xt::atan2(a, s); break;
      case BinaryOp::greater: xt::noalias(out) = xt::cast<T>(a > s); break;
    }
  }

  static void reduce(ReduceOp op, const T* x, T* y, std::size_t outer, std::size_t len, std::size_t inner) {
    if (outer == 0 || inner == 0) return;  // nothing to write, and xtensor's reducers crash on empty shapes
    if (len == 0) {
      std::fill_n(y, outer * inner, T(0));
      return;
    }
    auto in = xt::adapt<xt::layout_type::row_major>(const_cast<T*>(x), outer * len * inner, xt::no_ownership(),
                                                    std::array<std::size_t, 3>{outer, len, inner});
    auto out = mat(y, outer, inner);
    switch (op) {
      case ReduceOp::sum: xt::noalias(out) = xt::sum(in, {1}, xt::evaluation_strategy::immediate); break;
      case ReduceOp::max: xt::noalias(out) = xt::amax(in, {1}, xt::evaluation_strategy::immediate); break;
      case ReduceOp::min: xt::noalias(out) = xt::amin(in, {1}, xt::evaluation_strategy::immediate); break;
    }
  }

  static void fill(T* y, std::size_t n, T v) { vec(y, n).fill(v); }
  static void random_normal(Rng& rng, T* y, std::size_t n, T mean, T stddev) {
    detail::random_normal_loop(rng, y, n, mean, stddev);
  }
  static void random_uniform(Rng& rng, T* y, std::size_t n, T lo, T hi) { detail::random_uniform_loop(rng, y, n, lo, hi); }
  static void im2col(const ConvGeometry& g, const T* x, T* cols) { detail::im2col_loops(g, x, cols); }
  static void col2im(const ConvGeometry& g, const T* cols, T* x) { detail::col2im_loops(g, cols, x); }
};

static_assert(Backend<XtensorBackend<float>> && Backend<XtensorBackend<double>>);

}  // namespace distill

#endif  // DISTILL_CORE_XTENSOR_BACKEND_HPP
