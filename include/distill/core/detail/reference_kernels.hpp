// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_DETAIL_REFERENCE_KERNELS_HPP
#define DISTILL_CORE_DETAIL_REFERENCE_KERNELS_HPP

// Naive, obviously-correct versions of the Backend primitives. The backends share the scalar formulas
// (apply_unary / apply_binary) and the im2col loops; the tests compare every backend against the rest.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"

namespace distill::detail {

template <class T>
inline T apply_unary(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return T(1) / std::sqrt(x);
    case UnaryOp::abs: return std::abs(x);
    case UnaryOp::sign: return T((x > T(0)) - (x < T(0)));
    case UnaryOp::square: return x * x;
    case UnaryOp::reciprocal: return T(1) / x;
    case UnaryOp::relu: return x > T(0) ? x : T(0);
    case UnaryOp::relu_mask: return x > T(0) ? T(1) : T(0);
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryOp::acos: return std::acos(x);
    case UnaryOp::sin: return std::sin(x);
    case UnaryOp::cos: return std::cos(x);
  }
  return x;
}

template <class T>
inline T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::max: return std::max(a, b);
    case BinaryOp::min: return std::min(a, b);
    case BinaryOp::pow: return std::pow(a, b);
    case BinaryOp::atan2: return std::atan2(a, b);
    case BinaryOp::greater: return a > b ? T(1) : T(0);
  }
  return a;
}

template <class T>
void reference_gemm(const Gemm<T>& g) {
  for (std::size_t i = 0; i < g.m; ++i)
    for (std::size_t j = 0; j < g.n; ++j) {
      double acc = 0;
      for (std::size_t p = 0; p < g.k; ++p) {
        const T a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const T b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        acc += double(a) * double(b);
      }
      T& c = g.c[i * g.ldc + j];
      c = T(g.alpha * acc + (g.beta == T(0) ? T(0) : g.beta * c));
    }
}

template <class T>
void reference_reduce(ReduceOp op, const T* x, T* y, std::size_t outer, std::size_t len, std::size_t inner) {
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t i = 0; i < inner; ++i) {
      double acc = op == ReduceOp::sum || len == 0 ? 0.0 : double(x[o * len * inner + i]);  // len 0: x may be empty
      for (std::size_t l = 0; l < len; ++l) {
        const double v = x[(o * len + l) * inner + i];
        acc = op == ReduceOp::sum ? acc + v : op == ReduceOp::max ? std::max(acc, v) : std::min(acc, v);
      }
      y[o * inner + i] = len == 0 && op != ReduceOp::sum ? T(0) : T(acc);
    }
}

inline void check_conv_geometry(const ConvGeometry& g, const char* where) {
  DISTILL_CHECK(g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0, where,
                ": kernel and stride must be positive (kernel ", g.kernel_h, "x", g.kernel_w, ", stride ", g.stride_h, "x",
                g.stride_w, ")");
  DISTILL_CHECK(g.height + 2 * g.pad_h >= g.kernel_h && g.width + 2 * g.pad_w >= g.kernel_w, where, ": kernel ",
                g.kernel_h, "x", g.kernel_w, " is larger than the padded input ", g.height + 2 * g.pad_h, "x",
                g.width + 2 * g.pad_w);
}

/// The output columns j whose input column j·stride + k − pad lies inside [0, width): [first, last).
struct ValidColumns {
  std::size_t first, last;
};
inline ValidColumns valid_columns(std::size_t out_w, std::size_t width, std::size_t stride, std::size_t k, std::size_t pad) {
  // j·s + k − p ≥ 0  ⇔  j ≥ ⌈(p − k)/s⌉;   j·s + k − p < width  ⇔  j < ⌈(width + p − k)/s⌉
  const std::size_t first = k >= pad ? 0 : (pad - k + stride - 1) / stride;
  const std::size_t last = width + pad <= k ? 0 : (width + pad - k + stride - 1) / stride;
  return {std::min(first, out_w), std::max(std::min(last, out_w), std::min(first, out_w))};
}

/// cols[(c,ki,kj), (n,oh,ow)] = x[n, c, oh·s + ki − p, ow·s + kj − p] (0 outside the image).
/// The in-image part of each row is found once, so the inner loop is a plain (strided) copy without branches.
template <class T>
void im2col_loops(const ConvGeometry& g, const T* x, T* cols) {
  check_conv_geometry(g, "im2col()");
  const std::size_t oh = g.out_h(), ow = g.out_w(), ncols = g.col_cols(), rows = g.col_rows();
  const std::size_t plane = g.height * g.width, sw = g.stride_w;
#pragma omp parallel for schedule(static) if (rows * ncols > (1u << 16))
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t c = r / (g.kernel_h * g.kernel_w), ki = (r / g.kernel_w) % g.kernel_h, kj = r % g.kernel_w;
    const ValidColumns v = valid_columns(ow, g.width, sw, kj, g.pad_w);
    T* out = cols + r * ncols;
    for (std::size_t n = 0; n < g.batch; ++n) {
      const T* img = x + (n * g.channels + c) * plane;
      for (std::size_t i = 0; i < oh; ++i) {
        const std::ptrdiff_t h = std::ptrdiff_t(i * g.stride_h + ki) - std::ptrdiff_t(g.pad_h);
        T* o = out + (n * oh + i) * ow;
        if (h < 0 || h >= std::ptrdiff_t(g.height) || v.first == v.last) {
          std::fill_n(o, ow, T(0));
          continue;
        }
        // Column j reads img[base + j·s]; j ≥ v.first keeps the index ≥ 0.
        const std::ptrdiff_t base = h * std::ptrdiff_t(g.width) + std::ptrdiff_t(kj) - std::ptrdiff_t(g.pad_w);
        std::fill_n(o, v.first, T(0));
        if (sw == 1) std::copy(img + (base + std::ptrdiff_t(v.first)), img + (base + std::ptrdiff_t(v.last)), o + v.first);
        else
          for (std::size_t j = v.first; j < v.last; ++j) o[j] = img[base + std::ptrdiff_t(j * sw)];
        std::fill(o + v.last, o + ow, T(0));
      }
    }
  }
}

/// The adjoint of im2col: x = Σ over the patches that touch each pixel (x is overwritten).
template <class T>
void col2im_loops(const ConvGeometry& g, const T* cols, T* x) {
  check_conv_geometry(g, "col2im()");
  const std::size_t oh = g.out_h(), ow = g.out_w(), ncols = g.col_cols(), sw = g.stride_w;
  const std::size_t plane = g.height * g.width, kk = g.kernel_h * g.kernel_w;
  // Parallel over (n, c) planes: each output plane is written by exactly one thread.
#pragma omp parallel for schedule(static) if (g.input_size() * kk > (1u << 16))
  for (std::size_t nc = 0; nc < g.batch * g.channels; ++nc) {
    const std::size_t n = nc / g.channels, c = nc % g.channels;
    T* img = x + nc * plane;
    std::fill_n(img, plane, T(0));
    for (std::size_t ki = 0; ki < g.kernel_h; ++ki)
      for (std::size_t kj = 0; kj < g.kernel_w; ++kj) {
        const ValidColumns v = valid_columns(ow, g.width, sw, kj, g.pad_w);
        const T* in = cols + ((c * g.kernel_h + ki) * g.kernel_w + kj) * ncols + n * oh * ow;
        for (std::size_t i = 0; i < oh; ++i) {
          const std::ptrdiff_t h = std::ptrdiff_t(i * g.stride_h + ki) - std::ptrdiff_t(g.pad_h);
          if (h < 0 || h >= std::ptrdiff_t(g.height)) continue;
          // Column j adds into img[base + j·s]; j ≥ v.first keeps the index ≥ 0.
          const std::ptrdiff_t base = h * std::ptrdiff_t(g.width) + std::ptrdiff_t(kj) - std::ptrdiff_t(g.pad_w);
          const T* src = in + i * ow;
          if (sw == 1) {
            T* dst = img + (base + std::ptrdiff_t(v.first));
            const T* from = src + v.first;
#pragma omp simd
            for (std::size_t j = 0; j < v.last - v.first; ++j) dst[j] += from[j];
          } else {
            for (std::size_t j = v.first; j < v.last; ++j) img[base + std::ptrdiff_t(j * sw)] += src[j];
          }
        }
      }
  }
}

template <class T>
void random_normal_loop(Rng& rng, T* y, std::size_t n, T mean, T stddev) {
  for (std::size_t i = 0; i < n; ++i) y[i] = T(rng.normal(mean, stddev));
}
template <class T>
void random_uniform_loop(Rng& rng, T* y, std::size_t n, T lo, T hi) {
  for (std::size_t i = 0; i < n; ++i) y[i] = T(rng.uniform(lo, hi));
}

}  // namespace distill::detail

#endif  // DISTILL_CORE_DETAIL_REFERENCE_KERNELS_HPP
