// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KNOWLEDGE_DROPOUT_HPP
#define DISTILL_KNOWLEDGE_DROPOUT_HPP

/**
 * @file
 * A training-mode forward for models that regularise with randomness (the paper's teacher: dropout), added
 * beside the functional Model concept rather than into it.
 *
 * WHAT THIS REPRESENTS
 *   An optional member `m.template forward_train<B>(params, x, rng) -> ad::Var<B>`: the forward pass of training,
 *   drawing its randomness (dropout masks) from `rng`. `forward(params, x)` stays the deterministic evaluation
 *   pass, so every Model keeps working everywhere, and a trainer that wants the training mode detects it
 *   (HasForwardTrain) and calls train_forward(), which falls back to forward() for models without it.
 *
 * DropoutMlp is nn::Mlp with dropout on its input and hidden activations (Hinton et al. 2012, Improving neural
 * networks by preventing co-adaptation of feature detectors, arXiv:1207.0580: 20 % of the input pixels and 50 % of
 * the hidden units). Its parameters are nn::Mlp's, with the same names, order and initial values for the same
 * seed, so a DropoutMlp teacher saved with nn::save_params evaluates as an nn::Mlp of the same widths.
 */

#include <cstddef>
#include <string>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/layers.hpp"
#include "distill/nn/models.hpp"

namespace distill::knowledge {

//! Optional part of a Model: `m.template forward_train<B>(params, x, rng) -> ad::Var<B>` (see the file comment).
template <class M, class B>
concept HasForwardTrain =
    Backend<B> && requires(const M& m, const std::vector<ad::Var<B>>& params, const ad::Var<B>& x, Rng& rng) {
      { m.template forward_train<B>(params, x, rng) } -> std::same_as<ad::Var<B>>;
    };

/**
 * The training-mode forward: m.forward_train(params, x, rng) when the model has it, else m.forward(params, x)
 * (and `rng` is not touched).
 */
template <Backend B, class M>
ad::Var<B> train_forward(const M& m, const std::vector<ad::Var<B>>& params, const ad::Var<B>& x, Rng& rng) {
  if constexpr (HasForwardTrain<M, B>) return m.template forward_train<B>(params, x, rng);
  else return m.template forward<B>(params, x);
}

/**
 * nn::Mlp with dropout in training mode (see the file comment). forward() and features() are nn::Mlp's
 * (inverted dropout needs no rescaling at evaluation); forward_train() drops each input with probability
 * input_drop and each hidden unit (after its ReLU) with probability hidden_drop.
 */
struct DropoutMlp {
  std::vector<std::size_t> widths = {784, 1200, 1200, 10};
  double input_drop = 0.2;   //!< drop probability of each input feature
  double hidden_drop = 0.5;  //!< drop probability of each hidden unit

  //! The same network without dropout: what forward() evaluates, and what the parameters load into.
  nn::Mlp mlp() const { return nn::Mlp{.widths = widths}; }

  template <Backend B>
  nn::Params<typename B::Scalar> init(Rng& rng) const {
    check("DropoutMlp::init()");
    return mlp().template init<B>(rng);
  }

  template <Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return mlp().template forward<B>(params, x);
  }

  template <Backend B>
  ad::Var<B> features(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return mlp().template features<B>(params, x);
  }

  /**
   * The training forward: masks are drawn from `rng` in the order input, hidden 1, hidden 2, ...
   * @throw invalid_argument as nn::Mlp::forward, or when a drop probability is not in [0, 1).
   */
  template <Backend B>
  ad::Var<B> forward_train(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x, Rng& rng) const {
    check("DropoutMlp::forward_train()");
    const std::size_t layers = widths.size() - 1;
    DISTILL_CHECK(params.size() == 2 * layers, "DropoutMlp::forward_train(): got ", params.size(),
                  " parameter tensors, expected ", 2 * layers);
    DISTILL_CHECK(x.rank() >= 1 && x.shape(0) > 0 && x.size() / x.shape(0) == widths[0],
                  "DropoutMlp::forward_train(): input ", show(x.shape()), " does not have ", widths[0],
                  " features per example");
    ad::Var<B> h = ad::dropout(x.rank() == 2 ? x : ad::flatten(x), input_drop, rng);
    std::size_t cursor = 0;
    for (std::size_t i = 0; i < layers; ++i) {
      h = nn::Linear{.in = widths[i], .out = widths[i + 1]}.template apply<B>(params, cursor, h);
      if (i + 1 < layers) h = ad::dropout(ad::relu(h), hidden_drop, rng);
    }
    return h;
  }

 private:
  void check(const char* where) const {
    DISTILL_CHECK(widths.size() >= 2, where, ": widths has ", widths.size(), " entries, expected at least 2 (in, out)");
    DISTILL_CHECK(input_drop >= 0 && input_drop < 1, where, ": input_drop is ", input_drop, ", expected [0, 1)");
    DISTILL_CHECK(hidden_drop >= 0 && hidden_drop < 1, where, ": hidden_drop is ", hidden_drop, ", expected [0, 1)");
  }
};

}  // namespace distill::knowledge

#endif  // DISTILL_KNOWLEDGE_DROPOUT_HPP
