// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_BLOBS_HPP
#define DISTILL_TESTS_SUPPORT_BLOBS_HPP

// A small, easy image classification problem for the synthesizers' tests: per class, Gaussian noise around a
// class mean (1.5 on every feature f with f % classes == class) in 12 dimensions, shaped [N, 1, 3, 4] like
// images, class by class.
#include <cstddef>
#include <cstdint>

#include "distill/core/rng.hpp"
#include "distill/io/labeled_data.hpp"

inline distill::LabeledData<float> image_blobs(std::size_t per_class, std::size_t classes, std::uint64_t seed) {
  distill::Rng rng(seed);
  distill::LabeledData<float> d{distill::Tensor<float>({per_class * classes, 1, 3, 4}), {}, classes};
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t k = 0; k < per_class; ++k) {
      const std::size_t i = c * per_class + k;
      for (std::size_t f = 0; f < 12; ++f) d.images[i * 12 + f] = float((f % classes == c ? 1.5 : 0.0) + rng.normal());
      d.labels.push_back(std::int64_t(c));
    }
  return d;
}

#endif  // DISTILL_TESTS_SUPPORT_BLOBS_HPP
