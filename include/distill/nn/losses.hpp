// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_LOSSES_HPP
#define DISTILL_NN_LOSSES_HPP

/**
 * @file
 * Losses written with tape ops (so they sit inside unrolled loops and have exact second derivatives) and
 * accuracy. All reduce by the mean over the batch, like PyTorch's defaults.
 */

#include <cstdint>
#include <vector>

#include "distill/autodiff.hpp"

namespace distill::nn {

/**
 * One-hot rows: out[i, labels[i]] = 1.
 * @throw invalid_argument when a label is outside [0, classes).
 */
template <std::floating_point T>
Tensor<T> one_hot(const std::vector<std::int64_t>& labels, std::size_t classes) {
  Tensor<T> out(Shape{labels.size(), classes});
  for (std::size_t i = 0; i < labels.size(); ++i) {
    DISTILL_CHECK(labels[i] >= 0 && std::uint64_t(labels[i]) < classes, "one_hot(): label ", i, " is ", labels[i],
                  ", expected a class index in [0, ", classes, ")");
    out[i * classes + std::size_t(labels[i])] = T(1);
  }
  return out;
}

namespace detail {
template <Backend B>
void check_logits(const ad::Var<B>& logits, const char* where) {
  DISTILL_CHECK(logits.rank() == 2 && logits.shape(0) > 0 && logits.shape(1) > 0, where, ": logits have shape ",
                show(logits.shape()), ", expected [N, K] with N, K > 0");
  DISTILL_CHECK(logits.value().all_finite(), where, ": logits contain NaN or infinity (diverged training? try a smaller lr)");
}
}  // namespace detail

/**
 * Mean cross-entropy −(1/N) Σᵢ log softmax(logitsᵢ)[yᵢ] with hard labels.
 * @param logits [N, K]
 * @param labels N class indices in [0, K)
 * @return a scalar Var
 * @throw invalid_argument on a shape mismatch, a label out of range, or non-finite logits.
 */
template <Backend B>
ad::Var<B> cross_entropy(const ad::Var<B>& logits, const std::vector<std::int64_t>& labels) {
  using T = typename B::Scalar;
  detail::check_logits(logits, "cross_entropy()");
  DISTILL_CHECK(labels.size() == logits.shape(0), "cross_entropy(): ", labels.size(), " labels for ", logits.shape(0),
                " rows of logits");
  // Picking log-probabilities through a constant one-hot mask keeps every derivative order exact and cheap (K ≈ 10).
  const ad::Var<B> mask(one_hot<T>(labels, logits.shape(1)));
  return ad::mul_scalar(ad::sum(ad::mul(ad::log_softmax(logits), mask)), T(-1) / T(labels.size()));
}

/**
 * Mean cross-entropy with soft targets: −(1/N) Σᵢ Σₖ targetsᵢₖ log softmax(logitsᵢ)ₖ. Gradients flow to the
 * targets too, so learned labels (label distillation) train through it. With one-hot targets it equals the
 * hard-label version.
 * @throw invalid_argument when shapes differ or a value is not finite.
 */
template <Backend B>
ad::Var<B> cross_entropy(const ad::Var<B>& logits, const ad::Var<B>& targets) {
  using T = typename B::Scalar;
  detail::check_logits(logits, "cross_entropy()");
  DISTILL_CHECK(targets.shape() == logits.shape(), "cross_entropy(): targets have shape ", show(targets.shape()),
                " but logits have ", show(logits.shape()));
  DISTILL_CHECK(targets.value().all_finite(), "cross_entropy(): targets contain NaN or infinity");
  return ad::mul_scalar(ad::sum(ad::mul(ad::log_softmax(logits), targets)), T(-1) / T(logits.shape(0)));
}

/**
 * Mean squared error over all elements, (1/numel) Σ (pred − target)².
 * @throw invalid_argument when shapes differ, are empty, or pred is not finite.
 */
template <Backend B>
ad::Var<B> mse(const ad::Var<B>& pred, const ad::Var<B>& target) {
  DISTILL_CHECK(pred.shape() == target.shape(), "mse(): pred has shape ", show(pred.shape()), " but target has ",
                show(target.shape()));
  DISTILL_CHECK(pred.size() > 0, "mse(): inputs are empty");
  DISTILL_CHECK(pred.value().all_finite(), "mse(): pred contains NaN or infinity");
  const ad::Var<B> d = ad::sub(pred, target);
  return ad::mean(ad::mul(d, d));
}

/**
 * Fraction of rows whose arg-max equals the label (ties go to the lower index).
 * @throw invalid_argument on a shape mismatch or a label out of range.
 */
template <std::floating_point T>
double accuracy(const Tensor<T>& logits, const std::vector<std::int64_t>& labels) {
  DISTILL_CHECK(logits.rank() == 2 && logits.shape(0) == labels.size(), "accuracy(): logits have shape ",
                show(logits.shape()), " for ", labels.size(), " labels, expected [N, K]");
  if (labels.empty()) return 0.0;
  const std::size_t k = logits.shape(1);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    DISTILL_CHECK(labels[i] >= 0 && std::uint64_t(labels[i]) < k, "accuracy(): label ", i, " is ", labels[i],
                  ", expected a class index in [0, ", k, ")");
    const T* row = logits.data() + i * k;
    std::size_t best = 0;
    for (std::size_t j = 1; j < k; ++j)
      if (row[j] > row[best]) best = j;
    correct += best == std::size_t(labels[i]);
  }
  return double(correct) / double(labels.size());
}
template <Backend B>
double accuracy(const ad::Var<B>& logits, const std::vector<std::int64_t>& labels) {
  return accuracy(logits.value(), labels);
}

//! Number of rows whose arg-max equals the label (for accumulating over batches).
template <std::floating_point T>
std::size_t count_correct(const Tensor<T>& logits, const std::vector<std::int64_t>& labels) {
  return std::size_t(accuracy(logits, labels) * double(labels.size()) + 0.5);
}

}  // namespace distill::nn

#endif  // DISTILL_NN_LOSSES_HPP
