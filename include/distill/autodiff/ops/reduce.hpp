// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_REDUCE_HPP
#define DISTILL_AUTODIFF_OPS_REDUCE_HPP

/**
 * @file
 * Reductions (sum, mean over all or some axes; a constant max) and the softmax family built from them.
 */

#include <algorithm>
#include <vector>

#include "distill/autodiff/ops/elementwise.hpp"
#include "distill/autodiff/ops/shape.hpp"

namespace distill::ad {

namespace detail {
inline Shape kept_shape(const Shape& s, const std::vector<std::size_t>& axes, const char* op) {
  Shape k = s;
  for (auto a : axes) {
    DISTILL_CHECK(a < s.size(), op, "(): axis ", a, " out of range for ", show(s));
    k[a] = 1;
  }
  return k;
}
inline Shape dropped_shape(const Shape& s, const std::vector<std::size_t>& axes) {
  Shape d;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) d.push_back(s[i]);
  return d;
}
}  // namespace detail

//! The sum of all elements, shape [].
template <Backend B>
Var<B> sum(const Var<B>& x) {
  return sum_to(x, Shape{});
}

//! Sums over `axes`; keepdim leaves them as size-1 axes.
template <Backend B>
Var<B> sum(const Var<B>& x, const std::vector<std::size_t>& axes, bool keepdim = false) {
  const Shape kept = detail::kept_shape(x.shape(), axes, "sum");
  Var<B> s = sum_to(x, kept);
  return keepdim ? s : reshape(s, detail::dropped_shape(x.shape(), axes));
}

//! The mean of all elements, shape [].
template <Backend B>
Var<B> mean(const Var<B>& x) {
  DISTILL_CHECK(x.size() > 0, "mean(): x is empty");
  return mul_scalar(sum(x), typename B::Scalar(1) / typename B::Scalar(x.size()));
}

template <Backend B>
Var<B> mean(const Var<B>& x, const std::vector<std::size_t>& axes, bool keepdim = false) {
  std::size_t count = 1;
  for (auto a : axes) count *= x.shape().at(a);
  DISTILL_CHECK(count > 0, "mean(): reducing over an empty axis");
  return mul_scalar(sum(x, axes, keepdim), typename B::Scalar(1) / typename B::Scalar(count));
}

//! Max over one axis (keepdim) as a *constant*: used to stabilise softmax, never differentiated.
template <Backend B>
Var<B> amax(const Var<B>& x, std::size_t axis) {
  using T = typename B::Scalar;
  DISTILL_CHECK(axis < x.rank(), "amax(): axis ", axis, " out of range for ", show(x.shape()));
  const Shape& s = x.shape();
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= s[i];
  for (std::size_t i = axis + 1; i < s.size(); ++i) inner *= s[i];
  Shape k = s;
  k[axis] = 1;
  auto out = Tensor<T>::empty(k);
  B::reduce(ReduceOp::max, x.value().data(), out.data(), outer, s[axis], inner);
  return Var<B>(std::move(out));
}

//! log Σ exp(x) over `axis`, keepdim, computed stably.
template <Backend B>
Var<B> logsumexp(const Var<B>& x, std::size_t axis) {
  const Var<B> m = amax(x, axis);
  return add(log(sum(exp(sub(x, m)), {axis}, true)), m);
}

//! log softmax over `axis` (default: the last).
template <Backend B>
Var<B> log_softmax(const Var<B>& x, std::size_t axis) {
  const Var<B> z = sub(x, amax(x, axis));
  return sub(z, log(sum(exp(z), {axis}, true)));
}
template <Backend B>
Var<B> log_softmax(const Var<B>& x) {
  DISTILL_CHECK(x.rank() >= 1, "log_softmax(): x must have rank >= 1");
  return log_softmax(x, x.rank() - 1);
}

template <Backend B>
Var<B> softmax(const Var<B>& x, std::size_t axis) {
  return exp(log_softmax(x, axis));
}
template <Backend B>
Var<B> softmax(const Var<B>& x) {
  DISTILL_CHECK(x.rank() >= 1, "softmax(): x must have rank >= 1");
  return softmax(x, x.rank() - 1);
}

//! ⟨a, b⟩ summed over all elements (shapes must broadcast), shape [].
template <Backend B>
Var<B> dot(const Var<B>& a, const Var<B>& b) {
  return sum(mul(a, b));
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_REDUCE_HPP
