// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_BROADCAST_HPP
#define DISTILL_AUTODIFF_OPS_BROADCAST_HPP

/**
 * @file
 * Broadcasting binary operations (NumPy rules) and the pair sum_to / broadcast_to that their gradients need.
 *
 * The kernel coalesces adjacent axes with the same broadcast pattern, so the usual cases run as a few long
 * contiguous backend calls: equal shapes -> one B::binary; a bias [C] on [N, C] -> one B::binary per row;
 * a per-channel [1, C, 1, 1] on [N, C, H, W] -> one B::binary_scalar per plane.
 */

#include <algorithm>
#include <vector>

#include "distill/autodiff/tape.hpp"
#include "distill/core/detail/reference_kernels.hpp"

namespace distill::ad {

namespace detail {

inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::size_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::size_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    DISTILL_CHECK(da == db || da == 1 || db == 1, op, "(): shapes ", show(a), " and ", show(b), " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Strides (in elements) of `shape` viewed as `out_rank` axes, 0 on broadcast axes.
inline std::vector<std::size_t> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<std::size_t> strides(out.size(), 0);
  std::size_t stride = 1;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    const std::size_t axis = shape.size() - 1 - k, oaxis = out.size() - 1 - k;
    strides[oaxis] = shape[axis] == 1 ? 0 : stride;
    stride *= shape[axis];
  }
  return strides;
}

/// out = a ∘ b with broadcasting; out must already have the broadcast shape.
template <Backend B>
void broadcast_binary(BinaryOp op, const Tensor<typename B::Scalar>& a, const Tensor<typename B::Scalar>& b,
                      Tensor<typename B::Scalar>& out) {
  using T = typename B::Scalar;
  const std::size_t n = out.size();
  if (n == 0) return;
  if (a.shape() == b.shape()) return B::binary(op, a.data(), b.data(), out.data(), n);
  if (b.size() == 1 && a.size() == n) return B::binary_scalar(op, a.data(), b[0], out.data(), n);

  // Coalesce axes: drop size-1 axes, merge neighbours whose strides chain.
  const Shape& os = out.shape();
  auto sa = broadcast_strides(a.shape(), os), sb = broadcast_strides(b.shape(), os);
  std::vector<std::size_t> dims, ta, tb;
  for (std::size_t i = 0; i < os.size(); ++i) {
    if (os[i] == 1) continue;
    if (!dims.empty() && ta.back() == sa[i] * os[i] && tb.back() == sb[i] * os[i]) {
      dims.back() *= os[i];
      ta.back() = sa[i];
      tb.back() = sb[i];
    } else {
      dims.push_back(os[i]);
      ta.push_back(sa[i]);
      tb.push_back(sb[i]);
    }
  }
  const std::size_t inner = dims.back(), ia = ta.back(), ib = tb.back();
  const std::size_t outer_rank = dims.size() - 1;
  std::vector<std::size_t> counter(outer_rank, 0);
  std::size_t offa = 0, offb = 0;
  for (std::size_t base = 0; base < n; base += inner) {
    const T* pa = a.data() + offa;
    const T* pb = b.data() + offb;
    T* py = out.data() + base;
    if (ia && ib) {
      B::binary(op, pa, pb, py, inner);
    } else if (ia) {
      B::binary_scalar(op, pa, *pb, py, inner);
    } else if (ib && (op == BinaryOp::add || op == BinaryOp::mul || op == BinaryOp::max || op == BinaryOp::min)) {
      B::binary_scalar(op, pb, *pa, py, inner);  // commutative: s ∘ b = b ∘ s
    } else if (ib && op == BinaryOp::sub) {
      B::binary_scalar(BinaryOp::sub, pb, *pa, py, inner);  // b − s, then negate: s − b
      B::unary(UnaryOp::neg, py, py, inner);
    } else {
      for (std::size_t j = 0; j < inner; ++j) py[j] = distill::detail::apply_binary(op, pa[j * ia], pb[j * ib]);
    }
    // Odometer over the outer axes.
    for (std::size_t k = outer_rank; k-- > 0;) {
      offa += ta[k];
      offb += tb[k];
      if (++counter[k] < dims[k]) break;
      offa -= ta[k] * dims[k];
      offb -= tb[k] * dims[k];
      counter[k] = 0;
    }
  }
}

/// Sums `g` over the axes where `target` is 1 or missing (the adjoint of broadcasting `target` to g's shape).
template <Backend B>
Tensor<typename B::Scalar> reduce_to(const Tensor<typename B::Scalar>& g, const Shape& target) {
  using T = typename B::Scalar;
  if (g.shape() == target) return g;
  DISTILL_CHECK(target.size() <= g.rank(), "sum_to(): target ", show(target), " has more axes than ", show(g.shape()));
  const std::size_t lead = g.rank() - target.size();
  Shape cur = g.shape();
  std::vector<bool> reduce(cur.size());
  for (std::size_t i = 0; i < cur.size(); ++i) {
    const std::size_t t = i < lead ? 1 : target[i - lead];
    DISTILL_CHECK(t == cur[i] || t == 1, "sum_to(): cannot reduce ", show(g.shape()), " to ", show(target));
    reduce[i] = t == 1 && cur[i] != 1;
  }
  // Reduce runs of adjacent axes in one backend call each, innermost run first.
  Tensor<T> x = g;
  std::size_t i = cur.size();
  while (i > 0) {
    if (!reduce[i - 1]) {
      --i;
      continue;
    }
    std::size_t j = i;
    while (j > 0 && reduce[j - 1]) --j;
    std::size_t outer = 1, len = 1, inner = 1;
    for (std::size_t k = 0; k < j; ++k) outer *= cur[k];
    for (std::size_t k = j; k < i; ++k) len *= cur[k];
    for (std::size_t k = i; k < cur.size(); ++k) inner *= cur[k];
    Tensor<T> y = Tensor<T>::empty(Shape{outer * inner});
    B::reduce(ReduceOp::sum, x.data(), y.data(), outer, len, inner);
    for (std::size_t k = j; k < i; ++k) cur[k] = 1;
    x = y.reshape(cur);
    i = j;
  }
  return x.reshape(target);
}

/// Copies `x` broadcast to `shape`.
template <Backend B>
Tensor<typename B::Scalar> expand_to(const Tensor<typename B::Scalar>& x, const Shape& shape) {
  using T = typename B::Scalar;
  if (x.shape() == shape) return x;
  DISTILL_CHECK(broadcast_shapes(x.shape(), shape, "broadcast_to") == shape, "broadcast_to(): cannot broadcast ",
                show(x.shape()), " to ", show(shape));
  Tensor<T> out = Tensor<T>::empty(shape);
  const Tensor<T> zero = Tensor<T>::scalar(T(0));
  if (x.size() == 1) {
    B::fill(out.data(), out.size(), x[0]);
    return out;
  }
  broadcast_binary<B>(BinaryOp::add, x, zero, out);
  return out;
}

}  // namespace detail

template <Backend B>
Var<B> broadcast_to(const Var<B>& x, const Shape& shape);

/// Sums x over broadcast axes down to `shape` (the gradient of broadcast_to).
template <Backend B>
Var<B> sum_to(const Var<B>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return make_result<B>(
      detail::reduce_to<B>(x.value(), shape), {x},
      [in_shape = x.shape()](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{broadcast_to(g, in_shape)}; },
      "sum_to");
}

/// x repeated along broadcast axes up to `shape`.
template <Backend B>
Var<B> broadcast_to(const Var<B>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return make_result<B>(
      detail::expand_to<B>(x.value(), shape), {x},
      [in_shape = x.shape()](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{sum_to(g, in_shape)}; },
      "broadcast_to");
}

namespace detail {
template <Backend B>
Tensor<typename B::Scalar> binary_value(BinaryOp op, const Var<B>& a, const Var<B>& b, const char* name) {
  auto out = Tensor<typename B::Scalar>::empty(broadcast_shapes(a.shape(), b.shape(), name));
  broadcast_binary<B>(op, a.value(), b.value(), out);
  return out;
}
}  // namespace detail

template <Backend B>
Var<B> mul(const Var<B>& a, const Var<B>& b);
template <Backend B>
Var<B> div(const Var<B>& a, const Var<B>& b);
template <Backend B>
Var<B> neg(const Var<B>& x);

template <Backend B>
Var<B> add(const Var<B>& a, const Var<B>& b) {
  return make_result<B>(detail::binary_value(BinaryOp::add, a, b, "add"), {a, b},
                        [a, b](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{a.requires_grad() ? sum_to(g, a.shape()) : Var<B>{},
                                                     b.requires_grad() ? sum_to(g, b.shape()) : Var<B>{}};
                        },
                        "add");
}

template <Backend B>
Var<B> sub(const Var<B>& a, const Var<B>& b) {
  return make_result<B>(detail::binary_value(BinaryOp::sub, a, b, "sub"), {a, b},
                        [a, b](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{a.requires_grad() ? sum_to(g, a.shape()) : Var<B>{},
                                                     b.requires_grad() ? neg(sum_to(g, b.shape())) : Var<B>{}};
                        },
                        "sub");
}

template <Backend B>
Var<B> mul(const Var<B>& a, const Var<B>& b) {
  return make_result<B>(detail::binary_value(BinaryOp::mul, a, b, "mul"), {a, b},
                        [a, b](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{a.requires_grad() ? sum_to(mul(g, b), a.shape()) : Var<B>{},
                                                     b.requires_grad() ? sum_to(mul(g, a), b.shape()) : Var<B>{}};
                        },
                        "mul");
}

template <Backend B>
Var<B> div(const Var<B>& a, const Var<B>& b) {
  return make_result<B>(detail::binary_value(BinaryOp::div, a, b, "div"), {a, b},
                        [a, b](const Var<B>& out, const Var<B>& g) {
                          const Var<B> ga = div(g, b);
                          return std::vector<Var<B>>{
                              a.requires_grad() ? sum_to(ga, a.shape()) : Var<B>{},
                              b.requires_grad() ? neg(sum_to(mul(ga, div(a, b)), b.shape())) : Var<B>{}};
                        },
                        "div");
}

/// Elementwise max / min with broadcasting; ties send the gradient to the first operand.
template <Backend B>
Var<B> maximum(const Var<B>& a, const Var<B>& b) {
  auto value = detail::binary_value(BinaryOp::max, a, b, "maximum");
  return make_result<B>(std::move(value), {a, b},
                        [a, b](const Var<B>&, const Var<B>& g) {
                          // max is piecewise linear: the gradient goes through a constant 0/1 mask,
                          // (a >= b) for a and (b > a) for b.
                          auto mask_b = detail::binary_value(BinaryOp::greater, b, a, "maximum");
                          auto mask_a = Tensor<typename B::Scalar>::empty(mask_b.shape());
                          B::binary_scalar(BinaryOp::sub, mask_b.data(), typename B::Scalar(1), mask_a.data(), mask_a.size());
                          B::unary(UnaryOp::neg, mask_a.data(), mask_a.data(), mask_a.size());
                          return std::vector<Var<B>>{a.requires_grad() ? sum_to(mul(g, Var<B>(mask_a)), a.shape()) : Var<B>{},
                                                     b.requires_grad() ? sum_to(mul(g, Var<B>(mask_b)), b.shape()) : Var<B>{}};
                        },
                        "maximum");
}
template <Backend B>
Var<B> minimum(const Var<B>& a, const Var<B>& b) {
  return neg(maximum(neg(a), neg(b)));
}

/// atan2(a, b) elementwise with broadcasting (the angle of the point (b, a)).
template <Backend B>
Var<B> atan2(const Var<B>& a, const Var<B>& b) {
  return make_result<B>(detail::binary_value(BinaryOp::atan2, a, b, "atan2"), {a, b},
                        [a, b](const Var<B>&, const Var<B>& g) {
                          const Var<B> r2 = add(mul(a, a), mul(b, b));
                          const Var<B> gr = div(g, r2);
                          return std::vector<Var<B>>{a.requires_grad() ? sum_to(mul(gr, b), a.shape()) : Var<B>{},
                                                     b.requires_grad() ? neg(sum_to(mul(gr, a), b.shape())) : Var<B>{}};
                        },
                        "atan2");
}

}  // namespace distill::ad

// neg/mul/div used by the gradients above are defined there (it includes this header first).
#include "distill/autodiff/ops/elementwise.hpp"

#endif  // DISTILL_AUTODIFF_OPS_BROADCAST_HPP
