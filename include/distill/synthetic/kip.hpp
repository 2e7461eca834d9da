// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_KIP_HPP
#define DISTILL_SYNTHETIC_KIP_HPP

/**
 * @file
 * Kernel Inducing Points (KIP): Nguyen, Chen, Lee 2021, Dataset Meta-Learning from Kernel Ridge-Regression,
 * ICLR; arXiv:2011.00050 (Algorithm 1).
 *
 *   input: kernel K, training set, n support images per class, regulariser λ
 *   standardise the pixels (per channel); X_s ← n random images per class, y_s ← centred one-hot labels
 *   repeat for `steps` steps:
 *     draw a class-balanced target batch (X_t, y_t)
 *     L(X_s, y_s) = ½ · mean ‖y_t − K_ts (K_ss + λI)⁻¹ y_s‖²                    (synthetic/kip_loss.hpp)
 *       (or the Platt-scaled cross-entropy of K_ts (K_ss + λI)⁻¹ y_s / τ, RFAD's loss; τ learned)
 *     X_s ← Adam(X_s, ∂L/∂X_s);  y_s ← Adam(y_s, ∂L/∂y_s) when the labels are learned
 *   return (X_s, y_s) with the standardisation
 *
 * The loss, its hand-derived gradient and the streamed target pass live in synthetic/kip_loss.hpp; the loop,
 * checkpoints, seeds and the divergence guard in frame/. A kernel with `resample(seed)` (a random-feature kernel,
 * e.g. kernels::EmpiricalFeatureKernel: RFAD, Loo et al. 2022) is given fresh random features at every step.
 */

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "distill/core.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/krr.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/synthetic/kip_loss.hpp"

namespace distill::synthetic {

/// How KIP initialises the support images.
enum class KipInit {
  real,   //!< class-balanced random training images (the paper's default)
  noise,  //!< standard normal noise in the standardised pixel space
};

/// The learning-rate schedule of KIP's Adam over the steps (images and labels alike).
enum class KipSchedule {
  constant,  //!< lr throughout (the paper)
  cosine,    //!< lr · ½(1 + cos(π · step / steps)): large early steps, small ones to settle the final support
};

/// Options of Kip; use designated initializers: `{.images_per_class = 10, .steps = 1000}`.
template <std::floating_point T = float>
struct KipOptions {
  std::size_t images_per_class = 10;
  std::size_t steps = 1000;
  std::size_t target_batch_size = 5000;  //!< class-balanced target batch, resampled every step
  bool learn_labels = false;             //!< also learn the support labels y_s
  KipInit init = KipInit::real;
  double reg = 1e-6;                     //!< λ = reg · tr(K_ss)/n
  double lr = 0.01;                      //!< Adam learning rate (images and labels)
  double label_lr = 0.0;                 //!< Adam learning rate for the labels; 0 = same as lr
  KipSchedule schedule = KipSchedule::constant;
  KipObjective::Kind objective = KipObjective::Kind::mse;  //!< the loss on the KRR predictions (kip_loss.hpp)
  double temperature = 0.1;              //!< cross_entropy: the initial τ, learned as log τ by Adam at lr
  bool standardize = true;               //!< train on per-channel standardised pixels (recorded in the result)
  std::uint64_t seed = 0;
  std::filesystem::path resume_from{};   //!< a checkpoint written through TrainingState::save_checkpoint
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;  //!< a non-finite loss or gradient: stop or roll back
  /// Optional augmentation of each step's target batch ([m, C, H, W], standardised), e.g. flips or crops. The
  /// support is never augmented, so the gradient stays exact.
  std::function<void(Tensor<T>&, Rng&)> augment{};

  //! @throw invalid_argument naming the first option that is out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(images_per_class > 0, where, ": images_per_class is 0, expected at least 1");
    DISTILL_CHECK(target_batch_size > 0, where, ": target_batch_size is 0, expected at least one image per class");
    DISTILL_CHECK(lr > 0 && std::isfinite(lr), where, ": lr is ", lr, ", expected a finite lr > 0");
    DISTILL_CHECK(reg >= 0 && std::isfinite(reg), where, ": reg is ", reg, ", expected a finite reg >= 0");
    DISTILL_CHECK(label_lr >= 0 && std::isfinite(label_lr), where, ": label_lr is ", label_lr, ", expected >= 0");
    DISTILL_CHECK(temperature > 0 && std::isfinite(temperature), where, ": temperature is ", temperature,
                  ", expected a finite τ > 0");
  }

  //! The options as JSON (saved with the set and the checkpoints).
  io::JsonObject to_json() const {
    io::JsonObject j;
    j.add("images_per_class", images_per_class).add("steps", steps).add("target_batch_size", target_batch_size);
    j.add("learn_labels", learn_labels).add("init", init == KipInit::real ? "real" : "noise").add("reg", reg);
    j.add("lr", lr).add("label_lr", label_lr).add("schedule", schedule == KipSchedule::cosine ? "cosine" : "constant");
    j.add("objective", objective == KipObjective::Kind::mse ? "mse" : "cross_entropy");
    if (objective == KipObjective::Kind::cross_entropy) j.add("temperature", temperature);
    j.add("standardize", standardize).add("seed", seed).add("augment", bool(augment));
    return j;
  }
};

namespace detail {

//! The class of each support row: row i is class i / ipc.
inline std::vector<std::int64_t> support_classes(std::size_t n, std::size_t ipc) {
  std::vector<std::int64_t> c(n);
  for (std::size_t i = 0; i < n; ++i) c[i] = std::int64_t(i / ipc);
  return c;
}

/// The starting support of KIP and FRePo.
template <std::floating_point T>
struct InitialSupport {
  Tensor<T> images;  //!< [ipc·C, C, H, W], class k in rows [k·ipc, (k+1)·ipc)
  Tensor<T> labels;  //!< centred one-hot [ipc·C, C]
};

/**
 * ipc random training images per class without repeats (KipInit::real) or standard normal noise, with centred
 * one-hot labels (onehot − 1/C), drawn from stream_rng(seed, Stream::init).
 * @param data  NCHW data, standardised as the method works on them
 */
template <std::floating_point T>
InitialSupport<T> initial_support(const LabeledData<T>& data, const frame::ClassBalancedSampler& sampler,
                                  std::size_t ipc, KipInit init, std::uint64_t seed, std::string_view where) {
  const std::size_t classes = data.num_classes, n = ipc * classes;
  Shape shape = data.images.shape();  // [n, C, H, W]: a kernel over a network's features needs images
  shape[0] = n;
  Rng rng = frame::stream_rng(seed, frame::Stream::init);
  InitialSupport<T> s{Tensor<T>::empty(shape), {}};
  if (init == KipInit::real) {
    frame::gather_rows(data.images, sampler.per_class(rng, ipc, where), s.images);
  } else {
    for (std::size_t i = 0; i < s.images.size(); ++i) s.images[i] = T(rng.normal());
  }
  s.labels = kernels::centred_one_hot<T>(support_classes(n, ipc), classes);
  return s;
}

/**
 * A learned support as a distilled set in the standardised space: the learned [n, C] labels, or the hard class
 * of each row when the labels stayed fixed.
 */
template <std::floating_point T>
io::DistilledSet<T> support_to_set(const Tensor<T>& images, const Tensor<T>& labels, bool learned_labels,
                                   const io::ChannelStandardization<T>& norm, std::string method,
                                   const io::JsonObject& options) {
  const std::size_t n = images.shape(0), classes = labels.shape(1);
  io::DistilledSet<T> out;
  out.images = images;
  if (learned_labels) {
    out.labels = labels;
  } else {
    out.labels = Tensor<T>({n});
    const auto cls = support_classes(n, n / classes);
    for (std::size_t i = 0; i < n; ++i) out.labels[i] = T(cls[i]);
  }
  out.mean = norm.mean;
  out.stddev = norm.stddev;
  out.num_classes = classes;
  out.method = std::move(method);
  out.options_json = options.str();
  return out;
}

/**
 * What KIP and FRePo learn, each by Adam: the support images, their labels (when learned) and, for the
 * cross-entropy objective, log τ; registered in the checkpoint under the same names by both.
 */
template <std::floating_point T>
struct LearnedSupport {
  Tensor<T> images, labels;
  Tensor<T> log_temperature;
  nn::Adam::State<T> adam_images, adam_labels, adam_temperature;

  LearnedSupport(InitialSupport<T> init, double temperature)
      : images(std::move(init.images)), labels(std::move(init.labels)),
        log_temperature({1}, T(std::log(temperature))) {}

  void register_in(frame::CheckpointState<T>& ckpt) {
    ckpt.add("support", images).add("labels", labels).add("adam_support", adam_images).add("adam_labels", adam_labels);
    ckpt.add("log_temperature", log_temperature).add("adam_temperature", adam_temperature);
  }

  //! The objective at the current temperature.
  KipObjective objective(KipObjective::Kind kind) const {
    return {.kind = kind, .temperature = std::exp(double(log_temperature[0]))};
  }

  /**
   * One Adam step on everything learned, after checking that the loss and every gradient are finite (so no NaN
   * is ever stored): images at lr·f, labels (when learned) at label_lr·f, log τ (cross-entropy) at lr·f.
   */
  void update(frame::StepContext& ctx, const KipLossGrad<T>& lg, const KipOptions<T>& opt, double f) {
    ctx.require_finite("the KIP loss", lg.loss);
    ctx.require_finite("the gradient w.r.t. the support images", lg.d_support);
    ctx.require_finite("the gradient w.r.t. the support labels", lg.d_labels);
    const nn::Adam adam{.lr = opt.lr}, adam_l{.lr = opt.label_lr > 0 ? opt.label_lr : opt.lr};
    adam.step(adam_images, {&images}, {&lg.d_support}, adam.lr * f);
    if (opt.learn_labels) adam_l.step(adam_labels, {&labels}, {&lg.d_labels}, adam_l.lr * f);
    if (opt.objective == KipObjective::Kind::cross_entropy) {
      ctx.require_finite("the gradient w.r.t. the temperature", lg.d_log_temperature);
      const Tensor<T> g_tau({1}, T(lg.d_log_temperature));
      adam.step(adam_temperature, {&log_temperature}, {&g_tau}, adam.lr * f);
      ctx.state.metrics["temperature"] = std::exp(double(log_temperature[0]));
    }
    ctx.state.metrics["batch_acc"] = lg.accuracy;
  }

  //! The options as JSON with the final temperature of the cross-entropy objective.
  io::JsonObject result_json(const KipOptions<T>& opt, io::JsonObject json) const {
    if (opt.objective == KipObjective::Kind::cross_entropy)
      json.add("final_temperature", std::exp(double(log_temperature[0])));
    return json;
  }
};

/**
 * A class-balanced target batch of m images (and their centred one-hot labels) into xt, yt, augmented when the
 * options say so: what each step of KIP and FRePo regresses onto.
 */
template <std::floating_point T>
void draw_targets(const LabeledData<T>& data, const frame::ClassBalancedSampler& sampler, const KipOptions<T>& opt,
                  Rng& rng, Tensor<T>& xt, Tensor<T>& yt) {
  const auto picks = sampler.balanced(rng, opt.target_batch_size);
  frame::gather_rows(data.images, picks, xt);
  std::vector<std::int64_t> classes(picks.size());
  for (std::size_t i = 0; i < picks.size(); ++i) classes[i] = data.labels[picks[i]];
  yt = kernels::centred_one_hot<T>(classes, data.num_classes);
  if (opt.augment) opt.augment(xt, rng);
}

//! The schedule's multiplier of lr at `step` (a pure function of the step, so resuming keeps it).
template <std::floating_point T>
double schedule_factor(const KipOptions<T>& opt, std::size_t step) {
  if (opt.schedule == KipSchedule::constant || opt.steps == 0) return 1.0;
  return 0.5 * (1.0 + std::cos(std::numbers::pi * double(step) / double(opt.steps)));
}

}  // namespace detail

/**
 * Kernel Inducing Points over a kernel K (e.g. kernels::FcNtk) and a backend B.
 *
 * @code
 * dd::synthetic::Kip kip{dd::kernels::FcNtk{.depth = 3}, {.images_per_class = 10, .steps = 1000}};
 * dd::io::DistilledSet<float> small = kip.fit(train, dd::callbacks::ProgressBar{});
 * @endcode
 */
template <class K, class B = DefaultBackend<float>>
class Kip {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::Kip");
  DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::synthetic::Kip");

 public:
  using T = typename B::Scalar;

  Kip(K kernel, KipOptions<T> options = {}) : kernel_(std::move(kernel)), options_(std::move(options)) {
    options_.validate("Kip");
  }

  const K& kernel() const { return kernel_; }
  const KipOptions<T>& options() const { return options_; }

  /**
   * Runs KIP on `train` and returns the learned support set.
   * @param train      images [N, C, H, W] (or [N, H, W], [N, features]) and labels
   * @param callbacks  any callbacks (ProgressBar, EarlyStop, Checkpoint, ...); each hook is optional
   * @return images [ipc·C, C, H, W] in the standardised space; labels: hard [N] when labels are fixed, the
   *         learned [N, C] label vectors when learn_labels
   * @throw invalid_argument on empty data, a class with fewer than images_per_class examples (real init) or no
   *        examples, NaN pixels, or bad options; numerical_error when K_ss + λI stops being positive definite;
   *        frame::Diverged when the loss or a gradient becomes non-finite; io_error when resume_from cannot be
   *        read or does not match
   */
  template <class... Callbacks>
  io::DistilledSet<T> fit(const LabeledData<T>& train, Callbacks&&... callbacks) {
    const char* where = "Kip::fit()";
    options_.validate(where);
    DISTILL_CHECK(options_.target_batch_size >= train.num_classes, where, ": target_batch_size is ",
                  options_.target_batch_size, ", expected at least one image per class (", train.num_classes, ")");
    // 1. standardise; every class present (with ipc images for real init)
    const auto prepared = frame::prepare_training_set(
        train, options_.standardize, options_.init == KipInit::real ? options_.images_per_class : 1, where);
    const LabeledData<T> data{frame::as_nchw(prepared.data.images), prepared.data.labels, prepared.data.num_classes};
    const frame::ClassBalancedSampler sampler(data);

    // 2. the initial support: ipc random images per class (or noise), centred one-hot labels
    detail::LearnedSupport<T> support(
        detail::initial_support(data, sampler, options_.images_per_class, options_.init, options_.seed, where),
        options_.temperature);
    frame::CheckpointState<T> ckpt("kip");
    support.register_in(ckpt);
    ckpt.set_options_json(options_.to_json().str());

    // 3. each step: a class-balanced target batch, the loss and its gradient, one Adam step
    Tensor<T> xt, yt;
    auto step = [&](frame::StepContext& ctx) {
      detail::draw_targets(data, sampler, options_, ctx.rng, xt, yt);
      if constexpr (requires(K& k) { k.resample(std::uint64_t{}); })
        kernel_.resample(frame::derive_seed(options_.seed, frame::Stream::step, ctx.step));
      const auto lg = kip_loss_and_grad<B>(kernel_, support.images, support.labels, xt, yt, options_.reg,
                                           support.objective(options_.objective));
      support.update(ctx, lg, options_, detail::schedule_factor(options_, ctx.step) * ctx.lr_factor);
      return lg.loss;
    };
    frame::run_outer_loop(frame::LoopOptions{.phase = "kip", .steps = options_.steps, .seed = options_.seed,
                                             .resume_from = options_.resume_from, .on_divergence = options_.on_divergence},
                          ckpt, step, callbacks...);

    // 4. the result, in the standardised space
    return detail::support_to_set(support.images, support.labels, options_.learn_labels, prepared.norm, "kip",
                                  support.result_json(options_, options_.to_json()));
  }

 private:
  K kernel_;
  KipOptions<T> options_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_KIP_HPP
