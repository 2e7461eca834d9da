// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EVAL_PROTOCOL_HPP
#define DISTILL_EVAL_PROTOCOL_HPP

/**
 * @file
 * The field's evaluation protocol for a small (distilled or selected) training set: train `runs` freshly
 * initialised networks on it and report the mean ± standard deviation of their test accuracy (Zhao, Mopuri,
 * Bilen 2021, Dataset Condensation with Gradient Matching, ICLR; arXiv:2006.05929, and every later paper).
 *
 *   for i in 0..runs-1:
 *     θ ← model.init(Rng(seed + i));  train(model, θ, small, {seed = seed + i, ...});  acc_i ← evaluate(θ, test)
 *   return mean(acc), std(acc)            (population std, NumPy's np.std, as the papers' code reports)
 */

#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <vector>

#include "distill/eval/train.hpp"

namespace distill::eval {

/// Options of train_from_scratch(): the number of runs plus train()'s knobs, with the protocol's defaults.
template <std::floating_point T = float>
struct ProtocolOptions {
  std::size_t runs = 5;
  std::size_t epochs = 300;
  std::size_t batch_size = 256;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
  Schedule schedule = Schedule::step;
  double step_at = 0.5;
  double step_gamma = 0.1;
  Objective objective = Objective::cross_entropy;
  std::uint64_t seed = 0;  //!< run i uses seed + i for its init and its minibatch order
  std::function<Tensor<T>(const Tensor<T>&, Rng&)> augment = nullptr;
  std::size_t eval_batch_size = 1024;

  //! The options of one run.
  TrainOptions<T> train_options(std::size_t run) const {
    return {.epochs = epochs, .batch_size = batch_size, .lr = lr, .momentum = momentum, .weight_decay = weight_decay,
            .nesterov = nesterov, .schedule = schedule, .step_at = step_at, .step_gamma = step_gamma,
            .objective = objective, .seed = seed + run, .augment = augment, .resume_from = {}};
  }
};

//! train_from_scratch()'s answer.
struct ProtocolResult {
  double mean = 0;                  //!< mean test accuracy over the runs
  double stddev = 0;                //!< population standard deviation of the test accuracies
  std::vector<double> accuracies;   //!< one per run
  std::vector<double> test_losses;  //!< one per run
};

namespace detail {
//! The test set mapped into the normalised space of a distilled set (x − mean) / std, or unchanged.
template <class T, class Small>
LabeledData<T> test_in_space_of(const Small& small, const LabeledData<T>& test) {
  if constexpr (std::is_same_v<Small, io::DistilledSet<T>>) {
    if (small.mean.size() == 0) return test;
    DISTILL_CHECK(test.images.rank() == 4 && test.images.shape(1) == small.mean.size(),
                  "eval::train_from_scratch(): test images have shape ", show(test.images.shape()), " but the distilled set ",
                  "is normalised over ", small.mean.size(), " channels");
    LabeledData<T> out{test.images.clone(), test.labels, test.num_classes};
    const std::size_t c = small.mean.size(), plane = test.images.shape(2) * test.images.shape(3);
    for (std::size_t i = 0; i < out.images.size(); ++i) {
      const std::size_t ch = (i / plane) % c;
      out.images[i] = (out.images[i] - small.mean[ch]) / small.stddev[ch];
    }
    return out;
  } else {
    return test;
  }
}
}  // namespace detail

/**
 * Trains `opt.runs` fresh networks on `small` and tests each on `test`.
 *
 * @tparam B     the backend (default: DefaultBackend<T>)
 * @param model  a nn::Model (e.g. nn::ConvNet{})
 * @param small  the small training set: LabeledData<T>, SoftLabeledData<T> or io::DistilledSet<T> (whose recorded
 *               normalisation is applied to the test images)
 * @param test   real test data
 * @param cbs    callbacks, passed to every run's train() (each run calls on_begin ... on_end once)
 * @return mean, stddev and every run's accuracy; the same seed gives the same bytes
 * @throw invalid_argument when runs is 0 or as train() / evaluate()
 */
template <class B = void, class M, class Small, std::floating_point T, class... Callbacks>
ProtocolResult train_from_scratch(const M& model, const Small& small, const LabeledData<T>& test,
                                  const ProtocolOptions<T>& opt = {}, Callbacks&&... cbs) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_MODEL(M, BB, "distill::eval::train_from_scratch");
  DISTILL_CHECK(opt.runs > 0, "eval::train_from_scratch(): runs is 0, expected at least 1");
  test.validate("eval::train_from_scratch()");
  const LabeledData<T> test_n = detail::test_in_space_of(small, test);
  ProtocolResult r;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    Rng rng(opt.seed + run);
    nn::Params<T> params = model.template init<BB>(rng);
    train<BB>(model, params, small, opt.train_options(run), cbs...);
    const EvalResult e = evaluate<BB>(model, params, test_n, opt.eval_batch_size);
    r.accuracies.push_back(e.accuracy);
    r.test_losses.push_back(e.loss);
  }
  const double n = double(r.accuracies.size());
  r.mean = std::accumulate(r.accuracies.begin(), r.accuracies.end(), 0.0) / n;
  double ss = 0;
  for (double a : r.accuracies) ss += (a - r.mean) * (a - r.mean);
  r.stddev = std::sqrt(ss / n);
  return r;
}

}  // namespace distill::eval

#endif  // DISTILL_EVAL_PROTOCOL_HPP
