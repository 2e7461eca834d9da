// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_DETAIL_CONV_FAST_HPP
#define DISTILL_NN_DETAIL_CONV_FAST_HPP

/**
 * @file
 * The one place where nn's Conv2d layer calls a convolution, so that a fused fast path can be swapped in without
 * touching the layers or models. Today it is ad::conv2d: per sample, im2col into a cache-sized block and one GEMM
 * that writes NCHW with the bias fused, or a direct convolution for layers with few taps per output (see
 * autodiff/ops/conv.hpp and core/detail/direct_conv.hpp).
 */

#include "distill/autodiff/ops/conv.hpp"

namespace distill::nn::detail {

//! conv2d(x, w, b) with square stride / padding; b may be undefined (no bias).
template <Backend B>
ad::Var<B> conv2d_fast(const ad::Var<B>& x, const ad::Var<B>& w, const ad::Var<B>& b, std::size_t stride,
                       std::size_t padding) {
  return ad::conv2d(x, w, b, {.stride = stride, .padding = padding});
}

}  // namespace distill::nn::detail

#endif  // DISTILL_NN_DETAIL_CONV_FAST_HPP
