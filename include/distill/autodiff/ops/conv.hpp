// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_CONV_HPP
#define DISTILL_AUTODIFF_OPS_CONV_HPP

/**
 * @file
 * Convolution and pooling over NCHW batches.
 *
 * conv2d runs per sample (in parallel over the batch where the backend allows): im2col of one image into a
 * cache-sized scratch block, then one GEMM that writes NCHW directly — no batch-sized im2col matrix, no
 * transpose. Layers with few taps per output (LeNet's, ConvNet's first) take a direct convolution instead
 * (core/detail/direct_conv.hpp), and other 3×3 stride-1 layers (ConvNet's 128-channel ones) a Winograd
 * F(2×2, 3×3) convolution (core/detail/winograd_conv.hpp), for the forward pass and both gradients. conv2d's input and weight gradients
 * are ops of their own whose backwards close the set, and max pooling is a gather at constant argmax positions,
 * so every op here is differentiable to any order (what unrolled dataset distillation needs through a ConvNet).
 * The batch im2col/col2im pair stays available as ops.
 */

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <vector>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "distill/autodiff/ops/broadcast.hpp"
#include "distill/autodiff/ops/linalg.hpp"
#include "distill/autodiff/ops/shape.hpp"
#include "distill/core/detail/direct_conv.hpp"
#include "distill/core/detail/winograd_conv.hpp"

namespace distill::ad {

/// Options of conv2d (square kernels come from the weight's shape).
struct Conv2dOptions {
  std::size_t stride = 1;
  std::size_t padding = 0;
};

namespace detail {
inline ConvGeometry conv_geometry(const Shape& x, std::size_t kh, std::size_t kw, std::size_t stride, std::size_t pad,
                                  const char* op) {
  DISTILL_CHECK(x.size() == 4, op, "(): input must be NCHW (rank 4), got ", show(x));
  DISTILL_CHECK(stride > 0, op, "(): stride must be positive");
  DISTILL_CHECK(x[2] + 2 * pad >= kh && x[3] + 2 * pad >= kw, op, "(): kernel ", kh, "x", kw,
                " is larger than the padded input ", x[2] + 2 * pad, "x", x[3] + 2 * pad);
  return ConvGeometry{x[0], x[1], x[2], x[3], kh, kw, stride, stride, pad, pad};
}
}  // namespace detail

template <Backend B>
Var<B> col2im(const Var<B>& cols, const ConvGeometry& g);

//! The im2col matrix of a batch: [C·kh·kw, N·OH·OW].
template <Backend B>
Var<B> im2col(const Var<B>& x, const ConvGeometry& g) {
  using T = typename B::Scalar;
  DISTILL_CHECK(x.size() == g.input_size(), "im2col(): x has ", x.size(), " elements, geometry expects ", g.input_size());
  auto cols = Tensor<T>::empty(Shape{g.col_rows(), g.col_cols()});
  B::im2col(g, x.value().data(), cols.data());
  return make_result<B>(std::move(cols), {x},
                        [g, in_shape = x.shape()](const Var<B>&, const Var<B>& grad) {
                          return std::vector<Var<B>>{reshape(col2im(grad, g), in_shape)};
                        },
                        "im2col");
}

//! The adjoint of im2col: sums patch columns back into an NCHW batch.
template <Backend B>
Var<B> col2im(const Var<B>& cols, const ConvGeometry& g) {
  using T = typename B::Scalar;
  DISTILL_CHECK(cols.rank() == 2 && cols.shape(0) == g.col_rows() && cols.shape(1) == g.col_cols(),
                "col2im(): cols has shape ", show(cols.shape()), ", expected [", g.col_rows(), ", ", g.col_cols(), "]");
  auto x = Tensor<T>::empty(Shape{g.batch, g.channels, g.height, g.width});
  B::col2im(g, cols.value().data(), x.data());
  return make_result<B>(std::move(x), {cols},
                        [g](const Var<B>&, const Var<B>& grad) { return std::vector<Var<B>>{im2col(grad, g)}; }, "col2im");
}

namespace detail {

/// Runs body(sample, scratch) for every sample of the batch, with one scratch buffer per thread (in cache): in
/// parallel over samples unless the body calls a GEMM that the backend cannot run inside an OpenMP region.
template <Backend B, class Body>
void for_each_sample(std::size_t batch, std::size_t scratch_size, Body body, bool calls_gemm = true) {
  using T = typename B::Scalar;
  if (!calls_gemm || BackendTraits<B>::gemm_in_parallel_region) {
#pragma omp parallel if (batch > 1)
    {
      auto scratch = Tensor<T>::empty(Shape{scratch_size});  // from the buffer pool: no page faults, no zeroing
#pragma omp for schedule(static)
      for (std::size_t n = 0; n < batch; ++n) body(n, scratch.data());
    }
  } else {
    auto scratch = Tensor<T>::empty(Shape{scratch_size});
    for (std::size_t n = 0; n < batch; ++n) body(n, scratch.data());
  }
}

inline ConvGeometry one_sample(ConvGeometry g) {
  g.batch = 1;
  return g;
}

/// Which kernel computes a convolution pass: the fastest that applies (direct, Winograd, im2col + GEMM, in that
/// order), or im2col + GEMM always (the general reference that benchmarks and tests compare the others with).
enum class ConvPath { automatic, im2col };

/// y[n] = W · im2col(x[n]) (+ bias per output channel, added while y[n] is in cache) for each sample:
/// [N, C, H, W] × [O, C, kh, kw] -> [N, O, OH, OW].
template <Backend B>
Tensor<typename B::Scalar> conv_forward(const Tensor<typename B::Scalar>& x, const Tensor<typename B::Scalar>& w,
                                        const ConvGeometry& g, const typename B::Scalar* bias = nullptr,
                                        ConvPath path = ConvPath::automatic) {
  using T = typename B::Scalar;
  const std::size_t o = w.shape(0), ckk = g.col_rows(), p = g.out_h() * g.out_w(), in = g.channels * g.height * g.width;
  auto y = Tensor<T>::empty(Shape{g.batch, o, g.out_h(), g.out_w()});
  const bool fastest = path == ConvPath::automatic;
  if (fastest && distill::detail::DirectConv<T>::applies(g)) {  // few taps per output: no GEMM (core/detail/direct_conv.hpp)
    const distill::detail::DirectConv<T> direct(g, o);
    for_each_sample<B>(
        g.batch, direct.scratch_size(),
        [&](std::size_t n, T* scratch) { direct.forward(x.data() + n * in, w.data(), bias, y.data() + n * o * p, scratch); },
        /*calls_gemm=*/false);
    return y;
  }
  if (fastest && distill::detail::WinogradConv<B>::applies(g)) {  // 3×3, stride 1: 2.25× fewer multiplies (winograd_conv.hpp)
    distill::detail::WinogradConv<B>(g, o).forward(x.data(), w.data(), bias, y.data());
    return y;
  }
  const ConvGeometry g1 = one_sample(g);
  for_each_sample<B>(g.batch, ckk * p, [&](std::size_t n, T* cols) {
    B::im2col(g1, x.data() + n * in, cols);
    T* yn = y.data() + n * o * p;
    B::gemm(Gemm<T>{false, false, o, p, ckk, T(1), w.data(), ckk, cols, p, T(0), yn, p});
    if (bias)
      for (std::size_t c = 0; c < o; ++c)
        for (std::size_t i = 0; i < p; ++i) yn[c * p + i] += bias[c];
  });
  return y;
}

/// x[n] = col2im(Wᵀ · y[n]): the gradient of conv_forward w.r.t. its input.
template <Backend B>
Tensor<typename B::Scalar> conv_input_grad(const Tensor<typename B::Scalar>& y, const Tensor<typename B::Scalar>& w,
                                           const ConvGeometry& g, ConvPath path = ConvPath::automatic) {
  using T = typename B::Scalar;
  const std::size_t o = w.shape(0), ckk = g.col_rows(), p = g.out_h() * g.out_w(), in = g.channels * g.height * g.width;
  auto x = Tensor<T>::empty(Shape{g.batch, g.channels, g.height, g.width});
  using Direct = distill::detail::DirectConv<T>;
  const bool fastest = path == ConvPath::automatic;
  if (fastest && Direct::input_grad_applies(g, o)) {
    const Direct direct(g, o);
    for_each_sample<B>(
        g.batch, direct.input_grad_scratch_size(),
        [&](std::size_t n, T* scratch) { direct.input_grad(y.data() + n * o * p, w.data(), x.data() + n * in, scratch); },
        /*calls_gemm=*/false);
    return x;
  }
  if (fastest && distill::detail::WinogradConv<B>::applies(g)) {
    distill::detail::WinogradConv<B>(g, o).input_grad(y.data(), w.data(), x.data());
    return x;
  }
  const ConvGeometry g1 = one_sample(g);
  for_each_sample<B>(g.batch, ckk * p, [&](std::size_t n, T* cols) {
    B::gemm(Gemm<T>{true, false, ckk, p, o, T(1), w.data(), ckk, y.data() + n * o * p, p, T(0), cols, p});
    B::col2im(g1, cols, x.data() + n * in);
  });
  return x;
}

/// W = Σ_n y[n] · im2col(x[n])ᵀ: the gradient of conv_forward w.r.t. its weight (per-thread partial sums).
template <Backend B>
Tensor<typename B::Scalar> conv_weight_grad(const Tensor<typename B::Scalar>& x, const Tensor<typename B::Scalar>& y,
                                            const ConvGeometry& g, const Shape& w_shape,
                                            ConvPath path = ConvPath::automatic) {
  using T = typename B::Scalar;
  const std::size_t o = w_shape[0], ckk = g.col_rows(), p = g.out_h() * g.out_w(), in = g.channels * g.height * g.width;
  Tensor<T> w(w_shape);
  const ConvGeometry g1 = one_sample(g);
  std::optional<distill::detail::DirectConv<T>> direct;
  if (path == ConvPath::im2col) {
    // the general path below
  } else if (distill::detail::DirectConv<T>::applies(g)) {
    direct.emplace(g, o);
  } else if (distill::detail::WinogradConv<B>::applies(g)) {
    distill::detail::WinogradConv<B>(g, o).weight_grad(x.data(), y.data(), w.data());
    return w;
  }
  const std::size_t scratch_size = direct ? direct->scratch_size() : ckk * p;
  // Scratch per thread: the im2col block (or the direct path's padded sample). Each thread sums its samples into
  // its own row of `partials`, and the rows are added in thread order afterwards, so a given thread count always
  // gives the same bytes (merging under a mutex added them in the order the threads finished). The direct path
  // keeps its sums lane-wise (lanes() per weight) and adds the lanes up once, not once per sample, or, with the
  // output channels in the lanes (by_channel()), transposed [taps, O] and transposed back once.
  std::size_t max_threads = 1;
#if defined(_OPENMP)
  max_threads = std::size_t(omp_get_max_threads());
#endif
  const bool by_channel = direct && direct->by_channel();
  const std::size_t lanes = direct && !by_channel ? distill::detail::DirectConv<T>::lanes() : 1, row = o * ckk * lanes;
  Tensor<T> partials(Shape{max_threads, row});  // zeros: rows of threads that do not run add nothing
  auto accumulate = [&](std::size_t begin, std::size_t end, T* scratch, T* partial) {
    for (std::size_t n = begin; n < end; ++n) {
      if (by_channel) {
        direct->accumulate_weight_grad_by_channel(x.data() + n * in, y.data() + n * o * p, partial, scratch);
      } else if (direct) {
        direct->accumulate_weight_grad_lanes(x.data() + n * in, y.data() + n * o * p, partial, scratch);
      } else {
        B::im2col(g1, x.data() + n * in, scratch);
        B::gemm(Gemm<T>{false, true, o, ckk, p, T(1), y.data() + n * o * p, p, scratch, p, T(1), partial, ckk});
      }
    }
  };
  if (direct || BackendTraits<B>::gemm_in_parallel_region) {
#pragma omp parallel if (g.batch > 1)
    {
      auto scratch = Tensor<T>::empty(Shape{scratch_size});
      std::size_t threads = 1, id = 0;
#if defined(_OPENMP)
      threads = std::size_t(omp_get_num_threads());
      id = std::size_t(omp_get_thread_num());
#endif
      accumulate(g.batch * id / threads, g.batch * (id + 1) / threads, scratch.data(), partials.data() + id * row);
    }
  } else {
    auto scratch = Tensor<T>::empty(Shape{scratch_size});
    accumulate(0, g.batch, scratch.data(), partials.data());
  }
  for (std::size_t t = 0; t < max_threads; ++t) {
    if (by_channel)
      distill::detail::DirectConv<T>::add_transposed(partials.data() + t * row, w.data(), o, ckk);
    else if (direct)
      distill::detail::DirectConv<T>::sum_lanes(partials.data() + t * row, w.data(), w.size());
    else
      B::axpby(T(1), partials.data() + t * row, T(1), w.data(), w.size());
  }
  return w;
}

}  // namespace detail

template <Backend B>
Var<B> conv2d_input_grad(const Var<B>& y, const Var<B>& w, const ConvGeometry& g);
template <Backend B>
Var<B> conv2d_weight_grad(const Var<B>& x, const Var<B>& y, const ConvGeometry& g, const Shape& w_shape);

/**
 * Convolution without bias as one differentiable op. With the trilinear form T(x, W, y) = ⟨y, conv(x, W)⟩, this
 * op is ∂T/∂y, conv2d_input_grad is ∂T/∂x and conv2d_weight_grad is ∂T/∂W; the backward of each is the other two,
 * so derivatives of every order stay exact while each runs as per-sample im2col + GEMM in cache.
 */
template <Backend B>
Var<B> conv2d_nobias(const Var<B>& x, const Var<B>& w, const ConvGeometry& g) {
  return make_result<B>(detail::conv_forward<B>(x.value(), w.value(), g), {x, w},
                        [x, w, g](const Var<B>&, const Var<B>& u) {
                          return std::vector<Var<B>>{x.requires_grad() ? conv2d_input_grad(u, w, g) : Var<B>{},
                                                     w.requires_grad() ? conv2d_weight_grad(x, u, g, w.shape()) : Var<B>{}};
                        },
                        "conv2d");
}

//! ∂⟨y, conv(x, W)⟩/∂x (the transposed convolution of y with W).
template <Backend B>
Var<B> conv2d_input_grad(const Var<B>& y, const Var<B>& w, const ConvGeometry& g) {
  return make_result<B>(detail::conv_input_grad<B>(y.value(), w.value(), g), {y, w},
                        [y, w, g](const Var<B>&, const Var<B>& u) {
                          return std::vector<Var<B>>{y.requires_grad() ? conv2d_nobias(u, w, g) : Var<B>{},
                                                     w.requires_grad() ? conv2d_weight_grad(u, y, g, w.shape()) : Var<B>{}};
                        },
                        "conv2d_input_grad");
}

//! ∂⟨y, conv(x, W)⟩/∂W.
template <Backend B>
Var<B> conv2d_weight_grad(const Var<B>& x, const Var<B>& y, const ConvGeometry& g, const Shape& w_shape) {
  return make_result<B>(detail::conv_weight_grad<B>(x.value(), y.value(), g, w_shape), {x, y},
                        [x, y, g](const Var<B>&, const Var<B>& u) {
                          return std::vector<Var<B>>{x.requires_grad() ? conv2d_input_grad(y, u, g) : Var<B>{},
                                                     y.requires_grad() ? conv2d_nobias(x, u, g) : Var<B>{}};
                        },
                        "conv2d_weight_grad");
}

/**
 * 2-D convolution (cross-correlation, like PyTorch): x [N, C, H, W], w [O, C, kh, kw], optional bias [O].
 * @return [N, O, OH, OW]
 */
template <Backend B>
Var<B> conv2d(const Var<B>& x, const Var<B>& w, const Var<B>& bias = {}, Conv2dOptions opt = {}) {
  DISTILL_CHECK(w.rank() == 4, "conv2d(): weight must be [O, C, kh, kw], got ", show(w.shape()));
  DISTILL_CHECK(x.rank() == 4 && x.shape(1) == w.shape(1), "conv2d(): input ", show(x.shape()), " does not have the ",
                w.shape(1), " channels of weight ", show(w.shape()));
  const ConvGeometry g = detail::conv_geometry(x.shape(), w.shape(2), w.shape(3), opt.stride, opt.padding, "conv2d");
  if (!bias.defined()) return conv2d_nobias(x, w, g);
  const std::size_t o = w.shape(0);
  DISTILL_CHECK(bias.size() == o, "conv2d(): bias has ", bias.size(), " elements, expected ", o);
  // conv2d_nobias(x, w) + bias as one node: the bias is added per sample while the output is in cache.
  return make_result<B>(detail::conv_forward<B>(x.value(), w.value(), g, bias.value().data()), {x, w, bias},
                        [x, w, g, o, bias_shape = bias.shape()](const Var<B>&, const Var<B>& u) {
                          return std::vector<Var<B>>{x.requires_grad() ? conv2d_input_grad(u, w, g) : Var<B>{},
                                                     w.requires_grad() ? conv2d_weight_grad(x, u, g, w.shape()) : Var<B>{},
                                                     reshape(sum_to(u, Shape{1, o, 1, 1}), bias_shape)};
                        },
                        "conv2d");
}

namespace detail {
/// scale × the sums over pooling windows (the forward of avg pooling), or its adjoint.
template <class T>
void pool_sum(const ConvGeometry& g, const T* x, T* y, bool adjoint, T scale) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), kh = g.kernel_h, kw = g.kernel_w, sh = g.stride_h, sw = g.stride_w;
  const std::size_t planes = g.batch * g.channels, hw = g.height * g.width;
  // Windows that tile the plane (stride = kernel, ConvNet's 2×2 case): the adjoint writes each input once.
  const bool tiling = sh == kh && sw == kw;
#pragma omp parallel for schedule(static) if (planes * hw > (1u << 16))
  for (std::size_t pl = 0; pl < planes; ++pl) {
    if (!adjoint && tiling && kh == 2 && kw == 2) {  // the common case, written out so it vectorises
      const T* in = x + pl * hw;
      T* out = y + pl * oh * ow;
      for (std::size_t i = 0; i < oh; ++i) {
        const T* r0 = in + 2 * i * g.width;
        const T* r1 = r0 + g.width;
        for (std::size_t j = 0; j < ow; ++j) out[i * ow + j] = scale * ((r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]));
      }
    } else if (!adjoint) {
      const T* in = x + pl * hw;
      T* out = y + pl * oh * ow;
      for (std::size_t i = 0; i < oh; ++i) {
        T* row = out + i * ow;
        std::fill_n(row, ow, T(0));
        for (std::size_t a = 0; a < kh; ++a) {
          const T* src = in + (i * sh + a) * g.width;
          for (std::size_t j = 0; j < ow; ++j)
            for (std::size_t b = 0; b < kw; ++b) row[j] += src[j * sw + b];
        }
        for (std::size_t j = 0; j < ow; ++j) row[j] *= scale;
      }
    } else {
      const T* in = y + pl * oh * ow;
      T* out = const_cast<T*>(x) + pl * hw;
      if (tiling) {
        for (std::size_t h = 0; h < g.height; ++h) {
          T* dst = out + h * g.width;
          const std::size_t i = h / kh;
          if (i >= oh) {
            std::fill_n(dst, g.width, T(0));
            continue;
          }
          const T* src = in + i * ow;
          for (std::size_t j = 0; j < ow; ++j)
            for (std::size_t b = 0; b < kw; ++b) dst[j * kw + b] = scale * src[j];
          std::fill(dst + ow * kw, dst + g.width, T(0));  // columns past the last window
        }
        continue;
      }
      std::fill_n(out, hw, T(0));
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t a = 0; a < kh; ++a) {
          T* dst = out + (i * sh + a) * g.width;
          for (std::size_t j = 0; j < ow; ++j)
            for (std::size_t b = 0; b < kw; ++b) dst[j * sw + b] += scale * in[i * ow + j];
        }
    }
  }
}
}  // namespace detail

template <Backend B>
Var<B> avg_pool2d_adjoint(const Var<B>& g, const ConvGeometry& geom);

/// Average pooling with a k×k window (stride defaults to k), no padding.
template <Backend B>
Var<B> avg_pool2d(const Var<B>& x, std::size_t k, std::size_t stride = 0) {
  using T = typename B::Scalar;
  const ConvGeometry g = detail::conv_geometry(x.shape(), k, k, stride ? stride : k, 0, "avg_pool2d");
  auto y = Tensor<T>::empty(Shape{g.batch, g.channels, g.out_h(), g.out_w()});
  detail::pool_sum(g, x.value().data(), y.data(), false, T(1) / T(k * k));
  return make_result<B>(std::move(y), {x},
                        [g](const Var<B>&, const Var<B>& grad) { return std::vector<Var<B>>{avg_pool2d_adjoint(grad, g)}; },
                        "avg_pool2d");
}

//! The adjoint of avg_pool2d: each output gradient spread evenly over its window.
template <Backend B>
Var<B> avg_pool2d_adjoint(const Var<B>& grad, const ConvGeometry& g) {
  using T = typename B::Scalar;
  auto x = Tensor<T>::empty(Shape{g.batch, g.channels, g.height, g.width});
  detail::pool_sum(g, x.data(), const_cast<T*>(grad.value().data()), true, T(1) / T(g.kernel_h * g.kernel_w));
  return make_result<B>(std::move(x), {grad},
                        [g](const Var<B>&, const Var<B>& gg) {
                          const std::size_t k = g.kernel_h;
                          return std::vector<Var<B>>{avg_pool2d(gg, k, g.stride_h)};
                        },
                        "avg_pool2d_adjoint");
}

/// Gather/scatter indices, shared (not copied) by a take node, its put_add adjoint and theirs.
using SharedIndex = std::shared_ptr<const std::vector<std::size_t>>;

//! Every index < size, checked once before the (branch-free) gather or scatter.
inline void check_indices(const std::vector<std::size_t>& index, std::size_t size, const char* op) {
  const auto worst = std::max_element(index.begin(), index.end());
  DISTILL_CHECK(worst == index.end() || *worst < size, op, "(): index ", worst == index.end() ? 0 : *worst,
                " out of range for ", size, " elements");
}

namespace detail {
template <Backend B>
Var<B> put_add_checked(const Var<B>& g, SharedIndex index, const Shape& shape);

//! Records `out` = x.flat[index] (already gathered by the caller) as a take node.
template <Backend B>
Var<B> record_take(const Var<B>& x, SharedIndex index, Tensor<typename B::Scalar> out) {
  return make_result<B>(std::move(out), {x},
                        [index, in_shape = x.shape()](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{put_add_checked(g, index, in_shape)};
                        },
                        "take");
}

//! take() after its indices were checked.
template <Backend B>
Var<B> take_checked(const Var<B>& x, SharedIndex index, const Shape& shape) {
  using T = typename B::Scalar;
  auto out = Tensor<T>::empty(shape);
  const T* xv = x.value().data();
  T* ov = out.data();
  const std::size_t* iv = index->data();
  for (std::size_t i = 0; i < index->size(); ++i) ov[i] = xv[iv[i]];
  return make_result<B>(std::move(out), {x},
                        [index, in_shape = x.shape()](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{put_add_checked(g, index, in_shape)};
                        },
                        "take");
}

//! put_add() after its indices were checked.
template <Backend B>
Var<B> put_add_checked(const Var<B>& g, SharedIndex index, const Shape& shape) {
  using T = typename B::Scalar;
  Tensor<T> out(shape);
  const T* gv = g.value().data();
  T* ov = out.data();
  const std::size_t* iv = index->data();
  for (std::size_t i = 0; i < index->size(); ++i) ov[iv[i]] += gv[i];
  return make_result<B>(std::move(out), {g},
                        [index, g_shape = g.shape()](const Var<B>&, const Var<B>& gg) {
                          return std::vector<Var<B>>{take_checked(gg, index, g_shape)};
                        },
                        "put_add");
}
}  // namespace detail

//! out.flat[i] = x.flat[index[i]], shaped `shape` (the gather behind max pooling).
template <Backend B>
Var<B> take(const Var<B>& x, std::vector<std::size_t> index, Shape shape) {
  DISTILL_CHECK(numel(shape) == index.size(), "take(): shape ", show(shape), " does not hold ", index.size(), " indices");
  check_indices(index, x.size(), "take");
  return detail::take_checked(x, std::make_shared<const std::vector<std::size_t>>(std::move(index)), shape);
}

//! The adjoint of take: zeros of `shape` with out.flat[index[i]] += g.flat[i].
template <Backend B>
Var<B> put_add(const Var<B>& g, std::vector<std::size_t> index, Shape shape) {
  DISTILL_CHECK(g.size() == index.size(), "put_add(): g has ", g.size(), " elements for ", index.size(), " indices");
  check_indices(index, numel(shape), "put_add");
  return detail::put_add_checked(g, std::make_shared<const std::vector<std::size_t>>(std::move(index)), shape);
}

/**
 * Max pooling with a k×k window (stride defaults to k): a gather at the (constant) argmax of each window.
 * The argmax and the gathered values come out of one pass (the indices are in range by construction, so they
 * are not checked again), with the 2×2 / stride-2 case written out; the node is a take like any other.
 */
template <Backend B>
Var<B> max_pool2d(const Var<B>& x, std::size_t k, std::size_t stride = 0) {
  using T = typename B::Scalar;
  const ConvGeometry g = detail::conv_geometry(x.shape(), k, k, stride ? stride : k, 0, "max_pool2d");
  const std::size_t oh = g.out_h(), ow = g.out_w(), planes = g.batch * g.channels;
  auto argmax = std::make_shared<std::vector<std::size_t>>(planes * oh * ow);
  auto y = Tensor<T>::empty(Shape{g.batch, g.channels, oh, ow});
  const T* v = x.value().data();
  std::size_t* am = argmax->data();
  T* yv = y.data();
  const bool two = k == 2 && g.stride_h == 2 && g.stride_w == 2;
#pragma omp parallel for schedule(static) if (planes * oh * ow * k * k > (1u << 16))
  for (std::size_t pl = 0; pl < planes; ++pl)
    for (std::size_t i = 0; i < oh; ++i) {
      const std::size_t o = (pl * oh + i) * ow;
      const std::size_t row = pl * g.height * g.width + (i * g.stride_h) * g.width;  // window (i, 0)'s top left
      if (two) {
        // Branch-free (a compare-and-branch per tap mispredicts half the time on real activations): the first of
        // the largest of each row pair, then of the two, which is the general loop's choice for numbers.
        const T* r0 = v + row;
        const T* r1 = r0 + g.width;
        const std::size_t width = g.width;
#pragma omp simd
        for (std::size_t j = 0; j < ow; ++j) {
          const T a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
          const std::size_t top_right = b > a, bottom_right = d > c;
          const T top = std::max(a, b), bottom = std::max(c, d);  // std::max(a, b) is b > a ? b : a
          const std::size_t lower = bottom > top;
          am[o + j] = row + 2 * j + top_right + lower * (width + bottom_right - top_right);
          yv[o + j] = std::max(top, bottom);
        }
        continue;
      }
      for (std::size_t j = 0; j < ow; ++j) {
        std::size_t best = row + j * g.stride_w;
        for (std::size_t a = 0; a < k; ++a)
          for (std::size_t b = 0; b < k; ++b) {
            const std::size_t idx = row + a * g.width + j * g.stride_w + b;
            if (v[idx] > v[best]) best = idx;
          }
        am[o + j] = best;
        yv[o + j] = v[best];
      }
    }
  return detail::record_take(x, SharedIndex(std::move(argmax)), std::move(y));
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_CONV_HPP
