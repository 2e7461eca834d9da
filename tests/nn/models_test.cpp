// SPDX-License-Identifier: MIT
// MLP, LeNet and ConvNet: parameter shapes (the published architectures), output and feature shapes, options,
// gradient flow, determinism of init, and input errors.
#include <catch2/catch.hpp>

#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using distill::Shape;
using distill::Tensor;

namespace {
template <class B>
Tensor<typename B::Scalar> images(std::size_t n, std::size_t c, std::size_t s, std::uint64_t seed) {
  auto t = Tensor<typename B::Scalar>::empty({n, c, s, s});
  distill::Rng rng(seed);
  B::random_uniform(rng, t.data(), t.size(), typename B::Scalar(0), typename B::Scalar(1));
  return t;
}
}  // namespace

TEMPLATE_TEST_CASE("Mlp: shapes and features", "[nn][models]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  distill::Rng rng(1);
  const nn::Mlp mlp{.widths = {784, 32, 16, 10}};
  const auto p = mlp.template init<B>(rng);
  CHECK(p.count() == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
  const auto x = images<B>(3, 1, 28, 0);
  CHECK(nn::predict<B>(mlp, p, x).shape() == Shape{3, 10});
  CHECK(nn::embed<B>(mlp, p, x).shape() == Shape{3, 16});
  CHECK_THROWS_WITH(nn::predict<B>(mlp, p, images<B>(3, 1, 8, 0)), Catch::Contains("784 features"));
  CHECK_THROWS_AS(nn::Mlp{.widths = {5}}.template init<B>(rng), distill::invalid_argument);
}

TEMPLATE_TEST_CASE("LeNet: the Dataset Distillation paper's architecture", "[nn][models]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  distill::Rng rng(2);
  const nn::LeNet net{};
  const auto p = net.template init<B>(rng);
  REQUIRE(p.names == std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                              "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"});
  CHECK(p["conv1.weight"].shape() == Shape{6, 1, 5, 5});
  CHECK(p["conv2.weight"].shape() == Shape{16, 6, 5, 5});
  CHECK(p["fc1.weight"].shape() == Shape{120, 400});
  CHECK(p.count() == 61706);  // LeNet-5 on 28x28 with padding 2 (torch: 61706)
  const auto x = images<B>(2, 1, 28, 3);
  CHECK(nn::predict<B>(net, p, x).shape() == Shape{2, 10});
  CHECK(nn::embed<B>(net, p, x).shape() == Shape{2, 84});
  // 3-channel 32×32 (CIFAR) needs no padding and reaches the same 16×5×5.
  const nn::LeNet cifar{.channels = 3, .classes = 100, .image_size = 32};
  const auto pc = cifar.template init<B>(rng);
  CHECK(nn::predict<B>(cifar, pc, images<B>(1, 3, 32, 4)).shape() == Shape{1, 100});
  CHECK_THROWS_WITH(nn::predict<B>(net, p, images<B>(1, 3, 28, 5)), Catch::Contains("expected [N, 1, 28, 28]"));
}

TEMPLATE_TEST_CASE("ConvNet: DC/DSA/DM's ConvNet-3 and its options", "[nn][models]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  distill::Rng rng(3);
  const nn::ConvNet net{.width = 8};  // narrow for speed; depth 3, instance norm, avg pooling
  const auto p = net.template init<B>(rng);
  REQUIRE(p.size() == 3 * 4 + 2);
  CHECK(p.names[0] == "conv0.weight");
  CHECK(p.names[2] == "norm0.weight");
  CHECK(p["classifier.weight"].shape() == Shape{10, 8 * 3 * 3});
  const auto x = images<B>(2, 1, 28, 6);
  CHECK(nn::predict<B>(net, p, x).shape() == Shape{2, 10});
  CHECK(nn::embed<B>(net, p, x).shape() == Shape{2, 72});
  // The default is the published width 128: 128·3·3 features.
  const auto full = nn::ConvNet{}.template init<B>(rng);
  CHECK(full["conv1.weight"].shape() == Shape{128, 128, 3, 3});
  CHECK(full["classifier.weight"].shape() == Shape{10, 1152});
  for (auto norm : {nn::Norm::none, nn::Norm::group})
    for (auto pool : {nn::Pool::none, nn::Pool::max}) {
      const nn::ConvNet v{.channels = 3, .classes = 4, .width = 8, .depth = 2, .norm = norm, .pooling = pool, .image_size = 8};
      const auto pv = v.template init<B>(rng);
      CHECK(pv.size() == (norm == nn::Norm::none ? 2 * 2 + 2 : 2 * 4 + 2));
      CHECK(nn::predict<B>(v, pv, images<B>(2, 3, 8, 7)).shape() == Shape{2, 4});
      CHECK(v.final_size() == (pool == nn::Pool::none ? 8u : 2u));
    }
  CHECK_THROWS_AS((nn::ConvNet{.width = 6, .norm = nn::Norm::group}.template init<B>(rng)), distill::invalid_argument);
  CHECK_THROWS_AS((nn::ConvNet{.depth = 6, .image_size = 28}.template init<B>(rng)), distill::invalid_argument);
}

TEMPLATE_TEST_CASE("Models: same seed gives the same bytes, gradients reach every parameter and the input", "[nn][models]",
                   DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  const nn::ConvNet net{.width = 4, .depth = 2, .image_size = 8};
  distill::Rng a(11), b(11);
  const auto pa = net.template init<B>(a), pb = net.template init<B>(b);
  for (std::size_t i = 0; i < pa.size(); ++i)
    CHECK(std::equal(pa.tensors[i].begin(), pa.tensors[i].end(), pb.tensors[i].begin()));
  ad::Tape<B> tape;
  const auto vars = nn::variables(tape, pa);
  const auto x = tape.variable(images<B>(3, 1, 8, 8));
  const auto loss = nn::cross_entropy(net.template forward<B>(vars, x), {0, 1, 2});
  auto all = vars;
  all.push_back(x);
  const auto g = ad::grad(loss, all);
  for (std::size_t i = 0; i < g.size(); ++i) {
    double norm = 0;
    for (auto v : g[i].value()) norm += double(v) * double(v);
    INFO("gradient " << i);
    CHECK(norm > 0);
  }
}
