// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_XTENSOR_INTEROP_HPP
#define DISTILL_CORE_XTENSOR_INTEROP_HPP

/**
 * @file
 * Zero-copy bridges between Tensor<T> and xtensor.
 *   - as_xtensor(t): an xt::adapt view over a tensor's storage with the tensor's shape.
 *   - view_of(a):    a Tensor view over a user's row-major xt::xarray / xt::xtensor (no copy).
 *   - from_xtensor(e): a Tensor holding a copy of any xtensor expression.
 */

#include "distill/core/config.hpp"  // first: it includes the intrinsics quietly
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "distill/core/tensor.hpp"

namespace distill {

template <std::floating_point T>
auto as_xtensor(Tensor<T>& t) {
  return xt::adapt<xt::layout_type::row_major>(t.data(), t.size(), xt::no_ownership(), t.shape());
}
template <std::floating_point T>
auto as_xtensor(const Tensor<T>& t) {
  return xt::adapt<xt::layout_type::row_major>(const_cast<const T*>(t.data()), t.size(), xt::no_ownership(), t.shape());
}

//! A zero-copy Tensor view of a user's row-major xtensor container (it must outlive the view).
template <class E>
  requires requires(E& e) { e.data(); e.shape(); e.layout(); }
auto view_of(E& e) {
  using T = typename E::value_type;
  static_assert(std::floating_point<T>, "distill::view_of(): the xtensor container must hold float or double");
  DISTILL_CHECK(e.layout() == xt::layout_type::row_major, "view_of(): the xtensor container is not row-major; use from_xtensor() to copy it");
  return Tensor<T>::view(e.data(), Shape(e.shape().begin(), e.shape().end()));
}

//! A Tensor holding a copy of any xtensor expression.
template <class E>
auto from_xtensor(const xt::xexpression<E>& expr) {
  using T = typename E::value_type;
  const auto& e = expr.derived_cast();
  Tensor<T> t = Tensor<T>::empty(Shape(e.shape().begin(), e.shape().end()));
  auto dst = as_xtensor(t);
  dst = e;
  return t;
}

}  // namespace distill

#endif  // DISTILL_CORE_XTENSOR_INTEROP_HPP
