// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_CONCEPTS_HPP
#define DISTILL_NN_CONCEPTS_HPP

/**
 * @file
 * The Model concept: a functional network (ensmallen's FunctionType; neural-tangents' (init_fn, apply_fn)).
 *
 * WHAT THIS REPRESENTS
 *   A model type M is a plain, backend-agnostic value (an aggregate of options such as widths or the number
 *   of classes). It owns no parameters: init() makes them, forward() takes them as explicit arguments. So an
 *   unrolled step θ₁ = θ₀ − η∇θℓ(x̃, θ₀) is ordinary code on the tape, and the hypergradient with respect to
 *   the data x̃ and the step size η comes out of ad::grad.
 *
 * REQUIRES (for a type M and a Backend B with scalar T = B::Scalar)
 *   - `m.template init<B>(rng)` with `Rng& rng` returns Params<T>: named tensors in the order forward()
 *     consumes them. The same Rng state gives the same bytes.
 *   - `m.template forward<B>(params, x)` with `const std::vector<ad::Var<B>>& params` (one Var per tensor of
 *     init's Params, variables or constants) and `const ad::Var<B>& x` ([N, C, H, W] images or [N, D]
 *     features) returns the logits, an ad::Var<B> of shape [N, K]. It is built only from differentiable tape
 *     ops, so gradients of any order flow to params and x.
 *   - `M` is const-callable and copyable (models are passed around by value like options).
 *
 * OPTIONAL
 *   - `m.template features<B>(params, x)` -> ad::Var<B> [N, F]: the penultimate embedding (what coreset
 *     selectors and distribution matching compare). Detect it with HasFeatures<M, B>.
 *
 * ENSURES (what a Model gets from distill)
 *   - eval::train, eval::train_from_scratch, the distillation methods and the coreset selectors accept it.
 *   - A type that is not a Model fails with one static_assert line naming the missing member
 *     (DISTILL_REQUIRE_MODEL at the entry points).
 */

#include <concepts>
#include <vector>

#include "distill/autodiff/tape.hpp"
#include "distill/core.hpp"
#include "distill/core/rng.hpp"
#include "distill/nn/params.hpp"

namespace distill::nn {

//! M can make its parameters for backend B: `m.template init<B>(rng) -> Params<B::Scalar>`.
template <class M, class B>
concept HasInit = Backend<B> && requires(const M& m, Rng& rng) {
  { m.template init<B>(rng) } -> std::same_as<Params<typename B::Scalar>>;
};

//! M maps (params, x) to logits on backend B: `m.template forward<B>(params, x) -> ad::Var<B>`.
template <class M, class B>
concept HasForward = Backend<B> && requires(const M& m, const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) {
  { m.template forward<B>(params, x) } -> std::same_as<ad::Var<B>>;
};

//! Optional: M exposes its penultimate embedding, `m.template features<B>(params, x) -> ad::Var<B>`.
template <class M, class B>
concept HasFeatures = Backend<B> && requires(const M& m, const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) {
  { m.template features<B>(params, x) } -> std::same_as<ad::Var<B>>;
};

/// A functional model over backend B; see the file comment for the contract.
template <class M, class B = DefaultBackend<float>>
concept Model = std::copy_constructible<M> && HasInit<M, B> && HasForward<M, B>;

/**
 * The one-line diagnostic for entry points that take a user's model type (ensmallen CheckFunctionTypeAPI):
 * `DISTILL_REQUIRE_MODEL(M, B, "distill::eval::train")`. Each part of the concept gets its own assertion, so
 * the message names the missing member. Static_asserts only: usable as the first statements of a function body
 * and as member declarations at the top of a class body (`class UnrolledGd`). `where` must be a string literal.
 * It is silent about B when B is not a Backend: an entry point that takes a user's backend calls
 * DISTILL_REQUIRE_BACKEND(B, where) first (core/backend.hpp), which names the missing primitive once, instead of
 * this macro blaming init() and forward() for it.
 */
#define DISTILL_REQUIRE_MODEL(M, B, where)                                                                       \
  static_assert(!::distill::Backend<B> || ::distill::nn::HasInit<M, B>,                                          \
                where ": M must provide `template <Backend B> Params<T> init(Rng&) const`; see nn/concepts.hpp"); \
  static_assert(!::distill::Backend<B> || ::distill::nn::HasForward<M, B>,                                       \
                where ": M must provide `template <Backend B> ad::Var<B> forward(const std::vector<ad::Var<B>>&, "   \
                      "const ad::Var<B>&) const`; see nn/concepts.hpp");                                         \
  static_assert(std::copy_constructible<M>, where ": M must be copyable (models are option values)")

//! Runs M's forward on constant params and x: no tape, nothing recorded (evaluation, inference).
template <class B, class M>
Tensor<typename B::Scalar> predict(const M& model, const Params<typename B::Scalar>& params,
                                   const Tensor<typename B::Scalar>& x) {
  DISTILL_REQUIRE_BACKEND(B, "distill::nn::predict");
  DISTILL_REQUIRE_MODEL(M, B, "distill::nn::predict");
  return model.template forward<B>(constants<B>(params), ad::Var<B>(x)).value();
}

//! The penultimate embedding on constants if M has features(), else a compile error naming it.
template <class B, class M>
Tensor<typename B::Scalar> embed(const M& model, const Params<typename B::Scalar>& params,
                                 const Tensor<typename B::Scalar>& x) {
  DISTILL_REQUIRE_BACKEND(B, "distill::nn::embed");
  static_assert(!Backend<B> || HasFeatures<M, B>, "distill::nn::embed: M must provide `features<B>(params, x)` "
                                                  "(optional part of the Model concept; see nn/concepts.hpp)");
  return model.template features<B>(constants<B>(params), ad::Var<B>(x)).value();
}

}  // namespace distill::nn

#endif  // DISTILL_NN_CONCEPTS_HPP
