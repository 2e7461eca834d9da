// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_MTT_HPP
#define DISTILL_SYNTHETIC_MTT_HPP

/**
 * @file
 * Matching training trajectories (MTT): Cazenavette, Wang, Torralba, Efros, Zhu 2022, Dataset Distillation by
 * Matching Training Trajectories, CVPR; arXiv:2203.11932 (Algorithm 1, and the paper code's distill.py).
 *
 *   input: expert trajectories {θ*_e}, e = 0 … E (synthetic/expert_trajectories.hpp), the real training set;
 *          N synthetic steps, M expert epochs, the latest start epoch T⁺, the synthetic batch size b
 *   standardise the pixels as the experts saw them; S ← ipc random real images per class; α ← α₀ (log α learned)
 *   repeat for `iterations` iterations:
 *     pick an expert and a start epoch t < T⁺ at random;  θ̂_0 ← θ*_t
 *     for n = 0 … N − 1:
 *       b_n ← a minibatch of S (b images, a fresh permutation when one is used up);  A_n ← a per-image DSA draw
 *       θ̂_{n+1} ← θ̂_n − α ∇ℓ(A_n(b_n); θ̂_n)                    (cross-entropy on the labels of b_n)
 *     L = ‖θ̂_N − θ*_{t+M}‖² / ‖θ*_t − θ*_{t+M}‖²                    (over every parameter tensor)
 *     S ← SGD(S, ∂L/∂S);  log α ← SGD(log α, ∂L/∂log α);  (learned labels ← SGD(labels, ∂L/∂labels))
 *   return S with the standardisation, and α
 *
 * ∂L/∂S runs back through the N unrolled steps, so it is second order. It is unrolled GD's hypergradient
 * (synthetic/unrolled_hypergradient.hpp) with the parameter distance as its outer loss: every step's minibatch is
 * gathered and augmented first, the hypergradient gives ∂L/∂A_n(b_n), and that is pulled back through A_n and
 * scattered onto the rows of S. Memory::recompute keeps only θ̂_n per step and rebuilds one step's graph at a time
 * on the way back, so N is limited by time, not by activations × N (Memory::full keeps the whole graph).
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distill/autodiff/grad.hpp"
#include "distill/autodiff/ops/reduce.hpp"
#include "distill/core.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/nn/params.hpp"
#include "distill/synthetic/dsa.hpp"
#include "distill/synthetic/expert_trajectories.hpp"
#include "distill/synthetic/unrolled_hypergradient.hpp"

namespace distill::synthetic {

/// How MTT initialises the synthetic images.
enum class MttInit {
  real,   //!< class-balanced random training images (the paper's default)
  noise,  //!< standard normal noise in the standardised pixel space
};

/// Options of Mtt; use designated initializers: `{.images_per_class = 1, .syn_steps = 20}`.
struct MttOptions {
  std::size_t images_per_class = 1;
  std::size_t iterations = 5000;     //!< the paper's default
  std::size_t syn_steps = 20;        //!< N: synthetic SGD steps per iteration
  std::size_t expert_epochs = 2;     //!< M: the target is θ*_{t+M}
  std::size_t max_start_epoch = 2;   //!< T⁺: t is drawn from [0, T⁺)
  std::size_t batch_syn = 0;         //!< b: synthetic images per step; 0 = the whole set (the paper's choice at 1 ipc)
  double lr_images = 1000;           //!< SGD on the images (the paper code's lr_img)
  double lr_log_lr = 0.01;           //!< SGD on log α
  double lr_labels = 5;              //!< SGD on the learned labels (learn_labels)
  double momentum = 0.5;             //!< of all three SGDs, as the paper code
  double syn_lr_init = 0.01;         //!< α₀: the experts' learning rate
  bool learn_labels = false;         //!< learn soft target vectors (one-hot at the start) with the images
  /// Per-image DSA on every synthetic step: "auto" = the paper's strategy for the data (no flip for one channel),
  /// "none" = no augmentation, or a strategy string.
  std::string dsa_strategy = "auto";
  DsaParams dsa_params{};
  MttInit init = MttInit::real;
  Memory memory = Memory::recompute;  //!< full: keep the unrolled graph; recompute: bounded memory
  bool standardize = true;            //!< work on per-channel standardised pixels (must match the experts')
  std::uint64_t seed = 0;
  std::filesystem::path resume_from{};  //!< a checkpoint written through TrainingState::save_checkpoint
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;

  //! @throw invalid_argument naming the first option that is out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(images_per_class > 0, where, ": images_per_class is 0, expected at least 1");
    DISTILL_CHECK(syn_steps > 0, where, ": syn_steps is 0, expected at least one synthetic step");
    DISTILL_CHECK(expert_epochs > 0, where, ": expert_epochs is 0, expected at least 1 (the target is θ*_{t+M})");
    DISTILL_CHECK(max_start_epoch > 0, where, ": max_start_epoch is 0, expected at least 1 (t is drawn from [0, T⁺))");
    for (const auto& [name, v] : {std::pair{"lr_images", lr_images}, {"lr_log_lr", lr_log_lr}, {"lr_labels", lr_labels},
                                  {"syn_lr_init", syn_lr_init}})
      DISTILL_CHECK(v > 0 && std::isfinite(v), where, ": ", name, " is ", v, ", expected a finite value > 0");
    DISTILL_CHECK(momentum >= 0 && momentum < 1, where, ": momentum is ", momentum, ", expected a value in [0, 1)");
    if (dsa_strategy != "auto") (void)parse_dsa_strategy(dsa_strategy);
    dsa_params.validate(where);
  }

  //! The options as JSON (saved with the set and the checkpoints).
  io::JsonObject to_json() const {
    io::JsonObject j;
    j.add("images_per_class", images_per_class).add("iterations", iterations).add("syn_steps", syn_steps);
    j.add("expert_epochs", expert_epochs).add("max_start_epoch", max_start_epoch).add("batch_syn", batch_syn);
    j.add("lr_images", lr_images).add("lr_log_lr", lr_log_lr).add("lr_labels", lr_labels).add("momentum", momentum);
    j.add("syn_lr_init", syn_lr_init).add("learn_labels", learn_labels).add("dsa_strategy", dsa_strategy);
    j.add("init", init == MttInit::real ? "real" : "noise");
    j.add("memory", memory == Memory::full ? "full" : "recompute").add("standardize", standardize).add("seed", seed);
    return j;
  }
};

/**
 * Trajectory matching over a model M (e.g. nn::ConvNet, the architecture the experts were trained with) and a
 * backend B.
 *
 * @code
 * std::vector<dd::synthetic::ExpertTrajectory<float>> experts;
 * for (const auto& f : dd::synthetic::expert_files("experts/")) experts.push_back(dd::synthetic::load_expert<B>(f, net));
 * dd::synthetic::Mtt<dd::nn::ConvNet, B> mtt{net, experts, {.images_per_class = 1, .iterations = 1000}};
 * dd::io::DistilledSet<float> small = mtt.fit(train, dd::callbacks::ProgressBar{});
 * @endcode
 */
template <class M, class B = DefaultBackend<float>>
class Mtt {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::Mtt");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::Mtt");

 public:
  using T = typename B::Scalar;

  /// @throw invalid_argument on bad options, no experts, or an expert shorter than T⁺ − 1 + M epochs
  Mtt(M model, std::vector<ExpertTrajectory<T>> experts, MttOptions options = {})
      : model_(std::move(model)), experts_(std::move(experts)), options_(std::move(options)) {
    options_.validate("Mtt");
    DISTILL_CHECK(!experts_.empty(), "Mtt: experts is empty, expected at least one expert trajectory");
    const std::size_t need = options_.max_start_epoch - 1 + options_.expert_epochs;
    for (std::size_t e = 0; e < experts_.size(); ++e)
      DISTILL_CHECK(experts_[e].epochs_trained() >= need, "Mtt: expert ", e, " has ", experts_[e].epochs_trained(),
                    " epochs, fewer than the max_start_epoch − 1 + expert_epochs = ", need, " the options need");
  }

  const M& model() const { return model_; }
  const MttOptions& options() const { return options_; }
  const std::vector<ExpertTrajectory<T>>& experts() const { return experts_; }

  /// One iteration's draws: which rows of S each synthetic step trains on, and its DSA draw (none without DSA).
  struct Steps {
    std::vector<std::vector<std::size_t>> batches;  //!< N minibatches of equal size, rows of S
    std::vector<DsaDraw> draws;                     //!< N per-image draws, or empty
  };

  /// L, ∂L/∂S, ∂L/∂log α and ∂L/∂labels for one expert segment (see the file comment).
  struct LossAndGrad {
    double loss = 0;
    Tensor<T> d_images;  //!< [n, C, H, W]
    double d_log_lr = 0;
    Tensor<T> d_labels;  //!< [n, K]: the gradient w.r.t. the target vectors (fixed one-hot ones too)
  };

  /**
   * The loss L of the file comment and its gradient, for the synthetic set `images` with target vectors `targets`
   * [n, K] (one-hot, or the learned labels), step size exp(log_lr), from θ*_t = `start` towards θ*_{t+M} = `target`.
   * @throw invalid_argument on inconsistent shapes; numerical_error when the synthetic steps diverge
   */
  LossAndGrad loss_and_grad(const Tensor<T>& images, const Tensor<T>& targets, double log_lr, const nn::Params<T>& start,
                            const nn::Params<T>& target, const Steps& steps, const Dsa& dsa, Memory memory) const {
    using V = ad::Var<B>;
    const std::size_t n_steps = steps.batches.size();
    DISTILL_CHECK(n_steps > 0 && (steps.draws.empty() || steps.draws.size() == n_steps),
                  "Mtt::loss_and_grad(): ", n_steps, " minibatches and ", steps.draws.size(), " DSA draws");
    DISTILL_CHECK(images.rank() == 4 && targets.rank() == 2 && targets.shape(0) == images.shape(0),
                  "Mtt::loss_and_grad(): images ", show(images.shape()), " and targets ", show(targets.shape()),
                  " do not pair up as [n, C, H, W] and [n, K]");
    nn::check_same_layout(target, start, "Mtt::loss_and_grad()");
    // The segment's length ‖θ*_t − θ*_{t+M}‖², the loss's normaliser.
    double length = 0;
    for (std::size_t k = 0; k < start.size(); ++k)
      for (std::size_t i = 0; i < start.tensors[k].size(); ++i) {
        const double d = double(start.tensors[k][i]) - double(target.tensors[k][i]);
        length += d * d;
      }
    DISTILL_CHECK(length > 0, "Mtt::loss_and_grad(): the expert did not move between the two epochs");

    // The unrolled steps: step n trains on A_n(b_n) with the rows of `targets` of b_n.
    UnrolledGdResult<T> unrolled;
    unrolled.steps = n_steps;
    unrolled.epochs = 1;
    unrolled.classes = targets.shape(1);
    std::vector<Tensor<T>> raw(n_steps);
    for (std::size_t s = 0; s < n_steps; ++s) {
      const auto& rows = steps.batches[s];
      DISTILL_CHECK(!rows.empty() && rows.size() == steps.batches[0].size(), "Mtt::loss_and_grad(): minibatch ", s,
                    " has ", rows.size(), " rows, expected ", steps.batches[0].size());
      frame::gather_rows(images, rows, raw[s]);
      unrolled.images.push_back(steps.draws.empty() ? raw[s] : dsa.apply(raw[s], steps.draws[s]));
      Tensor<T> t;
      frame::gather_rows(targets, rows, t);
      unrolled.soft_labels.push_back(std::move(t));
    }
    unrolled.labels.assign(steps.batches[0].size(), 0);  // not read: every step's targets are in soft_labels
    unrolled.log_lr = Tensor<T>({n_steps}, T(log_lr));
    const Tensor<T> no_real;
    const std::vector<std::int64_t> no_labels;
    const T scale = T(1.0 / length);
    auto distance = [&](const std::vector<V>& theta) {
      V total;
      for (std::size_t k = 0; k < theta.size(); ++k) {
        const V d = ad::sub(theta[k], V(target.tensors[k]));
        total = k == 0 ? ad::dot(d, d) : ad::add(total, ad::dot(d, d));
      }
      return ad::mul_scalar(total, scale);
    };
    const Hypergradient<T> hg = unrolled_hypergradient<B>(
        model_, {.set = unrolled, .theta0 = start, .real_x = no_real, .real_y = no_labels, .memory = memory}, distance);

    // Pull ∂L/∂A_n(b_n) back through A_n and scatter it onto the rows of S.
    LossAndGrad out{hg.loss, Tensor<T>(images.shape()), 0.0, Tensor<T>(targets.shape())};
    const std::size_t per = images.size() / images.shape(0), k = targets.shape(1);
    for (std::size_t s = 0; s < n_steps; ++s) {
      Tensor<T> d_raw = hg.d_images[s];
      if (!steps.draws.empty()) {
        ad::Tape<B> tape;
        const V x = tape.variable(raw[s]);
        d_raw = ad::grad(ad::dot(dsa.template apply<B>(x, steps.draws[s]), V(hg.d_images[s])), x).value();
      }
      const auto& rows = steps.batches[s];
      for (std::size_t r = 0; r < rows.size(); ++r) {
        B::axpby(T(1), d_raw.data() + r * per, T(1), out.d_images.data() + rows[r] * per, per);
        B::axpby(T(1), hg.d_soft_labels[s].data() + r * k, T(1), out.d_labels.data() + rows[r] * k, k);
      }
      out.d_log_lr += double(hg.d_log_lr[s]);
    }
    return out;
  }

  /**
   * The draws of one iteration: N minibatches of b rows of an n-image set (a fresh permutation whenever fewer than
   * b rows of the current one are left), and per-image DSA draws when `dsa` has transforms.
   */
  Steps draw_steps(Rng& rng, std::size_t n, std::size_t h, std::size_t w, const Dsa& dsa) const {
    const std::size_t b = options_.batch_syn == 0 ? n : std::min(options_.batch_syn, n);
    Steps out;
    std::vector<std::size_t> perm(n);
    std::size_t at = n;
    for (std::size_t s = 0; s < options_.syn_steps; ++s) {
      if (at + b > n) {
        for (std::size_t i = 0; i < n; ++i) perm[i] = i;
        for (std::size_t i = 0; i + 1 < n; ++i) std::swap(perm[i], perm[i + rng.uniform_int(n - i)]);
        at = 0;
      }
      out.batches.emplace_back(perm.begin() + std::ptrdiff_t(at), perm.begin() + std::ptrdiff_t(at + b));
      at += b;
      if (!dsa.empty()) out.draws.push_back(dsa.draw(rng, h, w, b));
    }
    return out;
  }

  /**
   * Runs MTT on `train` and returns the synthetic set.
   * @param train      images [N, C, H, W] (or [N, H, W]) and labels: the data the experts were trained on
   * @param callbacks  any callbacks (ProgressBar, EarlyStop, Checkpoint, ...); metrics "syn_lr", "expert",
   *                   "start_epoch" per step
   * @return images [C·ipc, C, H, W] in the standardised space, class-major; hard labels [C·ipc] (or the learned
   *         label vectors [C·ipc, K]); the learned step size α in extra["syn_lr"]
   * @throw invalid_argument on empty data, a class with fewer than images_per_class examples (real init), NaN
   *        pixels, images the model does not take, experts trained on differently standardised pixels, or bad
   *        options; frame::Diverged when the synthetic steps, the loss or a gradient become non-finite; io_error
   *        when resume_from cannot be read or does not match
   */
  template <class... Callbacks>
  io::DistilledSet<T> fit(const LabeledData<T>& train, Callbacks&&... callbacks) {
    const char* where = "Mtt::fit()";
    options_.validate(where);
    const std::size_t ipc = options_.images_per_class;
    // 1. standardise (as the experts saw the pixels); every class present (with ipc images for real init)
    const auto prepared =
        frame::prepare_training_set(train, options_.standardize, options_.init == MttInit::real ? ipc : 1, where);
    const LabeledData<T> data{frame::as_nchw(prepared.data.images), prepared.data.labels, prepared.data.num_classes};
    for (std::size_t e = 0; e < experts_.size(); ++e) check_standardization(e, prepared.norm, where);
    const std::size_t classes = data.num_classes, n = ipc * classes;
    const std::size_t h = data.images.shape(2), w = data.images.shape(3);
    MttOptions resolved = options_;
    if (resolved.dsa_strategy == "auto") resolved.dsa_strategy = default_dsa_strategy(data.images.shape(1));
    const Dsa dsa{resolved.dsa_strategy, resolved.dsa_params};

    // 2. S: ipc random real images per class (or noise); one-hot targets; α₀
    Shape shape = data.images.shape();
    shape[0] = n;
    Rng init_rng = frame::stream_rng(options_.seed, frame::Stream::init);
    Tensor<T> xs = Tensor<T>::empty(shape);
    if (options_.init == MttInit::real) {
      frame::gather_rows(data.images, frame::ClassBalancedSampler(data).per_class(init_rng, ipc, where), xs);
    } else {
      for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = T(init_rng.normal());
    }
    {  // the model must take these images and the experts' weights: fail here, with its own message
      Shape one = shape;
      one[0] = 1;
      const auto logits = model_.template forward<B>(nn::constants<B>(experts_[0].epochs[0]), ad::Var<B>(Tensor<T>(one)));
      DISTILL_CHECK(logits.value().rank() == 2 && logits.value().shape(1) == classes, where, ": the model gives ",
                    show(logits.value().shape()), " logits, expected [1, ", classes, "] for the data's classes");
    }
    std::vector<std::int64_t> hard(n);
    for (std::size_t i = 0; i < n; ++i) hard[i] = std::int64_t(i / ipc);
    Tensor<T> targets = nn::one_hot<T>(hard, classes);
    Tensor<T> log_lr({1}, T(std::log(options_.syn_lr_init)));

    const nn::Sgd sgd_images{.lr = options_.lr_images, .momentum = options_.momentum};
    const nn::Sgd sgd_lr{.lr = options_.lr_log_lr, .momentum = options_.momentum};
    const nn::Sgd sgd_labels{.lr = options_.lr_labels, .momentum = options_.momentum};
    nn::Sgd::State<T> images_state, lr_state, labels_state;
    frame::CheckpointState<T> ckpt("mtt");
    ckpt.add("images", xs).add("sgd_images", images_state).add("log_lr", log_lr).add("sgd_log_lr", lr_state);
    if (options_.learn_labels) ckpt.add("labels", targets).add("sgd_labels", labels_state);
    ckpt.set_options_json(resolved.to_json().str());

    // 3. each iteration: an expert segment θ*_t → θ*_{t+M}, N synthetic steps, one SGD step on S, log α (and labels)
    auto step = [&](frame::StepContext& ctx) {
      const std::size_t e = ctx.rng.uniform_int(experts_.size());
      const std::size_t t = ctx.rng.uniform_int(options_.max_start_epoch);
      const Steps steps = draw_steps(ctx.rng, n, h, w, dsa);
      LossAndGrad lg;
      try {
        lg = loss_and_grad(xs, targets, double(log_lr[0]), experts_[e].epochs[t],
                           experts_[e].epochs[t + options_.expert_epochs], steps, dsa, options_.memory);
      } catch (const numerical_error& err) {
        DISTILL_THROW(frame::Diverged, "mtt: ", err.what(), " at step ", ctx.step + 1,
                      "; try a smaller lr_log_lr or syn_lr_init, or OnDivergence::rollback");
      }
      ctx.require_finite("the MTT loss", lg.loss);
      ctx.require_finite("the gradient w.r.t. the images", lg.d_images);
      ctx.require_finite("the gradient w.r.t. log α", lg.d_log_lr);
      Tensor<T> d_log_lr({1}, T(lg.d_log_lr));
      sgd_images.step(images_state, {&xs}, {&lg.d_images}, sgd_images.lr * ctx.lr_factor);
      sgd_lr.step(lr_state, {&log_lr}, {&d_log_lr}, sgd_lr.lr * ctx.lr_factor);
      ctx.require_finite("the learned step size", log_lr);
      if (options_.learn_labels) {
        ctx.require_finite("the gradient w.r.t. the labels", lg.d_labels);
        sgd_labels.step(labels_state, {&targets}, {&lg.d_labels}, sgd_labels.lr * ctx.lr_factor);
      }
      ctx.state.metrics["syn_lr"] = std::exp(double(log_lr[0]));
      ctx.state.metrics["expert"] = double(e);
      ctx.state.metrics["start_epoch"] = double(t);
      return lg.loss;
    };
    frame::run_outer_loop(frame::LoopOptions{.phase = "mtt", .steps = options_.iterations, .seed = options_.seed,
                                             .resume_from = options_.resume_from,
                                             .on_divergence = options_.on_divergence},
                          ckpt, step, callbacks...);

    // 4. the result, in the standardised space, with α
    io::DistilledSet<T> out;
    out.images = xs;
    if (options_.learn_labels) {
      out.labels = targets;
    } else {
      out.labels = Tensor<T>({n});
      for (std::size_t i = 0; i < n; ++i) out.labels[i] = T(hard[i]);
    }
    out.mean = prepared.norm.mean;
    out.stddev = prepared.norm.stddev;
    out.num_classes = classes;
    out.method = "mtt";
    out.options_json = resolved.to_json().str();
    out.extra["syn_lr"] = io::NpyArray::from_tensor(Tensor<T>({1}, T(std::exp(double(log_lr[0])))));
    return out;
  }

 private:
  // The experts must have seen the pixels standardised as the data are now (else θ*_t is for other inputs).
  void check_standardization(std::size_t e, const io::ChannelStandardization<T>& norm, const char* where) const {
    const auto& ex = experts_[e];
    bool same = ex.mean.size() == norm.mean.size() && ex.stddev.size() == norm.stddev.size();
    for (std::size_t c = 0; same && c < norm.mean.size(); ++c)
      same = std::abs(double(ex.mean[c]) - double(norm.mean[c])) <= 1e-4 * (1 + std::abs(double(norm.mean[c]))) &&
             std::abs(double(ex.stddev[c]) - double(norm.stddev[c])) <= 1e-4 * std::abs(double(norm.stddev[c]));
    auto list = [](const Tensor<T>& v) {
      std::string s = "[";
      for (std::size_t c = 0; c < v.size(); ++c) s += (c ? ", " : "") + std::to_string(double(v[c]));
      return s + "]";
    };
    DISTILL_CHECK(same, where, ": expert ", e, " was trained on pixels standardised with mean ", list(ex.mean),
                  " and stddev ", list(ex.stddev), ", but the data's are ", list(norm.mean), " and ", list(norm.stddev),
                  " (train the experts on this data set, with the same standardize option)");
  }

  M model_;
  std::vector<ExpertTrajectory<T>> experts_;
  MttOptions options_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_MTT_HPP
