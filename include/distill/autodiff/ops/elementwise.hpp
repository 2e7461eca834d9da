// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_ELEMENTWISE_HPP
#define DISTILL_AUTODIFF_OPS_ELEMENTWISE_HPP

/**
 * @file
 * Unary elementwise operations, operations with a scalar, and the arithmetic operators on Var.
 * Each backward is written with differentiable operations, so every op here has derivatives of any order
 * (piecewise-linear ops — relu, abs, clamp — pass gradients through a constant mask, whose derivative is 0).
 */

#include <cmath>

#include "distill/autodiff/ops/broadcast.hpp"

namespace distill::ad {

namespace detail {
template <Backend B>
Tensor<typename B::Scalar> unary_value(UnaryOp op, const Var<B>& x) {
  auto out = Tensor<typename B::Scalar>::empty(x.shape());
  B::unary(op, x.value().data(), out.data(), out.size());
  return out;
}
template <Backend B>
Tensor<typename B::Scalar> scalar_value(BinaryOp op, const Var<B>& x, typename B::Scalar s) {
  auto out = Tensor<typename B::Scalar>::empty(x.shape());
  B::binary_scalar(op, x.value().data(), s, out.data(), out.size());
  return out;
}
//! A constant mask from a predicate on the value of x.
template <Backend B, class Pred>
Var<B> mask_of(const Var<B>& x, Pred pred) {
  using T = typename B::Scalar;
  auto m = Tensor<T>::empty(x.shape());
  const T* v = x.value().data();
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = pred(v[i]) ? T(1) : T(0);
  return Var<B>(std::move(m));
}
}  // namespace detail

template <Backend B>
Var<B> neg(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::neg, x), {x},
                        [](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{neg(g)}; }, "neg");
}

//! x + s
template <Backend B>
Var<B> add_scalar(const Var<B>& x, typename B::Scalar s) {
  return make_result<B>(detail::scalar_value(BinaryOp::add, x, s), {x},
                        [](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{g}; }, "add_scalar");
}
//! x · s
template <Backend B>
Var<B> mul_scalar(const Var<B>& x, typename B::Scalar s) {
  return make_result<B>(detail::scalar_value(BinaryOp::mul, x, s), {x},
                        [s](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{mul_scalar(g, s)}; },
                        "mul_scalar");
}
//! 1 / x
template <Backend B>
Var<B> reciprocal(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::reciprocal, x), {x},
                        [](const Var<B>& out, const Var<B>& g) { return std::vector<Var<B>>{neg(mul(g, mul(out, out)))}; },
                        "reciprocal");
}

template <Backend B>
Var<B> exp(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::exp, x), {x},
                        [](const Var<B>& out, const Var<B>& g) { return std::vector<Var<B>>{mul(g, out)}; }, "exp");
}

template <Backend B>
Var<B> log(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::log, x), {x},
                        [x](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{div(g, x)}; }, "log");
}

template <Backend B>
Var<B> sqrt(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::sqrt, x), {x},
                        [](const Var<B>& out, const Var<B>& g) {
                          return std::vector<Var<B>>{mul_scalar(div(g, out), typename B::Scalar(0.5))};
                        },
                        "sqrt");
}

/**
 * √max(x, 0) whose derivative stays finite at 0: d/dx = 1 / (2√max(x, eps)).
 * The NTK recursion and norms of vectors that may vanish need this.
 */
template <Backend B>
Var<B> safe_sqrt(const Var<B>& x, typename B::Scalar eps = typename B::Scalar(1e-12)) {
  using T = typename B::Scalar;
  auto value = detail::scalar_value(BinaryOp::max, x, T(0));
  B::unary(UnaryOp::sqrt, value.data(), value.data(), value.size());
  return make_result<B>(std::move(value), {x},
                        [x, eps](const Var<B>&, const Var<B>& g) {
                          const Var<B> floor = Var<B>(Tensor<T>::scalar(eps));
                          return std::vector<Var<B>>{mul_scalar(div(g, sqrt(maximum(x, floor))), T(0.5))};
                        },
                        "safe_sqrt");
}

//! x^p for a constant exponent p.
template <Backend B>
Var<B> pow(const Var<B>& x, typename B::Scalar p) {
  using T = typename B::Scalar;
  return make_result<B>(detail::scalar_value(BinaryOp::pow, x, p), {x},
                        [x, p](const Var<B>&, const Var<B>& g) {
                          if (p == T(0)) return std::vector<Var<B>>{Var<B>{}};
                          return std::vector<Var<B>>{mul(g, mul_scalar(pow(x, p - T(1)), p))};
                        },
                        "pow");
}

template <Backend B>
Var<B> square(const Var<B>& x) {
  return mul(x, x);
}

template <Backend B>
Var<B> abs(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::abs, x), {x},
                        [x](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{mul(g, Var<B>(detail::unary_value(UnaryOp::sign, x.detach())))};
                        },
                        "abs");
}

//! min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi.
template <Backend B>
Var<B> clamp(const Var<B>& x, typename B::Scalar lo, typename B::Scalar hi) {
  using T = typename B::Scalar;
  DISTILL_CHECK(lo <= hi, "clamp(): lo (", lo, ") is greater than hi (", hi, ")");
  auto value = detail::scalar_value(BinaryOp::max, x, lo);
  B::binary_scalar(BinaryOp::min, value.data(), hi, value.data(), value.size());
  return make_result<B>(std::move(value), {x},
                        [x, lo, hi](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{mul(g, detail::mask_of(x, [lo, hi](T v) { return v >= lo && v <= hi; }))};
                        },
                        "clamp");
}

/// g where `positive` > 0, else 0: ReLU's backward in one pass. Linear in g, with `positive` (ReLU's output) a
/// constant mask source, so its own backward is the same op.
template <Backend B>
Var<B> relu_backward(const Var<B>& g, const Tensor<typename B::Scalar>& positive) {
  using T = typename B::Scalar;
  DISTILL_CHECK(g.shape() == positive.shape(), "relu_backward(): gradient ", show(g.shape()), " and mask ",
                show(positive.shape()), " differ");
  auto out = Tensor<T>::empty(g.shape());
  const T* gv = g.value().data();
  const T* pv = positive.data();
  T* ov = out.data();
  const std::size_t n = out.size();
#pragma omp parallel for schedule(static) if (n > (1u << 18))
  for (std::size_t i = 0; i < n; ++i) ov[i] = pv[i] > T(0) ? gv[i] : T(0);
  return make_result<B>(std::move(out), {g},
                        [positive](const Var<B>&, const Var<B>& gg) {
                          return std::vector<Var<B>>{relu_backward(gg, positive)};
                        },
                        "relu_backward");
}

template <Backend B>
Var<B> relu(const Var<B>& x) {
  // relu(x) > 0 exactly where x > 0, so the output is the mask source: x itself is not kept for the backward.
  return make_result<B>(detail::unary_value(UnaryOp::relu, x), {x},
                        [](const Var<B>& out, const Var<B>& g) { return std::vector<Var<B>>{relu_backward(g, out.value())}; },
                        "relu");
}

template <Backend B>
Var<B> tanh(const Var<B>& x) {
  using T = typename B::Scalar;
  return make_result<B>(detail::unary_value(UnaryOp::tanh, x), {x},
                        [](const Var<B>& out, const Var<B>& g) {
                          return std::vector<Var<B>>{mul(g, add_scalar(neg(mul(out, out)), T(1)))};
                        },
                        "tanh");
}

template <Backend B>
Var<B> sigmoid(const Var<B>& x) {
  using T = typename B::Scalar;
  return make_result<B>(detail::unary_value(UnaryOp::sigmoid, x), {x},
                        [](const Var<B>& out, const Var<B>& g) {
                          return std::vector<Var<B>>{mul(g, mul(out, add_scalar(neg(out), T(1))))};
                        },
                        "sigmoid");
}

//! acos(x) for x in [−1, 1]; clamp first where rounding may step outside (the derivative is −1/√(1−x²)).
template <Backend B>
Var<B> acos(const Var<B>& x) {
  using T = typename B::Scalar;
  return make_result<B>(detail::unary_value(UnaryOp::acos, x), {x},
                        [x](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{neg(div(g, sqrt(add_scalar(neg(mul(x, x)), T(1)))))};
                        },
                        "acos");
}

template <Backend B>
Var<B> sin(const Var<B>& x);
template <Backend B>
Var<B> cos(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::cos, x), {x},
                        [x](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{neg(mul(g, sin(x)))}; }, "cos");
}
template <Backend B>
Var<B> sin(const Var<B>& x) {
  return make_result<B>(detail::unary_value(UnaryOp::sin, x), {x},
                        [x](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{mul(g, cos(x))}; }, "sin");
}

// ---- operators ------------------------------------------------------------------------------------
template <Backend B> Var<B> operator+(const Var<B>& a, const Var<B>& b) { return add(a, b); }
template <Backend B> Var<B> operator-(const Var<B>& a, const Var<B>& b) { return sub(a, b); }
template <Backend B> Var<B> operator*(const Var<B>& a, const Var<B>& b) { return mul(a, b); }
template <Backend B> Var<B> operator/(const Var<B>& a, const Var<B>& b) { return div(a, b); }
template <Backend B> Var<B> operator-(const Var<B>& a) { return neg(a); }
template <Backend B> Var<B> operator+(const Var<B>& a, typename B::Scalar s) { return add_scalar(a, s); }
template <Backend B> Var<B> operator+(typename B::Scalar s, const Var<B>& a) { return add_scalar(a, s); }
template <Backend B> Var<B> operator-(const Var<B>& a, typename B::Scalar s) { return add_scalar(a, -s); }
template <Backend B> Var<B> operator-(typename B::Scalar s, const Var<B>& a) { return add_scalar(neg(a), s); }
template <Backend B> Var<B> operator*(const Var<B>& a, typename B::Scalar s) { return mul_scalar(a, s); }
template <Backend B> Var<B> operator*(typename B::Scalar s, const Var<B>& a) { return mul_scalar(a, s); }
template <Backend B> Var<B> operator/(const Var<B>& a, typename B::Scalar s) { return mul_scalar(a, typename B::Scalar(1) / s); }
template <Backend B> Var<B> operator/(typename B::Scalar s, const Var<B>& a) { return mul_scalar(reciprocal(a), s); }

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_ELEMENTWISE_HPP
