// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_BARS_HPP
#define DISTILL_TESTS_SUPPORT_BARS_HPP

// A tiny image problem for the matching methods' tests (DC, DM, MTT), which need real 2-d images for ConvNet-3:
// per class, 8x8 one-channel images with a bright bar (2.0) on row 2c + 1 plus noise of std 0.5, class by class;
// and the two-block ConvNet that reads them, small enough for gradient checks in double.
#include <cstddef>
#include <cstdint>

#include "distill/core/rng.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/models.hpp"

template <class T>
distill::LabeledData<T> bars(std::size_t per_class, std::size_t classes, std::uint64_t seed) {
  distill::Rng rng(seed);
  distill::LabeledData<T> d{distill::Tensor<T>({per_class * classes, 1, 8, 8}), {}, classes};
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t k = 0; k < per_class; ++k) {
      const std::size_t i = c * per_class + k;
      for (std::size_t p = 0; p < 64; ++p) d.images[i * 64 + p] = T((p / 8 == 2 * c + 1 ? 2.0 : 0.0) + 0.5 * rng.normal());
      d.labels.push_back(std::int64_t(c));
    }
  return d;
}

inline distill::nn::ConvNet tiny_net(std::size_t classes, std::size_t width = 4) {
  return distill::nn::ConvNet{.channels = 1, .classes = classes, .width = width, .depth = 2, .image_size = 8};
}

#endif  // DISTILL_TESTS_SUPPORT_BARS_HPP
