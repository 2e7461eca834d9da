// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_UNROLLED_STEPS_HPP
#define DISTILL_SYNTHETIC_UNROLLED_STEPS_HPP

/**
 * @file
 * The learned steps of unrolled-GD distillation (synthetic/unrolled_gd.hpp) and how they are used: the inner update
 * rule (SGD as in Wang et al. 2018, heavy-ball momentum or Adam, with the learned step size η̃ as the rate),
 * UnrolledGdResult (the synthetic batch of every step, the labels, log η̃), apply_distilled() (train θ₀ with the
 * steps) and the conversion to and from the distilled-set file (to_distilled_set / from_distilled_set).
 * detail::inner_step is the one inner update, shared by both memory modes of the hypergradient and by
 * apply_distilled, so a learned set is always replayed by the rule it was learned for.
 */

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/params.hpp"

namespace distill::synthetic {

/// The update rule of the unrolled inner loop, with the learned step size η̃ of each step as its learning rate.
struct InnerOptimizer {
  enum class Rule { sgd, momentum, adam };
  //! sgd: θ − η̃ g (Wang et al. 2018); momentum: b = μ b + g, θ − η̃ b (heavy ball as in torch.optim.SGD, b = 0 at
  //! θ₀); adam: θ − η̃ m̂ / √(v̂ + ε²), m = v = 0 at θ₀
  Rule rule = Rule::sgd;
  double beta1 = 0.9, beta2 = 0.999;  //!< adam's moment decays
  double eps = 1e-8;                  //!< adam's ε, inside the root so that the update stays smooth at g = 0
  double momentum = 0.9;              //!< μ of the momentum rule

  //! The rule's name as command lines and saved options spell it: "sgd", "momentum" or "adam".
  static const char* rule_name(Rule r) { return r == Rule::adam ? "adam" : r == Rule::momentum ? "momentum" : "sgd"; }
  //! The rule called `name` (rule_name's inverse); any other name throws invalid_argument naming it and the choices.
  static Rule rule_named(std::string_view name) {
    for (Rule r : {Rule::sgd, Rule::momentum, Rule::adam})
      if (name == rule_name(r)) return r;
    DISTILL_THROW(invalid_argument, "InnerOptimizer: unknown rule '", name, "' (expected sgd, momentum or adam)");
  }

  //! Tensors of inner state per parameter tensor: θ, then b for momentum or m, v for adam.
  std::size_t state_per_tensor() const { return rule == Rule::adam ? 3 : rule == Rule::momentum ? 2 : 1; }
  void check(const char* where) const {
    DISTILL_CHECK(rule != Rule::adam || (beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0),
                  where, ": inner adam needs beta1, beta2 in [0, 1) and eps > 0 (got ", beta1, ", ", beta2, ", ", eps, ")");
    DISTILL_CHECK(rule != Rule::momentum || (momentum >= 0 && momentum < 1), where,
                  ": inner momentum needs momentum in [0, 1) (got ", momentum, ")");
  }
};

/// The learned set: images[t] is the synthetic batch of step t, labels are shared by all steps.
template <class T>
struct UnrolledGdResult {
  std::vector<Tensor<T>> images;        //!< T tensors [n, C, H, W], n = classes × images_per_class
  std::vector<std::int64_t> labels;     //!< hard label of each of the n images of a step
  std::vector<Tensor<T>> soft_labels;   //!< learned target vectors per step [n, K] (empty unless learn_labels)
  Tensor<T> log_lr;                     //!< log step sizes in application order: [E·T], or [E·T, P] per tensor
  std::size_t steps = 0, epochs = 0, classes = 0;
  InnerOptimizer inner = {};            //!< the update rule the steps were learned for (apply_distilled uses it)
  std::vector<double> loss_history;     //!< outer loss per outer step

  //! How many step sizes each inner step has: 1, or the number of parameter tensors P.
  std::size_t step_sizes_per_step() const { return log_lr.rank() == 2 ? log_lr.shape(1) : 1; }
  //! The step size used at inner step i = e·T + t (for parameter tensor k when they are per tensor).
  T lr(std::size_t i, std::size_t k = 0) const { return std::exp(log_lr[i * step_sizes_per_step() + k]); }

  //! A deep copy. A plain copy shares the tensors' storage, so it would follow a running fit (e.g. a monitor that
  //! keeps the best set so far must clone it).
  UnrolledGdResult clone() const {
    UnrolledGdResult c = *this;
    for (auto& im : c.images) im = im.clone();
    for (auto& l : c.soft_labels) l = l.clone();
    c.log_lr = log_lr.clone();
    return c;
  }

  //! The hard label of every image of every step, in step order ([t·n + j] = labels[j]): e.g. the rows of a PNG grid.
  std::vector<std::int64_t> stacked_labels() const {
    std::vector<std::int64_t> out;
    out.reserve(images.size() * labels.size());
    for (std::size_t t = 0; t < images.size(); ++t) out.insert(out.end(), labels.begin(), labels.end());
    return out;
  }
};

namespace detail {

/// The targets of step t: fixed one-hot labels, or the learned label vectors themselves.
template <Backend B>
ad::Var<B> step_targets(const std::vector<ad::Var<B>>& label_vars, const ad::Var<B>& one_hot, std::size_t t) {
  return label_vars.empty() ? one_hot : label_vars[t];
}

/// f(θ; x), or numerical_error when the logits are not finite: the unrolled training diverged (a learned step size or
/// label grew until some θ₀'s weights overflowed). No input check can see that coming, so it gets its own error type,
/// which UnrolledGd::fit catches to skip that θ₀.
template <Backend B, class M>
ad::Var<B> finite_logits(const M& model, const std::vector<ad::Var<B>>& theta, const ad::Var<B>& x, std::size_t done) {
  ad::Var<B> logits = model.template forward<B>(theta, x);
  if (!logits.value().all_finite())
    DISTILL_THROW(numerical_error, "unrolled training diverged: non-finite logits after ", done,
                  " inner steps (a learned step size or label is too large for this θ₀)");
  return logits;
}


/// One inner step from `state` (θ's P tensors, then the momentum buffers, or Adam's first and second moments):
/// θ − η ∇θ ℓ(f(θ; x̃), ỹ) for sgd, the heavy-ball step for momentum, the Adam update with bias correction for step i
/// (0-based) for adam. Recorded with create_graph so the
/// next state can be differentiated w.r.t. the state, x̃, η, ỹ. η is [1] (one rate for every tensor) or [P].
/// @throw numerical_error when θ has diverged (i inner steps have run before this one)
template <Backend B, class M>
std::vector<ad::Var<B>> inner_step(const M& model, const std::vector<ad::Var<B>>& state, const ad::Var<B>& images,
                                   const ad::Var<B>& targets, const ad::Var<B>& eta, const InnerOptimizer& inner,
                                   bool create_graph, std::size_t i) {
  using T = typename B::Scalar;
  const std::size_t n = state.size() / inner.state_per_tensor();
  const std::vector<ad::Var<B>> theta(state.begin(), state.begin() + std::ptrdiff_t(n));
  const ad::Var<B> loss = nn::cross_entropy(finite_logits(model, theta, images, i), targets);
  const auto g = ad::grad(loss, theta, {.create_graph = create_graph});
  const bool per_tensor = eta.size() != 1;
  auto rate = [&](std::size_t k) { return per_tensor ? ad::slice(eta, 0, k, k + 1) : eta; };
  std::vector<ad::Var<B>> next(state.size());
  for (std::size_t k = 0; k < n; ++k) {
    if (inner.rule == InnerOptimizer::Rule::sgd) {
      next[k] = ad::sub(theta[k], ad::mul(rate(k), g[k]));
      continue;
    }
    if (inner.rule == InnerOptimizer::Rule::momentum) {
      const auto b = ad::add(ad::mul_scalar(state[n + k], T(inner.momentum)), g[k]);
      next[k] = ad::sub(theta[k], ad::mul(rate(k), b));
      next[n + k] = b;
      continue;
    }
    const double b1 = inner.beta1, b2 = inner.beta2, step = double(i + 1);
    const auto m = ad::add(ad::mul_scalar(state[n + k], T(b1)), ad::mul_scalar(g[k], T(1 - b1)));
    const auto v = ad::add(ad::mul_scalar(state[2 * n + k], T(b2)), ad::mul_scalar(ad::square(g[k]), T(1 - b2)));
    const auto m_hat = ad::mul_scalar(m, T(1 / (1 - std::pow(b1, step))));
    const auto v_hat = ad::mul_scalar(v, T(1 / (1 - std::pow(b2, step))));
    const auto update = ad::div(m_hat, ad::sqrt(ad::add_scalar(v_hat, T(inner.eps * inner.eps))));
    next[k] = ad::sub(theta[k], ad::mul(rate(k), update));
    next[n + k] = m;
    next[2 * n + k] = v;
  }
  return next;
}

/// The inner state at θ₀: θ₀'s tensors as given, then zero buffers (momentum) or moments (adam).
template <Backend B>
std::vector<ad::Var<B>> initial_state(std::vector<ad::Var<B>> theta, const InnerOptimizer& inner) {
  const std::size_t n = theta.size();
  for (std::size_t copy = 1; copy < inner.state_per_tensor(); ++copy)
    for (std::size_t k = 0; k < n; ++k) theta.emplace_back(Tensor<typename B::Scalar>(theta[k].shape()));
  return theta;
}

/// The step sizes of inner step i as a constant: [1], or [P] when log_lr is [E·T, P].
template <class T>
Tensor<T> step_sizes_at(const Tensor<T>& log_lr, std::size_t i) {
  const std::size_t per_step = log_lr.rank() == 2 ? log_lr.shape(1) : 1;
  Tensor<T> eta(Shape{per_step});
  for (std::size_t k = 0; k < per_step; ++k) eta[k] = std::exp(log_lr[i * per_step + k]);
  return eta;
}

}  // namespace detail

/**
 * Trains θ₀ with the distilled steps (E epochs × T steps, the learned step sizes) and returns the result.
 * This is how a distilled set is used, and how it is evaluated.
 * @throw numerical_error when the steps diverge from θ₀ (non-finite logits or weights)
 */
template <class B, class M>
nn::Params<typename B::Scalar> apply_distilled(const M& model, const nn::Params<typename B::Scalar>& theta0,
                                               const UnrolledGdResult<typename B::Scalar>& set) {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::apply_distilled");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::apply_distilled");
  using T = typename B::Scalar;
  using V = ad::Var<B>;
  DISTILL_CHECK(set.log_lr.rank() >= 1 && set.log_lr.shape(0) == set.steps * set.epochs && set.images.size() == set.steps,
                "apply_distilled(): the distilled set is inconsistent (", set.images.size(), " steps of images, ",
                show(set.log_lr.shape()), " step sizes for ", set.steps, " steps × ", set.epochs, " epochs)");
  DISTILL_CHECK(set.step_sizes_per_step() == 1 || set.step_sizes_per_step() == theta0.tensors.size(),
                "apply_distilled(): the set has ", set.step_sizes_per_step(), " step sizes per step but θ₀ has ",
                theta0.tensors.size(), " parameter tensors");
  set.inner.check("apply_distilled()");
  nn::Params<T> theta = theta0.clone();
  const V one_hot(nn::one_hot<T>(set.labels, set.classes));
  std::vector<Tensor<T>> state;
  for (const auto& v : detail::initial_state(std::vector<V>(theta.tensors.begin(), theta.tensors.end()), set.inner))
    state.push_back(v.value());
  for (std::size_t i = 0; i < set.steps * set.epochs; ++i) {
    const std::size_t t = i % set.steps;
    ad::Tape<B> tape;
    std::vector<V> vars;
    for (const auto& p : state) vars.push_back(tape.variable(p));
    const V targets = set.soft_labels.empty() ? one_hot : V(set.soft_labels[t]);
    const auto next = detail::inner_step(model, vars, V(set.images[t]), targets,
                                         V(detail::step_sizes_at(set.log_lr, i)), set.inner, false, i);
    for (std::size_t k = 0; k < next.size(); ++k) state[k] = next[k].value();
  }
  for (std::size_t k = 0; k < theta.tensors.size(); ++k) theta.tensors[k] = state[k];
  for (const auto& p : theta.tensors)
    if (!p.all_finite())
      DISTILL_THROW(numerical_error, "apply_distilled(): the distilled steps diverged from this θ₀ (non-finite weights after ",
                    set.steps * set.epochs, " steps)");
  return theta;
}

/// What initial_steps() makes: the shape of the learned set and how it starts.
struct InitialSteps {
  std::size_t images_per_class = 1;  //!< per step
  std::size_t steps = 1;             //!< T
  std::size_t epochs = 1;            //!< E
  bool real_images = false;          //!< distinct real images of each class (else standard normal noise)
  bool learn_labels = false;         //!< one-hot target vectors per step, to be learned
  InnerOptimizer inner = {};
};

/**
 * The synthetic set before the first outer step: T batches of ipc images per class (class c's rows together),
 * noise or distinct real images of the class drawn from `rng` (frame::ClassBalancedSampler), the hard labels,
 * one-hot learned labels when asked; log_lr is left empty for the caller.
 * @throw invalid_argument when real images are asked and a class has fewer than ipc·T of them
 */
template <class B>
UnrolledGdResult<typename B::Scalar> initial_steps(const LabeledData<typename B::Scalar>& train, const InitialSteps& o,
                                                   Rng& rng) {
  using T = typename B::Scalar;
  const std::size_t classes = train.num_classes, ipc = o.images_per_class, n = classes * ipc;
  Shape image_shape = train.images.shape();
  image_shape[0] = n;
  UnrolledGdResult<T> r;
  r.steps = o.steps;
  r.epochs = o.epochs;
  r.classes = classes;
  r.inner = o.inner;
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t k = 0; k < ipc; ++k) r.labels.push_back(std::int64_t(c));
  std::vector<std::size_t> picks;  // class c's: [c·ipc·T, (c+1)·ipc·T), step t's at t·ipc
  if (o.real_images) picks = frame::ClassBalancedSampler(train).per_class(rng, ipc * o.steps, "UnrolledGd::fit()");
  for (std::size_t t = 0; t < o.steps; ++t) {
    Tensor<T> im = Tensor<T>::empty(image_shape);
    if (!o.real_images) {
      B::random_normal(rng, im.data(), im.size(), T(0), T(1));
    } else {
      std::vector<std::size_t> rows(n);
      for (std::size_t j = 0; j < n; ++j) rows[j] = picks[(j / ipc) * ipc * o.steps + t * ipc + j % ipc];
      frame::gather_rows(train.images, rows, im);
    }
    r.images.push_back(std::move(im));
    if (o.learn_labels) r.soft_labels.push_back(nn::one_hot<T>(r.labels, classes));
  }
  return r;
}

/**
 * The learned set as a distilled-set file (io::DistilledSet; docs/distilled_set_format.md), ready for
 * io::save_distilled:
 *   images       [T·n, C, H, W]  the T steps' batches stacked in step order (rows t·n … t·n + n − 1 are step t);
 *   labels       [T·n]           the hard labels (stacked_labels()), or, when labels were learned,
 *                [T·n, K]        each step's learned target vectors: what the inner steps trained on;
 *   step_sizes   [E·T]           the learned η̃ in application order (inner step i = e·T + t uses step i % T);
 *                [E·T, P]        with step_size_per_tensor: row i holds inner step i's rate for each parameter tensor;
 *   mean, std    [C]             the normalisation the images live in, per channel;
 *   unrolled_steps  int64 ()     T (extra key), so from_distilled_set can cut the images back into steps;
 *   inner_rule   '<U' (1,)       "sgd", "momentum" or "adam" (extra key), and inner_params float64 [4]:
 *                                momentum, beta1, beta2, eps of the rule the steps were learned for;
 *   num_classes = classes, method = "unrolled_gd", options_json as given.
 *
 * @param r        a result of UnrolledGd::fit_steps (or one built by hand)
 * @param norm     the per-channel standardisation applied to the training images (UnrolledGd::standardization())
 * @param options_json  how the set was made, as JSON text
 * @throw invalid_argument when r is inconsistent (no steps, steps ≠ images.size(), classes = 0, batches of different shapes or
 *        with a row count other than labels.size(), soft_labels neither empty nor [n, classes] per step, log_lr
 *        not of length steps × epochs) or stddev is not finite and positive.
 */
template <std::floating_point T>
io::DistilledSet<T> to_distilled_set(const UnrolledGdResult<T>& r, const io::ChannelStandardization<T>& norm,
                                     std::string options_json = "{}") {
  const std::size_t steps = r.images.size(), n = r.labels.size();
  DISTILL_CHECK(steps > 0 && steps == r.steps, "synthetic::to_distilled_set(): the result has ", steps,
                " image batches and steps = ", r.steps, ", expected the same positive number");
  DISTILL_CHECK(r.classes > 0, "synthetic::to_distilled_set(): the result has classes = 0, expected the number of classes");
  const Shape step_shape = r.images[0].shape();
  DISTILL_CHECK(step_shape.size() >= 2 && step_shape[0] == n, "synthetic::to_distilled_set(): step 0 has images of shape ",
                show(step_shape), " but there are ", n, " labels, expected [", n, ", C, H, W]");
  for (std::size_t t = 1; t < steps; ++t)
    DISTILL_CHECK(r.images[t].shape() == step_shape, "synthetic::to_distilled_set(): step ", t, " has images of shape ",
                  show(r.images[t].shape()), " but step 0 has ", show(step_shape));
  DISTILL_CHECK(r.soft_labels.empty() || r.soft_labels.size() == steps, "synthetic::to_distilled_set(): soft_labels has ",
                r.soft_labels.size(), " entries, expected 0 or ", steps, " (one per step)");
  for (std::size_t t = 0; t < r.soft_labels.size(); ++t)
    DISTILL_CHECK(r.soft_labels[t].shape() == Shape({n, r.classes}), "synthetic::to_distilled_set(): soft_labels[", t,
                  "] has shape ", show(r.soft_labels[t].shape()), ", expected [", n, ", ", r.classes, "]");
  DISTILL_CHECK((r.log_lr.rank() == 1 || r.log_lr.rank() == 2) && r.log_lr.shape(0) == steps * r.epochs && r.epochs > 0,
                "synthetic::to_distilled_set(): log_lr has ", r.log_lr.rank() ? r.log_lr.shape(0) : 0,
                " rows, expected steps × epochs = ", steps, " × ", r.epochs);
  DISTILL_CHECK(norm.mean.size() == step_shape[1] && norm.stddev.size() == step_shape[1],
                "synthetic::to_distilled_set(): the standardisation has ", norm.mean.size(), " channels, the images ",
                step_shape[1]);
  for (const T sd : norm.stddev)
    DISTILL_CHECK(std::isfinite(sd) && sd > 0, "synthetic::to_distilled_set(): stddev is ", sd, ", expected finite and > 0");

  io::DistilledSet<T> set;
  Shape all = step_shape;
  all[0] = steps * n;
  set.images = Tensor<T>::empty(all);
  const std::size_t per_step = r.images[0].size();
  for (std::size_t t = 0; t < steps; ++t) std::copy_n(r.images[t].data(), per_step, set.images.data() + t * per_step);

  if (r.soft_labels.empty()) {
    const std::vector<std::int64_t> hard = r.stacked_labels();
    set.labels = Tensor<T>(Shape{hard.size()});
    for (std::size_t i = 0; i < hard.size(); ++i) set.labels[i] = T(hard[i]);
  } else {  // the learned targets as they are, step after step
    const std::size_t per_step_labels = n * r.classes;
    set.labels = Tensor<T>(Shape{steps * n, r.classes});
    for (std::size_t t = 0; t < steps; ++t)
      std::copy_n(r.soft_labels[t].data(), per_step_labels, set.labels.data() + t * per_step_labels);
  }

  Tensor<T> lrs(r.log_lr.shape());
  for (std::size_t i = 0; i < lrs.size(); ++i) lrs[i] = std::exp(r.log_lr[i]);
  set.step_sizes = std::move(lrs);
  set.mean = norm.mean.clone();
  set.stddev = norm.stddev.clone();
  set.extra["unrolled_steps"] = io::NpyArray::from_values(std::vector<std::int64_t>{std::int64_t(steps)}, Shape{});
  set.extra["inner_rule"] = io::NpyArray::from_string(InnerOptimizer::rule_name(r.inner.rule));
  set.extra["inner_params"] =
      io::NpyArray::from_values(std::vector<double>{r.inner.momentum, r.inner.beta1, r.inner.beta2, r.inner.eps});
  set.num_classes = r.classes;
  set.method = "unrolled_gd";
  set.options_json = std::move(options_json);
  return set;
}

/// The same with one mean and standard deviation for every channel (e.g. io::standardize()'s).
template <std::floating_point T>
io::DistilledSet<T> to_distilled_set(const UnrolledGdResult<T>& r, std::type_identity_t<T> mean,
                                     std::type_identity_t<T> stddev, std::string options_json = "{}") {
  DISTILL_CHECK(!r.images.empty() && r.images[0].rank() >= 2, "synthetic::to_distilled_set(): the result has ",
                r.images.size(), " image batches and steps = ", r.steps, ", expected the same positive number");
  const std::size_t channels = r.images[0].shape(1);
  DISTILL_CHECK(std::isfinite(stddev) && stddev > 0, "synthetic::to_distilled_set(): stddev is ", stddev,
                ", expected finite and > 0");
  return to_distilled_set(r, io::ChannelStandardization<T>{Tensor<T>({channels}, mean), Tensor<T>({channels}, stddev)},
                          std::move(options_json));
}

/**
 * The learned steps of a distilled-set file written by to_distilled_set (UnrolledGd::fit), ready for
 * apply_distilled: the images cut back into T batches, the labels, log η̃ and the inner rule. loss_history is empty.
 * @throw invalid_argument when the set was not made by unrolled GD (no unrolled_steps / inner_rule / step_sizes) or
 *        its shapes do not divide into T steps
 */
template <std::floating_point T>
UnrolledGdResult<T> from_distilled_set(const io::DistilledSet<T>& set) {
  const char* where = "synthetic::from_distilled_set()";
  set.validate(where);
  const auto steps_it = set.extra.find("unrolled_steps");
  const auto rule_it = set.extra.find("inner_rule");
  const auto params_it = set.extra.find("inner_params");
  DISTILL_CHECK(steps_it != set.extra.end() && rule_it != set.extra.end() && params_it != set.extra.end() &&
                    set.step_sizes, where, ": the set (method '", set.method,
                "') has no unrolled_steps, inner_rule, inner_params or step_sizes: not made by unrolled GD");
  const auto steps_v = steps_it->second.template to_vector<std::int64_t>();
  const auto params = params_it->second.template to_vector<double>();
  DISTILL_CHECK(steps_v.size() == 1 && steps_v[0] > 0 && params.size() == 4, where,
                ": unrolled_steps must be one positive number and inner_params four numbers");
  const std::size_t steps = std::size_t(steps_v[0]), total = set.size();
  DISTILL_CHECK(total % steps == 0 && set.step_sizes->shape(0) % steps == 0, where, ": ", total, " images and ",
                set.step_sizes->shape(0), " step sizes do not divide into ", steps, " steps");
  UnrolledGdResult<T> r;
  r.steps = steps;
  r.epochs = set.step_sizes->shape(0) / steps;
  r.classes = set.classes();
  r.inner = {.rule = InnerOptimizer::rule_named(rule_it->second.as_string()), .beta1 = params[1], .beta2 = params[2],
             .eps = params[3], .momentum = params[0]};
  const std::size_t n = total / steps;
  const std::vector<std::int64_t> hard = set.hard_labels();
  r.labels.assign(hard.begin(), hard.begin() + std::ptrdiff_t(n));
  for (std::size_t t = 0; t < steps; ++t) {
    r.images.push_back(set.images.rows(t * n, (t + 1) * n).clone());
    if (set.has_soft_labels()) r.soft_labels.push_back(set.labels.rows(t * n, (t + 1) * n).clone());
  }
  r.log_lr = Tensor<T>(set.step_sizes->shape());
  for (std::size_t i = 0; i < r.log_lr.size(); ++i) r.log_lr[i] = std::log((*set.step_sizes)[i]);
  return r;
}


}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_UNROLLED_STEPS_HPP
