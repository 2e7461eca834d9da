// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KNOWLEDGE_SOFT_TARGETS_HPP
#define DISTILL_KNOWLEDGE_SOFT_TARGETS_HPP

/**
 * @file
 * Soft targets at a temperature and the knowledge-distillation objective (Hinton, Vinyals, Dean 2015, Distilling
 * the Knowledge in a Neural Network, NIPS Deep Learning Workshop; arXiv:1503.02531), written with tape ops so
 * that it sits in any training loop or unrolled step and has exact derivatives of every order.
 *
 *   q_i = exp(z_i / T) / Σ_j exp(z_j / T)                               (softmax at temperature T)
 *
 *   L(z; v, y) = w_soft · T² · CE(softmax(v / T), softmax(z / T))  +  w_hard · CE(onehot(y), softmax(z))
 *
 * z are the student's logits, v the teacher's, y the hard labels; both cross-entropies are means over the batch.
 *
 * Why T²: ∂CE(p, q)/∂z_i = (q_i − p_i)/T per example, and in the high-temperature limit with zero-mean logits
 * (q_i ≈ (1 + z_i/T)/K) this is (z_i − v_i)/(K·T²): the soft term's gradients shrink as 1/T². Multiplying by T²
 * keeps their size when T changes, so the relative weight of the hard term means the same at every T (the paper:
 * "it is important to multiply them by T² when using both hard and soft targets").
 *
 * The other common form, "soft + hard / T²" (CE_soft unscaled, CE_hard divided by T²), is this objective divided
 * by T²: use w_soft = 1, w_hard = w and divide the learning rate by T² (or just keep this form; SGD then takes the
 * same steps as the other form at T² times its learning rate). CE against the teacher differs from KL(p ‖ q) by
 * the teacher's entropy, a constant in z: the gradients are the same.
 */

#include <cmath>
#include <cstdint>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/nn/losses.hpp"

namespace distill::knowledge {

namespace detail {
inline void check_temperature(double temperature, const char* where) {
  DISTILL_CHECK(std::isfinite(temperature) && temperature > 0, where, ": temperature is ", temperature,
                ", expected a positive number");
}
}  // namespace detail

/**
 * log softmax(logits / T) over the last axis, on the tape.
 * @throw invalid_argument when T is not positive and finite.
 */
template <Backend B>
ad::Var<B> log_softmax_at(const ad::Var<B>& logits, double temperature) {
  using T = typename B::Scalar;
  detail::check_temperature(temperature, "knowledge::log_softmax_at()");
  return ad::log_softmax(temperature == 1 ? logits : ad::mul_scalar(logits, T(1 / temperature)));
}

/**
 * The soft targets softmax(logits / T) over the last axis, on the tape (q_i = exp(z_i/T) / Σ_j exp(z_j/T)).
 * T = 1 is the ordinary softmax; larger T gives a softer distribution over classes.
 * @throw invalid_argument when T is not positive and finite.
 */
template <Backend B>
ad::Var<B> softmax_at(const ad::Var<B>& logits, double temperature) {
  return ad::exp(log_softmax_at(logits, temperature));
}

/**
 * softmax(logits / T) of a plain tensor [N, K] (no tape): a teacher's soft labels, e.g. to store in a distilled set.
 * @tparam B the backend (default: DefaultBackend<T>)
 * @throw invalid_argument when logits are not [N, K], contain NaN or infinity, or T is not positive.
 */
template <class B = void, std::floating_point T>
Tensor<T> soft_targets(const Tensor<T>& logits, double temperature) {
  using BB = std::conditional_t<std::is_void_v<B>, DefaultBackend<T>, B>;
  DISTILL_CHECK(logits.rank() == 2 && logits.shape(1) > 0, "knowledge::soft_targets(): logits have shape ",
                show(logits.shape()), ", expected [N, K]");
  DISTILL_CHECK(logits.all_finite(), "knowledge::soft_targets(): logits contain NaN or infinity");
  if (logits.shape(0) == 0) return logits.clone();
  return softmax_at(ad::Var<BB>(logits), temperature).value();
}

/**
 * The mean soft cross-entropy −(1/N) Σ_n Σ_i p_ni log softmax(z_n / T)_i between targets p (e.g. a teacher's
 * softmax(v / T)) and the student's logits z at temperature T, *without* the T² factor. Gradients flow to the
 * targets too.
 * @param logits  the student's logits z [N, K]
 * @param targets probabilities p [N, K]
 * @throw invalid_argument on a shape mismatch, non-finite values, or a bad temperature.
 */
template <Backend B>
ad::Var<B> soft_cross_entropy(const ad::Var<B>& logits, const ad::Var<B>& targets, double temperature) {
  using T = typename B::Scalar;
  nn::detail::check_logits(logits, "knowledge::soft_cross_entropy()");
  DISTILL_CHECK(targets.shape() == logits.shape(), "knowledge::soft_cross_entropy(): targets have shape ",
                show(targets.shape()), " but logits have ", show(logits.shape()));
  DISTILL_CHECK(targets.value().all_finite(), "knowledge::soft_cross_entropy(): targets contain NaN or infinity");
  return ad::mul_scalar(ad::sum(ad::mul(log_softmax_at(logits, temperature), targets)), T(-1) / T(logits.shape(0)));
}

/**
 * The weights of the distillation objective (see the file comment):
 *   L = soft_weight · T² · CE(softmax(v/T), softmax(z/T)) + hard_weight · CE(y, softmax(z)).
 * Defaults: the paper's MNIST student, soft targets only at T = 20. Training on hard labels alone is
 * {.soft_weight = 0, .hard_weight = 1} (then no teacher is needed).
 */
struct KdObjective {
  double temperature = 20;  //!< T of both softmaxes of the soft term
  double soft_weight = 1;   //!< weight of the T²-scaled soft term
  double hard_weight = 0;   //!< weight of the hard-label cross-entropy at T = 1 (the CLI's --alpha)

  bool uses_teacher() const { return soft_weight != 0; }
  bool uses_labels() const { return hard_weight != 0; }

  //! @throw invalid_argument naming the bad field.
  void validate(const char* where = "knowledge::KdObjective::validate()") const {
    detail::check_temperature(temperature, where);
    DISTILL_CHECK(std::isfinite(soft_weight) && soft_weight >= 0, where, ": soft_weight is ", soft_weight,
                  ", expected >= 0");
    DISTILL_CHECK(std::isfinite(hard_weight) && hard_weight >= 0, where, ": hard_weight is ", hard_weight,
                  ", expected >= 0");
    DISTILL_CHECK(soft_weight > 0 || hard_weight > 0, where, ": soft_weight and hard_weight are both 0");
  }
};

/**
 * The distillation loss of a batch (file comment), on the tape: differentiable in the student's logits and,
 * through the soft term, in the teacher's logits.
 * @param student_logits z [N, K]
 * @param teacher_logits v [N, K]; may be an empty Var when o.soft_weight is 0
 * @param labels         N hard labels in [0, K); may be empty when o.hard_weight is 0
 * @return a scalar Var
 * @throw invalid_argument on shape mismatches, labels out of range, non-finite logits or a bad objective.
 */
template <Backend B>
ad::Var<B> kd_loss(const ad::Var<B>& student_logits, const ad::Var<B>& teacher_logits,
                   const std::vector<std::int64_t>& labels, const KdObjective& o) {
  using T = typename B::Scalar;
  o.validate("knowledge::kd_loss()");
  nn::detail::check_logits(student_logits, "knowledge::kd_loss()");
  ad::Var<B> loss;
  if (o.uses_teacher()) {
    DISTILL_CHECK(teacher_logits.shape() == student_logits.shape(), "knowledge::kd_loss(): teacher logits have shape ",
                  show(teacher_logits.shape()), " but student logits have ", show(student_logits.shape()));
    DISTILL_CHECK(teacher_logits.value().all_finite(), "knowledge::kd_loss(): teacher logits contain NaN or infinity");
    const ad::Var<B> p = softmax_at(teacher_logits, o.temperature);
    loss = ad::mul_scalar(soft_cross_entropy(student_logits, p, o.temperature),
                          T(o.soft_weight * o.temperature * o.temperature));
  }
  if (o.uses_labels()) {
    const ad::Var<B> hard = ad::mul_scalar(nn::cross_entropy(student_logits, labels), T(o.hard_weight));
    loss = o.uses_teacher() ? ad::add(loss, hard) : hard;
  }
  return loss;
}

}  // namespace distill::knowledge

#endif  // DISTILL_KNOWLEDGE_SOFT_TARGETS_HPP
