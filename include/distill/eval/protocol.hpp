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
 *
 * evaluate_set() runs that protocol twice on a distilled set: once on its argmax labels with cross-entropy (the
 * "hard-label" number every paper reports) and once on the labels the set stores (KIP's learned regression
 * targets, a teacher's probabilities): MSE on them, or cross-entropy against softmax(labels / temperature). A set
 * with hard labels has one protocol only, so it is trained once and both numbers are the same. A set with
 * per-example weights (extra key `weights`: a weighted coreset) is trained on the weighted loss in both (train.hpp).
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string_view>
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

  //! Records one run's test accuracy (a fraction in [0, 1]) and loss and refreshes mean and stddev. A loss that
  //! is NaN or +inf is kept (a network that diverged is a result); a negative one, or an accuracy outside [0, 1],
  //! is a caller's mistake (a percentage passed as a fraction, swapped arguments) and throws.
  void add_run(double accuracy, double test_loss) {
    check_run("ProtocolResult::add_run()", accuracy, test_loss);
    accuracies.push_back(accuracy);
    test_losses.push_back(test_loss);
    summarize();
  }

  //! Appends every run of `other`, in order, and refreshes mean and stddev: the runs of several draws as one result.
  //! `other` is checked like add_run()'s arguments, all of it before anything is appended.
  void add_runs(const ProtocolResult& other) {
    check_lengths("ProtocolResult::add_runs(): other", other);
    for (std::size_t i = 0; i < other.accuracies.size(); ++i)
      check_run("ProtocolResult::add_runs()", other.accuracies[i], other.test_losses[i]);
    // Copies first: inserting a vector's own range into it is undefined, and `r.add_runs(r)` must double r's runs.
    const std::vector<double> more_accuracies = other.accuracies, more_losses = other.test_losses;
    accuracies.insert(accuracies.end(), more_accuracies.begin(), more_accuracies.end());
    test_losses.insert(test_losses.end(), more_losses.begin(), more_losses.end());
    summarize();
  }

  //! mean and (population) stddev of `accuracies`; both 0 when there are no runs. Throws when `accuracies` and
  //! `test_losses` (public, so filled by hand too) differ in length.
  void summarize() {
    check_lengths("ProtocolResult::summarize()", *this);
    mean = stddev = 0;
    if (accuracies.empty()) return;
    const double n = double(accuracies.size());
    mean = std::accumulate(accuracies.begin(), accuracies.end(), 0.0) / n;
    double ss = 0;
    for (double a : accuracies) ss += (a - mean) * (a - mean);
    stddev = std::sqrt(ss / n);
  }

 private:
  static void check_run(std::string_view where, double accuracy, double test_loss) {
    DISTILL_CHECK(accuracy >= 0 && accuracy <= 1, where, ": accuracy is ", accuracy,
                  ", expected a fraction in [0, 1] (not a percentage, not NaN)");
    DISTILL_CHECK(!(test_loss < 0), where, ": test loss is ", test_loss, ", expected >= 0 (NaN or inf: a diverged run)");
  }
  static void check_lengths(std::string_view where, const ProtocolResult& r) {
    DISTILL_CHECK(r.accuracies.size() == r.test_losses.size(), where, ": ", r.accuracies.size(), " accuracies but ",
                  r.test_losses.size(), " test losses, expected one of each per run");
  }
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
    return io::ChannelStandardization<T>{small.mean, small.stddev}.applied_to(test);
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
    r.add_run(e.accuracy, e.loss);
  }
  return r;
}

/// How evaluate_set() trains on the labels a distilled set stores.
enum class StoredObjective {
  mse,            //!< regress the logits onto the stored labels as they are (KIP's learned labels are regression targets)
  cross_entropy,  //!< soft cross-entropy against softmax(labels / temperature); small temperatures approach the argmax
};

//! Options of evaluate_set(): the protocol (its `objective` is set per objective) and the stored-label objective.
template <std::floating_point T = float>
struct SetEvaluationOptions {
  ProtocolOptions<T> protocol{};                  //!< runs, epochs, SGD, seed, ...; `protocol.objective` is ignored
  StoredObjective stored = StoredObjective::mse;  //!< the objective on the set's own labels
  double temperature = 0.1;                       //!< StoredObjective::cross_entropy: targets softmax(labels / temperature)
};

//! evaluate_set()'s answer.
struct SetEvaluation {
  ProtocolResult hard;          //!< argmax labels, cross-entropy
  ProtocolResult stored;        //!< the set's own labels under SetEvaluationOptions::stored
  bool stored_is_hard = false;  //!< the set has hard labels: `stored` is `hard` (one protocol, trained once)
};

/**
 * Checks that a distilled set can be trained on and tested against `data`: images [N, C, H, W] of the same
 * C, H, W as the data's, and the same number of classes (a hard-label set that records no class count may use
 * fewer classes than the data).
 * @param where  the caller, for the message ("evaluate_set")
 * @throw invalid_argument naming the set's and the data's shapes or class counts
 */
template <std::floating_point T>
void check_set_matches(const io::DistilledSet<T>& set, const LabeledData<T>& data, std::string_view where) {
  set.validate(where);
  DISTILL_CHECK(data.images.rank() == 4, where, ": the data's images have shape ", show(data.images.shape()),
                ", expected [N, C, H, W]");
  const Shape a{set.images.shape(1), set.images.shape(2), set.images.shape(3)};
  const Shape b{data.images.shape(1), data.images.shape(2), data.images.shape(3)};
  DISTILL_CHECK(a == b, where, ": the set's images are ", show(a), " (C, H, W) but the data's are ", show(b));
  const std::size_t k = set.classes();
  DISTILL_CHECK(k == data.num_classes || (set.num_classes == 0 && !set.has_soft_labels() && k <= data.num_classes), where,
                ": the set has ", k, " classes but the data have ", data.num_classes);
}

/**
 * softmax(labels / temperature) per row of [N, K] labels (computed in double): probability targets for
 * cross-entropy.
 * @throw invalid_argument when labels is not [N, K] or temperature is not finite and > 0
 */
template <std::floating_point T>
Tensor<T> softmax_targets(const Tensor<T>& labels, double temperature) {
  DISTILL_CHECK(labels.rank() == 2, "eval::softmax_targets(): labels have shape ", show(labels.shape()), ", expected [N, K]");
  DISTILL_CHECK(std::isfinite(temperature) && temperature > 0, "eval::softmax_targets(): temperature is ", temperature,
                ", expected a finite number > 0");
  const std::size_t n = labels.shape(0), c = labels.shape(1);
  Tensor<T> out(Shape{n, c});
  for (std::size_t i = 0; i < n; ++i) {
    const T* y = labels.data() + i * c;
    double top = y[0];
    for (std::size_t k = 1; k < c; ++k) top = std::max(top, double(y[k]));
    double z = 0;
    for (std::size_t k = 0; k < c; ++k) z += std::exp((double(y[k]) - top) / temperature);
    for (std::size_t k = 0; k < c; ++k) out[i * c + k] = T(std::exp((double(y[k]) - top) / temperature) / z);
  }
  return out;
}

/**
 * The protocol on a distilled set with both label objectives (see the file comment): train_from_scratch() on
 * the set's argmax labels with cross-entropy, then, when the set stores soft labels, on those labels with
 * `opt.stored`. The test images are mapped into the set's normalised space (its recorded mean / std).
 *
 * @tparam B     the backend (default: DefaultBackend<T>)
 * @param model  a nn::Model whose input is the set's [C, H, W] and whose output has the data's class count
 * @param set    the distilled set (hard or soft labels)
 * @param test   real test data in [0, 1] pixel space, [N, C, H, W]
 * @param cbs    callbacks, passed to every run of both objectives
 * @return the hard-label and stored-label results; `stored_is_hard` when the set has hard labels
 * @throw invalid_argument when the set does not match the test data (check_set_matches), the temperature is not
 *        > 0, or as train_from_scratch(); all checked before any training
 */
template <class B = void, class M, std::floating_point T, class... Callbacks>
SetEvaluation evaluate_set(const M& model, const io::DistilledSet<T>& set, const LabeledData<T>& test,
                           const SetEvaluationOptions<T>& opt = {}, Callbacks&&... cbs) {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_MODEL(M, BB, "distill::eval::evaluate_set");
  test.validate("eval::evaluate_set()");
  check_set_matches(set, test, "eval::evaluate_set()");
  DISTILL_CHECK(opt.protocol.runs > 0, "eval::evaluate_set(): runs is 0, expected at least 1");
  const bool soft = set.has_soft_labels();
  DISTILL_CHECK(!soft || opt.stored != StoredObjective::cross_entropy || (std::isfinite(opt.temperature) && opt.temperature > 0),
                "eval::evaluate_set(): temperature is ", opt.temperature, ", expected a finite number > 0");
  io::DistilledSet<T> stored_set = set;
  if (soft && opt.stored == StoredObjective::cross_entropy) stored_set.labels = softmax_targets(set.labels, opt.temperature);

  // Hard labels: the argmax, in the data's label space (a set that records no class count may not use them all).
  io::DistilledSet<T> hard_set = set;
  const auto hard = set.hard_labels();
  hard_set.labels = Tensor<T>(Shape{hard.size()});
  for (std::size_t i = 0; i < hard.size(); ++i) hard_set.labels[i] = T(hard[i]);
  hard_set.num_classes = test.num_classes;

  SetEvaluation r;
  ProtocolOptions<T> p = opt.protocol;
  p.objective = Objective::cross_entropy;
  r.hard = train_from_scratch<BB>(model, hard_set, test, p, cbs...);
  if (!soft) {
    r.stored = r.hard;
    r.stored_is_hard = true;
    return r;
  }
  p.objective = opt.stored == StoredObjective::mse ? Objective::mse : Objective::cross_entropy;
  r.stored = train_from_scratch<BB>(model, stored_set, test, p, cbs...);
  return r;
}

}  // namespace distill::eval

#endif  // DISTILL_EVAL_PROTOCOL_HPP
