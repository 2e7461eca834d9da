// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_LABELED_DATA_HPP
#define DISTILL_IO_LABELED_DATA_HPP

/**
 * @file
 * LabeledData<T>: a batch of images with one integer class label each, the currency between the loaders in
 * io/ and the methods above (distillation, coreset selection, evaluation); and io::standardize(), the global
 * pixel standardisation applied to such images before a method sees them.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
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
 *   Like Tensor, copying a LabeledData shares the image storage; subset() and where() make a deep copy.
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

  /**
   * The examples whose label satisfies `keep`, in their original order, as a deep copy with the same num_classes
   * (so a class filter keeps the label space: `test.where([](std::int64_t y) { return y < 5; })` still has 10
   * classes).
   * @param keep  a predicate on a class label, called once per example in order
   * @throw invalid_argument when images and labels disagree on the number of examples (as subset()).
   */
  template <class Pred>
    requires std::predicate<Pred&, std::int64_t>
  LabeledData where(Pred keep) const {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (std::invoke(keep, labels[i])) idx.push_back(i);
    return subset(idx);
  }

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

/// The normalisation x ↦ (x − mean) / stddev that io::standardize() applied; save it with a distilled set.
template <std::floating_point T>
struct Standardization {
  T mean = 0;    //!< mean of the reference tensor
  T stddev = 1;  //!< population standard deviation of the reference tensor (> 0)
};

/**
 * Standardises tensors in place with the global mean and (population) standard deviation of the first one, the
 * reference (typically the training images): every value x of every tensor becomes (x − mean) / stddev. The
 * other tensors (test images, a second data set) get the reference's statistics, never their own. The statistics
 * are accumulated in double in two passes, and the values are mapped in double. One mean and stddev over all
 * pixels is the per-channel standardisation of one-channel data such as MNIST.
 *
 *   auto train = dd::io::load_mnist<float>("train"), test = dd::io::load_mnist<float>("test");
 *   const auto norm = dd::io::standardize({&train.images, &test.images});   // norm.mean, norm.stddev
 *
 * @param tensors  the reference first, then any others (which may be empty); none null, no two sharing storage
 * @return the mean and standard deviation of the reference before it was standardised
 * @throw invalid_argument when `tensors` is empty, an entry is null, two entries share storage (they would be
 *        standardised twice), or the reference tensors[0] is empty, holds NaN or infinity, or is constant
 *        (zero spread); nothing is modified then.
 */
template <std::floating_point T>
Standardization<T> standardize(std::initializer_list<Tensor<T>*> tensors) {
  DISTILL_CHECK(tensors.size() > 0, "io::standardize(): tensors is empty, expected the reference tensor first");
  Tensor<T>* const* list = tensors.begin();
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    DISTILL_CHECK(list[k] != nullptr, "io::standardize(): tensors[", k, "] is null");
    for (std::size_t j = 0; j < k; ++j)
      DISTILL_CHECK(list[k]->size() == 0 || !list[k]->same_storage(*list[j]), "io::standardize(): tensors[", k,
                    "] shares storage with tensors[", j, "], which would standardise it twice");
  }
  const Tensor<T>& ref = *list[0];
  const std::size_t n = ref.size();
  DISTILL_CHECK(n > 0, "io::standardize(): tensors[0] (the reference) has shape ", show(ref.shape()),
                ", expected at least one value");
  double sum = 0;
  for (T v : ref) sum += double(v);
  const double mean = sum / double(n);
  DISTILL_CHECK(std::isfinite(mean), "io::standardize(): tensors[0] (the reference) contains NaN or infinity");
  double ss = 0;
  for (T v : ref) ss += (double(v) - mean) * (double(v) - mean);
  const double sd = std::sqrt(ss / double(n));
  const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
  DISTILL_CHECK(*lo != *hi, "io::standardize(): tensors[0] (the reference) has zero spread (all ", n, " values are ", *lo,
                "), expected values that differ");
  DISTILL_CHECK(std::isfinite(sd) && sd > 0, "io::standardize(): tensors[0] (the reference) has standard deviation ", sd,
                " (values in [", *lo, ", ", *hi, "]), expected a finite positive one");
  for (Tensor<T>* t : tensors)
    for (T& v : *t) v = T((double(v) - mean) / sd);
  return {T(mean), T(sd)};
}

/**
 * Per-channel standardisation x ↦ (x − mean[c]) / stddev[c] of images [N, C, ...] ([N, features] counts as one
 * channel): what every method applies to its training images and records in the set it returns, so the same map
 * can be applied to test images later. Statistics are accumulated in double.
 *
 *   const auto norm = io::ChannelStandardization<float>::of(train.images);
 *   auto train_n = norm.applied_to(train), test_n = norm.applied_to(test);
 */
template <std::floating_point T>
struct ChannelStandardization {
  Tensor<T> mean;    //!< [C]
  Tensor<T> stddev;  //!< [C], > 0 (a constant channel gets 1)

  //! The identity map for C channels (mean 0, stddev 1).
  static ChannelStandardization identity(std::size_t channels) {
    return {Tensor<T>({channels}, T(0)), Tensor<T>({channels}, T(1))};
  }

  //! Channels of images [N, C, H, W]: C; any other rank counts as one channel.
  static std::size_t channels_of(const Tensor<T>& images) { return images.rank() == 4 ? images.shape(1) : 1; }

  /**
   * The per-channel mean and population standard deviation of `images`.
   * @throw invalid_argument when images is empty or holds NaN or infinity
   */
  static ChannelStandardization of(const Tensor<T>& images) {
    DISTILL_CHECK(images.rank() >= 2 && images.size() > 0, "io::ChannelStandardization::of(): images have shape ",
                  show(images.shape()), ", expected a non-empty [N, C, H, W]");
    const std::size_t n = images.shape(0), c = channels_of(images), per = images.size() / (n * c);
    ChannelStandardization out{Tensor<T>({c}), Tensor<T>({c})};
    for (std::size_t ch = 0; ch < c; ++ch) {
      double s = 0, s2 = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const T* p = images.data() + (i * c + ch) * per;
        for (std::size_t k = 0; k < per; ++k) s += double(p[k]), s2 += double(p[k]) * double(p[k]);
      }
      const double cnt = double(n * per), mu = s / cnt, var = std::max(s2 / cnt - mu * mu, 0.0);
      DISTILL_CHECK(std::isfinite(mu) && std::isfinite(var), "io::ChannelStandardization::of(): channel ", ch,
                    " contains NaN or infinity");
      out.mean[ch] = T(mu);
      out.stddev[ch] = T(var > 0 ? std::sqrt(var) : 1.0);
    }
    return out;
  }

  /// Standardises `images` in place. @throw invalid_argument when its channel count is not mean's
  void apply(Tensor<T>& images) const {
    const std::size_t c = mean.size();
    DISTILL_CHECK(images.rank() >= 2 && channels_of(images) == c, "io::ChannelStandardization::apply(): images have shape ",
                  show(images.shape()), " but the standardisation has ", c, " channels");
    const std::size_t per = images.size() / std::max<std::size_t>(images.shape(0) * c, 1);
    T* p = images.data();
    const long rows = long(images.shape(0) * c);
#pragma omp parallel for schedule(static) if (images.size() >= (1u << 20))
    for (long r = 0; r < rows; ++r) {
      const std::size_t ch = std::size_t(r) % c;
      const double mu = double(mean[ch]), inv = 1.0 / double(stddev[ch]);
      T* row = p + std::size_t(r) * per;
      for (std::size_t k = 0; k < per; ++k) row[k] = T((double(row[k]) - mu) * inv);
    }
  }

  /// A standardised deep copy of `data`.
  LabeledData<T> applied_to(const LabeledData<T>& data) const {
    LabeledData<T> out{data.images.clone(), data.labels, data.num_classes};
    apply(out.images);
    return out;
  }
};

}  // namespace io

}  // namespace distill

#endif  // DISTILL_IO_LABELED_DATA_HPP
