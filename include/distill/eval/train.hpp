// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EVAL_TRAIN_HPP
#define DISTILL_EVAL_TRAIN_HPP

/**
 * @file
 * Minibatch training of a Model on a (small or full) labelled set, and batched evaluation.
 *
 *   for epoch in 1..E:
 *     for each minibatch (x, y) of a fresh permutation:       (seeded: same seed, same bytes)
 *       tape ← {}; θv ← variables(tape, θ)                      (data enter as constants)
 *       ℓ ← CE(model(θv, augment(x)), y)   (or soft-label CE / MSE)
 *       g ← grad(ℓ, θv);  θ ← SGD(θ, g; lr(epoch), momentum, weight decay, Nesterov)  (PyTorch's update)
 *
 * The defaults are the evaluation protocol of the dataset-distillation literature (Zhao, Mopuri, Bilen 2021,
 * Dataset Condensation with Gradient Matching, ICLR; arXiv:2006.05929): SGD lr 0.01, momentum 0.9, weight decay
 * 5e-4, batch 256, lr ÷ 10 at half the epochs.
 *
 * A distilled set with per-example weights (extra key `weights`, as weighted coresets store them: CRAIG, GradMatch,
 * importance sampling) is trained on the weighted mean loss of each batch, Σ wᵢ ℓᵢ / Σ wᵢ, so weight 2 counts an
 * example twice and weights of 1 give the unweighted loss (the same bytes for cross-entropy).
 */

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/nn/params.hpp"

namespace distill::eval {

/**
 * Images with soft targets: `targets` is [N, K] (learned labels of a distilled set, teacher probabilities).
 * Trained with cross-entropy against the rows of `targets` (or MSE with Objective::mse).
 */
template <std::floating_point T = float>
struct SoftLabeledData {
  Tensor<T> images;   //!< [N, ...]
  Tensor<T> targets;  //!< [N, K]

  std::size_t size() const { return images.rank() ? images.shape(0) : 0; }
  std::size_t num_classes() const { return targets.rank() == 2 ? targets.shape(1) : 0; }
  void validate(std::string_view where = "SoftLabeledData::validate()") const {
    DISTILL_CHECK(images.rank() >= 2, where, ": images have shape ", show(images.shape()), ", expected [N, ...]");
    DISTILL_CHECK(targets.rank() == 2 && targets.shape(0) == images.shape(0) && targets.shape(1) > 0, where,
                  ": targets have shape ", show(targets.shape()), ", expected [", images.shape(0), ", K]");
    DISTILL_CHECK(targets.all_finite(), where, ": targets contain NaN or infinity");
  }
};

/// The learning-rate schedule over epochs.
enum class Schedule {
  step,      //!< lr · gamma^(number of milestones passed); milestone at `step_at` of the epochs (DC: ÷10 at half)
  cosine,    //!< lr · ½(1 + cos(π · epoch / epochs))
  constant,  //!< lr throughout
};

/// What the network is trained to minimise.
enum class Objective {
  cross_entropy,  //!< with hard labels, or soft targets
  mse,            //!< squared error to one-hot (hard) or the soft targets (KIP's labels are regression targets)
};

/**
 * Options of train(). Defaults = the field's evaluation protocol (see the file comment).
 * @tparam T the scalar type (so that `augment` sees the data's tensors)
 */
template <std::floating_point T = float>
struct TrainOptions {
  std::size_t epochs = 10;
  std::size_t batch_size = 256;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
  Schedule schedule = Schedule::step;
  double step_at = 0.5;     //!< Schedule::step: the milestone, as a fraction of the epochs
  double step_gamma = 0.1;  //!< Schedule::step: the factor applied at the milestone
  Objective objective = Objective::cross_entropy;
  std::uint64_t seed = 0;   //!< minibatch order (and `augment`'s randomness)
  /**
   * Optional augmentation of each training minibatch (e.g. DSA's differentiable siamese augmentation, or crop /
   * flip): called with the batch images [b, C, H, W] and a seeded Rng, returns images of the same shape.
   */
  std::function<Tensor<T>(const Tensor<T>&, Rng&)> augment = nullptr;
  std::filesystem::path resume_from{};  //!< a checkpoint written through callbacks::Checkpoint: continue from it
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;  //!< a non-finite loss or gradient: stop or roll back

  /**
   * The SGD settings every loop that trains with these options checks first (eval::train, coreset::train_adaptive).
   * @param where   the calling function, for messages
   * @param prefix  how the caller names these options in front of a field ("training." gives "training.lr is -1")
   * @throw invalid_argument naming the field: batch_size 0, lr not positive and finite, momentum outside [0, 1),
   *        weight_decay negative
   */
  void validate(std::string_view where, std::string_view prefix = "") const {
    DISTILL_CHECK(batch_size > 0, where, ": ", prefix, "batch_size is 0, expected at least 1");
    DISTILL_CHECK(lr > 0 && std::isfinite(lr), where, ": ", prefix, "lr is ", lr, ", expected a positive number");
    DISTILL_CHECK(momentum >= 0 && momentum < 1, where, ": ", prefix, "momentum is ", momentum, ", expected [0, 1)");
    DISTILL_CHECK(weight_decay >= 0, where, ": ", prefix, "weight_decay is ", weight_decay, ", expected >= 0");
  }
};

//! What train() reports.
struct TrainResult {
  std::size_t steps = 0;              //!< optimizer steps taken (including those before a resume)
  std::size_t epochs = 0;             //!< epochs completed
  double loss = 0;                    //!< mean training loss of the last epoch
  std::vector<double> epoch_losses;   //!< mean training loss of each epoch completed in this call
  bool stopped_early = false;         //!< a callback asked to stop
  double seconds = 0;                 //!< wall time
};

//! evaluate()'s answer.
struct EvalResult {
  double accuracy = 0;  //!< fraction correct
  double loss = 0;      //!< mean cross-entropy
};

namespace detail {

template <class B, class T>
using backend_or_default = std::conditional_t<std::is_void_v<B>, DefaultBackend<T>, B>;

/// The training data in one form: images plus either hard labels or soft targets.
template <class T>
struct Batches {
  Tensor<T> images;
  std::vector<std::int64_t> labels;  //!< hard labels (empty when soft)
  Tensor<T> targets;                 //!< soft targets [N, K] (empty when hard)
  std::size_t classes = 0;
  std::vector<T> weights;            //!< per-example loss weights (empty: unweighted)

  std::size_t size() const { return images.shape(0); }
  bool soft() const { return labels.empty(); }

  //! Copies the rows `idx` into a batch (x fresh each time: the tape may keep the previous batch alive).
  void gather(std::span<const std::size_t> idx, Tensor<T>& x, std::vector<std::int64_t>& y, Tensor<T>& t,
              std::vector<T>& w) const {
    x = Tensor<T>();
    frame::gather_rows(images, idx, x);
    w.clear();
    for (std::size_t k = 0; k < idx.size() && !weights.empty(); ++k) w.push_back(weights[idx[k]]);
    if (soft()) {
      t = Tensor<T>();
      frame::gather_rows(targets, idx, t);
    } else {
      y.resize(idx.size());
      for (std::size_t k = 0; k < idx.size(); ++k) y[k] = labels[idx[k]];
    }
  }
};

template <class T>
Batches<T> as_batches(const LabeledData<T>& d, const char* where) {
  d.validate(where);
  DISTILL_CHECK(!d.empty(), where, ": the training set is empty");
  return {d.images, d.labels, {}, d.num_classes, {}};
}
template <class T>
Batches<T> as_batches(const SoftLabeledData<T>& d, const char* where) {
  d.validate(where);
  DISTILL_CHECK(d.size() > 0, where, ": the training set is empty");
  return {d.images, {}, d.targets, d.num_classes(), {}};
}
//! A set's per-example weights (extra key `weights`), checked: N finite values >= 0, not all 0; empty when absent.
template <class T>
std::vector<T> weights_of(const io::DistilledSet<T>& d, const char* where) {
  const auto it = d.extra.find("weights");
  if (it == d.extra.end()) return {};
  const std::vector<double> w = it->second.template to_vector<double>();
  DISTILL_CHECK(w.size() == d.size(), where, ": the set has ", w.size(), " weights for ", d.size(), " examples");
  double total = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    DISTILL_CHECK(std::isfinite(w[i]) && w[i] >= 0, where, ": weight ", i, " is ", w[i], ", expected a finite number >= 0");
    total += w[i];
  }
  DISTILL_CHECK(total > 0, where, ": every weight is 0");
  return std::vector<T>(w.begin(), w.end());
}
template <class T>
Batches<T> as_batches(const io::DistilledSet<T>& d, const char* where) {
  d.validate(where);
  DISTILL_CHECK(d.size() > 0, where, ": the distilled set is empty");
  Batches<T> b = d.has_soft_labels() ? Batches<T>{d.images, {}, d.labels, d.labels.shape(1), {}}
                                     : as_batches(d.to_labeled_data(), where);
  b.weights = weights_of(d, where);
  return b;
}

template <class Data>
struct data_scalar;
template <class T>
struct data_scalar<LabeledData<T>> { using type = T; };
template <class T>
struct data_scalar<SoftLabeledData<T>> { using type = T; };
template <class T>
struct data_scalar<io::DistilledSet<T>> { using type = T; };

//! The learning rate at `epoch` (0-based) of `epochs`.
template <class T>
double lr_at(const TrainOptions<T>& o, std::size_t epoch) {
  // The schedules of nn/optimizers.hpp, stepped per epoch.
  switch (o.schedule) {
    case Schedule::step: {
      const auto milestone = std::size_t(std::llround(o.step_at * double(o.epochs)));
      if (milestone == 0) return o.lr;
      return nn::StepSchedule{.milestones = {milestone}, .gamma = o.step_gamma}.lr(o.lr, epoch);
    }
    case Schedule::cosine: return nn::CosineSchedule{.total_steps = o.epochs}.lr(o.lr, epoch);
    case Schedule::constant: return nn::ConstantSchedule{}.lr(o.lr, epoch);
  }
  return o.lr;
}

//! The training loss of a batch, on the tape; with weights `w` (one per row), the weighted mean Σ wᵢ ℓᵢ / Σ wᵢ.
template <class B>
ad::Var<B> batch_loss(const ad::Var<B>& logits, const std::vector<std::int64_t>& y, const Tensor<typename B::Scalar>& t,
                      std::size_t classes, Objective objective, const std::vector<typename B::Scalar>& w = {}) {
  using T = typename B::Scalar;
  DISTILL_CHECK(logits.rank() == 2 && logits.shape(1) == classes, "eval::train(): the model returns logits of shape ",
                show(logits.shape()), " but the data have ", classes, " classes");
  if (w.empty()) {
    if (objective == Objective::mse) return nn::mse(logits, ad::Var<B>(y.empty() ? t : nn::one_hot<T>(y, classes)));
    return y.empty() ? nn::cross_entropy(logits, ad::Var<B>(t)) : nn::cross_entropy(logits, y);
  }
  // Weighted: the per-row targets (one-hot or soft) scaled by wᵢ, so the loss is the unweighted formula with the
  // batch size replaced by Σ wᵢ (for cross-entropy, the same ops as nn::cross_entropy: weights of 1, same bytes).
  const std::size_t n = logits.shape(0);
  double total = 0;
  for (T v : w) total += double(v);
  if (!(total > 0)) total = 1;  // a batch of zero-weight examples contributes nothing
  Tensor<T> target = y.empty() ? t.clone() : nn::one_hot<T>(y, classes);
  if (objective == Objective::mse) {
    const ad::Var<B> d = ad::sub(logits, ad::Var<B>(target));
    Tensor<T> rows(Shape{n, classes});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < classes; ++k) rows[i * classes + k] = w[i];
    return ad::mul_scalar(ad::sum(ad::mul(ad::mul(d, d), ad::Var<B>(rows))), T(1) / T(total * double(classes)));
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < classes; ++k) target[i * classes + k] *= w[i];
  return ad::mul_scalar(ad::sum(ad::mul(ad::log_softmax(logits), ad::Var<B>(target))), T(-1) / T(total));
}

/**
 * One SGD step of `params` at rate lr down the gradient of `loss`, which is recorded on the tape that holds `theta`
 * (nn::variables of `params`). The loss and every gradient are checked first (naming the parameter), so that every
 * trainer stops with the same frame::Diverged message. Returns the loss.
 */
template <class B, std::floating_point T>
double sgd_descend(const ad::Var<B>& loss, const std::vector<ad::Var<B>>& theta, nn::Params<T>& params,
                   const nn::Sgd& sgd, nn::Sgd::State<T>& state, double lr, frame::StepContext& ctx) {
  const double l = double(loss.item());
  ctx.require_finite("the training loss", l);
  const auto grads = ad::grad(loss, theta);
  std::vector<Tensor<T>*> param_ptrs;
  std::vector<const Tensor<T>*> grad_ptrs;
  for (std::size_t k = 0; k < grads.size(); ++k) {
    ctx.require_finite("the gradient of parameter '" + params.names[k] + "'", grads[k].value());
    param_ptrs.push_back(&params.tensors[k]);
    grad_ptrs.push_back(&grads[k].value());
  }
  sgd.step(state, param_ptrs, grad_ptrs, lr);
  return l;
}

/**
 * The running loss and accuracy of the epoch in progress. Registered in the trainer's checkpoint, so that a resume
 * in the middle of an epoch reports the same numbers.
 */
struct EpochMeter {
  double loss_sum = 0, correct = 0;
  std::size_t seen = 0;

  template <class T>
  void register_in(frame::CheckpointState<T>& ckpt) {
    ckpt.add("epoch_loss_sum", loss_sum).add("epoch_correct", correct).add("epoch_seen", seen);
  }
  /**
   * Counts one batch (its mean loss and, when it has hard labels, its accuracy), puts lr and the running accuracy
   * in the step's metrics, and at the epoch's last step appends the epoch's mean loss to epoch_losses.
   */
  void add(frame::StepContext& ctx, double loss, std::optional<double> accuracy, std::size_t batch, double lr,
           std::size_t per_epoch, std::vector<double>& epoch_losses) {
    loss_sum += loss * double(batch);
    if (accuracy) correct += *accuracy * double(batch);
    seen += batch;
    ctx.state.metrics["lr"] = lr;
    if (accuracy) ctx.state.metrics["acc"] = correct / double(seen);
    if ((ctx.step + 1) % per_epoch == 0) {  // the epoch's last batch
      epoch_losses.push_back(loss_sum / double(seen));
      ctx.state.metrics["epoch_loss"] = epoch_losses.back();
      loss_sum = correct = 0;
      seen = 0;
    }
  }
  //! The loss to report when training ends: the unfinished epoch's mean, else the last epoch's.
  double final_loss(const std::vector<double>& epoch_losses) const {
    return seen > 0 ? loss_sum / double(seen) : epoch_losses.empty() ? 0.0 : epoch_losses.back();
  }
};

}  // namespace detail

/**
 * Accuracy and mean cross-entropy of a model on labelled data, in batches, without recording a tape.
 * @tparam B the backend (default: DefaultBackend<T>)
 * @throw invalid_argument when the data are invalid or the logits do not have num_classes columns.
 */
template <class B = void, class M, std::floating_point T>
EvalResult evaluate(const M& model, const nn::Params<T>& params, const LabeledData<T>& data, std::size_t batch_size = 1024) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_BACKEND(BB, "distill::eval::evaluate");
  DISTILL_REQUIRE_MODEL(M, BB, "distill::eval::evaluate");
  data.validate("eval::evaluate()");
  DISTILL_CHECK(batch_size > 0, "eval::evaluate(): batch_size is 0");
  if (data.empty()) return {};
  const auto theta = nn::constants<BB>(params);
  double correct = 0, loss = 0;
  for (std::size_t b = 0; b < data.size(); b += batch_size) {
    const std::size_t e = std::min(data.size(), b + batch_size);
    const std::vector<std::int64_t> y(data.labels.begin() + std::ptrdiff_t(b), data.labels.begin() + std::ptrdiff_t(e));
    const ad::Var<BB> logits = model.template forward<BB>(theta, ad::Var<BB>(data.images.rows(b, e)));
    DISTILL_CHECK(logits.rank() == 2 && logits.shape(1) == data.num_classes, "eval::evaluate(): the model returns logits of shape ",
                  show(logits.shape()), " but the data have ", data.num_classes, " classes");
    correct += nn::accuracy(logits.value(), y) * double(e - b);
    loss += double(nn::cross_entropy(logits, y).item()) * double(e - b);
  }
  return {correct / double(data.size()), loss / double(data.size())};
}

/**
 * Trains `params` in place by minibatch SGD (see the file comment), on the shared outer loop (frame/outer_loop.hpp):
 * one loop step per minibatch, on_epoch_end after every pass, checkpoint/resume at any step, and a divergence guard
 * on the loss and the gradients.
 *
 * @tparam B     the backend (default: DefaultBackend<T>); `eval::train<XtensorBackend<float>>(...)` picks another
 * @param model  a nn::Model
 * @param params its parameters (e.g. model.init<B>(rng)); updated in place
 * @param data   LabeledData<T> (hard labels), SoftLabeledData<T> (soft targets) or io::DistilledSet<T> (weighted
 *               by its extra key `weights` when it has one)
 * @param opt    TrainOptions; `{.epochs = 50}` keeps the protocol's other defaults
 * @param cbs    callbacks (ProgressBar, EarlyStop, Checkpoint, ...): on_step after every step with
 *               loss and metrics {"lr", "acc" (running accuracy of the epoch, hard labels only)}, on_epoch_end
 *               after every epoch with metrics {"epoch_loss"}
 * @throw invalid_argument on invalid data or options; frame::Diverged when the loss or a gradient becomes NaN or
 *        infinite; io_error on a bad resume file
 */
template <class B = void, class M, std::floating_point T, class Data, class... Callbacks>
TrainResult train(const M& model, nn::Params<T>& params, const Data& data, const TrainOptions<T>& opt = {},
                  Callbacks&&... cbs) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_BACKEND(BB, "distill::eval::train");
  DISTILL_REQUIRE_MODEL(M, BB, "distill::eval::train");
  static_assert(std::is_same_v<typename detail::data_scalar<Data>::type, T>,
                "distill::eval::train: data must be LabeledData<T>, SoftLabeledData<T> or io::DistilledSet<T> with the "
                "params' scalar type T");
  const detail::Batches<T> d = detail::as_batches(data, "eval::train()");
  opt.validate("eval::train()");
  DISTILL_CHECK(params.size() > 0, "eval::train(): params is empty; make them with model.init<B>(rng)");

  const std::size_t n = d.size();
  frame::ShuffledBatches batches(n, opt.batch_size, opt.seed);  // pass p: a permutation drawn from (seed, p)
  const std::size_t per_epoch = batches.per_pass();
  const nn::Sgd sgd{.lr = opt.lr, .momentum = opt.momentum, .nesterov = opt.nesterov, .weight_decay = opt.weight_decay};
  nn::Sgd::State<T> sgd_state;

  TrainResult result;
  detail::EpochMeter meter;
  frame::CheckpointState<T> ckpt("train");
  ckpt.add("params", params.tensors).add("sgd", sgd_state);
  meter.register_in(ckpt);

  Tensor<T> x, t;
  std::vector<std::int64_t> y;
  std::vector<T> w;
  auto step = [&](frame::StepContext& ctx) {
    const double lr = detail::lr_at(opt, ctx.step / per_epoch) * ctx.lr_factor;
    const auto idx = batches.batch_at(ctx.step);
    d.gather(idx, x, y, t, w);
    if (opt.augment) {
      x = opt.augment(x, ctx.rng);
      DISTILL_CHECK(x.rank() >= 1 && x.shape(0) == idx.size(), "eval::train(): augment returned shape ", show(x.shape()),
                    " for a batch of ", idx.size());
    }
    ad::Tape<BB> tape;
    const auto theta = nn::variables(tape, params);
    const ad::Var<BB> logits = model.template forward<BB>(theta, ad::Var<BB>(x));
    const ad::Var<BB> loss = detail::batch_loss(logits, y, t, d.classes, opt.objective, w);
    const double l = detail::sgd_descend(loss, theta, params, sgd, sgd_state, lr, ctx);
    meter.add(ctx, l, y.empty() ? std::nullopt : std::optional<double>(nn::accuracy(logits.value(), y)), idx.size(), lr,
              per_epoch, result.epoch_losses);
    return l;
  };
  const frame::LoopResult loop = frame::run_outer_loop(
      frame::LoopOptions{.phase = "train", .steps = opt.epochs * per_epoch, .steps_per_epoch = per_epoch,
                         .seed = opt.seed, .resume_from = opt.resume_from, .on_divergence = opt.on_divergence},
      ckpt, step, cbs...);
  result.steps = loop.steps_done;
  result.epochs = loop.steps_done / per_epoch;
  result.loss = meter.final_loss(result.epoch_losses);
  result.stopped_early = loop.stopped_early;
  result.seconds = loop.seconds;
  return result;
}

}  // namespace distill::eval

#endif  // DISTILL_EVAL_TRAIN_HPP
