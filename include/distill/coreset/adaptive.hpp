// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_ADAPTIVE_HPP
#define DISTILL_CORESET_ADAPTIVE_HPP

/**
 * @file
 * Adaptive selection: train a network on a subset that is re-selected every R epochs, with the network being
 * trained as the selector's proxy (the adaptive mode of CRAIG, GradMatch and GLISTER: Mirzasoleiman et al. 2020;
 * Killamsetty et al. 2021, GRAD-MATCH, ICML, arXiv:2103.00123; their CORDS library), instead of selecting once
 * with a separately trained proxy:
 *
 *   θ ← model.init(Rng(seed))
 *   θ ← train(θ, all data, warm_epochs epochs at the constant lr)             (optional warm start, full data)
 *   for epoch e = 0 .. epochs − 1:
 *     if e % R == 0:  view.use_params(θ);  S, w ← selector.select(view, budget)  (θ now, not a fresh proxy)
 *     one epoch of SGD on S (weighted by w when the selector weighs), schedule and momentum over all epochs
 *
 * The epochs on the subsets are eval::train's loop over the selection's distilled set (to_distilled_set; weights
 * through the same batches as evaluate_set), continued across re-selections: the learning-rate schedule runs over
 * all `training.epochs`, the SGD momentum carries over, and minibatch b of epoch e is eval::train's (the same seed
 * gives the same bytes). So with R ≥ epochs the result is one selection from the view of the initial (or warm)
 * parameters followed by eval::train on it, byte for byte.
 *
 * The network trains in the standardised space of the whole training set (io::ChannelStandardization, the
 * normalisation of to_distilled_set and of the view's standardized()); test data go through
 * AdaptiveResult::normalization first.
 *
 * Selectors that read only pixels (herding, k-center greedy, random, the submodular functions on pixels) ignore
 * the network, so every round picks the same subset: adaptive = one-shot for them (and no forward pass is spent).
 * A seeded selector draws with the same seed every round (Random picks the same subset each time).
 */

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/coreset/concepts.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"
#include "distill/eval/train.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/optimizers.hpp"

namespace distill::coreset {

//! Options of train_adaptive() (the training itself is eval::TrainOptions).
struct AdaptiveOptions {
  std::size_t reselect_every = 5;  //!< R: epochs on a subset before the next selection (> 0)
  /**
   * Epochs on the whole training set before the first selection, at training.lr (constant) with its own SGD
   * state: the warm start of the adaptive papers (CORDS' kappa), so that the first selection sees a network that
   * has learnt something rather than its random initialisation. 0: the first selection uses the initial weights.
   */
  std::size_t warm_epochs = 0;
  /**
   * Record the network's correctness on the whole training set at the end of every epoch (warm and subset
   * epochs), which the view passes to Forgetting as its training dynamics. One forward pass over the data per
   * epoch; off unless a selector needs it.
   */
  bool record_dynamics = false;
  FeatureSource features = FeatureSource::pixels;  //!< what features() gives selectors: pixels or the network's embedding
  std::size_t eval_batch_size = 512;               //!< forward passes over the data in batches of this many

  //! @throw invalid_argument naming the bad field
  void validate(std::string_view where) const {
    DISTILL_CHECK(reselect_every > 0, where, ": reselect_every is 0, expected at least 1 epoch between selections");
    DISTILL_CHECK(eval_batch_size > 0, where, ": eval_batch_size is 0, expected at least 1");
  }
};

//! One selection of an adaptive run.
struct AdaptiveRound {
  std::size_t epoch = 0;        //!< the subset epoch it was made at (0, R, 2R, ...; warm epochs not counted)
  Selection selection;          //!< indices (into the training data), weights when the selector weighs, scores
  double select_seconds = 0;    //!< building the view from the current parameters and selecting
  double train_seconds = 0;     //!< training on this selection until the next one (or the end)
};

//! What train_adaptive() returns.
template <std::floating_point T>
struct AdaptiveResult {
  nn::Params<T> params;                        //!< the trained network
  std::vector<AdaptiveRound> rounds;           //!< every selection, in order
  io::ChannelStandardization<T> normalization; //!< the space the network was trained in: apply it to test data
  eval::TrainResult warm;                      //!< the warm start (epochs 0 when there was none)
  eval::TrainResult training;                  //!< the epochs on the subsets (its seconds include the selections)
  std::vector<std::vector<std::uint8_t>> dynamics;  //!< record_dynamics: correctness on the data at every epoch's end

  //! Seconds spent building views and selecting, over all rounds.
  double select_seconds() const {
    double s = 0;
    for (const auto& r : rounds) s += r.select_seconds;
    return s;
  }
  //! Seconds spent training on the selections, over all rounds (the warm start not included).
  double train_seconds() const {
    double s = 0;
    for (const auto& r : rounds) s += r.train_seconds;
    return s;
  }
};

/**
 * Trains a fresh network on adaptively re-selected subsets (see the file comment).
 *
 * @tparam B        the backend (default: DefaultBackend<T>)
 * @param model     a nn::Model for the data's images and classes (features() for embedding features and the
 *                  gradient-based selectors); initialised from Rng(training.seed)
 * @param train     the training data in [0, 1] pixel space, [N, C, H, W]
 * @param selector  any Selector; it sees a view whose one proxy is `model` with the current parameters
 * @param budget    what every selection picks (the same count each round)
 * @param training  eval::train's options for the epochs on the subsets (epochs, schedule, SGD, seed, augment);
 *                  resume_from is not supported (the selections are not checkpointed)
 * @param cbs       callbacks (ProgressBar, EarlyStop, ...) of the warm start's and the subset epochs' loops, as
 *                  eval::train's
 * @return the trained parameters, every selection with its epoch and seconds, the normalisation to test in
 * @throw invalid_argument on bad options (named), an empty or invalid training set, or as the selector (a bad
 *        budget before any training); frame::Diverged as eval::train
 */
template <class B = void, class M, std::floating_point T, class S, class... Callbacks>
AdaptiveResult<T> train_adaptive(const M& model, const LabeledData<T>& train, const S& selector, const Budget& budget,
                                 const AdaptiveOptions& options, const eval::TrainOptions<T>& training = {},
                                 Callbacks&&... cbs) {
  using BB = eval::detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_MODEL(M, BB, "distill::coreset::train_adaptive");
  DISTILL_REQUIRE_SELECTOR(S, "distill::coreset::train_adaptive");
  constexpr const char* where = "coreset::train_adaptive()";
  options.validate(where);
  DISTILL_CHECK(training.epochs > 0, where, ": training.epochs is 0, expected at least 1 epoch on the subsets");
  training.validate(where, "training.");
  DISTILL_CHECK(training.resume_from.empty(), where, ": training.resume_from is set, but an adaptive run cannot resume "
                                                     "(its selections are not checkpointed)");

  SelectionView<T> view(train, {.features = options.features, .proxy_nets = 1, .eval_batch_size = options.eval_batch_size});
  const LabeledData<T>& data = view.standardized();
  AdaptiveResult<T> result;
  result.normalization = io::ChannelStandardization<T>::of(train.images);
  Rng init(training.seed);
  nn::Params<T> params = model.template init<BB>(init);

  detail::RecordCorrectness<BB, M, T> record{&model, &params, &data, options.eval_batch_size, &result.dynamics};
  if (options.warm_epochs > 0) {
    eval::TrainOptions<T> warm = training;
    warm.epochs = options.warm_epochs;
    warm.schedule = eval::Schedule::constant;
    if (options.record_dynamics) result.warm = eval::train<BB>(model, params, data, warm, record, cbs...);
    else result.warm = eval::train<BB>(model, params, data, warm, cbs...);
  }

  // Selection: the view of the current parameters, then the selection's batches (the path evaluate_set trains on:
  // a distilled set of the chosen standardised images, its weights checked by eval::train's weights_of).
  eval::detail::Batches<T> d;
  auto select = [&](std::size_t epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    view.template use_params<BB>(model, params, options.record_dynamics ? result.dynamics
                                                                          : std::vector<std::vector<std::uint8_t>>{});
    Selection s = selector.template select<T>(view, budget);
    DISTILL_CHECK(result.rounds.empty() || s.size() == result.rounds.front().selection.size(), where, ": the selector picked ",
                  s.size(), " examples at epoch ", epoch, " but ", result.rounds.front().selection.size(),
                  " at epoch 0, expected the same count every round");
    d = eval::detail::as_batches(to_distilled_set(s, data, selector.name(), "{}", /*standardize=*/false), where);
    const auto t1 = std::chrono::steady_clock::now();
    result.rounds.push_back({epoch, std::move(s), std::chrono::duration<double>(t1 - t0).count(), 0});
    return t1;
  };
  auto train_start = select(0);
  auto close_round = [&](std::chrono::steady_clock::time_point now) {
    result.rounds.back().train_seconds = std::chrono::duration<double>(now - train_start).count();
  };

  // eval::train's loop (train.hpp) over the current selection's batches, re-selecting at every R-th epoch start.
  frame::ShuffledBatches batches(d.size(), training.batch_size, training.seed);
  const std::size_t per_epoch = batches.per_pass();
  const nn::Sgd sgd{.lr = training.lr, .momentum = training.momentum, .nesterov = training.nesterov,
                    .weight_decay = training.weight_decay};
  nn::Sgd::State<T> sgd_state;
  eval::detail::EpochMeter meter;
  frame::CheckpointState<T> ckpt("train_adaptive");
  ckpt.add("params", params.tensors).add("sgd", sgd_state);
  meter.register_in(ckpt);

  Tensor<T> x, t;
  std::vector<std::int64_t> y;
  std::vector<T> w;
  eval::TrainResult& tr = result.training;
  auto step = [&](frame::StepContext& ctx) {
    const std::size_t epoch = ctx.step / per_epoch;
    if (ctx.step % per_epoch == 0 && epoch % options.reselect_every == 0 && result.rounds.back().epoch != epoch) {
      close_round(std::chrono::steady_clock::now());
      train_start = select(epoch);
    }
    const double lr = eval::detail::lr_at(training, epoch) * ctx.lr_factor;
    const auto idx = batches.batch_at(ctx.step);
    d.gather(idx, x, y, t, w);
    if (training.augment) {
      x = training.augment(x, ctx.rng);
      DISTILL_CHECK(x.rank() >= 1 && x.shape(0) == idx.size(), where, ": augment returned shape ", show(x.shape()),
                    " for a batch of ", idx.size());
    }
    ad::Tape<BB> tape;
    const auto theta = nn::variables(tape, params);
    const ad::Var<BB> logits = model.template forward<BB>(theta, ad::Var<BB>(x));
    const ad::Var<BB> loss = eval::detail::batch_loss(logits, y, t, d.classes, training.objective, w);
    const double l = eval::detail::sgd_descend(loss, theta, params, sgd, sgd_state, lr, ctx);
    meter.add(ctx, l, std::optional<double>(nn::accuracy(logits.value(), y)), idx.size(), lr, per_epoch, tr.epoch_losses);
    return l;
  };
  const frame::LoopOptions loop_options{.phase = "train_adaptive", .steps = training.epochs * per_epoch,
                                        .steps_per_epoch = per_epoch, .seed = training.seed,
                                        .on_divergence = training.on_divergence};
  const frame::LoopResult loop =
      options.record_dynamics ? frame::run_outer_loop(loop_options, ckpt, step, record, cbs...)
                              : frame::run_outer_loop(loop_options, ckpt, step, cbs...);
  close_round(std::chrono::steady_clock::now());
  tr.steps = loop.steps_done;
  tr.epochs = loop.steps_done / per_epoch;
  tr.loss = meter.final_loss(tr.epoch_losses);
  tr.stopped_early = loop.stopped_early;
  tr.seconds = loop.seconds;
  result.params = std::move(params);
  return result;
}

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_ADAPTIVE_HPP
