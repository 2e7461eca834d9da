// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KNOWLEDGE_SOFT_LABELS_HPP
#define DISTILL_KNOWLEDGE_SOFT_LABELS_HPP

/**
 * @file
 * A teacher's soft labels for any distilled set (synthetic images, or selected real ones): the set's images keep
 * their bytes, its labels become softmax(teacher(images) / T) [N, K].
 *
 * Why: modern distillation papers often train on a set with a teacher's soft labels and compare with methods
 * evaluated on hard labels, which overstates the gain (the labels carry the teacher's knowledge, whatever the
 * images are). Relabelling every set with the same teacher and evaluating both protocols side by side
 * (`evaluate_set original.npz relabelled.npz`: hard-label accuracy of the first, stored-label accuracy of the
 * second) separates what the images give from what the labels give.
 *
 * A set's images live in its own space (DistilledSet::mean / stddev: x_set = (x − mean) / stddev); the teacher
 * sees them mapped back, x = x_set · stddev + mean, in the space `teacher_mean` / `teacher_stddev` it was trained in
 * (empty = raw pixels).
 */

#include <string>

#include "distill/core.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/knowledge/distill.hpp"
#include "distill/knowledge/soft_targets.hpp"
#include "distill/nn/params.hpp"

namespace distill::knowledge {

namespace detail {
//! x · stddev + mean per channel of an NCHW tensor (`to_raw`), or its inverse; empty statistics are the identity.
template <std::floating_point T>
Tensor<T> map_channels(const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& stddev, bool to_raw, const char* where) {
  if (mean.size() == 0 && stddev.size() == 0) return x;
  DISTILL_CHECK(x.rank() == 4, where, ": images with channel statistics must be NCHW, got ", show(x.shape()));
  const std::size_t c = x.shape(1), plane = x.shape(2) * x.shape(3);
  DISTILL_CHECK((mean.size() == 0 || mean.size() == c) && (stddev.size() == 0 || stddev.size() == c), where,
                ": channel statistics have ", mean.size(), " means and ", stddev.size(), " deviations for ", c, " channels");
  Tensor<T> out = x.clone();
  for (std::size_t i = 0; i < x.shape(0); ++i)
    for (std::size_t ch = 0; ch < c; ++ch) {
      const T m = mean.size() ? mean[ch] : T(0), s = stddev.size() ? stddev[ch] : T(1);
      DISTILL_CHECK(s > 0, where, ": channel ", ch, " has standard deviation ", s);
      T* p = out.data() + (i * c + ch) * plane;
      for (std::size_t k = 0; k < plane; ++k) p[k] = to_raw ? p[k] * s + m : (p[k] - m) / s;
    }
  return out;
}
}  // namespace detail

/// What relabel_with_teacher() writes.
template <std::floating_point T = float>
struct RelabelOptions {
  double temperature = 1;  //!< T of softmax(teacher(x) / T)
  /**
   * Store log softmax(z / T) instead of the probabilities. evaluate_set's cross-entropy protocol trains against
   * softmax(labels / τ), so with τ = 1 these labels give exactly the teacher's probabilities as targets
   * (`evaluate_set --stored-objective ce --temperature 1`); probabilities suit its MSE protocol.
   */
  bool log_probabilities = false;
  Tensor<T> teacher_mean{};    //!< the teacher's input space: per-channel mean (empty: raw pixels)
  Tensor<T> teacher_stddev{};  //!< and standard deviation (empty: 1)
};

/**
 * The set relabelled with the teacher's temperature-T probabilities (file comment); images, statistics, step sizes
 * and extra arrays are kept, `method` gets a "+soft_labels" suffix and options_json records the teacher's
 * temperature, the label form and the original method.
 * @tparam B the backend (default: DefaultBackend<T>)
 * @throw invalid_argument when the set is invalid or empty, the temperature is not positive, or the teacher's
 *        logits do not have the set's class count
 */
template <class B = void, class M, std::floating_point T>
io::DistilledSet<T> relabel_with_teacher(const io::DistilledSet<T>& set, const M& teacher, const nn::Params<T>& params,
                                         const RelabelOptions<T>& o = {}) {
  using BB = detail::backend_or_default<B, T>;
  set.validate("knowledge::relabel_with_teacher()");
  DISTILL_CHECK(set.size() > 0, "knowledge::relabel_with_teacher(): the set is empty");
  const Tensor<T> raw = detail::map_channels(set.images, set.mean, set.stddev, true, "knowledge::relabel_with_teacher()");
  const Tensor<T> input =
      detail::map_channels(raw, o.teacher_mean, o.teacher_stddev, false, "knowledge::relabel_with_teacher()");
  const Tensor<T> z = logits_of<BB>(teacher, params, input);
  DISTILL_CHECK(z.shape(1) == set.classes(), "knowledge::relabel_with_teacher(): the teacher returns ", z.shape(1),
                " logits per image but the set has ", set.classes(), " classes");
  io::DistilledSet<T> out = set;
  out.images = set.images.clone();
  out.labels = o.log_probabilities ? log_softmax_at(ad::Var<BB>(z), o.temperature).value() : soft_targets<BB>(z, o.temperature);
  out.num_classes = z.shape(1);
  out.method = set.method + "+soft_labels";
  out.options_json = io::JsonObject{}
                         .add("relabelled_by", "knowledge::relabel_with_teacher")
                         .add("temperature", o.temperature)
                         .add("labels", o.log_probabilities ? "log_probabilities" : "probabilities")
                         .add("original_method", set.method)
                         .str();
  return out;
}

}  // namespace distill::knowledge

#endif  // DISTILL_KNOWLEDGE_SOFT_LABELS_HPP
