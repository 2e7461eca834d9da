// SPDX-License-Identifier: MIT
// Losses against hand-computed values, soft = hard CE for one-hot targets, their gradients, and bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("cross_entropy: hard labels match a hand computation", "[nn][losses]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const Tensor<T> logits(Shape{2, 3}, {T(1), T(2), T(3), T(0), T(0), T(0)});
  // Row 0, label 2: −log(e³ / (e + e² + e³)); row 1, label 0: log 3.
  const double l0 = -(3 - std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  const double expected = (l0 + std::log(3.0)) / 2;
  const auto loss = nn::cross_entropy(ad::Var<B>(logits), {2, 0});
  CHECK(loss.item() == Approx(expected).epsilon(Tolerances<T>::value));
}

TEMPLATE_TEST_CASE("cross_entropy: soft targets equal hard labels for one-hot rows", "[nn][losses]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  Tensor<T> logits(Shape{4, 5});
  distill::Rng rng(3);
  B::random_normal(rng, logits.data(), logits.size(), T(0), T(2));
  const std::vector<std::int64_t> y{4, 0, 2, 2};
  const auto hard = nn::cross_entropy(ad::Var<B>(logits), y);
  const auto soft = nn::cross_entropy(ad::Var<B>(logits), ad::Var<B>(nn::one_hot<T>(y, 5)));
  CHECK(soft.item() == Approx(hard.item()).epsilon(Tolerances<T>::value));
  // Uniform targets: the loss is mean over rows of logsumexp(z) − mean(z).
  const auto uniform = nn::cross_entropy(ad::Var<B>(logits), ad::Var<B>(Tensor<T>(Shape{4, 5}, T(0.2))));
  double expected = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    double lse = 0, m = 0;
    for (std::size_t j = 0; j < 5; ++j) lse += std::exp(double(logits.at(i, j))), m += double(logits.at(i, j)) / 5;
    expected += (std::log(lse) - m) / 4;
  }
  CHECK(uniform.item() == Approx(expected).epsilon(Tolerances<T>::value));
}

TEMPLATE_TEST_CASE("mse and accuracy match hand computations", "[nn][losses]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const Tensor<T> p(Shape{2, 2}, {T(1), T(2), T(3), T(4)}), t(Shape{2, 2}, {T(0), T(2), T(5), T(3)});
  CHECK(nn::mse(ad::Var<B>(p), ad::Var<B>(t)).item() == Approx((1.0 + 0 + 4 + 1) / 4));
  const Tensor<T> logits(Shape{3, 3}, {T(0), T(1), T(0), T(5), T(1), T(2), T(0), T(0), T(3)});
  CHECK(nn::accuracy(logits, {1, 0, 1}) == Approx(2.0 / 3.0));
  CHECK(nn::accuracy(ad::Var<B>(logits), {1, 0, 2}) == 1.0);
  CHECK(nn::count_correct(logits, {0, 0, 0}) == 1);
}

TEMPLATE_TEST_CASE("Losses: gradients match central differences (logits and soft targets)", "[nn][losses][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  Tensor<T> logits(Shape{3, 4}), targets(Shape{3, 4}), other(Shape{3, 4});
  distill::Rng rng(9);
  B::random_normal(rng, logits.data(), logits.size(), T(0), T(1));
  B::random_uniform(rng, targets.data(), targets.size(), T(0), T(1));
  B::random_normal(rng, other.data(), other.size(), T(0), T(1));
  const std::vector<std::int64_t> y{1, 3, 0};
  auto hard = [&](const std::vector<ad::Var<B>>& v) { return nn::cross_entropy(v[0], y); };
  auto soft = [&](const std::vector<ad::Var<B>>& v) { return nn::cross_entropy(v[0], v[1]); };
  auto sq = [&](const std::vector<ad::Var<B>>& v) { return nn::mse(v[0], v[1]); };
  CHECK(ad::gradcheck<B>(hard, {logits}).max_rel_error < Tolerances<T>::grad);
  CHECK(ad::gradcheck<B>(soft, {logits, targets}).max_rel_error < Tolerances<T>::grad);
  CHECK(ad::gradcheck<B>(sq, {logits, other}).max_rel_error < Tolerances<T>::grad);
  // Second order (Hessian-vector products of CE drive unrolled distillation).
  CHECK(ad::gradcheck_second_order<B>(soft, {logits, targets}, {other, logits}).max_rel_error < Tolerances<T>::second_order);
}

TEMPLATE_TEST_CASE("Losses: bad input is rejected", "[nn][losses]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const ad::Var<B> logits(Tensor<T>(Shape{2, 3}));
  CHECK_THROWS_WITH(nn::cross_entropy(logits, {0, 3}), Catch::Contains("label 1 is 3"));
  CHECK_THROWS_WITH(nn::cross_entropy(logits, {-1, 0}), Catch::Contains("label 0 is -1"));
  CHECK_THROWS_WITH(nn::cross_entropy(logits, {0}), Catch::Contains("1 labels for 2 rows"));
  CHECK_THROWS_AS(nn::cross_entropy(logits, ad::Var<B>(Tensor<T>(Shape{2, 4}))), distill::invalid_argument);
  Tensor<T> bad(Shape{2, 3});
  bad[4] = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_WITH(nn::cross_entropy(ad::Var<B>(bad), {0, 1}), Catch::Contains("NaN"));
  CHECK_THROWS_AS(nn::mse(logits, ad::Var<B>(Tensor<T>(Shape{3, 2}))), distill::invalid_argument);
  CHECK_THROWS_AS(nn::accuracy(logits.value(), {0, 5}), distill::invalid_argument);
  CHECK_THROWS_AS(nn::cross_entropy(ad::Var<B>(Tensor<T>(Shape{3})), {0, 1, 2}), distill::invalid_argument);
}
