// SPDX-License-Identifier: MIT
// knowledge/dropout.hpp and autodiff/ops/dropout.hpp: the dropout op against finite differences with a fixed mask
// (first and second order), its masks (rate, scale, same seed same bytes), DropoutMlp's evaluation forward equal
// to nn::Mlp's, its training forward gradient-checked with a fixed seed, and the optional-member detection.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/knowledge/dropout.hpp"
#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace kd = distill::knowledge;
namespace nn = distill::nn;
using distill::Rng;
using distill::Shape;
using distill::Tensor;

static_assert(kd::HasForwardTrain<kd::DropoutMlp, distill::EigenBackend<float>>);
static_assert(!kd::HasForwardTrain<nn::Mlp, distill::EigenBackend<float>>);
static_assert(nn::Model<kd::DropoutMlp, distill::EigenBackend<float>>);
static_assert(nn::HasFeatures<kd::DropoutMlp, distill::EigenBackend<double>>);

TEMPLATE_TEST_CASE("dropout_mask: entries are 0 or 1/(1-p) at rate p, the same for the same seed", "[knowledge]",
                   DISTILL_TEST_BACKENDS) {
  using T = typename TestType::Scalar;
  Rng a(7), b(7);
  const Tensor<T> m = ad::dropout_mask<T>(Shape{100, 100}, 0.3, a), m2 = ad::dropout_mask<T>(Shape{100, 100}, 0.3, b);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    REQUIRE((m[i] == T(0) || m[i] == T(1 / 0.7)));
    dropped += m[i] == T(0);
    REQUIRE(m[i] == m2[i]);
  }
  CHECK(std::abs(double(dropped) / 1e4 - 0.3) < 0.02);  // 4.4 standard deviations
  Rng c(7);
  const Tensor<T> none = ad::dropout_mask<T>(Shape{10}, 0.0, c);
  for (std::size_t i = 0; i < none.size(); ++i) CHECK(none[i] == T(1));
  CHECK_THROWS_WITH(ad::dropout_mask<T>(Shape{3}, 1.0, c), Catch::Contains("p is 1"));
}

TEMPLATE_TEST_CASE("dropout: x * mask, gradients with a fixed mask match finite differences", "[knowledge][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  Rng rng(3);
  const Tensor<double> mask = ad::dropout_mask<double>(Shape{3, 4}, 0.5, rng);
  const Tensor<double> x = random_tensor<B>({3, 4}, 1);
  const Tensor<double> y = ad::dropout(ad::Var<B>(x), mask).value();
  for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == x[i] * mask[i]);
  // Inside a nonlinear function, so that second order is not trivially zero.
  auto f = [&](const std::vector<ad::Var<B>>& v) { return weighted(ad::tanh(ad::mul(ad::dropout(v[0], mask), v[1])), 5); };
  const std::vector<Tensor<double>> inputs{x, random_tensor<B>({3, 4}, 2)};
  const auto r = ad::gradcheck<B>(f, inputs);
  CHECK(r.checked == 24);
  CHECK(r.max_rel_error < Tolerances<double>::grad);
  const auto r2 = ad::gradcheck_second_order<B>(f, inputs, {random_tensor<B>({3, 4}, 3), random_tensor<B>({3, 4}, 4)});
  CHECK(r2.max_rel_error < Tolerances<double>::second_order);
  CHECK_THROWS_WITH(ad::dropout(ad::Var<B>(x), Tensor<double>(Shape{4, 3}, 1.0)), Catch::Contains("mask has shape [4, 3]"));
  // p = 0 is the identity, with no node and no draws.
  Rng untouched(9), reference(9);
  CHECK(ad::dropout(ad::Var<B>(x), 0.0, untouched).value().data() == x.data());
  CHECK(untouched.next() == reference.next());
}

TEMPLATE_TEST_CASE("DropoutMlp: nn::Mlp's parameters and evaluation forward, a training forward that drops units",
                   "[knowledge]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const kd::DropoutMlp net{.widths = {12, 16, 8, 3}};
  Rng r1(5), r2(5);
  const auto p = net.template init<B>(r1);
  const auto q = nn::Mlp{.widths = {12, 16, 8, 3}}.template init<B>(r2);
  REQUIRE(p.names == q.names);
  for (std::size_t i = 0; i < p.size(); ++i)
    for (std::size_t j = 0; j < p.tensors[i].size(); ++j) REQUIRE(p.tensors[i][j] == q.tensors[i][j]);

  const Tensor<T> x = random_tensor<B>({4, 12}, 6);
  const auto theta = nn::constants<B>(p);
  const Tensor<T> eval = net.template forward<B>(theta, ad::Var<B>(x)).value();
  const Tensor<T> plain = nn::Mlp{.widths = {12, 16, 8, 3}}.template forward<B>(theta, ad::Var<B>(x)).value();
  for (std::size_t i = 0; i < eval.size(); ++i) CHECK(eval[i] == plain[i]);

  Rng a(11), b(11), c(12);
  const Tensor<T> t1 = kd::train_forward<B>(net, theta, ad::Var<B>(x), a).value();
  const Tensor<T> t2 = kd::train_forward<B>(net, theta, ad::Var<B>(x), b).value();
  const Tensor<T> t3 = kd::train_forward<B>(net, theta, ad::Var<B>(x), c).value();
  bool differs_from_eval = false, differs_by_seed = false;
  for (std::size_t i = 0; i < t1.size(); ++i) {
    CHECK(t1[i] == t2[i]);  // same seed, same masks
    differs_from_eval |= t1[i] != eval[i];
    differs_by_seed |= t1[i] != t3[i];
  }
  CHECK(differs_from_eval);
  CHECK(differs_by_seed);
  // Without dropout the training forward is the evaluation forward.
  const kd::DropoutMlp off{.widths = {12, 16, 8, 3}, .input_drop = 0, .hidden_drop = 0};
  Rng d(11);
  const Tensor<T> t0 = off.template forward_train<B>(theta, ad::Var<B>(x), d).value();
  for (std::size_t i = 0; i < t0.size(); ++i) CHECK(std::abs(double(t0[i] - eval[i])) < 1e-5);
  // A model without forward_train trains with forward, and its Rng is not touched.
  Rng e(13), e_ref(13);
  const Tensor<T> fallback = kd::train_forward<B>(nn::Mlp{.widths = {12, 16, 8, 3}}, theta, ad::Var<B>(x), e).value();
  for (std::size_t i = 0; i < fallback.size(); ++i) CHECK(fallback[i] == plain[i]);
  CHECK(e.next() == e_ref.next());
  CHECK_THROWS_WITH((kd::DropoutMlp{.widths = {12, 3}, .hidden_drop = 1.5}.template init<B>(a)),
                    Catch::Contains("hidden_drop is 1.5"));
}

TEMPLATE_TEST_CASE("DropoutMlp: the training forward's gradients (fixed masks) match finite differences",
                   "[knowledge][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const kd::DropoutMlp net{.widths = {6, 5, 4, 3}, .input_drop = 0.2, .hidden_drop = 0.5};
  // The first input seed whose pre-activations (under the masks of Rng(23)) all lie >= 0.1 from ReLU's kink, so
  // the stencil (about ±0.02 in any parameter) never crosses it.
  std::vector<Tensor<double>> inputs;
  for (std::uint64_t seed = 22;; seed += 2) {
    Rng init(seed);
    const auto p = net.template init<B>(init);
    inputs = {random_tensor<B>({3, 6}, seed + 1)};
    for (const auto& t : p.tensors) inputs.push_back(t.clone());
    Rng masks(23);
    Tensor<double> h = inputs[0].clone();
    const Tensor<double> m0 = ad::dropout_mask<double>(h.shape(), 0.2, masks);
    for (std::size_t i = 0; i < h.size(); ++i) h[i] *= m0[i];
    double nearest = 1e9;
    for (std::size_t layer = 0; layer < 2; ++layer) {
      const Tensor<double>&w = inputs[1 + 2 * layer], &b = inputs[2 + 2 * layer];
      const std::size_t out = w.shape(0), in = w.shape(1);
      Tensor<double> a(Shape{3, out}, 0.0);
      for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t o = 0; o < out; ++o) {
          double sum = b[o];
          for (std::size_t k = 0; k < in; ++k) sum += h[r * in + k] * w[o * in + k];
          a[r * out + o] = sum;
          nearest = std::min(nearest, std::abs(sum));
        }
      const Tensor<double> m = ad::dropout_mask<double>(a.shape(), 0.5, masks);
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::max(a[i], 0.0) * m[i];
      h = a;
    }
    if (nearest > 0.1) break;
  }
  const std::vector<std::int64_t> y{0, 2, 1};
  auto f = [&](const std::vector<ad::Var<B>>& v) {
    Rng masks(23);  // the same masks at every evaluation: a fixed function of x and θ
    const std::vector<ad::Var<B>> theta(v.begin() + 1, v.end());
    return nn::cross_entropy(net.template forward_train<B>(theta, v[0], masks), y);
  };
  const auto r = ad::gradcheck<B>(f, inputs);
  INFO("worst input " << r.worst_input << " index " << r.worst_index << " analytic " << r.worst_analytic << " numeric "
                      << r.worst_numeric);
  CHECK(r.checked == 18 + 30 + 5 + 20 + 4 + 12 + 3);
  CHECK(r.max_rel_error < Tolerances<double>::grad);
}
