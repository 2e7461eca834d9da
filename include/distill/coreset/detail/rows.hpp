// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_DETAIL_ROWS_HPP
#define DISTILL_CORESET_DETAIL_ROWS_HPP

/**
 * @file
 * The rows of a feature matrix [N, D] as the geometric selectors stream them: each greedy step reads every row
 * once and takes its dot product with one vector, so the step is bounded by memory bandwidth, not arithmetic.
 *
 * When every value is an exact 8-bit code k/255 (image pixels loaded from IDX / PNG / CIFAR bytes), the rows are
 * kept as those bytes: a quarter of the float traffic, and every dot product and squared distance between two rows
 * is an exact integer (no rounding, so the greedy order is the exact one). Otherwise they stay float, and dot
 * products are accumulated in float lanes (vectorised) then widened to double per row.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"

namespace distill::coreset::detail {

//! Σ a[k]·b[k] over bytes, exact (784 · 255² < 2³¹); GCC vectorises it (widening multiply-add).
inline std::int32_t dot_u8(const std::uint8_t* a, const std::uint8_t* b, std::size_t d) {
  std::int32_t s = 0;
#pragma omp simd reduction(+ : s)
  for (std::size_t k = 0; k < d; ++k) s += std::int32_t(std::int16_t(a[k]) * std::int16_t(b[k]));
  return s;
}

//! Σ a[k]·b[k] in float lanes (vectorised: the reduction may be reassociated), returned as double.
inline double dot_f32(const float* a, const float* b, std::size_t d) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (std::size_t k = 0; k < d; ++k) s += a[k] * b[k];
  return double(s);
}

/**
 * WHAT THIS OBJECT REPRESENTS
 *   N rows of D features, stored as exact bytes (when every value is k/255, k = 0..255) or as float, with their
 *   squared norms precomputed. Dot products and squared norms are in the rows' own units: for byte storage they
 *   are integers in byte units, and scale() = (1/255)² converts them to the data's units.
 */
class RowStore {
 public:
  RowStore() = default;

  /**
   * @param x          [N, ...] (each row is flattened)
   * @param allow_u8   keep exact 8-bit codes as bytes when possible
   */
  template <std::floating_point T>
  explicit RowStore(const Tensor<T>& x, bool allow_u8 = true) {
    DISTILL_CHECK(x.rank() >= 1, "coreset::RowStore: features are a scalar, expected [N, ...]");
    n_ = x.shape(0);
    d_ = n_ ? x.size() / n_ : 0;
    const T* p = x.data();
    bool bytes = allow_u8 && n_ > 0;
    for (std::size_t i = 0; bytes && i < x.size(); ++i) {
      const double v = double(p[i]) * 255.0, r = std::nearbyint(v);
      bytes = r >= 0 && r <= 255 && std::abs(v - r) < 1e-3 && float(r / 255.0) == float(p[i]);
    }
    if (bytes) {
      u8_.resize(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) u8_[i] = std::uint8_t(std::nearbyint(double(p[i]) * 255.0));
    } else {
      f32_.resize(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) f32_[i] = float(p[i]);
    }
    norms_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) norms_[i] = dot(i, i);
  }

  std::size_t rows() const { return n_; }
  std::size_t dim() const { return d_; }
  //! True when the rows are exact 8-bit codes.
  bool bytes() const { return !u8_.empty(); }
  //! Bytes one row occupies (what a step reads per row).
  std::size_t row_bytes() const { return d_ * (bytes() ? 1 : 4); }
  //! Multiply a dot product or squared distance by this to get the data's units.
  double scale() const { return bytes() ? 1.0 / (255.0 * 255.0) : 1.0; }
  //! ‖x_i‖² in row units.
  double norm2(std::size_t i) const { return norms_[i]; }
  //! x_i · x_j in row units (exact for bytes).
  double dot(std::size_t i, std::size_t j) const {
    if (bytes()) return double(dot_u8(&u8_[i * d_], &u8_[j * d_], d_));
    return dot_f32(&f32_[i * d_], &f32_[j * d_], d_);
  }
  //! ‖x_i − x_j‖² in row units, as ‖x_i‖² − 2 x_i·x_j + ‖x_j‖² (clamped at 0 against rounding).
  double distance2(std::size_t i, std::size_t j) const { return std::max(0.0, norms_[i] - 2 * dot(i, j) + norms_[j]); }
  //! x_i · w for a float vector in the data's units (one row; see dots() for all of them).
  double dot_vector(std::size_t i, const float* w) const {
    if (!bytes()) return dot_f32(&f32_[i * d_], w, d_);
    const std::uint8_t* a = &u8_[i * d_];
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (std::size_t k = 0; k < d_; ++k) s += float(a[k]) * w[k];
    return double(s) / 255.0;
  }
  //! Row i in the data's units.
  std::vector<float> row(std::size_t i) const {
    std::vector<float> r(d_);
    for (std::size_t k = 0; k < d_; ++k) r[k] = bytes() ? float(u8_[i * d_ + k]) / 255.0f : f32_[i * d_ + k];
    return r;
  }

 private:
  std::size_t n_ = 0, d_ = 0;
  std::vector<std::uint8_t> u8_;
  std::vector<float> f32_;
  std::vector<double> norms_;
};

}  // namespace distill::coreset::detail

#endif  // DISTILL_CORESET_DETAIL_ROWS_HPP
