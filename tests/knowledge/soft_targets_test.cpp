// SPDX-License-Identifier: MIT
// knowledge/soft_targets.hpp: the temperature softmax and the distillation objective against direct formulas,
// their gradients against central finite differences in double (first and second order), the T² scaling and the
// high-temperature limit of the paper's eq. 4, and bad arguments.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/knowledge/soft_targets.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace kd = distill::knowledge;
using distill::Shape;
using distill::Tensor;

namespace {

//! softmax(z / t) of one row, in double.
std::vector<double> row_softmax(const double* z, std::size_t k, double t) {
  double m = z[0];
  for (std::size_t i = 1; i < k; ++i) m = std::max(m, z[i]);
  std::vector<double> q(k);
  double s = 0;
  for (std::size_t i = 0; i < k; ++i) s += q[i] = std::exp((z[i] - m) / t);
  for (auto& v : q) v /= s;
  return q;
}

//! The objective of the file comment of soft_targets.hpp, written out by hand in double.
double direct_kd(const Tensor<double>& z, const Tensor<double>& v, const std::vector<std::int64_t>& y,
                 const kd::KdObjective& o) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  double soft = 0, hard = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const auto p = row_softmax(v.data() + r * k, k, o.temperature);
    const auto q = row_softmax(z.data() + r * k, k, o.temperature);
    const auto q1 = row_softmax(z.data() + r * k, k, 1.0);
    for (std::size_t i = 0; i < k; ++i) soft -= p[i] * std::log(q[i]);
    if (!y.empty()) hard -= std::log(q1[std::size_t(y[r])]);
  }
  return o.soft_weight * o.temperature * o.temperature * soft / double(n) + o.hard_weight * hard / double(n);
}

//! Logits whose rows have mean zero (the paper's assumption for eq. 4).
template <class B>
Tensor<double> zero_mean_rows(Shape s, std::uint64_t seed) {
  Tensor<double> t = random_tensor<B>(s, seed, -2, 2);
  for (std::size_t r = 0; r < s[0]; ++r) {
    double m = 0;
    for (std::size_t i = 0; i < s[1]; ++i) m += t[r * s[1] + i];
    for (std::size_t i = 0; i < s[1]; ++i) t[r * s[1] + i] -= m / double(s[1]);
  }
  return t;
}

}  // namespace

TEMPLATE_TEST_CASE("softmax_at: rows are softmax(z / T), sum to 1 and flatten as T grows", "[knowledge]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const Tensor<double> z = random_tensor<B>({3, 5}, 1, -4, 4);
  for (double t : {0.5, 1.0, 3.0, 20.0}) {
    const Tensor<double> q = kd::soft_targets<B>(z, t);
    REQUIRE(q.shape() == Shape{3, 5});
    for (std::size_t r = 0; r < 3; ++r) {
      const auto expected = row_softmax(z.data() + r * 5, 5, t);
      double sum = 0;
      for (std::size_t i = 0; i < 5; ++i) {
        CHECK(relative_error(q[r * 5 + i], expected[i]) < Tolerances<double>::value);
        sum += q[r * 5 + i];
      }
      CHECK(std::abs(sum - 1) < Tolerances<double>::value);
    }
  }
  // At T = 1000 every probability is within 1 % of uniform; at T = 0.5 the arg-max dominates more than at T = 1.
  const Tensor<double> hot = kd::soft_targets<B>(z, 1000.0);
  for (std::size_t i = 0; i < hot.size(); ++i) CHECK(std::abs(hot[i] * 5 - 1) < 0.01);
  const Tensor<double> cold = kd::soft_targets<B>(z, 0.5), warm = kd::soft_targets<B>(z, 1.0);
  double max_cold = 0, max_warm = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    max_cold = std::max(max_cold, cold[i]);
    max_warm = std::max(max_warm, warm[i]);
  }
  CHECK(max_cold > max_warm);
}

TEMPLATE_TEST_CASE("kd_loss: value equals the objective written out by hand", "[knowledge]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const Tensor<double> z = random_tensor<B>({4, 6}, 2, -3, 3), v = random_tensor<B>({4, 6}, 3, -3, 3);
  const std::vector<std::int64_t> y{0, 5, 2, 2};
  for (const kd::KdObjective o : {kd::KdObjective{.temperature = 1}, kd::KdObjective{.temperature = 20},
                                  kd::KdObjective{.temperature = 4, .soft_weight = 0.7, .hard_weight = 0.3},
                                  kd::KdObjective{.temperature = 2, .soft_weight = 0, .hard_weight = 1}}) {
    const double got = kd::kd_loss(ad::Var<B>(z), ad::Var<B>(v), y, o).item();
    INFO("T " << o.temperature << " soft " << o.soft_weight << " hard " << o.hard_weight);
    CHECK(relative_error(got, direct_kd(z, v, y, o)) < Tolerances<double>::value);
  }
  // Soft targets only: no labels needed. Hard labels only: no teacher needed.
  const kd::KdObjective soft_only{.temperature = 5};
  CHECK(relative_error(kd::kd_loss(ad::Var<B>(z), ad::Var<B>(v), {}, soft_only).item(), direct_kd(z, v, {}, soft_only)) <
        Tolerances<double>::value);
  const kd::KdObjective hard_only{.soft_weight = 0, .hard_weight = 1};
  CHECK(relative_error(kd::kd_loss(ad::Var<B>(z), ad::Var<B>{}, y, hard_only).item(), direct_kd(z, v, y, hard_only)) <
        Tolerances<double>::value);
}

TEMPLATE_TEST_CASE("kd_loss: gradients in student and teacher logits match central finite differences",
                   "[knowledge][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const std::vector<std::int64_t> y{1, 0, 3};
  const std::vector<Tensor<double>> inputs{random_tensor<B>({3, 4}, 4, -2, 2), random_tensor<B>({3, 4}, 5, -2, 2)};
  for (const kd::KdObjective o : {kd::KdObjective{.temperature = 1}, kd::KdObjective{.temperature = 20},
                                  kd::KdObjective{.temperature = 3, .soft_weight = 0.5, .hard_weight = 2}}) {
    auto f = [&](const std::vector<ad::Var<B>>& x) { return kd::kd_loss(x[0], x[1], y, o); };
    const auto r = ad::gradcheck<B>(f, inputs);
    INFO("T " << o.temperature << ": worst input " << r.worst_input << " index " << r.worst_index << " analytic "
              << r.worst_analytic << " numeric " << r.worst_numeric);
    CHECK(r.checked == 24);
    CHECK(r.max_rel_error < Tolerances<double>::grad);
    // Second order (the objective inside an unrolled step): the gradient of <grad L, d>.
    const std::vector<Tensor<double>> dirs{random_tensor<B>({3, 4}, 6), random_tensor<B>({3, 4}, 7)};
    const auto r2 = ad::gradcheck_second_order<B>(f, inputs, dirs);
    CHECK(r2.max_rel_error < Tolerances<double>::second_order);
  }
}

TEMPLATE_TEST_CASE("kd_loss: the soft gradient is T(q - p)/N, so T² keeps its size as T grows", "[knowledge][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const Tensor<double> z = random_tensor<B>({2, 5}, 8, -3, 3), v = random_tensor<B>({2, 5}, 9, -3, 3);
  auto gradient = [&](const kd::KdObjective& o) {
    ad::Tape<B> tape;
    const auto zv = tape.variable(z);
    return ad::grad(kd::kd_loss(zv, ad::Var<B>(v), {}, o), zv).value().clone();
  };
  for (double t : {1.0, 2.0, 5.0, 20.0}) {
    const Tensor<double> g = gradient({.temperature = t});
    const Tensor<double> p = kd::soft_targets<B>(v, t), q = kd::soft_targets<B>(z, t);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(relative_error(g[i], t * (q[i] - p[i]) / 2) < Tolerances<double>::value);
  }
  // The scaled gradient's norm changes little between T = 10 and T = 100 (it tends to (z - v)/(K N)); unscaled
  // (divided by T²) it would shrink 100 times.
  auto norm = [](const Tensor<double>& g) {
    double s = 0;
    for (std::size_t i = 0; i < g.size(); ++i) s += g[i] * g[i];
    return std::sqrt(s);
  };
  const double n10 = norm(gradient({.temperature = 10})), n100 = norm(gradient({.temperature = 100}));
  CHECK(n100 / n10 > 0.9);
  CHECK(n100 / n10 < 1.1);
}

TEMPLATE_TEST_CASE("soft_cross_entropy: at high temperature the gradient tends to (z - v)/(K T²) per example (eq. 4)",
                   "[knowledge][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const std::size_t n = 3, k = 10;
  const Tensor<double> z = zero_mean_rows<B>({n, k}, 10), v = zero_mean_rows<B>({n, k}, 11);
  double previous = 1e300;
  for (double t : {10.0, 100.0, 1000.0}) {
    ad::Tape<B> tape;
    const auto zv = tape.variable(z);
    const auto p = kd::softmax_at(ad::Var<B>(v), t);
    const Tensor<double> g = ad::grad(kd::soft_cross_entropy(zv, p, t), zv).value();
    double worst = 0;  // relative to the limit's scale, so that entries where z ≈ v do not dominate
    double scale = 0;
    for (std::size_t i = 0; i < g.size(); ++i) scale = std::max(scale, std::abs(z[i] - v[i]));
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double limit = (z[i] - v[i]) / (double(k) * t * t) / double(n);  // eq. 4, averaged over the batch
      worst = std::max(worst, std::abs(g[i] - limit) * double(k) * t * t * double(n) / scale);
    }
    INFO("T " << t << ": worst deviation from the limit, relative to max |z - v|: " << worst);
    CHECK(worst < 4.0 / t);  // the next term of the expansion is O(1/T)
    CHECK(worst < previous);
    previous = worst;
  }
}

TEMPLATE_TEST_CASE("kd_loss rejects bad arguments with a message naming them", "[knowledge]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const ad::Var<B> z(random_tensor<B>({2, 3}, 12)), v(random_tensor<B>({2, 3}, 13)), v_bad(random_tensor<B>({2, 4}, 14));
  const std::vector<std::int64_t> y{0, 1};
  CHECK_THROWS_WITH(kd::kd_loss(z, v, y, {.temperature = 0}), Catch::Contains("temperature is 0"));
  CHECK_THROWS_WITH(kd::kd_loss(z, v, y, {.temperature = 2, .soft_weight = -1}), Catch::Contains("soft_weight is -1"));
  CHECK_THROWS_WITH(kd::kd_loss(z, v, y, {.temperature = 2, .soft_weight = 0, .hard_weight = 0}),
                    Catch::Contains("both 0"));
  CHECK_THROWS_WITH(kd::kd_loss(z, v_bad, y, {.temperature = 2}), Catch::Contains("teacher logits have shape [2, 4]"));
  CHECK_THROWS_WITH(kd::kd_loss(z, v, {0}, {.temperature = 2, .hard_weight = 1}), Catch::Contains("1 labels for 2 rows"));
  CHECK_THROWS_WITH(kd::kd_loss(z, v, {0, 3}, {.temperature = 2, .hard_weight = 1}), Catch::Contains("label 1 is 3"));
  CHECK_THROWS_WITH(kd::soft_targets<B>(Tensor<double>(Shape{4}, 0.0), 2.0), Catch::Contains("expected [N, K]"));
}
