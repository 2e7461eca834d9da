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
 * ∇x̃ L and ∇η̃ L go *through* the inner gradients, so they are second-order quantities; the tape's create_graph
 * gives them exactly. Two memory modes compute the same hypergradient:
 *   - Memory::full keeps the whole unrolled graph (activations × steps);
 *   - Memory::recompute keeps only θ_i (parameters × steps) and, walking the steps backwards, rebuilds one step's
 *     graph at a time to pull the adjoint dL/dθ_{i+1} back to dL/dθ_i, dL/dx̃_t, dL/dη̃_{e,t}.
 * Step sizes are learned as log η̃, which keeps them positive: one per inner step (the paper), or with
 * step_size_per_tensor one per inner step and parameter tensor (each layer's weights and biases get their own rate,
 * as in Meta-SGD's per-parameter rates, Li et al. 2017, coarsened to tensors). With learn_labels the targets ỹ_t are learned too
 * (Sucholutsky & Schonlau 2019, soft-label dataset distillation; arXiv:1910.02551): each image's target vector
 * starts one-hot and is a free parameter of the cross-entropy −Σₖ ỹₖ log softmax(f)ₖ, not a softmax of logits,
 * so it can leave the simplex: its sum scales that image's gradient like a per-image step size, and negative
 * entries push away from a class.
 *
 * The inner update is the paper's SGD step by default. InnerOptimizer::momentum (heavy ball) and InnerOptimizer::adam
 * replace it with a step whose buffers start at zero for every θ₀ (so it is still a fixed function of θ₀, x̃, η̃ and
 * is unrolled the same way, the buffers becoming part of the state the recompute mode keeps). Why offer them: from a
 * random θ₀, 30 SGD steps on real MNIST batches reach only ~66 % (LeNet's layers stay badly scaled), 30 momentum
 * steps ~79 %, 30 Adam steps ~94 %. Distilled SGD steps still get past that: ~86 % from random θ₀ with real-image
 * init, step_size_per_tensor and learned labels; distilled Adam steps ~88 %. to_distilled_set() turns the learned
 * steps into a distilled-set file (io::save_distilled).
 */

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/callbacks/invoke.hpp"
#include "distill/callbacks/state.hpp"
#include "distill/core.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/npz.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/optimizers.hpp"

namespace distill::synthetic {

/// How much of the unrolled computation is kept for the backward pass.
enum class Memory { full, recompute };
/// Where the initial weights θ₀ of each outer step come from.
enum class ThetaMode { fixed, random, pool };
/// How synthetic images start.
enum class ImageInit { noise, real };

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

struct UnrolledGdOptions {
  std::size_t images_per_class = 1;  //!< per step
  std::size_t steps = 1;             //!< T: distinct synthetic batches, one per inner step
  std::size_t epochs = 3;            //!< E: passes over the T steps
  ImageInit init = ImageInit::noise;
  ThetaMode theta_mode = ThetaMode::fixed;
  std::size_t inits_per_step = 1;    //!< random mode: hypergradients averaged over this many fresh θ₀
  double initial_lr = 0.02;          //!< η̃ at the start, for every step and epoch
  bool step_size_per_tensor = false; //!< learn a step size per inner step *and* parameter tensor, not per step only
                                     //!< (log η̃ is then [E·T, P])
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
  std::size_t divergence_patience = 20;  //!< fit() throws after this many outer steps in a row on which every θ₀ diverged
  std::uint64_t seed = 0;
  std::filesystem::path resume_from = {};  //!< a checkpoint written through TrainingState::save_checkpoint
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

/// One hypergradient evaluation: the outer loss and its gradient w.r.t. every learned quantity.
template <class T>
struct Hypergradient {
  double loss = 0;
  std::vector<Tensor<T>> d_images;        //!< one per step
  Tensor<T> d_log_lr;                     //!< [E·T]
  std::vector<Tensor<T>> d_soft_labels;   //!< one per step (learn_labels only)
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

/// The hypergradient, or numerical_error when it is not finite: saturated units can give finite logits whose
/// derivatives are 0 · ∞ once the weights have overflowed.
template <class T>
Hypergradient<T> finite_hypergradient(Hypergradient<T> h) {
  bool finite = h.d_log_lr.all_finite();
  for (const auto& g : h.d_images) finite = finite && g.all_finite();
  for (const auto& g : h.d_soft_labels) finite = finite && g.all_finite();
  if (!finite)
    DISTILL_THROW(numerical_error, "unrolled training diverged: the hypergradient is not finite (a learned step size "
                                   "or label is too large for this θ₀)");
  return h;
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
 * The outer loss ℓ(f(θ_{E·T}; x), y) after E·T unrolled steps from θ₀, and its exact gradient w.r.t. the
 * synthetic images, the log step sizes and (optionally) the learned label vectors.
 *
 * @param images       T tensors [n, ...]: the synthetic batch of each step
 * @param labels       the n hard labels shared by every step (used when soft_labels is empty)
 * @param soft_labels  empty, or T tensors [n, K]: the learned target vectors of each step
 * @param log_lr       [E·T] log step sizes, or [E·T, P] with one per parameter tensor of θ₀
 * @param theta0       the initial weights
 * @param real_x, real_y  the real minibatch the outer loss is measured on
 * @param inner        the unrolled update rule (SGD, or Adam with its moments carried through the steps)
 * @throw invalid_argument on inconsistent shapes; numerical_error when the unrolled training diverges from θ₀
 *        (non-finite logits in an inner step or in the outer loss)
 */
template <Backend B, class M>
Hypergradient<typename B::Scalar> unrolled_hypergradient(
    const M& model, const std::vector<Tensor<typename B::Scalar>>& images, const std::vector<std::int64_t>& labels,
    const std::vector<Tensor<typename B::Scalar>>& soft_labels, const Tensor<typename B::Scalar>& log_lr,
    std::size_t epochs, const nn::Params<typename B::Scalar>& theta0, const Tensor<typename B::Scalar>& real_x,
    const std::vector<std::int64_t>& real_y, std::size_t classes, Memory memory = Memory::full,
    const InnerOptimizer& inner = {}) {
  using T = typename B::Scalar;
  using V = ad::Var<B>;
  const std::size_t steps = images.size();
  inner.check("unrolled_hypergradient()");
  DISTILL_CHECK(steps > 0, "unrolled_hypergradient(): images is empty (need one batch per step)");
  DISTILL_CHECK(epochs > 0, "unrolled_hypergradient(): epochs must be positive");
  DISTILL_CHECK((log_lr.rank() == 1 || log_lr.rank() == 2) && log_lr.shape(0) == steps * epochs,
                "unrolled_hypergradient(): log_lr has shape ", show(log_lr.shape()), ", expected [steps × epochs] or [",
                "steps × epochs, parameter tensors] with steps × epochs = ", steps * epochs);
  DISTILL_CHECK(log_lr.rank() == 1 || log_lr.shape(1) == theta0.tensors.size(), "unrolled_hypergradient(): log_lr has ",
                log_lr.shape(1), " step sizes per step but θ₀ has ", theta0.tensors.size(), " parameter tensors");
  DISTILL_CHECK(soft_labels.empty() || soft_labels.size() == steps, "unrolled_hypergradient(): soft_labels has ",
                soft_labels.size(), " entries, expected 0 or ", steps);
  for (const auto& im : images)
    DISTILL_CHECK(im.rank() >= 2 && im.shape(0) == labels.size(), "unrolled_hypergradient(): a step's images have shape ",
                  show(im.shape()), " but there are ", labels.size(), " labels");
  DISTILL_CHECK(real_x.rank() >= 2 && real_x.shape(0) == real_y.size(), "unrolled_hypergradient(): real_x has ",
                real_x.rank() ? real_x.shape(0) : 0, " rows but real_y has ", real_y.size());
  const std::size_t n_inner = steps * epochs, n_params = theta0.tensors.size();
  const V syn_one_hot(nn::one_hot<T>(labels, classes));
  const V real_targets(nn::one_hot<T>(real_y, classes));
  const bool learn_labels = !soft_labels.empty();

  Hypergradient<T> out;
  out.d_log_lr = Tensor<T>(log_lr.shape());
  for (const auto& im : images) out.d_images.emplace_back(im.shape());
  for (const auto& ll : soft_labels) out.d_soft_labels.emplace_back(ll.shape());

  // Step i's rates as a [1] or [P] variable: exp of row i of log η̃.
  auto eta_at = [&](const V& log_lr_var, std::size_t i) {
    const V row = ad::slice(log_lr_var, 0, i, i + 1);
    return ad::exp(log_lr.rank() == 2 ? ad::reshape(row, Shape{log_lr.shape(1)}) : row);
  };

  if (memory == Memory::full) {
    ad::Tape<B> tape;
    std::vector<V> xs, lab;
    for (const auto& im : images) xs.push_back(tape.variable(im));
    for (const auto& ll : soft_labels) lab.push_back(tape.variable(ll));
    const V lr = tape.variable(log_lr);
    std::vector<V> theta;
    for (const auto& p : theta0.tensors) theta.push_back(tape.variable(p));
    std::vector<V> state = detail::initial_state(std::move(theta), inner);
    for (std::size_t i = 0; i < n_inner; ++i) {
      const std::size_t t = i % steps;
      state = detail::inner_step(model, state, xs[t], detail::step_targets(lab, syn_one_hot, t), eta_at(lr, i), inner,
                                 true, i);
    }
    state.resize(n_params);  // θ_N
    const V loss = nn::cross_entropy(detail::finite_logits(model, state, V(real_x), n_inner), real_targets);
    out.loss = double(loss.item());
    std::vector<V> wrt = xs;
    wrt.push_back(lr);
    wrt.insert(wrt.end(), lab.begin(), lab.end());
    const auto g = ad::grad(loss, wrt);
    for (std::size_t t = 0; t < steps; ++t) out.d_images[t] = g[t].value();
    out.d_log_lr = g[steps].value();
    for (std::size_t t = 0; t < lab.size(); ++t) out.d_soft_labels[t] = g[steps + 1 + t].value();
    return detail::finite_hypergradient(std::move(out));
  }

  // Memory::recompute. Forward: keep only the inner state of every step (θ_i, and Adam's moments), no graph.
  std::vector<std::vector<Tensor<T>>> states;
  {
    std::vector<V> theta;
    for (const auto& p : theta0.tensors) theta.emplace_back(p);
    std::vector<Tensor<T>> values;
    for (const auto& v : detail::initial_state(std::move(theta), inner)) values.push_back(v.value());
    states.push_back(std::move(values));
  }
  for (std::size_t i = 0; i < n_inner; ++i) {
    const std::size_t t = i % steps;
    ad::Tape<B> tape;
    std::vector<V> state;
    for (const auto& p : states.back()) state.push_back(tape.variable(p));
    const V targets = learn_labels ? V(soft_labels[t]) : syn_one_hot;
    const auto next =
        detail::inner_step(model, state, V(images[t]), targets, V(detail::step_sizes_at(log_lr, i)), inner, false, i);
    std::vector<Tensor<T>> values;
    for (const auto& v : next) values.push_back(v.value());
    states.push_back(std::move(values));
  }
  // The outer loss and dL/d(state_N): dL/dθ_N, and zero for the final moments, which the loss does not read.
  std::vector<Tensor<T>> adjoint;
  {
    ad::Tape<B> tape;
    std::vector<V> theta;
    for (std::size_t k = 0; k < n_params; ++k) theta.push_back(tape.variable(states.back()[k]));
    const V loss = nn::cross_entropy(detail::finite_logits(model, theta, V(real_x), n_inner), real_targets);
    out.loss = double(loss.item());
    for (const auto& g : ad::grad(loss, theta)) adjoint.push_back(g.value());
    for (std::size_t k = n_params; k < states.back().size(); ++k) adjoint.emplace_back(states.back()[k].shape());
  }
  // Backward over the steps: rebuild step i, then pull ⟨state_{i+1}, adjoint⟩ back to state_i, x̃_t, log η̃_i, labels.
  for (std::size_t i = n_inner; i-- > 0;) {
    const std::size_t t = i % steps;
    ad::Tape<B> tape;
    std::vector<V> state;
    for (const auto& p : states[i]) state.push_back(tape.variable(p));
    const V x = tape.variable(images[t]);
    const V lr = tape.variable(log_lr);
    std::vector<V> lab;
    if (learn_labels) lab.push_back(tape.variable(soft_labels[t]));
    const V targets = learn_labels ? lab[0] : syn_one_hot;
    const auto next = detail::inner_step(model, state, x, targets, eta_at(lr, i), inner, true, i);
    V pullback = ad::dot(next[0], V(adjoint[0]));
    for (std::size_t k = 1; k < next.size(); ++k) pullback = ad::add(pullback, ad::dot(next[k], V(adjoint[k])));
    std::vector<V> wrt = state;
    wrt.push_back(x);
    wrt.push_back(lr);
    wrt.insert(wrt.end(), lab.begin(), lab.end());
    const auto g = ad::grad(pullback, wrt);
    for (std::size_t k = 0; k < state.size(); ++k) adjoint[k] = g[k].value();
    const std::size_t at = state.size();
    B::axpby(T(1), g[at].value().data(), T(1), out.d_images[t].data(), out.d_images[t].size());
    B::axpby(T(1), g[at + 1].value().data(), T(1), out.d_log_lr.data(), out.d_log_lr.size());
    if (learn_labels)
      B::axpby(T(1), g[at + 2].value().data(), T(1), out.d_soft_labels[t].data(), out.d_soft_labels[t].size());
  }
  return detail::finite_hypergradient(std::move(out));
}


/**
 * Unrolled-GD dataset distillation (Wang et al. 2018).
 *
 * @tparam M a nn::Model (init<B>(rng), forward<B>(params, x))
 * @tparam B the tensor backend
 *
 * Usage:
 *   synthetic::UnrolledGd<nn::LeNet> ugd{nn::LeNet{}, {.images_per_class = 1, .steps = 1, .epochs = 3}};
 *   ugd.set_fixed_init(theta0);                  // or theta_mode = random / pool (set_pool)
 *   auto result = ugd.fit(train, callbacks::ProgressBar{});
 *   auto trained = apply_distilled(model, theta0, result);
 */
template <class M, Backend B = DefaultBackend<float>>
class UnrolledGd {
 public:
  using T = typename B::Scalar;
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::UnrolledGd");

  UnrolledGd(M model, UnrolledGdOptions options) : model_(std::move(model)), opt_(options) {
    DISTILL_CHECK(opt_.images_per_class > 0, "UnrolledGd: images_per_class must be positive");
    DISTILL_CHECK(opt_.steps > 0 && opt_.epochs > 0, "UnrolledGd: steps (", opt_.steps, ") and epochs (", opt_.epochs,
                  ") must be positive");
    DISTILL_CHECK(opt_.initial_lr > 0 && std::isfinite(opt_.initial_lr), "UnrolledGd: initial_lr must be finite and positive (got ",
                  opt_.initial_lr, ")");
    DISTILL_CHECK(opt_.real_batch > 0, "UnrolledGd: real_batch must be positive");
    DISTILL_CHECK(opt_.inits_per_step > 0, "UnrolledGd: inits_per_step must be positive");
    DISTILL_CHECK(opt_.divergence_patience > 0, "UnrolledGd: divergence_patience must be positive");
    opt_.inner.check("UnrolledGd");
    DISTILL_CHECK(opt_.outer_lr > 0 && opt_.label_lr >= 0, "UnrolledGd: outer_lr (", opt_.outer_lr,
                  ") must be positive and label_lr (", opt_.label_lr, ") non-negative");
  }

  //! θ₀ for ThetaMode::fixed (e.g. a pretrained net). Without it, fixed mode draws one θ₀ from the seed.
  void set_fixed_init(nn::Params<T> theta0) { fixed_ = std::move(theta0); }
  //! The nets ThetaMode::pool samples θ₀ from.
  void set_pool(std::vector<nn::Params<T>> pool) { pool_ = std::move(pool); }
  const std::optional<nn::Params<T>>& fixed_init() const { return fixed_; }

  /// Called every `every` outer steps with the current set, before the callbacks' on_step: it may put numbers
  /// into state.metrics (e.g. a validation accuracy), which ProgressBar prints and EarlyStop can watch.
  using Monitor = std::function<void(const UnrolledGdResult<T>&, callbacks::TrainingState&)>;
  void set_monitor(std::size_t every, Monitor monitor) {
    DISTILL_CHECK(every > 0 || !monitor, "UnrolledGd::set_monitor(): every is 0, expected a positive number of steps");
    monitor_every_ = every;
    monitor_ = std::move(monitor);
  }

  /**
   * Learns the synthetic images (and step sizes, and optionally labels) on `train`.
   *
   * Every random choice of outer step s (its real minibatch, its random θ₀) is a pure function of (seed, s), so a
   * run resumed from a checkpoint (callbacks::Checkpoint, then `.resume_from`) continues bit for bit.
   *
   * @param train_images  [N, C, H, W] (normalised as the model expects), labels in [0, classes)
   * @throw invalid_argument for an empty set, a class without images, or a real_batch larger than the data;
   *        io_error when resume_from cannot be read or does not match this run; numerical_error when the
   *        unrolled training diverged from every θ₀ on divergence_patience outer steps in a row (a θ₀ that diverges
   *        on its own is skipped and counted in the metric "diverged"; a step with no finite draw leaves the set
   *        unchanged and records NaN in loss_history)
   */
  template <class... Callbacks>
  UnrolledGdResult<T> fit(const Tensor<T>& train_images, const std::vector<std::int64_t>& train_labels,
                          std::size_t classes, Callbacks&&... cbs) {
    const std::size_t n_train = train_images.rank() ? train_images.shape(0) : 0;
    DISTILL_CHECK(n_train > 0 && n_train == train_labels.size(), "UnrolledGd::fit(): train has ", n_train,
                  " images and ", train_labels.size(), " labels");
    DISTILL_CHECK(classes > 0, "UnrolledGd::fit(): classes must be positive");
    DISTILL_CHECK(opt_.real_batch <= n_train, "UnrolledGd::fit(): real_batch (", opt_.real_batch,
                  ") is larger than the training set (", n_train, ")");
    DISTILL_CHECK(opt_.theta_mode != ThetaMode::pool || !pool_.empty(),
                  "UnrolledGd::fit(): theta_mode is pool but no pool was set (call set_pool)");
    std::vector<std::vector<std::size_t>> by_class(classes);
    for (std::size_t i = 0; i < n_train; ++i) {
      DISTILL_CHECK(train_labels[i] >= 0 && std::size_t(train_labels[i]) < classes, "UnrolledGd::fit(): label ",
                    train_labels[i], " of image ", i, " is outside [0, ", classes, ")");
      by_class[std::size_t(train_labels[i])].push_back(i);
    }
    for (std::size_t c = 0; c < classes; ++c)
      DISTILL_CHECK(opt_.init != ImageInit::real || by_class[c].size() >= opt_.images_per_class * opt_.steps,
                    "UnrolledGd::fit(): class ", c, " has ", by_class[c].size(), " images, fewer than needed for real init");

    // Initialise x̃ (noise or real images of the right class), soft labels (one-hot) and log η̃.
    Rng rng(opt_.seed);
    const std::size_t n = classes * opt_.images_per_class;
    Shape image_shape = train_images.shape();
    image_shape[0] = n;
    const std::size_t per_image = train_images.size() / n_train;

    UnrolledGdResult<T> r;
    r.steps = opt_.steps;
    r.epochs = opt_.epochs;
    r.classes = classes;
    r.inner = opt_.inner;
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t k = 0; k < opt_.images_per_class; ++k) r.labels.push_back(std::int64_t(c));
    for (std::size_t t = 0; t < opt_.steps; ++t) {
      Tensor<T> im = Tensor<T>::empty(image_shape);
      if (opt_.init == ImageInit::noise) {
        B::random_normal(rng, im.data(), im.size(), T(0), T(1));
      } else {
        for (std::size_t j = 0; j < n; ++j) {
          const auto& pool = by_class[std::size_t(r.labels[j])];
          const std::size_t src = pool[rng.uniform_int(pool.size())];
          std::copy_n(train_images.data() + src * per_image, per_image, im.data() + j * per_image);
        }
      }
      r.images.push_back(std::move(im));
      if (opt_.learn_labels) r.soft_labels.push_back(nn::one_hot<T>(r.labels, classes));
    }
    if (opt_.theta_mode == ThetaMode::fixed && !fixed_) fixed_ = model_.template init<B>(rng);
    const Shape lr_shape = opt_.step_size_per_tensor ? Shape{opt_.steps * opt_.epochs, tensors_per_net(rng)}
                                                     : Shape{opt_.steps * opt_.epochs};
    r.log_lr = Tensor<T>(lr_shape, T(std::log(opt_.initial_lr)));

    // Adam over every learned tensor; log step sizes get their own rate.
    std::vector<Tensor<T>*> params;
    for (auto& im : r.images) params.push_back(&im);
    for (auto& ll : r.soft_labels) params.push_back(&ll);
    const nn::Adam adam{.lr = opt_.outer_lr, .beta1 = opt_.outer_beta1};
    nn::Adam::State<T> adam_images, adam_lrs;
    std::vector<Tensor<T>*> lr_params{&r.log_lr};
    std::size_t start = 0, diverged_draws = 0;
    if (!opt_.resume_from.empty())
      start = load_checkpoint(opt_.resume_from, r, adam_images, adam_lrs, diverged_draws);

    callbacks::TrainingState state{.step = start, .total_steps = opt_.outer_steps, .phase = "unrolled-gd"};
    state.save_checkpoint = [&](const std::filesystem::path& path) {
      save_checkpoint(path, state.step, r, adam_images, adam_lrs, diverged_draws);
    };
    const auto clock0 = std::chrono::steady_clock::now();
    bool stop = callbacks::invoke_on_begin(state, cbs...);
    // Real minibatches walk a shuffled order of the training set, reshuffled for every pass (the paper's shuffling
    // data loader with drop_last); pass p's order is a function of (seed, p) only.
    const std::size_t batches_per_pass = n_train / opt_.real_batch;
    std::vector<std::size_t> order;
    std::size_t order_pass = std::size_t(-1);
    Shape bs = train_images.shape();
    bs[0] = opt_.real_batch;
    std::vector<std::int64_t> real_y(opt_.real_batch);
    std::size_t skipped_in_a_row = 0;
    // Images and labels share one Adam state; the labels step at label_lr (a parameter group with its own rate).
    std::vector<double> rate_scale(r.images.size(), 1.0);
    rate_scale.resize(r.images.size() + r.soft_labels.size(), opt_.label_lr > 0 ? opt_.label_lr / opt_.outer_lr : 1.0);
    for (std::size_t s = start; s < opt_.outer_steps && !stop; ++s) {
      const std::size_t pass = s / batches_per_pass, cursor = (s % batches_per_pass) * opt_.real_batch;
      if (pass != order_pass) {
        Rng pass_rng(mix(opt_.seed, 2 * pass));
        order = pass_rng.permutation(n_train);
        order_pass = pass;
      }
      Tensor<T> real_x = Tensor<T>::empty(bs);
      for (std::size_t j = 0; j < opt_.real_batch; ++j) {
        const std::size_t src = order[cursor + j];
        std::copy_n(train_images.data() + src * per_image, per_image, real_x.data() + j * per_image);
        real_y[j] = train_labels[src];
      }
      // θ₀ per mode; hypergradients averaged over the inits_per_step draws whose unrolled training stays finite. A
      // draw that diverges (learned step sizes or labels too large for that θ₀) is skipped rather than ending a long
      // run; a step on which every draw diverges makes no update, and divergence_patience such steps in a row throw.
      Rng step_rng(mix(opt_.seed, 2 * s + 1));
      Hypergradient<T> total;
      const std::size_t draws = opt_.theta_mode == ThetaMode::fixed ? 1 : opt_.inits_per_step;
      std::size_t used = 0;
      for (std::size_t d = 0; d < draws; ++d) {
        nn::Params<T> theta0 = opt_.theta_mode == ThetaMode::fixed    ? *fixed_
                               : opt_.theta_mode == ThetaMode::random ? model_.template init<B>(step_rng)
                                                                      : pool_[step_rng.uniform_int(pool_.size())];
        Hypergradient<T> hg;
        try {
          hg = unrolled_hypergradient<B>(model_, r.images, r.labels, r.soft_labels, r.log_lr, opt_.epochs, theta0,
                                         real_x, real_y, classes, opt_.memory, opt_.inner);
        } catch (const numerical_error&) {
          ++diverged_draws;
          continue;
        }
        if (used++ == 0) {
          total = std::move(hg);
          continue;
        }
        total.loss += hg.loss;
        for (std::size_t t = 0; t < total.d_images.size(); ++t)
          B::axpby(T(1), hg.d_images[t].data(), T(1), total.d_images[t].data(), total.d_images[t].size());
        for (std::size_t t = 0; t < total.d_soft_labels.size(); ++t)
          B::axpby(T(1), hg.d_soft_labels[t].data(), T(1), total.d_soft_labels[t].data(), total.d_soft_labels[t].size());
        B::axpby(T(1), hg.d_log_lr.data(), T(1), total.d_log_lr.data(), total.d_log_lr.size());
      }
      state.metrics["diverged"] = double(diverged_draws);
      if (used == 0) {
        if (++skipped_in_a_row >= opt_.divergence_patience)
          DISTILL_THROW(numerical_error, "UnrolledGd::fit(): the unrolled training diverged from every θ₀ on ",
                        skipped_in_a_row, " outer steps in a row (up to step ", s,
                        "); try a smaller initial_lr, outer_lr or lr_lr");
        r.loss_history.push_back(std::numeric_limits<double>::quiet_NaN());  // no update on this step
      } else {
        skipped_in_a_row = 0;
        const T scale = T(1) / T(used);
        std::vector<const Tensor<T>*> grads;
        for (auto& g : total.d_images) grads.push_back(&g);
        for (auto& g : total.d_soft_labels) grads.push_back(&g);
        for (auto* g : grads) B::binary_scalar(BinaryOp::mul, g->data(), scale, const_cast<T*>(g->data()), g->size());
        B::binary_scalar(BinaryOp::mul, total.d_log_lr.data(), scale, total.d_log_lr.data(), total.d_log_lr.size());
        DISTILL_CHECK(std::isfinite(total.loss), "UnrolledGd::fit(): the outer loss became ", total.loss,
                      " at step ", s, "; try a smaller initial_lr or outer_lr");
        const double decay = opt_.decay_every ? std::pow(0.5, double(s / opt_.decay_every)) : 1.0;
        adam.step(adam_images, params, grads, opt_.outer_lr * decay, rate_scale);
        adam.step(adam_lrs, lr_params, {&total.d_log_lr}, opt_.lr_lr * decay);
        r.loss_history.push_back(total.loss / double(used));
      }
      state.step = s + 1;
      state.loss = r.loss_history.back();
      state.metrics["lr0"] = std::exp(double(r.log_lr[0]));
      if (monitor_ && state.step % monitor_every_ == 0) monitor_(r, state);
      state.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock0).count();
      stop = callbacks::invoke_on_step(state, cbs...);
    }
    callbacks::invoke_on_end(state, cbs...);
    return r;
  }

 private:
  // A seed for stream k of a run with seed `seed` (splitmix-style mixing, so nearby k give unrelated streams).
  static std::uint64_t mix(std::uint64_t seed, std::uint64_t k) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + k + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Everything fit() needs to continue: the learned tensors, both Adam states, the loss history, the count of diverged
  // θ₀ draws and θ₀ (fixed mode).
  void save_checkpoint(const std::filesystem::path& path, std::size_t step, const UnrolledGdResult<T>& r,
                       const nn::Adam::State<T>& si, const nn::Adam::State<T>& sl, std::size_t diverged) const {
    io::NpzWriter w(path);
    auto i64 = [](std::size_t v) { return io::NpyArray::from_values(std::vector<std::int64_t>{std::int64_t(v)}, Shape{}); };
    w.add("step", i64(step));
    w.add("diverged_draws", i64(diverged));
    w.add("steps", i64(r.steps));
    w.add("epochs", i64(r.epochs));
    w.add("classes", i64(r.classes));
    for (std::size_t t = 0; t < r.images.size(); ++t) w.add("images_" + std::to_string(t), r.images[t]);
    for (std::size_t t = 0; t < r.soft_labels.size(); ++t) w.add("soft_labels_" + std::to_string(t), r.soft_labels[t]);
    w.add("log_lr", r.log_lr);
    w.add("loss_history", io::NpyArray::from_values(r.loss_history, Shape{r.loss_history.size()}));
    w.add("adam_images_step", i64(si.step));
    for (std::size_t k = 0; k < si.m.size(); ++k)
      w.add("adam_images_m_" + std::to_string(k), si.m[k]), w.add("adam_images_v_" + std::to_string(k), si.v[k]);
    w.add("adam_lr_step", i64(sl.step));
    if (!sl.m.empty()) w.add("adam_lr_m", sl.m[0]), w.add("adam_lr_v", sl.v[0]);
    if (opt_.theta_mode == ThetaMode::fixed && fixed_)
      for (std::size_t k = 0; k < fixed_->tensors.size(); ++k) w.add("theta0_" + std::to_string(k), fixed_->tensors[k]);
    w.finish();
  }

  std::size_t load_checkpoint(const std::filesystem::path& path, UnrolledGdResult<T>& r, nn::Adam::State<T>& si,
                              nn::Adam::State<T>& sl, std::size_t& diverged) {
    const auto arrays = io::load_npz(path);
    auto get = [&](const std::string& key) -> const io::NpyArray& {
      const auto it = arrays.find(key);
      if (it == arrays.end())
        DISTILL_THROW(io_error, "UnrolledGd::fit(): checkpoint '", path.string(), "' has no '", key,
                      "' (not an unrolled-GD checkpoint of this configuration?)");
      return it->second;
    };
    auto scalar = [&](const std::string& key) { return std::size_t(get(key).template to_vector<std::int64_t>().at(0)); };
    auto tensor = [&](const std::string& key, const Tensor<T>& like) {
      Tensor<T> t = get(key).template as<T>();
      if (t.shape() != like.shape())
        DISTILL_THROW(io_error, "UnrolledGd::fit(): checkpoint '", path.string(), "' has '", key, "' of shape ",
                      show(t.shape()), " but this run needs ", show(like.shape()),
                      " (same images_per_class, steps, epochs, learn_labels and data?)");
      return t;
    };
    if (scalar("steps") != r.steps || scalar("epochs") != r.epochs || scalar("classes") != r.classes)
      DISTILL_THROW(io_error, "UnrolledGd::fit(): checkpoint '", path.string(), "' was made for ", scalar("steps"),
                    " steps × ", scalar("epochs"), " epochs and ", scalar("classes"), " classes, but this run has ",
                    r.steps, " × ", r.epochs, " and ", r.classes);
    for (std::size_t t = 0; t < r.images.size(); ++t) r.images[t] = tensor("images_" + std::to_string(t), r.images[t]);
    for (std::size_t t = 0; t < r.soft_labels.size(); ++t)
      r.soft_labels[t] = tensor("soft_labels_" + std::to_string(t), r.soft_labels[t]);
    r.log_lr = tensor("log_lr", r.log_lr);
    r.loss_history = get("loss_history").template to_vector<double>();
    si = {};
    si.step = scalar("adam_images_step");
    if (si.step > 0) {
      const std::size_t count = r.images.size() + r.soft_labels.size();
      for (std::size_t k = 0; k < count; ++k) {
        const Tensor<T>& like = k < r.images.size() ? r.images[k] : r.soft_labels[k - r.images.size()];
        si.m.push_back(tensor("adam_images_m_" + std::to_string(k), like));
        si.v.push_back(tensor("adam_images_v_" + std::to_string(k), like));
      }
    }
    sl = {};
    sl.step = scalar("adam_lr_step");
    if (sl.step > 0) sl.m = {tensor("adam_lr_m", r.log_lr)}, sl.v = {tensor("adam_lr_v", r.log_lr)};
    if (opt_.theta_mode == ThetaMode::fixed && arrays.count("theta0_0")) {
      for (std::size_t k = 0; k < fixed_->tensors.size(); ++k)
        fixed_->tensors[k] = tensor("theta0_" + std::to_string(k), fixed_->tensors[k]);
    }
    // Checkpoints from before the count was saved have none: the count restarts at 0 for them.
    diverged = arrays.count("diverged_draws") ? scalar("diverged_draws") : 0;
    const std::size_t step = scalar("step");
    DISTILL_CHECK(step <= opt_.outer_steps, "UnrolledGd::fit(): checkpoint '", path.string(), "' is at step ", step,
                  ", beyond outer_steps (", opt_.outer_steps, ")");
    return step;
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
  std::size_t monitor_every_ = 0;
  Monitor monitor_;
};

/**
 * Trains θ₀ with the distilled steps (E epochs × T steps, the learned step sizes) and returns the result.
 * This is how a distilled set is used, and how it is evaluated.
 * @throw numerical_error when the steps diverge from θ₀ (non-finite logits or weights)
 */
template <Backend B, class M>
nn::Params<typename B::Scalar> apply_distilled(const M& model, const nn::Params<typename B::Scalar>& theta0,
                                               const UnrolledGdResult<typename B::Scalar>& set) {
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

/**
 * The learned set as a distilled-set file (io::DistilledSet; docs/distilled_set_format.md), ready for
 * io::save_distilled:
 *   images       [T·n, C, H, W]  the T steps' batches stacked in step order (rows t·n … t·n + n − 1 are step t);
 *   labels       [T·n]           the hard labels (stacked_labels()), or, when labels were learned,
 *                [T·n, K]        each step's learned target vectors: what the inner steps trained on;
 *   step_sizes   [E·T]           the learned η̃ in application order (inner step i = e·T + t uses step i % T);
 *                [E·T, P]        with step_size_per_tensor: row i holds inner step i's rate for each parameter tensor;
 *   mean, std    [C]             the scalar normalisation the images live in, repeated for each channel;
 *   num_classes = classes, method = "unrolled_gd", options_json as given.
 *
 * @param r        a result of UnrolledGd::fit (or one built by hand)
 * @param mean     the mean that was subtracted from the training images (e.g. io::standardize(...).mean)
 * @param stddev   the standard deviation they were divided by (> 0)
 * @param options_json  how the set was made, as JSON text
 * @throw invalid_argument when r is inconsistent (no steps, steps ≠ images.size(), classes = 0, batches of different shapes or
 *        with a row count other than labels.size(), soft_labels neither empty nor [n, classes] per step, log_lr
 *        not of length steps × epochs) or stddev is not finite and positive.
 */
template <std::floating_point T>
io::DistilledSet<T> to_distilled_set(const UnrolledGdResult<T>& r, std::type_identity_t<T> mean, std::type_identity_t<T> stddev,
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
  DISTILL_CHECK(std::isfinite(stddev) && stddev > 0, "synthetic::to_distilled_set(): stddev is ", stddev,
                ", expected finite and > 0");

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
  set.mean = Tensor<T>(Shape{step_shape[1]}, mean);
  set.stddev = Tensor<T>(Shape{step_shape[1]}, stddev);
  set.num_classes = r.classes;
  set.method = "unrolled_gd";
  set.options_json = std::move(options_json);
  return set;
}

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_UNROLLED_GD_HPP
