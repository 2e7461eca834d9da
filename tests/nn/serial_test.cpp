// SPDX-License-Identifier: MIT
// serial(): composition equals applying the layers by hand, names, features, nesting, parameter-count errors.
#include <catch2/catch.hpp>

#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("Serial: forward is the fold of the layers' apply", "[nn][serial]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const auto net = nn::serial(nn::Conv2d{.in = 1, .out = 2, .kernel = 3, .stride = 1, .padding = 1}, nn::Relu{},
                              nn::AvgPool{.size = 2}, nn::Flatten{}, nn::Linear{.in = 8, .out = 3});
  static_assert(nn::Model<decltype(net), B>);
  distill::Rng rng(4);
  const auto p = net.template init<B>(rng);
  REQUIRE(p.names == std::vector<std::string>{"0.weight", "0.bias", "4.weight", "4.bias"});
  REQUIRE(net.num_params() == 4);
  Tensor<T> x(Shape{2, 1, 4, 4});
  B::random_uniform(rng, x.data(), x.size(), T(-1), T(1));
  const auto vars = nn::constants<B>(p);
  const auto y = net.template forward<B>(vars, ad::Var<B>(x));
  REQUIRE(y.shape() == Shape{2, 3});
  // By hand.
  auto h = ad::conv2d(ad::Var<B>(x), vars[0], vars[1], {.stride = 1, .padding = 1});
  h = ad::flatten(ad::avg_pool2d(ad::relu(h), 2));
  const auto f = net.template features<B>(vars, ad::Var<B>(x));
  REQUIRE(f.shape() == Shape{2, 8});
  CHECK(double(distill::max_abs_diff(f.value(), h.value())) < Tolerances<T>::value);
  const auto z = ad::add(ad::matmul(h, vars[2], {.trans_b = true}), vars[3]);
  CHECK(double(distill::max_abs_diff(y.value(), z.value())) < Tolerances<T>::value);
}

TEMPLATE_TEST_CASE("Serial: nests, and rejects a wrong number of parameters", "[nn][serial]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const auto block = nn::serial(nn::Linear{.in = 3, .out = 3}, nn::Tanh{});
  const auto net = nn::serial(block, block, nn::Linear{.in = 3, .out = 2});
  distill::Rng rng(5);
  auto p = net.template init<B>(rng);
  REQUIRE(p.names == std::vector<std::string>{"0.0.weight", "0.0.bias", "1.0.weight", "1.0.bias", "2.weight", "2.bias"});
  const Tensor<T> x(Shape{4, 3}, T(0.5));
  CHECK(net.template forward<B>(nn::constants<B>(p), ad::Var<B>(x)).shape() == Shape{4, 2});
  p.tensors.pop_back();
  CHECK_THROWS_WITH(net.template forward<B>(nn::constants<B>(p), ad::Var<B>(x)), Catch::Contains("got 5 parameter tensors"));
}
