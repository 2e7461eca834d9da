// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_SERIAL_HPP
#define DISTILL_NN_SERIAL_HPP

/**
 * @file
 * serial(l0, l1, ...): layers applied one after another (neural-tangents' stax.serial, a fold over (init, apply)
 * pairs; the readable alternative to dlib's nested layer types).
 *
 * `auto net = nn::serial(nn::Flatten{}, nn::Linear{.in = 784, .out = 128}, nn::Relu{}, nn::Linear{.in = 128, .out = 10});`
 * is a Model: parameters are named "<layer index>.weight" / ".bias" like torch.nn.Sequential's state_dict.
 * A Serial is also a Layer, so serials nest.
 */

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "distill/nn/concepts.hpp"
#include "distill/nn/layers.hpp"

namespace distill::nn {

/// Layers applied in order; a Model (init / forward / features) and itself a Layer.
template <class... Layers>
struct Serial {
  static_assert(sizeof...(Layers) > 0, "distill::nn::serial: needs at least one layer");
  std::tuple<Layers...> layers;

  //! Total number of parameter tensors.
  std::size_t num_params() const {
    return std::apply([](const auto&... l) { return (std::size_t(0) + ... + std::size_t(l.num_params())); }, layers);
  }

  //! Layer-wise init; layer i's tensors are named prefix + "i.weight", prefix + "i.bias".
  template <Backend B>
  void init(Rng& rng, Params<typename B::Scalar>& p, const std::string& prefix = "") const {
    check_layers<B>();
    std::size_t i = 0;
    std::apply([&](const auto&... l) { ((l.template init<B>(rng, p, prefix + std::to_string(i++) + ".")), ...); }, layers);
  }

  template <Backend B>
  Params<typename B::Scalar> init(Rng& rng) const {
    Params<typename B::Scalar> p;
    init<B>(rng, p, "");
    return p;
  }

  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x) const {
    return run<B>(params, cursor, x, sizeof...(Layers));
  }

  //! All layers: logits.
  template <Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return run_all<B>(params, x, sizeof...(Layers), "Serial::forward()");
  }

  //! All layers but the last: the penultimate embedding.
  template <Backend B>
  ad::Var<B> features(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return run_all<B>(params, x, sizeof...(Layers) - 1, "Serial::features()");
  }

 private:
  template <Backend B>
  static constexpr void check_layers() {
    static_assert((Layer<Layers, B> && ...),
                  "distill::nn::serial: every argument must be a layer with num_params(), init<B>(rng, params, prefix) "
                  "and apply<B>(params, cursor, x); see nn/layers.hpp");
  }

  // Applies the first `count` layers.
  template <Backend B>
  ad::Var<B> run(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x, std::size_t count) const {
    check_layers<B>();
    ad::Var<B> h = x;
    std::size_t i = 0;
    std::apply([&](const auto&... l) { ((h = i++ < count ? l.template apply<B>(params, cursor, h) : h), ...); }, layers);
    return h;
  }

  template <Backend B>
  ad::Var<B> run_all(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x, std::size_t count, const char* where) const {
    DISTILL_CHECK(params.size() == num_params(), where, ": got ", params.size(), " parameter tensors, the net has ",
                  num_params());
    std::size_t cursor = 0;
    return run<B>(params, cursor, x, count);
  }
};

//! Composes layers left to right (neural-tangents' serial).
template <class... Layers>
Serial<Layers...> serial(Layers... layers) {
  return Serial<Layers...>{std::tuple<Layers...>{std::move(layers)...}};
}

}  // namespace distill::nn

#endif  // DISTILL_NN_SERIAL_HPP
