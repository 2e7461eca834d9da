// SPDX-License-Identifier: MIT
// The Model concept: the archetype, the shipped models, and types that must be rejected.
#include <catch2/catch.hpp>

#include "distill/nn.hpp"
#include "support/archetypes.hpp"
#include "support/backends.hpp"

namespace nn = distill::nn;
using distill::testing::ArchetypeModel;

using F = distill::DefaultBackend<float>;
static_assert(nn::Model<ArchetypeModel>);
static_assert(!nn::Model<int>);
static_assert(!nn::Model<distill::testing::NoInitModel>);
static_assert(nn::Model<nn::Mlp> && nn::Model<nn::LeNet> && nn::Model<nn::ConvNet>);
static_assert(nn::HasFeatures<nn::Mlp, F> && nn::HasFeatures<nn::LeNet, F> && nn::HasFeatures<nn::ConvNet, F>);
static_assert(nn::Model<decltype(nn::serial(nn::Flatten{}, nn::Linear{.in = 4, .out = 2}))>);
static_assert(nn::Layer<nn::Conv2d, F> && nn::Layer<nn::InstanceNorm, F> && !nn::Layer<int, F>);

namespace {
// A model whose forward returns the wrong type is not a Model.
struct WrongForward {
  template <distill::Backend B>
  nn::Params<typename B::Scalar> init(distill::Rng&) const { return {}; }
  template <distill::Backend B>
  int forward(const std::vector<distill::ad::Var<B>>&, const distill::ad::Var<B>&) const { return 0; }
};
static_assert(nn::HasInit<WrongForward, F> && !nn::HasForward<WrongForward, F> && !nn::Model<WrongForward>);
}  // namespace

TEMPLATE_TEST_CASE("ArchetypeModel: init and forward give logits of the right shape", "[nn][concepts]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(1);
  const ArchetypeModel m;
  const auto p = m.init<B>(rng);
  REQUIRE(p.size() == 1);
  REQUIRE(p.count() == 12);
  const auto logits = nn::predict<B>(m, p, distill::Tensor<T>(distill::Shape{5, 4}, T(1)));
  REQUIRE(logits.shape() == distill::Shape{5, 3});
  // x = ones: each logit is the row sum of W.
  for (std::size_t j = 0; j < 3; ++j) {
    T s = 0;
    for (std::size_t i = 0; i < 4; ++i) s += p.tensors[0].at(j, i);
    CHECK(logits.at(0, j) == Approx(s).epsilon(1e-5));
  }
}
