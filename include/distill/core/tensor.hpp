// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_TENSOR_HPP
#define DISTILL_CORE_TENSOR_HPP

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "distill/core/buffer_pool.hpp"
#include "distill/core/error.hpp"

namespace distill {

/// The extents of a tensor, outermost first (row-major).
using Shape = std::vector<std::size_t>;

//! Number of elements of a shape (1 for a scalar's empty shape).
inline std::size_t numel(const Shape& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

//! "[2, 3, 4]" for messages.
inline std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

struct ShapePrinter {
  const Shape& shape;
  friend std::ostream& operator<<(std::ostream& os, const ShapePrinter& p) { return os << to_string(p.shape); }
};
//! Streams a shape inside DISTILL_CHECK messages: `DISTILL_CHECK(ok, "x has shape ", show(x.shape()))`.
inline ShapePrinter show(const Shape& shape) { return {shape}; }

/**
 * WHAT THIS OBJECT REPRESENTS
 *   A dense, contiguous, row-major array of T (float or double) with a shape. It is a *handle*, like a
 *   PyTorch tensor or an Eigen::Map: copying a Tensor shares the storage; clone() makes a deep copy.
 *   Storage is either owned (64-byte aligned, reference counted) or borrowed from the user
 *   (Tensor::view over an Eigen matrix or xtensor array: zero-copy, the user keeps it alive).
 *
 *   reshape() and rows() return views that share the storage, so they cost nothing.
 */
template <std::floating_point T>
class Tensor {
 public:
  using value_type = T;
  using Scalar = T;

  //! An empty tensor of shape [0].
  Tensor() : shape_{0} {}

  //! A zero-filled tensor of the given shape.
  explicit Tensor(Shape shape) : Tensor(std::move(shape), T(0)) {}

  Tensor(Shape shape, T fill) : shape_(std::move(shape)) {
    allocate();
    std::fill_n(data_, size(), fill);
  }

  //! A tensor that owns a copy of `values`, which must have numel(shape) elements.
  Tensor(Shape shape, std::initializer_list<T> values) : Tensor(std::move(shape), std::span<const T>(values.begin(), values.size())) {}

  Tensor(Shape shape, std::span<const T> values) : shape_(std::move(shape)) {
    DISTILL_CHECK(values.size() == numel(shape_), "Tensor(shape, values): shape ", show(shape_), " needs ", numel(shape_),
                  " values but got ", values.size());
    allocate();
    std::copy(values.begin(), values.end(), data_);
  }

  //! An uninitialised tensor (for outputs that a kernel overwrites completely).
  static Tensor empty(Shape shape) {
    Tensor t;
    t.shape_ = std::move(shape);
    t.allocate();
    return t;
  }

  //! A scalar (shape []).
  static Tensor scalar(T value) { return Tensor(Shape{}, value); }

  /**
   * A zero-copy view of memory the caller owns (an Eigen matrix, an xtensor array, a std::vector).
   * @param data   contiguous row-major storage of numel(shape) elements; must outlive the view.
   */
  static Tensor view(T* data, Shape shape) {
    DISTILL_CHECK(data != nullptr || numel(shape) == 0, "Tensor::view(): data is null for shape ", show(shape));
    Tensor t;
    t.shape_ = std::move(shape);
    t.storage_ = std::shared_ptr<T[]>(std::shared_ptr<T[]>(), data);  // aliasing, non-owning
    t.data_ = data;
    return t;
  }

  //! @name shape
  //! @{
  const Shape& shape() const { return shape_; }
  std::size_t shape(std::size_t axis) const {
    DISTILL_CHECK(axis < shape_.size(), "Tensor::shape(): axis ", axis, " out of range for a rank-", shape_.size(), " tensor");
    return shape_[axis];
  }
  std::size_t rank() const { return shape_.size(); }
  std::size_t size() const { return numel(shape_); }
  bool empty_data() const { return size() == 0; }
  //! @}

  //! @name data
  //! @{
  T* data() { return data_; }
  const T* data() const { return data_; }
  T* begin() { return data_; }
  T* end() { return data_ + size(); }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size(); }
  std::span<T> span() { return {data_, size()}; }
  std::span<const T> span() const { return {data_, size()}; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

  //! Element access by multi-index, bounds-checked.
  template <std::integral... I>
  T& at(I... idx) {
    return data_[offset_of({static_cast<std::size_t>(idx)...})];
  }
  template <std::integral... I>
  const T& at(I... idx) const {
    return data_[offset_of({static_cast<std::size_t>(idx)...})];
  }
  //! The value of a one-element tensor.
  T item() const {
    DISTILL_CHECK(size() == 1, "Tensor::item(): tensor has ", size(), " elements, expected exactly 1");
    return data_[0];
  }
  //! @}

  //! True when both handles share one buffer start (the same storage, not just equal values).
  bool same_storage(const Tensor& other) const { return data_ == other.data_; }
  //! True when the storage is owned by distill (false for Tensor::view of user memory).
  // A view's storage_ is an aliasing shared_ptr with no owner: its get() is non-null but its use_count() is 0.
  bool owns_data() const { return storage_.use_count() != 0; }

  //! A view with another shape of the same number of elements.
  Tensor reshape(Shape shape) const {
    DISTILL_CHECK(numel(shape) == size(), "Tensor::reshape(): cannot reshape ", show(shape_), " (", size(),
                  " elements) to ", show(shape), " (", numel(shape), " elements)");
    Tensor t = *this;
    t.shape_ = std::move(shape);
    return t;
  }

  //! A view of rows [begin, end) along the first axis.
  Tensor rows(std::size_t begin, std::size_t end) const {
    DISTILL_CHECK(rank() >= 1, "Tensor::rows(): needs rank >= 1, got a scalar");
    DISTILL_CHECK(begin <= end && end <= shape_[0], "Tensor::rows(): range [", begin, ", ", end,
                  ") is outside the first axis of size ", shape_[0]);
    Tensor t = *this;
    const std::size_t stride = shape_[0] ? size() / shape_[0] : 0;
    t.data_ = data_ + begin * stride;
    t.shape_[0] = end - begin;
    return t;
  }
  //! Row i along the first axis, with that axis dropped.
  Tensor row(std::size_t i) const {
    Tensor t = rows(i, i + 1);
    t.shape_.erase(t.shape_.begin());
    return t;
  }

  //! A deep copy with owned storage.
  Tensor clone() const {
    Tensor t = empty(shape_);
    std::copy_n(data_, size(), t.data_);
    return t;
  }

  //! Copies values from `other`, which must have the same number of elements.
  void assign(const Tensor& other) {
    DISTILL_CHECK(other.size() == size(), "Tensor::assign(): source has ", other.size(), " elements, destination ", size());
    std::copy_n(other.data_, size(), data_);
  }
  void fill(T v) { std::fill_n(data_, size(), v); }

  //! True when every element is finite (no NaN, no infinity).
  bool all_finite() const {
    return std::all_of(begin(), end(), [](T v) { return std::isfinite(v); });
  }

  //! Converts to another precision (always a copy).
  template <std::floating_point U>
  Tensor<U> cast() const {
    Tensor<U> t = Tensor<U>::empty(shape_);
    std::transform(begin(), end(), t.begin(), [](T v) { return static_cast<U>(v); });
    return t;
  }

 private:
  void allocate() {
    const std::size_t n = size();
    if (n == 0) {
      storage_.reset();
      data_ = nullptr;
      return;
    }
    DISTILL_CHECK(n <= (std::size_t(1) << 40), "Tensor: refusing to allocate ", n, " elements for shape ", show(shape_));
    const std::size_t bytes = n * sizeof(T);
    T* p = static_cast<T*>(BufferPool::instance().acquire(bytes));
    storage_ = std::shared_ptr<T[]>(p, [bytes](T* q) { BufferPool::instance().release(q, bytes); });
    data_ = p;
  }

  std::size_t offset_of(std::initializer_list<std::size_t> idx) const {
    DISTILL_CHECK(idx.size() == shape_.size(), "Tensor::at(): got ", idx.size(), " indices for a rank-", shape_.size(), " tensor");
    std::size_t off = 0, axis = 0;
    for (auto i : idx) {
      DISTILL_CHECK(i < shape_[axis], "Tensor::at(): index ", i, " out of range for axis ", axis, " of size ", shape_[axis]);
      off = off * shape_[axis] + i;
      ++axis;
    }
    return off;
  }

  Shape shape_;
  std::shared_ptr<T[]> storage_;
  T* data_ = nullptr;
};

//! Largest |a - b| over all elements; shapes must match.
template <std::floating_point T>
T max_abs_diff(const Tensor<T>& a, const Tensor<T>& b) {
  DISTILL_CHECK(a.shape() == b.shape(), "max_abs_diff(): shapes differ: ", show(a.shape()), " vs ", show(b.shape()));
  T m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace distill

#endif  // DISTILL_CORE_TENSOR_HPP
