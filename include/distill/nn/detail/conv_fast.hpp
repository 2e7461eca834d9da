// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_DETAIL_CONV_FAST_HPP
#define DISTILL_NN_DETAIL_CONV_FAST_HPP

/**
 * @file
 * The one place where nn's Conv2d layer calls a convolution, so that a fused fast path can be swapped in without
 * touching the layers or models. Today it is ad::conv2d (batch im2col + one GEMM + a permute).
 *
 * Profile (perf, ConvNet-3 forward at batch 256, 28×28, float, Eigen, on the shared 2-core machine): the GEMM is
 * under 10 % of the time. Page faults on freshly allocated 25–230 MB tensors (≈ 33 %), broadcast elementwise ops
 * of instance norm / bias / relu over the 100 MB first-layer activations (≈ 30 %), im2col (≈ 10 %) and the
 * output permute dominate. A fused path should (1) run per sample under OpenMP so im2col stays in cache and the
 * GEMM writes NCHW directly (no permute, bias fused), and (2) fuse instance norm + affine + relu, with backward
 * closures written as separate differentiable ops so second order keeps working.
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
