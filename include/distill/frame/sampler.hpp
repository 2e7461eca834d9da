// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_FRAME_SAMPLER_HPP
#define DISTILL_FRAME_SAMPLER_HPP

/**
 * @file
 * How every method draws from a LabeledData: class-balanced picks (KIP's target batches, real-image
 * initialisation of a synthetic set, a coreset's random baseline) and shuffled passes in minibatches (training a
 * network, unrolled GD's real batches). Both take their randomness from the caller's Rng or seed (frame/seed.hpp),
 * so a draw is a pure function of (seed, step) and resumes exactly.
 */

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/rng.hpp"
#include "distill/frame/seed.hpp"
#include "distill/io/labeled_data.hpp"

namespace distill::frame {

/**
 * Class-balanced draws without replacement within each class.
 *
 *   ClassBalancedSampler sampler(train);
 *   auto init = sampler.per_class(rng, 10);       // 10 distinct examples of every class, class by class
 *   auto batch = sampler.balanced(rng, 5000);     // 500 per class (the remainder to the first classes)
 */
class ClassBalancedSampler {
 public:
  template <std::floating_point T>
  explicit ClassBalancedSampler(const LabeledData<T>& data) : by_class_(data.num_classes) {
    for (std::size_t c = 0; c < data.num_classes; ++c) by_class_[c] = data.indices_of_class(std::int64_t(c));
  }

  std::size_t classes() const { return by_class_.size(); }
  //! The indices of class c's examples, in data order.
  const std::vector<std::size_t>& of_class(std::size_t c) const { return by_class_.at(c); }

  /**
   * `k` distinct random examples of every class, class 0's first: [c·k, (c+1)·k) are class c's.
   * @throw invalid_argument when a class has fewer than k examples (naming it and `where`)
   */
  std::vector<std::size_t> per_class(Rng& rng, std::size_t k, std::string_view where = "ClassBalancedSampler::per_class()") const {
    std::vector<std::size_t> out;
    out.reserve(k * classes());
    for (std::size_t c = 0; c < classes(); ++c) {
      DISTILL_CHECK(by_class_[c].size() >= k, where, ": class ", c, " has ", by_class_[c].size(),
                    " examples, fewer than the ", k, " needed");
      draw(rng, c, k, out);
    }
    return out;
  }

  /**
   * min(k, |class c|) distinct random examples of class c (all of them, shuffled, when the class is smaller), for
   * methods that take one real batch per class.
   */
  std::vector<std::size_t> of_class_random(Rng& rng, std::size_t c, std::size_t k) const {
    DISTILL_CHECK(c < classes(), "ClassBalancedSampler::of_class_random(): class ", c, " is outside the ", classes(),
                  " classes");
    std::vector<std::size_t> out;
    out.reserve(k);
    draw(rng, c, std::min(by_class_[c].size(), k), out);
    return out;
  }

  /**
   * A batch of m examples, m / C of every class (the first m mod C classes one more), drawn without replacement
   * within each class, class 0's first. A class smaller than its share gives all it has, so the batch may be
   * smaller than m.
   */
  std::vector<std::size_t> balanced(Rng& rng, std::size_t m) const {
    std::vector<std::size_t> out;
    out.reserve(m);
    const std::size_t c_count = classes();
    for (std::size_t c = 0; c < c_count; ++c)
      draw(rng, c, std::min(by_class_[c].size(), m / c_count + (c < m % c_count ? 1 : 0)), out);
    return out;
  }

 private:
  // k distinct examples of class c by a partial Fisher–Yates shuffle of a copy of its indices.
  void draw(Rng& rng, std::size_t c, std::size_t k, std::vector<std::size_t>& out) const {
    scratch_ = by_class_[c];
    for (std::size_t j = 0; j < k; ++j) {
      std::swap(scratch_[j], scratch_[j + rng.uniform_int(scratch_.size() - j)]);
      out.push_back(scratch_[j]);
    }
  }

  std::vector<std::vector<std::size_t>> by_class_;
  mutable std::vector<std::size_t> scratch_;
};

/**
 * Minibatches of shuffled passes over n examples: pass p is the permutation drawn from
 * stream_rng(seed, Stream::pass, p), cut into batches of `batch` (the last one shorter, or dropped with
 * drop_last). batch_at(s) gives the indices of the run's s-th minibatch, so any step can be reached directly.
 */
class ShuffledBatches {
 public:
  ShuffledBatches(std::size_t n, std::size_t batch, std::uint64_t seed, bool drop_last = false)
      : n_(n), batch_(batch), seed_(seed), drop_last_(drop_last) {
    DISTILL_CHECK(batch > 0, "ShuffledBatches: batch is 0, expected at least 1");
    DISTILL_CHECK(n >= (drop_last ? batch : 1), "ShuffledBatches: ", n, " examples cannot fill a batch of ", batch);
  }

  //! Minibatches per pass over the data.
  std::size_t per_pass() const { return drop_last_ ? n_ / batch_ : (n_ + batch_ - 1) / batch_; }
  //! The indices of minibatch s of the run (pass s / per_pass()).
  std::span<const std::size_t> batch_at(std::size_t s) {
    const std::size_t pass = s / per_pass(), b = s % per_pass();
    if (pass != pass_) {
      Rng rng = stream_rng(seed_, Stream::pass, pass);
      order_ = rng.permutation(n_);
      pass_ = pass;
    }
    const std::size_t begin = b * batch_, end = std::min(n_, begin + batch_);
    return std::span<const std::size_t>(order_).subspan(begin, end - begin);
  }

 private:
  std::size_t n_, batch_;
  std::uint64_t seed_;
  bool drop_last_;
  std::size_t pass_ = std::size_t(-1);
  std::vector<std::size_t> order_;
};

/**
 * Copies the images of rows `idx` of `images` [N, ...] into `out` ([idx.size(), ...], reallocated when its shape
 * differs), in parallel for large batches: a method's per-step batch assembly (e.g. 5000 MNIST rows, 15.7 MB).
 */
template <std::floating_point T>
void gather_rows(const Tensor<T>& images, std::span<const std::size_t> idx, Tensor<T>& out) {
  Shape shape = images.shape();
  const std::size_t per = images.size() / std::max<std::size_t>(shape[0], 1);
  shape[0] = idx.size();
  if (out.shape() != shape) out = Tensor<T>::empty(shape);
  const long rows = long(idx.size());
  for (const std::size_t i : idx)
    DISTILL_CHECK(i < images.shape(0), "frame::gather_rows(): index ", i, " is outside the ", images.shape(0), " rows");
#pragma omp parallel for schedule(static) if (rows * long(per) >= (1L << 18))
  for (long r = 0; r < rows; ++r) std::copy_n(images.data() + idx[std::size_t(r)] * per, per, out.data() + std::size_t(r) * per);
}

}  // namespace distill::frame

#endif  // DISTILL_FRAME_SAMPLER_HPP
