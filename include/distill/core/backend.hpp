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
 *   A type that is not a Backend, passed to an entry point that takes a user's backend, fails with one
 *   static_assert line naming the missing primitive (DISTILL_REQUIRE_BACKEND, below).
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


// The Backend concept in small named parts, one per primitive, so that DISTILL_REQUIRE_BACKEND (below) can say
// which one a type lacks. Each part is false (never a hard error) for a type without a Scalar.

//! B::Scalar is float or double.
template <class B>
concept BackendScalar = std::floating_point<typename B::Scalar>;

//! B::name is a short printable name.
template <class B>
concept BackendName = requires { { B::name } -> std::convertible_to<std::string_view>; };

//! B::gemm(Gemm<Scalar>): C = alpha·op(A)·op(B) + beta·C.
template <class B>
concept BackendGemm = requires(const Gemm<typename B::Scalar>& g) { B::gemm(g); };

//! B::axpby(alpha, x, beta, y, n): y = alpha·x + beta·y.
template <class B>
concept BackendAxpby = requires(const typename B::Scalar* x, typename B::Scalar* y, typename B::Scalar s,
                                std::size_t n) {
  B::axpby(s, x, s, y, n);
};

//! B::dot(x, y, n) -> double.
template <class B>
concept BackendDot = requires(const typename B::Scalar* x, std::size_t n) {
  { B::dot(x, x, n) } -> std::convertible_to<double>;
};

//! B::unary(UnaryOp, x, y, n): y[i] = f(x[i]).
template <class B>
concept BackendUnary = requires(const typename B::Scalar* x, typename B::Scalar* y, std::size_t n) {
  B::unary(UnaryOp::exp, x, y, n);
};

//! B::binary(BinaryOp, a, b, y, n): y[i] = a[i] op b[i].
template <class B>
concept BackendBinary = requires(const typename B::Scalar* x, typename B::Scalar* y, std::size_t n) {
  B::binary(BinaryOp::add, x, x, y, n);
};

//! B::binary_scalar(BinaryOp, a, s, y, n): y[i] = a[i] op s.
template <class B>
concept BackendBinaryScalar = requires(const typename B::Scalar* x, typename B::Scalar* y, typename B::Scalar s,
                                       std::size_t n) {
  B::binary_scalar(BinaryOp::mul, x, s, y, n);
};

//! B::reduce(ReduceOp, x, y, outer, len, inner): y[o, i] = reduce over l of x[o, l, i].
template <class B>
concept BackendReduce = requires(const typename B::Scalar* x, typename B::Scalar* y, std::size_t n) {
  B::reduce(ReduceOp::sum, x, y, n, n, n);
};

//! B::fill(y, n, v).
template <class B>
concept BackendFill = requires(typename B::Scalar* y, typename B::Scalar s, std::size_t n) { B::fill(y, n, s); };

//! B::random_normal(rng, y, n, mean, std) and B::random_uniform(rng, y, n, lo, hi), drawn in index order.
template <class B>
concept BackendRandom = requires(typename B::Scalar* y, typename B::Scalar s, std::size_t n, Rng& rng) {
  B::random_normal(rng, y, n, s, s);
  B::random_uniform(rng, y, n, s, s);
};

//! B::im2col(ConvGeometry, x, cols): the batch im2col matrix.
template <class B>
concept BackendIm2col = requires(const ConvGeometry& g, const typename B::Scalar* x, typename B::Scalar* y) {
  B::im2col(g, x, y);
};

//! B::col2im(ConvGeometry, cols, x): the adjoint of im2col (accumulates into x).
template <class B>
concept BackendCol2im = requires(const ConvGeometry& g, const typename B::Scalar* x, typename B::Scalar* y) {
  B::col2im(g, x, y);
};

//! The BLAS-like part: gemm, axpby, dot.
template <class B>
concept BackendBlas = BackendGemm<B> && BackendAxpby<B> && BackendDot<B>;

//! The elementwise part: unary, binary, binary_scalar maps, reduce, fill and the random fills.
template <class B>
concept BackendElementwise = BackendUnary<B> && BackendBinary<B> && BackendBinaryScalar<B> && BackendReduce<B> &&
                             BackendFill<B> && BackendRandom<B>;

//! The convolution helpers: im2col and col2im.
template <class B>
concept BackendConv = BackendIm2col<B> && BackendCol2im<B>;

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
concept Backend = BackendScalar<B> && BackendBlas<B> && BackendElementwise<B> && BackendConv<B> && BackendName<B>;

/**
 * The readable diagnostic for an entry point that takes a user's backend type (ensmallen CheckFunctionTypeAPI):
 * one static_assert per part of the Backend concept, so the first error names the missing primitive, e.g.
 *
 *     error: static assertion failed: distill::synthetic::label_solve: B must provide
 *            `static void im2col(const ConvGeometry&, const T* x, T* cols)`; see core/backend.hpp
 *
 * A template constrained as `template <Backend B>` is rejected during overload resolution, before any
 * static_assert can run. So a public entry point takes `class B` and makes this its first statement:
 *
 *     template <class B, class K>
 *     Tensor<typename B::Scalar> label_solve(const K& kernel, ...) {
 *       DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::label_solve");
 *       DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::synthetic::label_solve");
 *       ...
 *
 * It expands to static_asserts only, so it works as a statement in a function body and as a member declaration
 * at the top of a class body (`class Kip { DISTILL_REQUIRE_BACKEND(B, "distill::Kip"); ... };`). `where` must be
 * a string literal. When B has no floating-point Scalar, only that is reported (every other part needs it).
 * DISTILL_REQUIRE_MODEL and DISTILL_REQUIRE_KERNEL stay silent for a B that is not a Backend, so a bad backend is
 * reported once, here: call this one first.
 */
#define DISTILL_REQUIRE_BACKEND(B, where)                                                                             \
  static_assert(::distill::BackendScalar<B>, where ": B must have `using Scalar = float;` or `double` (B::Scalar); "  \
                                                   "see core/backend.hpp");                                            \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendName<B>,                                             \
                where ": B must provide `static constexpr std::string_view name`; see core/backend.hpp");             \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendGemm<B>,                                             \
                where ": B must provide `static void gemm(const Gemm<T>&)`; see core/backend.hpp");                   \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendAxpby<B>,                                            \
                where ": B must provide `static void axpby(T alpha, const T* x, T beta, T* y, std::size_t n)`; see "  \
                      "core/backend.hpp");                                                                             \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendDot<B>,                                              \
                where ": B must provide `static double dot(const T* x, const T* y, std::size_t n)`; see "             \
                      "core/backend.hpp");                                                                             \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendUnary<B>,                                            \
                where ": B must provide the elementwise map `static void unary(UnaryOp, const T* x, T* y, "           \
                      "std::size_t n)`; see core/backend.hpp");                                                        \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendBinary<B>,                                           \
                where ": B must provide the elementwise map `static void binary(BinaryOp, const T* a, const T* b, "   \
                      "T* y, std::size_t n)`; see core/backend.hpp");                                                  \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendBinaryScalar<B>,                                     \
                where ": B must provide the elementwise map `static void binary_scalar(BinaryOp, const T* a, T s, "   \
                      "T* y, std::size_t n)`; see core/backend.hpp");                                                  \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendReduce<B>,                                           \
                where ": B must provide `static void reduce(ReduceOp, const T* x, T* y, std::size_t outer, "          \
                      "std::size_t len, std::size_t inner)`; see core/backend.hpp");                                   \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendFill<B>,                                             \
                where ": B must provide `static void fill(T* y, std::size_t n, T value)`; see core/backend.hpp");     \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendRandom<B>,                                           \
                where ": B must provide `static void random_normal(Rng&, T* y, std::size_t n, T mean, T std)` and "   \
                      "`random_uniform(Rng&, T* y, std::size_t n, T lo, T hi)`; see core/backend.hpp");               \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendIm2col<B>,                                           \
                where ": B must provide `static void im2col(const ConvGeometry&, const T* x, T* cols)`; see "         \
                      "core/backend.hpp");                                                                             \
  static_assert(!::distill::BackendScalar<B> || ::distill::BackendCol2im<B>,                                           \
                where ": B must provide `static void col2im(const ConvGeometry&, const T* cols, T* x)`; see "         \
                      "core/backend.hpp")

}  // namespace distill

#endif  // DISTILL_CORE_BACKEND_HPP
