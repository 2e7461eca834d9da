// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_UNROLLED_GD_HPP
#define DISTILL_SYNTHETIC_UNROLLED_GD_HPP

/**
 * @file
 * Dataset distillation by unrolled gradient descent with learned step sizes.
 *
 * Wang, Zhu, Torralba, Efros 2018, Dataset Distillation; arXiv:1811.10959 (Algorithm 1):
 *
 *   input: model f(θ; x), distribution p(θ₀), T steps, E epochs, real data
 *   initialise synthetic images x̃ = {x̃_t}, t < T, and step sizes η̃ = {η̃_{e,t}}
 *   repeat
 *     sample a real minibatch (x, y) and initial weights θ₀ ~ p(θ₀)
 *     for e < E, t < T:   θ_{i+1} = θ_i − η̃_{e,t} ∇θ ℓ(f(θ_i; x̃_t), ỹ_t)        (i = e·T + t)
 *     L = ℓ(f(θ_{E·T}; x), y)
 *     x̃ ← x̃ − α ∇x̃ L,  η̃ ← η̃ − α ∇η̃ L                                        (here: Adam)
 *
 * The hypergradient ∇x̃ L, ∇η̃ L (exact, second order, in two memory modes) is synthetic/unrolled_hypergradient.hpp;
 * the inner update rules, the learned steps and their replay (apply_distilled) are synthetic/unrolled_steps.hpp;
 * the loop, checkpoints, seeds and the divergence guard are frame/.
 *
 * Step sizes are learned as log η̃ (positive): one per inner step, or per step and parameter tensor
 * (step_size_per_tensor; Meta-SGD's rates, Li et al. 2017, coarsened to tensors). learn_labels learns each image's
 * target vector too (Sucholutsky & Schonlau 2019, arXiv:1910.02551). The inner update is the paper's SGD step, or
 * heavy-ball momentum / Adam with buffers from zero at every θ₀: from a random θ₀, 30 SGD steps on real MNIST
 * batches reach ~66 %, momentum ~79 %, Adam ~94 %, and distilled SGD steps ~86 % (real-image init, per-tensor rates,
 * learned labels; momentum ~90 %).
 */

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "distill/core.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/synthetic/unrolled_hypergradient.hpp"
#include "distill/synthetic/unrolled_steps.hpp"

namespace distill::synthetic {

/// Where the initial weights θ₀ of each outer step come from.
enum class ThetaMode { fixed, random, pool };
/// How synthetic images start.
enum class ImageInit { noise, real };

struct UnrolledGdOptions {
  std::size_t images_per_class = 1;  //!< per step
  std::size_t steps = 1;             //!< T: distinct synthetic batches, one per inner step
  std::size_t epochs = 3;            //!< E: passes over the T steps
  ImageInit init = ImageInit::noise;
  ThetaMode theta_mode = ThetaMode::fixed;
  std::size_t inits_per_step = 1;    //!< random mode: hypergradients averaged over this many fresh θ₀
  double initial_lr = 0.02;          //!< η̃ at the start, for every step and epoch
  bool step_size_per_tensor = false; //!< learn a step size per inner step *and* parameter tensor (log η̃ is [E·T, P])
  InnerOptimizer inner = {};         //!< the unrolled update: SGD (the paper), momentum or Adam
  bool learn_labels = false;         //!< learn each image's target vector alongside the images (starts one-hot)
  std::size_t outer_steps = 1000;
  double outer_lr = 0.01;            //!< Adam on images and log-step-sizes
  double lr_lr = 0.01;               //!< Adam on log η̃ (the paper uses a separate rate)
  double label_lr = 0.0;             //!< Adam rate of the learned labels (learn_labels); 0 = outer_lr. Random θ₀
                                     //!< needs a smaller one: 0.001 trained, outer_lr's 0.01 did not (MNIST); a
                                     //!< fixed θ₀ gains from a larger one: 0.03 gave 95.49–96.29 %, 0.01 95.37 % (MNIST)
  double outer_beta1 = 0.5;          //!< Adam β₁ of the outer optimizer (the original code's betas = (0.5, 0.999))
  std::size_t decay_every = 0;       //!< outer lr × 0.5 every this many steps (0 = constant)
  std::size_t real_batch = 1024;
  Memory memory = Memory::full;
  bool standardize = true;           //!< fit(): standardise the images per channel (recorded in the set)
  std::size_t divergence_patience = 20;  //!< throw after this many outer steps in a row on which every θ₀ diverged
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;  //!< a non-finite loss or rate: stop or roll back
  std::uint64_t seed = 0;
  std::filesystem::path resume_from = {};  //!< a checkpoint written through TrainingState::save_checkpoint

  //! @throw invalid_argument naming the first option that is out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(images_per_class > 0, where, ": images_per_class must be positive");
    DISTILL_CHECK(steps > 0 && epochs > 0, where, ": steps (", steps, ") and epochs (", epochs, ") must be positive");
    DISTILL_CHECK(initial_lr > 0 && std::isfinite(initial_lr), where, ": initial_lr must be finite and positive (got ",
                  initial_lr, ")");
    DISTILL_CHECK(real_batch > 0, where, ": real_batch must be positive");
    DISTILL_CHECK(inits_per_step > 0, where, ": inits_per_step must be positive");
    DISTILL_CHECK(divergence_patience > 0, where, ": divergence_patience must be positive");
    inner.check(std::string(where).c_str());
    DISTILL_CHECK(outer_lr > 0 && label_lr >= 0, where, ": outer_lr (", outer_lr, ") must be positive and label_lr (",
                  label_lr, ") non-negative");
  }

  //! Every option needed to rerun the distillation and to replay the steps (the rule goes with the step sizes).
  io::JsonObject to_json() const {
    io::JsonObject inner_json;
    inner_json.add("rule", InnerOptimizer::rule_name(inner.rule));
    if (inner.rule == InnerOptimizer::Rule::momentum) inner_json.add("momentum", inner.momentum);
    if (inner.rule == InnerOptimizer::Rule::adam)
      inner_json.add("beta1", inner.beta1).add("beta2", inner.beta2).add("eps", inner.eps);
    io::JsonObject j;
    j.add("images_per_class", images_per_class).add("steps", steps).add("epochs", epochs);
    j.add("init", init == ImageInit::real ? "real" : "noise");
    j.add("theta", theta_mode == ThetaMode::fixed ? "fixed" : theta_mode == ThetaMode::random ? "random" : "pool");
    j.add("inits_per_step", inits_per_step).add("initial_lr", initial_lr).add("step_size_per_tensor", step_size_per_tensor);
    j.add("inner", inner_json).add("learn_labels", learn_labels).add("outer_steps", outer_steps);
    j.add("outer_lr", outer_lr).add("lr_lr", lr_lr).add("label_lr", label_lr).add("outer_beta1", outer_beta1);
    j.add("decay_every", decay_every).add("real_batch", real_batch);
    j.add("memory", memory == Memory::full ? "full" : "recompute").add("standardize", standardize).add("seed", seed);
    return j;
  }
};

/**
 * Unrolled-GD dataset distillation (Wang et al. 2018).
 *
 * @tparam M a nn::Model (init<B>(rng), forward<B>(params, x))
 * @tparam B the tensor backend
 *
 * Usage:
 *   synthetic::UnrolledGd<nn::LeNet> ugd{nn::LeNet{}, {.images_per_class = 1, .steps = 1, .epochs = 3}};
 *   ugd.set_fixed_init(theta0);                  // or theta_mode = random / pool (set_pool)
 *   io::DistilledSet<float> set = ugd.fit(train, callbacks::ProgressBar{});     // standardised, saveable
 *   auto trained = apply_distilled<B>(model, theta0, from_distilled_set(set));
 */
template <class M, class B = DefaultBackend<float>>
class UnrolledGd {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::UnrolledGd");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::UnrolledGd");

 public:
  using T = typename B::Scalar;

  UnrolledGd(M model, UnrolledGdOptions options) : model_(std::move(model)), opt_(options) { opt_.validate("UnrolledGd"); }

  //! θ₀ for ThetaMode::fixed (e.g. a pretrained net). Without it, fixed mode draws one θ₀ from the seed.
  void set_fixed_init(nn::Params<T> theta0) { fixed_ = std::move(theta0); }
  //! The nets ThetaMode::pool samples θ₀ from.
  void set_pool(std::vector<nn::Params<T>> pool) { pool_ = std::move(pool); }
  const std::optional<nn::Params<T>>& fixed_init() const { return fixed_; }
  //! The standardisation fit() applied to the training images (identity before a fit, or with standardize = false).
  const io::ChannelStandardization<T>& standardization() const { return norm_; }

  /// Called every `every` outer steps with the current set, before the callbacks' on_step: it may put numbers
  /// into state.metrics (e.g. a validation accuracy), which ProgressBar prints and EarlyStop can watch.
  using Monitor = std::function<void(const UnrolledGdResult<T>&, callbacks::TrainingState&)>;
  void set_monitor(std::size_t every, Monitor monitor) {
    DISTILL_CHECK(every > 0 || !monitor, "UnrolledGd::set_monitor(): every is 0, expected a positive number of steps");
    monitor_every_ = every;
    monitor_ = std::move(monitor);
  }

  /**
   * Learns the synthetic images (and step sizes, and optionally labels) on `train` and returns them as a
   * distilled set: the steps' batches stacked in step order, in the standardised space (options.standardize),
   * with the step sizes and the inner rule (to_distilled_set; from_distilled_set reads them back).
   * @throw as fit_steps()
   */
  template <class... Callbacks>
  io::DistilledSet<T> fit(const LabeledData<T>& train, Callbacks&&... cbs) {
    check_run(train);
    const auto prepared = frame::prepare_training_set(train, opt_.standardize, min_per_class(), "UnrolledGd::fit()");
    norm_ = prepared.norm;
    const UnrolledGdResult<T> steps = run(prepared.data, cbs...);
    return to_distilled_set(steps, norm_, opt_.to_json().str());
  }

  /**
   * The same on images taken as they are (no standardisation), returning the learned steps in their structured
   * form (one batch per step, log step sizes, the loss history).
   *
   * Every random choice of outer step s (its real minibatch, its random θ₀) is a pure function of (seed, s), so a
   * run resumed from a checkpoint (callbacks::Checkpoint, then `.resume_from`) continues bit for bit.
   *
   * @param train  images [N, ...] as the model expects them, labels in [0, num_classes)
   * @throw invalid_argument for an empty set, a class without images (or too few for real init), or a
   *        real_batch larger than the data; io_error when resume_from cannot be read or does not match this run;
   *        frame::Diverged when the unrolled training diverged from every θ₀ on divergence_patience outer steps
   *        in a row, or the outer loss or a learned step size became non-finite (a θ₀ that diverges on its own is
   *        skipped and counted in the metric "diverged"; a step with no finite draw leaves the set unchanged and
   *        records NaN in loss_history)
   */
  template <class... Callbacks>
  UnrolledGdResult<T> fit_steps(const LabeledData<T>& train, Callbacks&&... cbs) {
    check_run(train);
    const auto prepared = frame::prepare_training_set(train, false, min_per_class(), "UnrolledGd::fit()");
    norm_ = prepared.norm;
    return run(prepared.data, cbs...);
  }

 private:
  std::size_t min_per_class() const { return opt_.init == ImageInit::real ? opt_.images_per_class * opt_.steps : 1; }

  // What the options need of this run, checked before the data are.
  void check_run(const LabeledData<T>& train) const {
    DISTILL_CHECK(opt_.real_batch <= train.size(), "UnrolledGd::fit(): real_batch (", opt_.real_batch,
                  ") is larger than the training set (", train.size(), ")");
    DISTILL_CHECK(opt_.theta_mode != ThetaMode::pool || !pool_.empty(),
                  "UnrolledGd::fit(): theta_mode is pool but no pool was set (call set_pool)");
  }

  template <class... Callbacks>
  UnrolledGdResult<T> run(const LabeledData<T>& train, Callbacks&... cbs) {
    const char* where = "UnrolledGd::fit()";
    const std::size_t n_train = train.size();

    // Initialise x̃ (noise, or distinct real images of the right class), labels (one-hot) and log η̃.
    Rng init_rng = frame::stream_rng(opt_.seed, frame::Stream::init);
    UnrolledGdResult<T> r = initial_steps<B>(train, {.images_per_class = opt_.images_per_class, .steps = opt_.steps,
                                                     .epochs = opt_.epochs, .real_images = opt_.init == ImageInit::real,
                                                     .learn_labels = opt_.learn_labels, .inner = opt_.inner},
                                             init_rng);
    if (opt_.theta_mode == ThetaMode::fixed && !fixed_) fixed_ = model_.template init<B>(init_rng);
    const Shape lr_shape = opt_.step_size_per_tensor ? Shape{opt_.steps * opt_.epochs, tensors_per_net(init_rng)}
                                                     : Shape{opt_.steps * opt_.epochs};
    r.log_lr = Tensor<T>(lr_shape, T(std::log(opt_.initial_lr)));

    // Adam over images and labels (the labels a parameter group at label_lr); log step sizes get their own rate.
    std::vector<Tensor<T>*> params;
    for (auto& im : r.images) params.push_back(&im);
    for (auto& ll : r.soft_labels) params.push_back(&ll);
    std::vector<double> rate_scale(r.images.size(), 1.0);
    rate_scale.resize(params.size(), opt_.label_lr > 0 ? opt_.label_lr / opt_.outer_lr : 1.0);
    const nn::Adam adam{.lr = opt_.outer_lr, .beta1 = opt_.outer_beta1};
    nn::Adam::State<T> adam_images, adam_lrs;
    std::size_t diverged_draws = 0, skipped_in_a_row = 0;
    frame::CheckpointState<T> ckpt("unrolled_gd");
    ckpt.add("images", r.images).add("soft_labels", r.soft_labels).add("log_lr", r.log_lr);
    ckpt.add("adam_images", adam_images).add("adam_log_lr", adam_lrs).add("loss_history", r.loss_history);
    ckpt.add("diverged_draws", diverged_draws).add("skipped_in_a_row", skipped_in_a_row);
    if (opt_.theta_mode == ThetaMode::fixed) ckpt.add("theta0", fixed_->tensors);
    ckpt.set_options_json(opt_.to_json().str());

    // Real minibatches walk a shuffled order of the training set, reshuffled for every pass (the paper's shuffling
    // data loader with drop_last).
    frame::ShuffledBatches real_batches(n_train, opt_.real_batch, opt_.seed, true);
    Tensor<T> real_x;
    std::vector<std::int64_t> real_y(opt_.real_batch);
    auto step = [&](frame::StepContext& ctx) {
      const auto rows = real_batches.batch_at(ctx.step);
      frame::gather_rows(train.images, rows, real_x);
      for (std::size_t j = 0; j < rows.size(); ++j) real_y[j] = train.labels[rows[j]];
      // θ₀ per mode; hypergradients averaged over the draws whose unrolled training stays finite. A draw that
      // diverges (learned step sizes or labels too large for that θ₀) is skipped rather than ending a long run.
      const std::size_t draws = opt_.theta_mode == ThetaMode::fixed ? 1 : opt_.inits_per_step;
      auto theta0 = [&] {
        return opt_.theta_mode == ThetaMode::fixed    ? *fixed_
               : opt_.theta_mode == ThetaMode::random ? model_.template init<B>(ctx.rng)
                                                      : pool_[ctx.rng.uniform_int(pool_.size())];
      };
      const Hypergradient<T> total =
          mean_hypergradient<B>(model_, r, draws, theta0, real_x, real_y, opt_.memory, diverged_draws);
      ctx.state.metrics["diverged"] = double(diverged_draws);
      double loss = std::numeric_limits<double>::quiet_NaN();  // a step with no finite draw makes no update
      if (total.d_images.empty()) {
        if (++skipped_in_a_row >= opt_.divergence_patience)
          DISTILL_THROW(frame::Diverged, where, ": the unrolled training diverged from every θ₀ on ", skipped_in_a_row,
                        " outer steps in a row (up to step ", ctx.step, "); try a smaller initial_lr, outer_lr or lr_lr");
        r.loss_history.push_back(loss);
      } else {
        skipped_in_a_row = 0;
        loss = total.loss;
        ctx.require_finite("the outer loss", loss);
        std::vector<const Tensor<T>*> grads;
        for (auto& g : total.d_images) grads.push_back(&g);
        for (auto& g : total.d_soft_labels) grads.push_back(&g);
        const double decay = (opt_.decay_every ? std::pow(0.5, double(ctx.step / opt_.decay_every)) : 1.0) * ctx.lr_factor;
        adam.step(adam_images, params, grads, opt_.outer_lr * decay, rate_scale);
        adam.step(adam_lrs, {&r.log_lr}, {&total.d_log_lr}, opt_.lr_lr * decay);
        ctx.require_finite("the learned step sizes", r.log_lr);
        r.loss_history.push_back(loss);
      }
      ctx.state.metrics["lr0"] = std::exp(double(r.log_lr[0]));
      if (monitor_ && (ctx.step + 1) % monitor_every_ == 0) {
        ctx.state.step = ctx.step + 1;
        monitor_(r, ctx.state);
      }
      return std::isfinite(loss) ? loss : 0.0;  // a skipped step reports no loss, and is not a divergence
    };
    frame::run_outer_loop(frame::LoopOptions{.phase = "unrolled_gd", .steps = opt_.outer_steps, .seed = opt_.seed,
                                             .resume_from = opt_.resume_from, .on_divergence = opt_.on_divergence},
                          ckpt, step, cbs...);
    return r;
  }

  // P, the number of parameter tensors of the model: from the fixed θ₀ or the pool, else from a throwaway init
  // drawn from a copy of the stream (so the run's own draws are the same with and without per-tensor step sizes).
  std::size_t tensors_per_net(const Rng& rng) const {
    if (fixed_) return fixed_->tensors.size();
    if (!pool_.empty()) return pool_.front().tensors.size();
    Rng copy = rng;
    return model_.template init<B>(copy).tensors.size();
  }

  M model_;
  UnrolledGdOptions opt_;
  std::optional<nn::Params<T>> fixed_;
  std::vector<nn::Params<T>> pool_;
  io::ChannelStandardization<T> norm_;
  std::size_t monitor_every_ = 0;
  Monitor monitor_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_UNROLLED_GD_HPP
