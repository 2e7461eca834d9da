// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_LABELED_DATA_HPP
#define DISTILL_IO_LABELED_DATA_HPP

/**
 * @file
 * LabeledData<T>: a batch of images with one integer class label each, the currency between the loaders in
 * io/ and the methods above (distillation, coreset selection, evaluation).
 */

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"

namespace distill {

/**
 * WHAT THIS OBJECT REPRESENTS
 *   N labelled examples: `images` has shape [N, C, H, W] (or any [N, ...] for non-image data), and
 *   `labels[i]` in [0, num_classes) is the class of images.row(i). `num_classes` is kept explicitly,
 *   because a subset (or a small distilled set) need not contain every class.
 *
 *   Like Tensor, copying a LabeledData shares the image storage; subset() makes a deep copy.
 */
template <std::floating_point T = float>
struct LabeledData {
  Tensor<T> images;                  //!< [N, C, H, W]
  std::vector<std::int64_t> labels;  //!< N class indices in [0, num_classes)
  std::size_t num_classes = 0;       //!< number of classes (labels may not use all of them)

  //! Number of examples N.
  std::size_t size() const { return labels.size(); }
  //! True when there are no examples.
  bool empty() const { return labels.empty(); }

  /**
   * Checks the invariants; call it where a LabeledData enters an algorithm.
   * @param where  the calling function, for messages ("Kip::fit()").
   * @throw invalid_argument when images has rank < 2, its first axis differs from labels.size(),
   *        num_classes is 0 while there are labels, or a label is negative or >= num_classes.
   */
  void validate(std::string_view where = "LabeledData::validate()") const {
    DISTILL_CHECK(images.rank() >= 2, where, ": images have shape ", show(images.shape()),
                  ", expected rank >= 2 ([N, C, H, W] or [N, features])");
    DISTILL_CHECK(images.shape(0) == labels.size(), where, ": images have ", images.shape(0), " rows but there are ",
                  labels.size(), " labels, expected one label per image");
    DISTILL_CHECK(num_classes > 0 || labels.empty(), where, ": num_classes is 0 but there are ", labels.size(), " labels");
    for (std::size_t i = 0; i < labels.size(); ++i) {
      DISTILL_CHECK(labels[i] >= 0 && static_cast<std::uint64_t>(labels[i]) < num_classes, where, ": label ", i, " is ",
                    labels[i], ", expected a class index in [0, ", num_classes, ")");
    }
  }

  /**
   * The examples at `indices`, in that order (repeats allowed), as a deep copy with the same num_classes.
   * @throw invalid_argument when an index is >= size().
   */
  LabeledData subset(std::span<const std::size_t> indices) const {
    DISTILL_CHECK(images.rank() >= 1 && images.shape(0) == labels.size(), "LabeledData::subset(): images have shape ",
                  show(images.shape()), " but there are ", labels.size(), " labels");
    Shape shape = images.shape();
    shape[0] = indices.size();
    const std::size_t stride = labels.empty() ? 0 : images.size() / labels.size();
    LabeledData out{Tensor<T>::empty(shape), std::vector<std::int64_t>(indices.size()), num_classes};
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const std::size_t i = indices[k];
      DISTILL_CHECK(i < labels.size(), "LabeledData::subset(): index ", k, " is ", i, ", expected < ", labels.size(),
                    " (the number of examples)");
      std::copy_n(images.data() + i * stride, stride, out.images.data() + k * stride);
      out.labels[k] = labels[i];
    }
    return out;
  }
  LabeledData subset(const std::vector<std::size_t>& indices) const { return subset(std::span<const std::size_t>(indices)); }

  //! The first `n` examples (a deep copy); n is clamped to size().
  LabeledData head(std::size_t n) const {
    std::vector<std::size_t> idx(std::min(n, size()));
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    return subset(idx);
  }

  //! How many examples each class has (length num_classes). @throw invalid_argument on an out-of-range label.
  std::vector<std::size_t> class_counts() const {
    std::vector<std::size_t> counts(num_classes, 0);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      DISTILL_CHECK(labels[i] >= 0 && static_cast<std::uint64_t>(labels[i]) < num_classes, "LabeledData::class_counts(): label ",
                    i, " is ", labels[i], ", expected a class index in [0, ", num_classes, ")");
      ++counts[static_cast<std::size_t>(labels[i])];
    }
    return counts;
  }

  //! Indices of the examples of class `c`, in order.
  std::vector<std::size_t> indices_of_class(std::int64_t c) const {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == c) idx.push_back(i);
    return idx;
  }
};

namespace io {
using distill::LabeledData;
}  // namespace io

}  // namespace distill

#endif  // DISTILL_IO_LABELED_DATA_HPP
