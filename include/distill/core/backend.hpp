// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_BACKEND_HPP
#define DISTILL_CORE_BACKEND_HPP

/**
 * @file
 * The Backend concept: the handful of primitive kernels that everything above core/ is written with.
 *
 * WHAT THIS REPRESENTS
 *   A stateless type whose static member functions run dense kernels over contiguous, row-major buffers of
 *   `Scalar` (float or double). Two ship with distill: EigenBackend<T> and XtensorBackend<T>. Algorithms,
 *   the autodiff tape and the models are templates over a Backend, so the same test suite runs on both.
 *
 * REQUIRES (for a type B)
 *   - B::Scalar is float or double; B::name is a short printable name.
 *   - B::gemm(Gemm<Scalar>)                       C = alpha·op(A)·op(B) + beta·C (row-major, leading dims)
 *   - B::unary(UnaryOp, x, y, n)                  y[i] = f(x[i]); x == y allowed
 *   - B::binary(BinaryOp, a, b, y, n)             y[i] = a[i] ∘ b[i]; aliasing allowed
 *   - B::binary_scalar(BinaryOp, a, s, y, n)      y[i] = a[i] ∘ s
 *   - B::axpby(alpha, x, beta, y, n)              y = alpha·x + beta·y
 *   - B::reduce(ReduceOp, x, y, outer, len, inner) y[o, i] = reduce_l x[o, l, i]
 *   - B::dot(x, y, n)                             Σ x[i]·y[i], accumulated in double
 *   - B::im2col(ConvGeometry, x, cols) / B::col2im(ConvGeometry, cols, x)   batch im2col and its adjoint
 *   - B::fill(y, n, v), B::random_normal(rng, y, n, mean, std), B::random_uniform(rng, y, n, lo, hi)
 *
 * ENSURES
 *   Results agree with the naive reference in detail/reference_kernels.hpp up to rounding; random fills
 *   draw from the given Rng in index order, so every backend gives the same bytes for the same seed.
 */

#include <concepts>
#include <cstddef>
#include <string_view>

#include "distill/core/rng.hpp"

namespace distill {

/// Arguments of a row-major GEMM: C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C.
template <class T>
struct Gemm {
  bool trans_a = false;  //!< op(A) = Aᵀ; A is then stored k×m
  bool trans_b = false;  //!< op(B) = Bᵀ; B is then stored n×k
  std::size_t m = 0, n = 0, k = 0;
  T alpha = 1;
  const T* a = nullptr;
  std::size_t lda = 0;  //!< row stride of A as stored
  const T* b = nullptr;
  std::size_t ldb = 0;
  T beta = 0;
  T* c = nullptr;
  std::size_t ldc = 0;
};

//! Flops of one GEMM call (2mnk), for benchmark counters.
template <class T>
double gemm_flops(const Gemm<T>& g) {
  return 2.0 * double(g.m) * double(g.n) * double(g.k);
}

enum class UnaryOp {
  neg, exp, log, sqrt, rsqrt, abs, sign, square, reciprocal, relu, relu_mask /* x > 0 ? 1 : 0 */,
  tanh, sigmoid, acos, sin, cos
};
enum class BinaryOp { add, sub, mul, div, max, min, pow, atan2, greater /* a > b ? 1 : 0 */ };
enum class ReduceOp { sum, max, min };

/// Geometry of a 2-D convolution over a batch in NCHW layout.
struct ConvGeometry {
  std::size_t batch = 1, channels = 1, height = 1, width = 1;
  std::size_t kernel_h = 1, kernel_w = 1;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t pad_h = 0, pad_w = 0;

  std::size_t out_h() const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  std::size_t out_w() const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
  //! Rows of the im2col matrix: C·kh·kw.
  std::size_t col_rows() const { return channels * kernel_h * kernel_w; }
  //! Columns of the batch im2col matrix: N·OH·OW.
  std::size_t col_cols() const { return batch * out_h() * out_w(); }
  std::size_t input_size() const { return batch * channels * height * width; }
};


template <class B>
concept BackendScalar = std::floating_point<typename B::Scalar>;

template <class B>
concept BackendBlas = requires(const Gemm<typename B::Scalar>& g, const typename B::Scalar* x,
                               typename B::Scalar* y, typename B::Scalar s, std::size_t n) {
  B::gemm(g);
  B::axpby(s, x, s, y, n);
  { B::dot(x, x, n) } -> std::convertible_to<double>;
};

template <class B>
concept BackendElementwise = requires(const typename B::Scalar* x, typename B::Scalar* y, typename B::Scalar s,
                                      std::size_t n, Rng& rng) {
  B::unary(UnaryOp::exp, x, y, n);
  B::binary(BinaryOp::add, x, x, y, n);
  B::binary_scalar(BinaryOp::mul, x, s, y, n);
  B::reduce(ReduceOp::sum, x, y, n, n, n);
  B::fill(y, n, s);
  B::random_normal(rng, y, n, s, s);
  B::random_uniform(rng, y, n, s, s);
};

template <class B>
concept BackendConv = requires(const ConvGeometry& g, const typename B::Scalar* x, typename B::Scalar* y) {
  B::im2col(g, x, y);
  B::col2im(g, x, y);
};

/**
 * Optional properties of a backend, with defaults (mlpack's KernelTraits style).
 * gemm_in_parallel_region: B::gemm may be called from inside an OpenMP parallel region and then runs on the calling
 * thread only (true for Eigen, which detects the region). A BLAS with its own thread pool must not be called there
 * (it would oversubscribe the cores), so loops over the batch stay serial for such backends.
 */
template <class B>
struct BackendTraits {
  static constexpr bool gemm_in_parallel_region = requires { requires B::gemm_in_parallel_region; };
};

/// A primitive-kernel provider over one scalar type; see the file comment for the contract.
template <class B>
concept Backend = BackendScalar<B> && BackendBlas<B> && BackendElementwise<B> && BackendConv<B> &&
                  requires { { B::name } -> std::convertible_to<std::string_view>; };

}  // namespace distill

#endif  // DISTILL_CORE_BACKEND_HPP
