// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_EIGEN_INTEROP_HPP
#define DISTILL_CORE_EIGEN_INTEROP_HPP

/**
 * @file
 * Zero-copy bridges between Tensor<T> and Eigen, so users keep their own arrays.
 *   - as_matrix(t): an Eigen::Map (row-major) over a tensor's storage, [shape0 × rest].
 *   - view_of(m):   a Tensor view over a user's row-major Eigen matrix or vector (no copy; m must outlive it).
 *   - from_eigen(e): a Tensor holding a copy of any Eigen expression (column-major ones too).
 */

#include "distill/core/config.hpp"  // first: it includes the intrinsics quietly
#include <Eigen/Core>

#include "distill/core/tensor.hpp"

namespace distill {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

//! The tensor as a rows × cols row-major matrix, rows = shape(0) (1 for a scalar), cols = the rest.
template <std::floating_point T>
Eigen::Map<RowMatrix<T>> as_matrix(Tensor<T>& t) {
  const std::size_t rows = t.rank() == 0 ? 1 : t.shape(0);
  const std::size_t cols = rows ? t.size() / rows : 0;
  return {t.data(), Eigen::Index(rows), Eigen::Index(cols)};
}
template <std::floating_point T>
Eigen::Map<const RowMatrix<T>> as_matrix(const Tensor<T>& t) {
  const std::size_t rows = t.rank() == 0 ? 1 : t.shape(0);
  const std::size_t cols = rows ? t.size() / rows : 0;
  return {t.data(), Eigen::Index(rows), Eigen::Index(cols)};
}
//! The tensor's elements as a flat Eigen column vector.
template <std::floating_point T>
Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> as_vector(Tensor<T>& t) {
  return {t.data(), Eigen::Index(t.size())};
}
template <std::floating_point T>
Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> as_vector(const Tensor<T>& t) {
  return {t.data(), Eigen::Index(t.size())};
}

/**
 * A zero-copy Tensor view of a user's Eigen matrix or vector.
 * @param m a row-major matrix, or any vector; column-major matrices are refused at compile time because
 *          their memory order is the transpose (copy them with from_eigen instead).
 */
template <class Derived>
auto view_of(Eigen::PlainObjectBase<Derived>& m) {
  using T = typename Derived::Scalar;
  static_assert(std::floating_point<T>, "distill::view_of(): the Eigen matrix must hold float or double");
  static_assert(Derived::IsRowMajor || Derived::IsVectorAtCompileTime,
                "distill::view_of(): a column-major Eigen matrix is not row-major memory; use from_eigen() to copy it");
  if constexpr (Derived::IsVectorAtCompileTime) return Tensor<T>::view(m.data(), Shape{std::size_t(m.size())});
  else return Tensor<T>::view(m.data(), Shape{std::size_t(m.rows()), std::size_t(m.cols())});
}

//! A Tensor holding a row-major copy of any Eigen expression, shape [rows, cols].
template <class Derived>
auto from_eigen(const Eigen::DenseBase<Derived>& e) {
  using T = typename Derived::Scalar;
  Tensor<T> t = Tensor<T>::empty(Shape{std::size_t(e.rows()), std::size_t(e.cols())});
  as_matrix(t) = e.derived();
  return t;
}

}  // namespace distill

#endif  // DISTILL_CORE_EIGEN_INTEROP_HPP
