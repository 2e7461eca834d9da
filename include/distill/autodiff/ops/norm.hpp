// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_NORM_HPP
#define DISTILL_AUTODIFF_OPS_NORM_HPP

/**
 * @file
 * Instance and group normalisation (no affine part; the nn layer adds γ, β). Written from mean / sub / mul /
 * sqrt, so the second derivative — needed when a distillation loss differentiates through a ConvNet's
 * gradient — is exact by construction.
 */

#include "distill/autodiff/ops/reduce.hpp"

namespace distill::ad {

/// (x − mean) / √(var + eps) over the groups of `groups` channels × H × W of each sample; x is [N, C, H, W].
template <Backend B>
Var<B> group_norm(const Var<B>& x, std::size_t groups, typename B::Scalar eps = typename B::Scalar(1e-5)) {
  DISTILL_CHECK(x.rank() == 4, "group_norm(): input must be NCHW, got ", show(x.shape()));
  DISTILL_CHECK(groups > 0 && x.shape(1) % groups == 0, "group_norm(): ", x.shape(1), " channels do not split into ",
                groups, " groups");
  const Shape s = x.shape();
  const Var<B> xg = reshape(x, Shape{s[0], groups, s[1] / groups * s[2] * s[3]});
  const Var<B> centred = sub(xg, mean(xg, {2}, true));
  const Var<B> var = mean(mul(centred, centred), {2}, true);
  return reshape(div(centred, sqrt(add_scalar(var, eps))), s);
}

//! Instance norm: group norm with one channel per group.
template <Backend B>
Var<B> instance_norm(const Var<B>& x, typename B::Scalar eps = typename B::Scalar(1e-5)) {
  DISTILL_CHECK(x.rank() == 4, "instance_norm(): input must be NCHW, got ", show(x.shape()));
  return group_norm(x, x.shape(1), eps);
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_NORM_HPP
