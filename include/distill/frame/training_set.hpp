// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_FRAME_TRAINING_SET_HPP
#define DISTILL_FRAME_TRAINING_SET_HPP

/**
 * @file
 * What every method does to its training set before its first step, written once: check it (labels in range,
 * no NaN, every class present with enough examples) and standardise it per channel into a copy whose statistics go
 * into the returned set, so that test images can be mapped the same way.
 */

#include <concepts>
#include <cstddef>
#include <string_view>

#include "distill/core/error.hpp"
#include "distill/io/labeled_data.hpp"

namespace distill::frame {

/// A checked, [N, C, H, W], optionally standardised training set.
template <std::floating_point T>
struct PreparedData {
  LabeledData<T> data;                     //!< images as given, standardised when asked; labels as given
  io::ChannelStandardization<T> norm;      //!< the map applied (identity when not standardising)
  std::vector<std::size_t> class_counts;   //!< examples per class
};

/// images [N, C, H, W] as they are; [N, H, W] as one channel; [N, features] as [N, 1, 1, features].
template <std::floating_point T>
Tensor<T> as_nchw(const Tensor<T>& images) {
  const Shape& s = images.shape();
  if (s.size() == 4) return images;
  if (s.size() == 3) return images.reshape({s[0], 1, s[1], s[2]});
  const std::size_t n = s.empty() ? 0 : s[0];
  return images.reshape({n, 1, 1, n ? images.size() / n : 0});
}

/**
 * Checks and prepares a method's training set.
 * @param standardize    standardise per channel (into a copy), else use the images as they are
 * @param min_per_class  examples every class must have (at least 1)
 * @param where          the calling method, for messages ("Kip::fit()")
 * @throw invalid_argument on an empty set, an invalid label, NaN or infinite pixels, or a class with fewer than
 *        min_per_class examples (naming the class, its count and what was needed)
 */
template <std::floating_point T>
PreparedData<T> prepare_training_set(const LabeledData<T>& train, bool standardize, std::size_t min_per_class,
                                     std::string_view where) {
  train.validate(where);
  DISTILL_CHECK(!train.empty(), where, ": the training set is empty");
  DISTILL_CHECK(train.images.all_finite(), where, ": training images contain NaN or infinity");
  PreparedData<T> out;
  out.class_counts = train.class_counts();
  for (std::size_t c = 0; c < out.class_counts.size(); ++c) {
    DISTILL_CHECK(out.class_counts[c] > 0, where, ": class ", c, " has no examples, expected every class to be present");
    DISTILL_CHECK(out.class_counts[c] >= min_per_class, where, ": class ", c, " has ", out.class_counts[c],
                  " examples, fewer than the ", min_per_class, " needed");
  }
  const Tensor<T>& images = train.images;
  const std::size_t channels = io::ChannelStandardization<T>::channels_of(images);
  if (standardize) {
    out.norm = io::ChannelStandardization<T>::of(images);
    out.data = {images.clone(), train.labels, train.num_classes};
    out.norm.apply(out.data.images);
  } else {
    out.norm = io::ChannelStandardization<T>::identity(channels);
    out.data = {images, train.labels, train.num_classes};
  }
  return out;
}

}  // namespace distill::frame

#endif  // DISTILL_FRAME_TRAINING_SET_HPP
