// SPDX-License-Identifier: MIT
// Rbf and Linear: values against the definition, gradients against central differences.
#include <catch2/catch.hpp>
#include <cmath>

#include "distill/kernels.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace dk = distill::kernels;
using distill::Shape;
using distill::Tensor;

namespace {
template <class B, class K>
void check_kernel(const K& k, double (*ref)(const double*, const double*, std::size_t)) {
  const std::size_t d = 5;
  const auto x1 = normal_tensor<double>({3, d}, 1), x2 = normal_tensor<double>({4, d}, 2), g = normal_tensor<double>({3, 4}, 3);
  const auto kk = k.template gram<B>(x1, x2);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      CHECK(relative_error(kk.at(i, j), ref(x1.data() + i * d, x2.data() + j * d, d)) < Tolerances<double>::value);
  const auto v = k.template gram_vjp<B>(x1, x2, g);
  auto f = [&](const Tensor<double>& a, const Tensor<double>& b) {
    const auto m = k.template gram<B>(a, b);
    double s = 0;
    for (std::size_t i = 0; i < m.size(); ++i) s += m[i] * g[i];
    return s;
  };
  for (int side = 0; side < 2; ++side) {
    Tensor<double> x = (side == 0 ? x1 : x2).clone();
    const Tensor<double>& an = side == 0 ? v.dx1 : v.dx2;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double x0 = x[i], h = 1e-4;
      auto at = [&](double val) { x[i] = val; return side == 0 ? f(x, x2) : f(x1, x); };
      const double fd = (-at(x0 + 2 * h) + 8 * at(x0 + h) - 8 * at(x0 - h) + at(x0 - 2 * h)) / (12 * h);
      x[i] = x0;
      CHECK(relative_error(an[i], fd, 1e-8) < Tolerances<double>::grad);
    }
  }
}
}  // namespace

TEMPLATE_TEST_CASE("Rbf: values and gradients", "[kernels][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  check_kernel<TestType>(dk::Rbf{.gamma = 0.3}, [](const double* a, const double* b, std::size_t d) {
    double s = 0;
    for (std::size_t k = 0; k < d; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return std::exp(-0.3 * s);
  });
  // gamma = 0 means 1/d, and k(x, x) = 1.
  const auto x = normal_tensor<double>({3, 4}, 9);
  const auto k = dk::Rbf{}.template gram<TestType>(x, x);
  for (std::size_t i = 0; i < 3; ++i) CHECK(k.at(i, i) == Approx(1.0));
  CHECK_THROWS_AS(dk::Rbf{.gamma = -1}.template gram<TestType>(x, x), distill::invalid_argument);
}

TEMPLATE_TEST_CASE("Linear: values and gradients", "[kernels][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  check_kernel<TestType>(dk::Linear{.scale = 0.5, .bias = 0.2}, [](const double* a, const double* b, std::size_t d) {
    double s = 0;
    for (std::size_t k = 0; k < d; ++k) s += a[k] * b[k];
    return 0.5 * s + 0.2;
  });
}
