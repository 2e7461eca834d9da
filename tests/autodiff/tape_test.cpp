// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "distill/autodiff.hpp"
#include "support/backends.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("Tape: constants record nothing, variables record one node per op", "[autodiff]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  ad::Tape<B> tape;
  ad::Var<B> c(Tensor<T>({3}, {1, 2, 3}));
  auto k = ad::exp(ad::mul(c, c));
  CHECK_FALSE(k.requires_grad());
  CHECK(tape.size() == 0);
  auto x = tape.variable(Tensor<T>({3}, {1, 2, 3}));
  auto y = ad::sum(ad::mul(x, c));
  CHECK(y.requires_grad());
  CHECK(tape.size() == 3);  // variable, mul, sum
  const auto g = ad::grad(y, x);
  for (std::size_t i = 0; i < 3; ++i) CHECK(g.value()[i] == Approx(double(i + 1)));
  CHECK_FALSE(g.requires_grad());  // first order: the backward pass is not recorded
}

TEMPLATE_TEST_CASE("grad: unused inputs get zeros, seeds, and argument errors", "[autodiff]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  ad::Tape<B> tape, other;
  auto x = tape.variable(Tensor<T>({2}, {1, 2}));
  auto u = tape.variable(Tensor<T>({2, 2}, T(5)));
  auto y = ad::mul_scalar(x, T(3));
  const auto gs = ad::grad(y, {x, u}, {}, ad::Var<B>(Tensor<T>({2}, {1, -1})));
  CHECK(gs[0].value()[0] == Approx(3));
  CHECK(gs[0].value()[1] == Approx(-3));
  CHECK(gs[1].shape() == Shape{2, 2});
  CHECK(gs[1].value()[3] == 0);
  CHECK_THROWS_WITH(ad::grad(y, x), Catch::Contains("pass a seed"));
  auto z = other.variable(Tensor<T>({2}, {1, 2}));
  CHECK_THROWS_WITH(ad::add(x, z), Catch::Contains("different tapes"));
  CHECK_THROWS_WITH(ad::grad(ad::sum(y), z), Catch::Contains("different tape"));
  CHECK_THROWS_AS(ad::matmul(x, x), distill::invalid_argument);
  CHECK_THROWS_WITH(ad::add(x, ad::Var<B>(Tensor<T>({3}))), Catch::Contains("do not broadcast"));
}

TEMPLATE_TEST_CASE("Tape: no_grad and rewind", "[autodiff]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  ad::Tape<B> tape;
  auto x = tape.variable(Tensor<T>({4}, T(2)));
  const auto mark = tape.mark();
  {
    auto guard = tape.no_grad();
    auto y = ad::exp(x);
    CHECK_FALSE(y.requires_grad());
  }
  auto y = ad::exp(ad::exp(x));
  CHECK(tape.size() == 3);
  CHECK(tape.value_bytes() == 3 * 4 * sizeof(T));
  tape.rewind(mark);
  CHECK(tape.size() == 1);
  auto z = ad::sum(ad::mul(x, x));
  CHECK(ad::grad(z, x).value()[0] == Approx(4));
}

TEMPLATE_TEST_CASE("grad with create_graph: Hessian-vector product of a cubic is exact", "[autodiff][second-order]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // f(x) = Σ x_i³ / 3 + (Σ x_i)²/2, ∇f = x² + Σx, H v = 2 x ⊙ v + (Σ v)·1.
  ad::Tape<B> tape;
  auto x = tape.variable(Tensor<T>({3}, {1, -2, 0.5}));
  const Tensor<T> v({3}, {0.3, 1, -2});
  auto f = ad::add(ad::mul_scalar(ad::sum(ad::pow(x, T(3))), T(1) / T(3)), ad::mul_scalar(ad::square(ad::sum(x)), T(0.5)));
  auto g = ad::grad(f, x, {.create_graph = true});
  REQUIRE(g.requires_grad());
  auto hv = ad::grad(ad::dot(g, ad::Var<B>(v)), x);
  const double sv = 0.3 + 1 - 2;
  CHECK(hv.value()[0] == Approx(2 * 1 * 0.3 + sv));
  CHECK(hv.value()[1] == Approx(2 * -2 * 1 + sv));
  CHECK(hv.value()[2] == Approx(2 * 0.5 * -2 + sv));
}

TEMPLATE_TEST_CASE("hypergradient through two unrolled SGD steps matches finite differences", "[autodiff][second-order]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // θ_{t+1} = θ_t − η ∇θ ℓ(x̃, θ_t) with ℓ = mean((x̃ θ − y)²); outer loss on real data; d/dx̃ and d/dη.
  const Tensor<T> real_x({5, 3}, {0.1, 0.2, -0.3, 0.5, -0.1, 0.4, -0.2, 0.3, 0.1, 0.7, 0.0, -0.5, 0.2, 0.2, 0.2});
  const Tensor<T> real_y({5, 1}, {0.3, -0.2, 0.5, 0.1, -0.4});
  const Tensor<T> syn_y({2, 1}, {1, -1});
  const Tensor<T> theta0({3, 1}, {0.1, -0.2, 0.3});
  auto outer = [&](const std::vector<ad::Var<B>>& p) {
    const auto& xs = p[0];
    const auto& eta = p[1];
    ad::Var<B> theta(theta0);
    for (int step = 0; step < 2; ++step) {
      auto inner = ad::mean(ad::square(ad::sub(ad::matmul(xs, theta), ad::Var<B>(syn_y))));
      auto g = ad::grad(inner, theta, {.create_graph = true});
      theta = ad::sub(theta, ad::mul(eta, g));
    }
    return ad::mean(ad::square(ad::sub(ad::matmul(ad::Var<B>(real_x), theta), ad::Var<B>(real_y))));
  };
  // θ0 is a constant here, so the inner grad must see θ as on the tape: make it a variable of the inner loop.
  auto outer_with_theta_var = [&](const std::vector<ad::Var<B>>& p) {
    ad::Tape<B>* tape = p[0].tape();
    ad::Var<B> theta = tape ? tape->variable(theta0) : ad::Var<B>(theta0);
    const auto& xs = p[0];
    const auto& eta = p[1];
    for (int step = 0; step < 2; ++step) {
      auto inner = ad::mean(ad::square(ad::sub(ad::matmul(xs, theta), ad::Var<B>(syn_y))));
      auto g = ad::grad(inner, theta, {.create_graph = true});
      theta = ad::sub(theta, ad::mul(eta, g));
    }
    return ad::mean(ad::square(ad::sub(ad::matmul(ad::Var<B>(real_x), theta), ad::Var<B>(real_y))));
  };
  (void)outer;
  const Tensor<T> xs0({2, 3}, {0.5, -0.3, 0.8, -0.6, 0.2, 0.1});
  const Tensor<T> eta0({1}, {0.7});
  const auto r = ad::gradcheck<B>(outer_with_theta_var, {xs0, eta0});
  INFO("worst " << r.worst_analytic << " vs " << r.worst_numeric);
  CHECK(r.checked == 7);
  CHECK(r.max_rel_error < 1e-6);
}

TEMPLATE_TEST_CASE("Profile: counts the ops of a small graph and their backward, and nothing when off", "[autodiff]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  ad::Tape<B> tape;
  auto x = tape.variable(Tensor<T>({4}, {1, 2, 3, 4}));
  const ad::Var<B> c(Tensor<T>({4}, T(2)));
  auto f = [&] { return ad::sum(ad::add(ad::mul(x, x), ad::exp(ad::mul(x, c)))); };
  (void)ad::grad(f(), x);  // off: nothing is charged anywhere

  ad::Profile profile;
  {
    const ad::ProfileScope scope(profile);
    for (int pass = 0; pass < 2; ++pass) {
      const auto g = ad::grad(f(), x);
      CHECK(g.value()[0] == Approx(2 + 2 * std::exp(2.0)));
    }
  }
  (void)ad::grad(f(), x);  // after the scope: off again
  CHECK(profile.entry("mul").calls == 4);  // x·x and x·c, two passes
  CHECK(profile.entry("exp").calls == 2);
  CHECK(profile.entry("add").calls == 2);
  CHECK(profile.entry("sum_to").calls == 2);
  CHECK(profile.entry("mul backward").calls == 4);
  CHECK(profile.entry("exp backward").calls == 2);
  CHECK(profile.entry("sum_to backward").calls == 2);
  CHECK(profile.entry("variable backward").calls == 0);  // leaves have no backward
  // Bytes at the boundary: mul reads two [4] tensors, writes one; sum (sum_to a scalar) reads four, writes one.
  CHECK(profile.entry("mul").bytes == Approx(2 * 2 * 12 * sizeof(T)));
  CHECK(profile.entry("sum_to").bytes == Approx(2 * 5 * sizeof(T)));
  double seconds = 0;
  for (const auto& e : profile.entries()) {
    CHECK(e.seconds >= 0);
    seconds += e.seconds;
  }
  CHECK(seconds == Approx(profile.total_seconds()));
  CHECK(profile.entries().front().seconds >= profile.entries().back().seconds);

  // create_graph: the ops the backward records are charged to their own kinds.
  ad::Profile second;
  {
    const ad::ProfileScope scope(second);
    const auto g = ad::grad(f(), x, {.create_graph = true});
    (void)ad::grad(ad::sum(g), x);
  }
  CHECK(second.entry("mul").calls > 2);
  CHECK(second.entry("mul backward").calls > 2);
}
