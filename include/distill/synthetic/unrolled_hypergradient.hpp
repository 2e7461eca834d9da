// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_UNROLLED_HYPERGRADIENT_HPP
#define DISTILL_SYNTHETIC_UNROLLED_HYPERGRADIENT_HPP

/**
 * @file
 * The hypergradient of unrolled-GD distillation (the math of synthetic/unrolled_gd.hpp): the outer loss after
 * E·T unrolled inner steps from θ₀ and its exact gradient w.r.t. the synthetic images, the log step sizes and the
 * learned labels. ∇x̃ L and ∇η̃ L go *through* the inner gradients, so they are second-order quantities; the
 * tape's create_graph gives them exactly. Two memory modes compute the same hypergradient:
 *   - Memory::full keeps the whole unrolled graph (activations × steps);
 *   - Memory::recompute keeps only the inner state of each step (θ_i, and the momentum buffer or Adam's moments)
 *     and, walking the steps backwards, rebuilds one step's graph at a time to pull the adjoint dL/dθ_{i+1} back
 *     to dL/dθ_i, dL/dx̃_t, dL/dη̃_{e,t}; memory then grows with parameters × steps, not activations × steps.
 * The outer loss is unrolled GD's cross-entropy on a real batch, or any scalar function of θ_N given to the
 * three-argument overload (MTT's normalised distance to an expert's weights, synthetic/mtt.hpp).
 */

#include <cstdint>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/synthetic/unrolled_steps.hpp"

namespace distill::synthetic {

/// How much of the unrolled computation is kept for the backward pass.
enum class Memory { full, recompute };

/// One hypergradient evaluation: the outer loss and its gradient w.r.t. every learned quantity.
template <class T>
struct Hypergradient {
  double loss = 0;
  std::vector<Tensor<T>> d_images;        //!< one per step
  Tensor<T> d_log_lr;                     //!< [E·T]
  std::vector<Tensor<T>> d_soft_labels;   //!< one per step (learn_labels only)
};

/// What unrolled_hypergradient differentiates: the learned steps, the initial weights and the real batch the outer
/// loss is measured on. Designated initializers: `{.set = r, .theta0 = θ₀, .real_x = x, .real_y = y}`.
template <std::floating_point T>
struct HypergradientInputs {
  const UnrolledGdResult<T>& set;            //!< images (one batch per step), labels, soft_labels, log_lr, epochs, classes, inner
  const nn::Params<T>& theta0;               //!< the initial weights
  const Tensor<T>& real_x;                   //!< the real minibatch of the outer loss (unused with an outer_loss)
  const std::vector<std::int64_t>& real_y;   //!< its labels (unused with an outer_loss)
  Memory memory = Memory::full;              //!< keep the unrolled graph, or recompute it step by step
};

namespace detail {

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

}  // namespace detail

/**
 * The outer loss L = outer_loss(θ_{E·T}) after E·T unrolled steps from θ₀, and its exact gradient w.r.t. the
 * synthetic images, the log step sizes and (optionally) the learned label vectors.
 *
 * @param in          the learned steps (`in.set`: images [n, ...] per step, the n hard labels, the learned label
 *                    vectors or none, log η̃ [E·T] or [E·T, P], E, the class count, the inner rule), θ₀, the memory
 *                    mode (in.real_x and in.real_y are not read)
 * @param outer_loss  `ad::Var<B>(const std::vector<ad::Var<B>>& theta)`: a scalar of the final weights on the tape
 * @throw invalid_argument on inconsistent shapes; numerical_error when the unrolled training diverges from θ₀
 *        (non-finite logits in an inner step, or a non-finite hypergradient)
 */
template <class B, class M, class OuterLoss>
Hypergradient<typename B::Scalar> unrolled_hypergradient(const M& model,
                                                         const HypergradientInputs<typename B::Scalar>& in,
                                                         OuterLoss&& outer_loss) {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::unrolled_hypergradient");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::unrolled_hypergradient");
  using T = typename B::Scalar;
  using V = ad::Var<B>;
  const std::vector<Tensor<T>>& images = in.set.images;
  const std::vector<std::int64_t>& labels = in.set.labels;
  const std::vector<Tensor<T>>& soft_labels = in.set.soft_labels;
  const Tensor<T>& log_lr = in.set.log_lr;
  const std::size_t epochs = in.set.epochs, classes = in.set.classes;
  const InnerOptimizer& inner = in.set.inner;
  const nn::Params<T>& theta0 = in.theta0;
  const Memory memory = in.memory;
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
  const std::size_t n_inner = steps * epochs, n_params = theta0.tensors.size();
  const V syn_one_hot(nn::one_hot<T>(labels, classes));
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
    const V loss = outer_loss(state);
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
    const V loss = outer_loss(theta);
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
 * Unrolled GD's hypergradient: the outer loss is the cross-entropy ℓ(f(θ_{E·T}; x), y) on the real batch
 * (in.real_x, in.real_y).
 * @throw invalid_argument on inconsistent shapes; numerical_error when the unrolled training diverges from θ₀
 *        (non-finite logits in an inner step or in the outer loss)
 */
template <class B, class M>
Hypergradient<typename B::Scalar> unrolled_hypergradient(const M& model,
                                                         const HypergradientInputs<typename B::Scalar>& in) {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::unrolled_hypergradient");
  using V = ad::Var<B>;
  DISTILL_CHECK(in.real_x.rank() >= 2 && in.real_x.shape(0) == in.real_y.size(), "unrolled_hypergradient(): real_x has ",
                in.real_x.rank() ? in.real_x.shape(0) : 0, " rows but real_y has ", in.real_y.size());
  const V real_targets(nn::one_hot<typename B::Scalar>(in.real_y, in.set.classes));
  const std::size_t n_inner = in.set.images.size() * in.set.epochs;
  return unrolled_hypergradient<B>(model, in, [&](const std::vector<V>& theta) {
    return nn::cross_entropy(detail::finite_logits(model, theta, V(in.real_x), n_inner), real_targets);
  });
}

/**
 * The mean hypergradient over `draws` initial weights θ₀ = draw_theta0(), skipping the draws whose unrolled
 * training diverges (a learned step size or label too large for that θ₀): each is counted in `diverged`. When
 * every draw diverged, the result has no d_images.
 */
template <class B, class M, class DrawTheta0>
Hypergradient<typename B::Scalar> mean_hypergradient(const M& model, const UnrolledGdResult<typename B::Scalar>& set,
                                                     std::size_t draws, DrawTheta0&& draw_theta0,
                                                     const Tensor<typename B::Scalar>& real_x,
                                                     const std::vector<std::int64_t>& real_y, Memory memory,
                                                     std::size_t& diverged) {
  using T = typename B::Scalar;
  auto add_to = [](const Tensor<T>& x, Tensor<T>& y) { B::axpby(T(1), x.data(), T(1), y.data(), y.size()); };
  auto scale_by = [](T f, Tensor<T>& x) { B::binary_scalar(BinaryOp::mul, x.data(), f, x.data(), x.size()); };
  Hypergradient<T> total;
  std::size_t used = 0;
  for (std::size_t d = 0; d < draws; ++d) {
    const nn::Params<T> theta0 = draw_theta0();
    Hypergradient<T> hg;
    try {
      hg = unrolled_hypergradient<B>(model, {.set = set, .theta0 = theta0, .real_x = real_x, .real_y = real_y,
                                             .memory = memory});
    } catch (const numerical_error&) {
      ++diverged;
      continue;
    }
    if (used++ == 0) {
      total = std::move(hg);
      continue;
    }
    total.loss += hg.loss;
    for (std::size_t t = 0; t < total.d_images.size(); ++t) add_to(hg.d_images[t], total.d_images[t]);
    for (std::size_t t = 0; t < total.d_soft_labels.size(); ++t) add_to(hg.d_soft_labels[t], total.d_soft_labels[t]);
    add_to(hg.d_log_lr, total.d_log_lr);
  }
  if (used > 1) {
    const T f = T(1) / T(used);
    total.loss /= double(used);
    for (auto& g : total.d_images) scale_by(f, g);
    for (auto& g : total.d_soft_labels) scale_by(f, g);
    scale_by(f, total.d_log_lr);
  }
  return total;
}

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_UNROLLED_HYPERGRADIENT_HPP
