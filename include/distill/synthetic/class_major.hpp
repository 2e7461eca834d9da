// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_CLASS_MAJOR_HPP
#define DISTILL_SYNTHETIC_CLASS_MAJOR_HPP

/**
 * @file
 * The class-major synthetic set of the per-class matching methods (DC, DM): n images per class, class c's at rows
 * [c·n, (c+1)·n), hard labels. They share how the set starts (n random real images per class, or N(0, 1) noise in
 * the standardised space), how one class's rows are taken out and their gradient put back, how each iteration
 * draws a real batch per class with one siamese DSA draw for it, and how the rows become a DistilledSet.
 */

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distill/core.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/seed.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/synthetic/dsa.hpp"

namespace distill::synthetic::detail {

/**
 * The starting images, [C·n, ...] class-major: n distinct random real images of every class (from_real), or N(0, 1)
 * noise of the data's image shape; drawn from the init stream of `seed`.
 * @throw invalid_argument (naming `where`) when from_real and a class has fewer than n images
 */
template <class T>
Tensor<T> initial_class_major(const LabeledData<T>& data, const frame::ClassBalancedSampler& sampler, std::size_t n,
                              bool from_real, std::uint64_t seed, const char* where) {
  Shape shape = data.images.shape();
  shape[0] = n * data.num_classes;
  Rng rng = frame::stream_rng(seed, frame::Stream::init);
  Tensor<T> images = Tensor<T>::empty(shape);
  if (from_real) {
    frame::gather_rows(data.images, sampler.per_class(rng, n, where), images);
  } else {
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = T(rng.normal());
  }
  return images;
}

//! Class c's n rows of a class-major `images`, copied out (so they can go on a tape of their own).
template <class T>
Tensor<T> class_rows(const Tensor<T>& images, std::size_t c, std::size_t n) {
  Shape shape = images.shape();
  shape[0] = n;
  Tensor<T> rows = Tensor<T>::empty(shape);
  const std::size_t count = rows.size();
  std::copy_n(images.data() + c * count, count, rows.data());
  return rows;
}

//! Writes `rows` (class c's n rows, e.g. their gradient) into a class-major `images`.
template <class T>
void set_class_rows(Tensor<T>& images, std::size_t c, const Tensor<T>& rows) {
  std::copy_n(rows.data(), rows.size(), images.data() + c * rows.size());
}

/**
 * One iteration's real side: per class, min(batch, |class|) distinct random real images, and one DSA draw that the
 * method applies to both that batch and the class's synthetic images (siamese). The buffers are reused across
 * iterations.
 */
template <class T>
struct ClassBatches {
  std::vector<Tensor<T>> real;  //!< real[c]: class c's batch, [b_c, C, H, W]
  std::vector<DsaDraw> draws;   //!< draws[c]: class c's augmentation parameters

  void draw(const LabeledData<T>& data, const frame::ClassBalancedSampler& sampler, std::size_t batch,
            const Dsa& dsa, Rng& rng) {
    const std::size_t classes = sampler.classes(), h = data.images.shape(2), w = data.images.shape(3);
    real.resize(classes);
    draws.resize(classes);
    for (std::size_t c = 0; c < classes; ++c) {
      const auto picks = sampler.of_class_random(rng, c, batch);
      frame::gather_rows(data.images, std::span<const std::size_t>(picks), real[c]);
      draws[c] = dsa.draw(rng, h, w);
    }
  }
};

//! The hard label of each row of a class-major set of n images per class: row i is class i / n.
inline std::vector<std::int64_t> class_major_labels(std::size_t n, std::size_t classes) {
  std::vector<std::int64_t> labels(n * classes);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = std::int64_t(i / n);
  return labels;
}

/**
 * The result: `images` (standardised, class-major, n per class) with hard labels, the standardisation of
 * `prepared`, the method's name and its options.
 */
template <class T>
io::DistilledSet<T> class_major_set(Tensor<T> images, std::size_t n, const frame::PreparedData<T>& prepared,
                                    std::string method, std::string options_json) {
  io::DistilledSet<T> out;
  const std::size_t classes = prepared.data.num_classes;
  out.images = std::move(images);
  out.labels = Tensor<T>({n * classes});
  for (std::size_t i = 0; i < n * classes; ++i) out.labels[i] = T(i / n);
  out.mean = prepared.norm.mean;
  out.stddev = prepared.norm.stddev;
  out.num_classes = classes;
  out.method = std::move(method);
  out.options_json = std::move(options_json);
  return out;
}

}  // namespace distill::synthetic::detail

#endif  // DISTILL_SYNTHETIC_CLASS_MAJOR_HPP
