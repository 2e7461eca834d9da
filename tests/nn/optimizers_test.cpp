// SPDX-License-Identifier: MIT
// Tensor-level optimizers and schedules against updates computed by hand (PyTorch's formulas).
#include <catch2/catch.hpp>
#include <cmath>

#include "distill/nn/optimizers.hpp"

namespace nn = distill::nn;
using distill::Tensor;

TEMPLATE_TEST_CASE("Adam: two steps match the hand-computed update", "[nn][optim]", float, double) {
  using T = TestType;
  Tensor<T> p({2}, {T(1), T(-2)});
  const Tensor<T> g1({2}, {T(0.5), T(-1)}), g2({2}, {T(-0.25), T(2)});
  const nn::Adam adam{.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
  nn::Adam::State<T> s;
  adam.step(s, {&p}, {&g1});
  adam.step(s, {&p}, {&g2});
  // by hand, element by element
  for (int i = 0; i < 2; ++i) {
    double x = i == 0 ? 1 : -2, m = 0, v = 0;
    const double gs[2] = {i == 0 ? 0.5 : -1, i == 0 ? -0.25 : 2};
    for (int t = 1; t <= 2; ++t) {
      const double g = gs[t - 1] + 0.01 * x;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      x -= 0.1 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.999, t))) + 1e-8);
    }
    CHECK(double(p[std::size_t(i)]) == Approx(x).epsilon(1e-6));
  }
  CHECK(s.step == 2);
  // The first Adam step moves every coordinate by about lr, whatever the gradient's scale.
  Tensor<T> q({1}, {T(0)});
  const Tensor<T> big({1}, {T(1e4)});
  nn::Adam::State<T> s2;
  nn::Adam{.lr = 0.1}.step(s2, {&q}, {&big});
  CHECK(double(q[0]) == Approx(-0.1).epsilon(1e-6));
  CHECK_THROWS_AS(adam.step(s, {&p}, {}), distill::invalid_argument);
}

TEMPLATE_TEST_CASE("Adam: lr_scale gives each parameter its own rate, sharing moments' step count", "[nn][optim]",
                   float, double) {
  using T = TestType;
  const nn::Adam adam{.lr = 0.1, .beta1 = 0.5};
  const Tensor<T> g1({2}, {T(0.5), T(-1)}), g2({2}, {T(-0.25), T(2)});
  // Three copies of one parameter: alone at rate 0.1, alone at 0.03, and both in one call with factors 1 and 0.3.
  Tensor<T> alone_full({2}, {T(1), T(-2)}), alone_scaled = alone_full.clone(), a = alone_full.clone(),
                                           b = alone_full.clone();
  nn::Adam::State<T> s_full, s_scaled, s_both;
  for (const auto* g : {&g1, &g2}) {
    adam.step(s_full, {&alone_full}, {g});
    adam.step(s_scaled, {&alone_scaled}, {g}, 0.03);
    adam.step(s_both, {&a, &b}, {g, g}, {}, {1.0, 0.3});
  }
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(double(a[i]) == Approx(double(alone_full[i])).epsilon(1e-6));
    CHECK(double(b[i]) == Approx(double(alone_scaled[i])).epsilon(1e-6));
  }
  CHECK(double(b[0]) != Approx(double(a[0])).epsilon(1e-3));  // the factor did change the step
  CHECK_THROWS_WITH(adam.step(s_both, {&a, &b}, {&g1, &g1}, {}, {1.0}), Catch::Contains("lr_scale has 1 factors"));
  CHECK_THROWS_WITH(adam.step(s_both, {&a, &b}, {&g1, &g1}, {}, {1.0, -1.0}), Catch::Contains("lr_scale factor -1"));
}

TEMPLATE_TEST_CASE("Sgd: plain, momentum and Nesterov match the hand-computed update", "[nn][optim]", float, double) {
  using T = TestType;
  const Tensor<T> g1({1}, {T(1)}), g2({1}, {T(3)});
  for (const bool nesterov : {false, true}) {
    Tensor<T> p({1}, {T(2)});
    const nn::Sgd sgd{.lr = 0.1, .momentum = 0.5, .nesterov = nesterov, .weight_decay = 0.1};
    nn::Sgd::State<T> s;
    sgd.step(s, {&p}, {&g1});
    sgd.step(s, {&p}, {&g2});
    double x = 2, b = 0;
    for (int t = 0; t < 2; ++t) {
      const double g = (t == 0 ? 1.0 : 3.0) + 0.1 * x;
      b = t == 0 ? g : 0.5 * b + g;
      x -= 0.1 * (nesterov ? g + 0.5 * b : b);
    }
    CHECK(double(p[0]) == Approx(x).epsilon(1e-6));
  }
  Tensor<T> p({1}, {T(2)});
  nn::Sgd::State<T> s;
  nn::Sgd{.lr = 0.5}.step(s, {&p}, {&g1});
  CHECK(double(p[0]) == Approx(1.5));
  CHECK_THROWS_AS((nn::Sgd{.nesterov = true}.step(s, {&p}, {&g1})), distill::invalid_argument);
}

TEST_CASE("Schedules: step and cosine learning rates", "[nn][optim]") {
  const nn::StepSchedule st{.milestones = {10, 20}, .gamma = 0.1};
  CHECK(st.lr(1.0, 0) == Approx(1.0));
  CHECK(st.lr(1.0, 10) == Approx(0.1));
  CHECK(st.lr(1.0, 25) == Approx(0.01));
  const nn::CosineSchedule cs{.total_steps = 100, .min_lr = 0.01};
  CHECK(cs.lr(1.0, 0) == Approx(1.0));
  CHECK(cs.lr(1.0, 50) == Approx(0.505));
  CHECK(cs.lr(1.0, 100) == Approx(0.01));
  CHECK(cs.lr(1.0, 200) == Approx(0.01));
}
