// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KNOWLEDGE_DISTILL_HPP
#define DISTILL_KNOWLEDGE_DISTILL_HPP

/**
 * @file
 * Teacher → student training (Hinton, Vinyals, Dean 2015, Distilling the Knowledge in a Neural Network,
 * arXiv:1503.02531), on the shared outer loop (frame/outer_loop.hpp):
 *
 *   teacher:  for each minibatch (x, y):  x ← jitter(x)  (random translations of up to `jitter` pixels)
 *                                          ℓ ← CE(teacher.forward_train(θ, x, rng), y)     (dropout, if it has it)
 *                                          θ ← SGD(θ, ∇θ ℓ)
 *   student:  v ← teacher(X_transfer)      once, in evaluation mode, cached  (per batch instead when jittering)
 *             for each minibatch (x, y, v):  ℓ ← T²·CE(softmax(v/T), softmax(z/T)) + α·CE(y, softmax(z)),
 *                                            z = student.forward_train(θ, x, rng)
 *                                            θ ← SGD(θ, ∇θ ℓ)
 *
 * Both are one function, fit(), with a different KdObjective (soft_targets.hpp): the teacher's is hard labels only.
 * The transfer set can leave a class out or keep only a fraction of the data (make_transfer_set), and a student
 * that never saw a class can have that class's output bias raised afterwards (shift_class_bias; the paper raises
 * class 3's by 3.5). Training is SGD with momentum and a cosine learning-rate decay per step; checkpoints hold
 * the parameters, the momentum buffers and the epoch's running sums, so a resumed run lands on the same bytes.
 */

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/eval/train.hpp"
#include "distill/frame/checkpoint_state.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/seed.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/knowledge/dropout.hpp"
#include "distill/knowledge/soft_targets.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/nn/params.hpp"
#include "distill/synthetic/augment.hpp"

namespace distill::knowledge {

/**
 * How fit() trains: minibatch SGD with momentum, the learning rate decayed from `lr` to 0 by a cosine over all
 * steps, optional input jitter.
 */
struct FitOptions {
  std::size_t epochs = 10;
  std::size_t batch_size = 128;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0;
  std::size_t jitter = 0;  //!< > 0: translate each training image by up to this many pixels (NCHW data only)
  std::uint64_t seed = 0;  //!< minibatch order, dropout masks and jitter
  std::filesystem::path resume_from{};  //!< a checkpoint of the same run (callbacks::Checkpoint): continue from it
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;

  //! @throw invalid_argument naming the bad field.
  void validate(const char* where) const {
    DISTILL_CHECK(epochs > 0, where, ": epochs is 0, expected at least 1");
    DISTILL_CHECK(batch_size > 0, where, ": batch_size is 0, expected at least 1");
    DISTILL_CHECK(lr > 0 && std::isfinite(lr), where, ": lr is ", lr, ", expected a positive number");
    DISTILL_CHECK(momentum >= 0 && momentum < 1, where, ": momentum is ", momentum, ", expected [0, 1)");
    DISTILL_CHECK(weight_decay >= 0 && std::isfinite(weight_decay), where, ": weight_decay is ", weight_decay,
                  ", expected >= 0");
  }
};

//! What fit() reports.
struct FitResult {
  std::size_t steps = 0;             //!< optimizer steps taken (including those before a resume)
  std::size_t epochs = 0;            //!< epochs completed
  double loss = 0;                   //!< mean training loss of the last epoch
  std::vector<double> epoch_losses;  //!< mean training loss of each epoch completed in this call
  bool stopped_early = false;        //!< a callback asked to stop
  double seconds = 0;                //!< wall time
};

namespace detail {
template <class B, class T>
using backend_or_default = std::conditional_t<std::is_void_v<B>, DefaultBackend<T>, B>;
}  // namespace detail

/**
 * A model's logits on `images` [N, ...] in evaluation mode (forward, no tape), in batches: the teacher's cached
 * logits of a transfer set.
 * @tparam B the backend (default: DefaultBackend<T>)
 * @throw invalid_argument when the images are empty or the model rejects them.
 */
template <class B = void, class M, std::floating_point T>
Tensor<T> logits_of(const M& model, const nn::Params<T>& params, const Tensor<T>& images, std::size_t batch_size = 1024) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_BACKEND(BB, "distill::knowledge::logits_of");
  DISTILL_REQUIRE_MODEL(M, BB, "distill::knowledge::logits_of");
  DISTILL_CHECK(images.rank() >= 2 && images.shape(0) > 0, "knowledge::logits_of(): images have shape ",
                show(images.shape()), ", expected [N, ...] with N > 0");
  DISTILL_CHECK(batch_size > 0, "knowledge::logits_of(): batch_size is 0");
  const auto theta = nn::constants<BB>(params);
  Tensor<T> out;
  for (std::size_t b = 0; b < images.shape(0); b += batch_size) {
    const std::size_t e = std::min(images.shape(0), b + batch_size);
    const Tensor<T> z = model.template forward<BB>(theta, ad::Var<BB>(images.rows(b, e))).value();
    DISTILL_CHECK(z.rank() == 2, "knowledge::logits_of(): the model returns shape ", show(z.shape()), ", expected [N, K]");
    if (b == 0) out = Tensor<T>::empty(Shape{images.shape(0), z.shape(1)});
    std::copy_n(z.data(), z.size(), out.data() + b * z.shape(1));
  }
  return out;
}

//! Test errors of a classifier, overall and per class (the paper reports errors out of 10,000, and on the 3s).
struct ErrorCount {
  std::size_t errors = 0;                     //!< misclassified examples
  std::size_t total = 0;                      //!< examples
  std::vector<std::size_t> class_errors;      //!< misclassified examples of each true class
  std::vector<std::size_t> class_totals;      //!< examples of each true class
  double rate() const { return total ? double(errors) / double(total) : 0.0; }
};

namespace detail {
// The errors of the arg-max (ties: the lower class) of each row of `scores` [N, K] (logits or probabilities).
template <class S, std::floating_point T>
ErrorCount count_argmax_errors(const S* scores, const LabeledData<T>& data) {
  const std::size_t k = data.num_classes;
  ErrorCount c{.class_errors = std::vector<std::size_t>(k), .class_totals = std::vector<std::size_t>(k)};
  for (std::size_t i = 0; i < data.size(); ++i) {
    const S* row = scores + i * k;
    const auto y = std::size_t(data.labels[i]);
    const auto best = std::size_t(std::max_element(row, row + k) - row);
    ++c.class_totals[y];
    ++c.total;
    if (best != y) {
      ++c.errors;
      ++c.class_errors[y];
    }
  }
  return c;
}
}  // namespace detail

/**
 * Counts the examples of `data` whose arg-max logit (ties: the lower class) is not the label.
 * @tparam B the backend (default: DefaultBackend<T>)
 * @throw invalid_argument on invalid data or logits of the wrong width.
 */
template <class B = void, class M, std::floating_point T>
ErrorCount count_errors(const M& model, const nn::Params<T>& params, const LabeledData<T>& data) {
  data.validate("knowledge::count_errors()");
  if (data.empty())
    return ErrorCount{.class_errors = std::vector<std::size_t>(data.num_classes),
                      .class_totals = std::vector<std::size_t>(data.num_classes)};
  const Tensor<T> z = logits_of<B>(model, params, data.images);
  DISTILL_CHECK(z.shape(1) == data.num_classes, "knowledge::count_errors(): the model returns ", z.shape(1),
                " logits per example but the data have ", data.num_classes, " classes");
  return detail::count_argmax_errors(z.data(), data);
}

/**
 * Adds `amount` to the output bias of class `cls`: the last parameter tensor, which must be a bias of one entry per
 * class (nn::Mlp's, LeNet's and ConvNet's is). The paper's fix for a student whose transfer set had no 3s.
 * @throw invalid_argument when the last parameter is not a vector or `cls` is outside it.
 */
template <std::floating_point T>
void shift_class_bias(nn::Params<T>& params, std::size_t cls, double amount) {
  DISTILL_CHECK(params.size() > 0 && params.tensors.back().rank() == 1, "knowledge::shift_class_bias(): the last parameter (",
                params.size() ? params.names.back() : std::string("none"), ") is not an output bias vector");
  Tensor<T>& bias = params.tensors.back();
  DISTILL_CHECK(cls < bias.size(), "knowledge::shift_class_bias(): class ", cls, " is outside the ", bias.size(),
                " outputs of '", params.names.back(), "'");
  bias[cls] += T(amount);
}

//! Which part of the training set the student learns from.
struct TransferOptions {
  std::int64_t drop_class = -1;   //!< >= 0: leave every example of this class out (the paper's "no 3s")
  double fraction = 1;            //!< keep this fraction of the (remaining) examples, drawn at random
  std::uint64_t seed = 0;         //!< which examples the fraction keeps

  //! @throw invalid_argument naming the bad field.
  void validate(const char* where) const {
    DISTILL_CHECK(fraction > 0 && fraction <= 1, where, ": fraction is ", fraction, ", expected (0, 1]");
  }
};

/**
 * The transfer set: `train` without `drop_class`, then a random `fraction` of it (in the data's order, so the
 * same seed gives the same set). num_classes stays the data's.
 * @throw invalid_argument when the options are invalid, drop_class is not a class of the data, or nothing remains.
 */
template <std::floating_point T>
LabeledData<T> make_transfer_set(const LabeledData<T>& train, const TransferOptions& o) {
  o.validate("knowledge::make_transfer_set()");
  train.validate("knowledge::make_transfer_set()");
  DISTILL_CHECK(o.drop_class < std::int64_t(train.num_classes), "knowledge::make_transfer_set(): drop_class is ",
                o.drop_class, " but the data have ", train.num_classes, " classes");
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < train.size(); ++i)
    if (train.labels[i] != o.drop_class) keep.push_back(i);
  if (o.fraction < 1) {
    const auto n = std::size_t(std::llround(o.fraction * double(keep.size())));
    Rng rng = frame::stream_rng(o.seed, frame::Stream::init);
    rng.shuffle(keep);
    keep.resize(n);
    std::sort(keep.begin(), keep.end());
  }
  DISTILL_CHECK(!keep.empty(), "knowledge::make_transfer_set(): no example is left (fraction ", o.fraction,
                ", drop_class ", o.drop_class, ")");
  return train.subset(keep);
}

/**
 * Trains `params` in place on `data` to minimise `objective` (see the file comment), on the shared outer loop:
 * one loop step per minibatch, on_epoch_end after every pass, checkpoint / resume at any step, and a divergence
 * guard on the loss and the gradients.
 *
 * @tparam B        the backend (default: DefaultBackend<T>)
 * @param model     a nn::Model; its forward_train(params, x, rng) is used when it has one (dropout)
 * @param params    its parameters; updated in place
 * @param data      the training (transfer) set, hard labels in [0, K)
 * @param teacher_logits  a function `(const Tensor<T>& x, std::span<const std::size_t> rows) -> Tensor<T>` giving
 *                  the teacher's logits [b, K] of the batch x (the training rows `rows`, after jitter); unused
 *                  when objective.soft_weight is 0 (pass nullptr then)
 * @param objective the KdObjective; {.soft_weight = 0, .hard_weight = 1} is plain training on hard labels
 * @param phase     the run's name in checkpoints and progress ("kd_teacher", "kd_student")
 * @param cbs       callbacks: on_step with loss and metrics {"lr", "acc" (running accuracy of the epoch)},
 *                  on_epoch_end with {"epoch_loss"}
 * @throw invalid_argument on invalid data or options; frame::Diverged when the loss or a gradient is not finite;
 *        io_error on a bad resume file
 */
template <class B = void, class M, std::floating_point T, class TeacherFn, class... Callbacks>
FitResult fit(const M& model, nn::Params<T>& params, const LabeledData<T>& data, TeacherFn&& teacher_logits,
              const KdObjective& objective, const FitOptions& opt, const std::string& phase, Callbacks&&... cbs) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_BACKEND(BB, "distill::knowledge::fit");
  DISTILL_REQUIRE_MODEL(M, BB, "distill::knowledge::fit");
  const std::string where = "knowledge::fit(" + phase + ")";
  opt.validate(where.c_str());
  objective.validate(where.c_str());
  data.validate(where);
  DISTILL_CHECK(!data.empty(), where, ": the training set is empty");
  DISTILL_CHECK(params.size() > 0, where, ": params is empty; make them with model.init<B>(rng)");
  DISTILL_CHECK(opt.jitter == 0 || data.images.rank() == 4, where, ": jitter needs NCHW images, got ",
                show(data.images.shape()));
  if constexpr (std::is_null_pointer_v<std::decay_t<TeacherFn>>)
    DISTILL_CHECK(!objective.uses_teacher(), where, ": the objective has soft_weight ", objective.soft_weight,
                  " but no teacher was given");

  const std::size_t n = data.size();
  frame::ShuffledBatches batches(n, opt.batch_size, opt.seed);
  const std::size_t per_epoch = batches.per_pass(), total = opt.epochs * per_epoch;
  const nn::Sgd sgd{.lr = opt.lr, .momentum = opt.momentum, .weight_decay = opt.weight_decay};
  const nn::CosineSchedule schedule{.total_steps = total};
  nn::Sgd::State<T> sgd_state;

  FitResult result;
  eval::detail::EpochMeter meter;
  frame::CheckpointState<T> ckpt(phase);
  ckpt.add("params", params.tensors).add("sgd", sgd_state);
  meter.register_in(ckpt);
  ckpt.set_options_json("{\"temperature\": " + std::to_string(objective.temperature) + ", \"soft_weight\": " +
                        std::to_string(objective.soft_weight) + ", \"hard_weight\": " + std::to_string(objective.hard_weight) +
                        ", \"epochs\": " + std::to_string(opt.epochs) + ", \"jitter\": " + std::to_string(opt.jitter) + "}");

  const synthetic::RandomShift jitter{.max_shift = opt.jitter};
  Tensor<T> x;
  std::vector<std::int64_t> y;
  auto step = [&](frame::StepContext& ctx) {
    const double lr = schedule.lr(opt.lr, ctx.step) * ctx.lr_factor;
    const auto idx = batches.batch_at(ctx.step);
    x = Tensor<T>();  // fresh: the previous step's tape may still hold the old batch
    frame::gather_rows(data.images, idx, x);
    y.resize(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) y[k] = data.labels[idx[k]];
    if (opt.jitter > 0) jitter(x, ctx.rng);

    ad::Var<BB> v;
    if constexpr (!std::is_null_pointer_v<std::decay_t<TeacherFn>>)
      if (objective.uses_teacher()) v = ad::Var<BB>(teacher_logits(x, idx));
    ad::Tape<BB> tape;
    const auto theta = nn::variables(tape, params);
    const ad::Var<BB> z = train_forward<BB>(model, theta, ad::Var<BB>(x), ctx.rng);
    DISTILL_CHECK(z.rank() == 2 && z.shape(1) == data.num_classes, where, ": the model returns logits of shape ",
                  show(z.shape()), " but the data have ", data.num_classes, " classes");
    const ad::Var<BB> loss = kd_loss(z, v, objective.uses_labels() ? y : std::vector<std::int64_t>{}, objective);
    const double l = eval::detail::sgd_descend(loss, theta, params, sgd, sgd_state, lr, ctx);
    meter.add(ctx, l, nn::accuracy(z.value(), y), idx.size(), lr, per_epoch, result.epoch_losses);
    return l;
  };
  const frame::LoopResult loop = frame::run_outer_loop(
      frame::LoopOptions{.phase = phase, .steps = total, .steps_per_epoch = per_epoch, .seed = opt.seed,
                         .resume_from = opt.resume_from, .on_divergence = opt.on_divergence},
      ckpt, step, cbs...);
  result.steps = loop.steps_done;
  result.epochs = loop.steps_done / per_epoch;
  result.loss = meter.final_loss(result.epoch_losses);
  result.stopped_early = loop.stopped_early;
  result.seconds = loop.seconds;
  return result;
}

/**
 * Trains a teacher on hard labels, with its training-mode forward (DropoutMlp: dropout) and opt.jitter (the paper's
 * MNIST teacher: dropout and translations of up to 2 pixels). fit() with {.soft_weight = 0, .hard_weight = 1}.
 */
template <class B = void, class M, std::floating_point T, class... Callbacks>
FitResult train_teacher(const M& model, nn::Params<T>& params, const LabeledData<T>& data, const FitOptions& opt,
                        Callbacks&&... cbs) {
  return fit<B>(model, params, data, nullptr, KdObjective{.temperature = 1, .soft_weight = 0, .hard_weight = 1}, opt,
                "kd_teacher", cbs...);
}

/**
 * Trains `student` by distillation from a trained `teacher` on `transfer` (file comment). The teacher's logits of
 * the transfer set are computed once, in evaluation mode, and cached; with opt.jitter > 0 they are computed per
 * batch on the jittered images instead (the teacher must see what the student sees).
 * @throw as fit(); invalid_argument when the teacher's logits do not have the transfer set's class count.
 */
template <class B = void, class S, class M, std::floating_point T, class... Callbacks>
FitResult distill(const S& student, nn::Params<T>& student_params, const M& teacher, const nn::Params<T>& teacher_params,
                  const LabeledData<T>& transfer, const KdObjective& objective, const FitOptions& opt, Callbacks&&... cbs) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_MODEL(M, BB, "distill::knowledge::distill (the teacher)");
  objective.validate("knowledge::distill()");
  if (!objective.uses_teacher())
    return fit<B>(student, student_params, transfer, nullptr, objective, opt, "kd_student", cbs...);
  transfer.validate("knowledge::distill()");
  DISTILL_CHECK(!transfer.empty(), "knowledge::distill(): the transfer set is empty");
  Tensor<T> cached;
  if (opt.jitter == 0) {
    cached = logits_of<BB>(teacher, teacher_params, transfer.images);
    DISTILL_CHECK(cached.shape(1) == transfer.num_classes, "knowledge::distill(): the teacher returns ", cached.shape(1),
                  " logits per example but the transfer set has ", transfer.num_classes, " classes");
  }
  Tensor<T> rows_out;
  auto teacher_logits = [&](const Tensor<T>& x, std::span<const std::size_t> rows) -> Tensor<T> {
    if (opt.jitter > 0) return logits_of<BB>(teacher, teacher_params, x);
    rows_out = Tensor<T>();
    frame::gather_rows(cached, rows, rows_out);
    return rows_out;
  };
  return fit<B>(student, student_params, transfer, teacher_logits, objective, opt, "kd_student", cbs...);
}

}  // namespace distill::knowledge

#endif  // DISTILL_KNOWLEDGE_DISTILL_HPP
