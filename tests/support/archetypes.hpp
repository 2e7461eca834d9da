// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_ARCHETYPES_HPP
#define DISTILL_TESTS_SUPPORT_ARCHETYPES_HPP

// Minimal types that satisfy each concept and nothing more (dlib's EXAMPLE_COMPUTATIONAL_LAYER_): if a generic
// algorithm compiles with these, it only uses what the concept promises.
#include <vector>

#include "distill/nn/concepts.hpp"

namespace distill::testing {

/// The smallest Model: a linear classifier [N, in] -> [N, out], logits = x Wᵀ (one parameter, no bias).
struct ArchetypeModel {
  std::size_t in = 4;
  std::size_t out = 3;

  template <Backend B>
  nn::Params<typename B::Scalar> init(Rng& rng) const {
    using T = typename B::Scalar;
    nn::Params<T> p;
    auto w = Tensor<T>::empty(Shape{out, in});
    B::random_normal(rng, w.data(), w.size(), T(0), T(0.1));
    p.add("weight", w);
    return p;
  }

  template <Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return ad::matmul(ad::flatten(x), params.at(0), {.trans_b = true});
  }
};

/// Has forward() but no init(): must not satisfy Model.
struct NoInitModel {
  template <Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return x;
  }
};

static_assert(nn::Model<ArchetypeModel>);
static_assert(nn::Model<ArchetypeModel, DefaultBackend<double>>);
static_assert(!nn::Model<int>);
static_assert(!nn::Model<NoInitModel>);
static_assert(!nn::HasFeatures<ArchetypeModel, DefaultBackend<float>>);

}  // namespace distill::testing

#endif  // DISTILL_TESTS_SUPPORT_ARCHETYPES_HPP
