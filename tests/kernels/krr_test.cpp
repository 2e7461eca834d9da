// SPDX-License-Identifier: MIT
// Kernel ridge regression: the Cholesky solve satisfies (K + λI)α = Y, fit/predict interpolate the support, and
// a kernel matrix that is not positive definite raises numerical_error with the hint to increase reg.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <type_traits>

#include "distill/kernels.hpp"
#include "support/archetypes.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace dk = distill::kernels;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("RidgeCholesky: (K + λI)·solve(Y) reproduces Y", "[kernels][krr]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // 150 rows: more than two 64-row blocks, so the blocked trailing-update GEMM runs.
  for (std::size_t n : {1u, 7u, 150u}) {
    const auto x = normal_tensor<T>({n, 20}, n);
    const auto k = dk::FcNtk{.depth = 2}.template gram<B>(x, x);
    const auto y = normal_tensor<T>({n, 3}, 2 * n);
    const auto chol = dk::RidgeCholesky::factor<B>(k, 1e-3);
    const auto alpha = chol.solve(y);
    double trace = 0;
    for (std::size_t i = 0; i < n; ++i) trace += double(k.at(i, i));
    CHECK(chol.ridge() == Approx(1e-3 * trace / double(n)));
    // residual (K + λI)α − y, measured in double against |K||α| (what the solve can promise)
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < 3; ++c) {
        double r = chol.ridge() * double(alpha.at(i, c)) - double(y.at(i, c));
        double mag = std::abs(chol.ridge() * double(alpha.at(i, c)));
        for (std::size_t j = 0; j < n; ++j) {
          r += double(k.at(i, j)) * double(alpha.at(j, c));
          mag += std::abs(double(k.at(i, j)) * double(alpha.at(j, c)));
        }
        worst = std::max(worst, std::abs(r));
        scale = std::max(scale, mag);
      }
    // α comes back in T: its rounding (not the double solve) bounds the residual in float
    CHECK(worst <= (std::is_same_v<T, float> ? 1e-6 : 1e-9) * scale);
    // and L·Lᵀ is K + λI
    const auto& l = chol.factor_matrix();
    double err = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        double s = 0;
        for (std::size_t p = 0; p <= j; ++p) s += l[i * n + p] * l[j * n + p];
        const double a = 0.5 * (double(k.at(i, j)) + double(k.at(j, i))) + (i == j ? chol.ridge() : 0.0);
        err = std::max(err, std::abs(s - a));
      }
    CHECK(err <= 1e-12 * trace);
  }
}

TEMPLATE_TEST_CASE("krr_fit/krr_predict: near-interpolation of the support with a tiny ridge", "[kernels][krr]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const auto xs = normal_tensor<double>({12, 8}, 3), ys = normal_tensor<double>({12, 2}, 4);
  const dk::FcNtk k{.depth = 3};
  const auto model = dk::krr_fit<B>(k, xs, ys, {.reg = 1e-10});
  const auto pred = dk::krr_predict<B>(k, model, xs);
  CHECK(distill::max_abs_diff(pred, ys) < 1e-6);
  // A larger ridge shrinks the fit towards zero.
  const auto loose = dk::krr_predict<B>(k, dk::krr_fit<B>(k, xs, ys, {.reg = 10.0}), xs);
  double n_pred = 0, n_y = 0;
  for (std::size_t i = 0; i < ys.size(); ++i) n_pred += loose[i] * loose[i], n_y += ys[i] * ys[i];
  CHECK(n_pred < n_y);
}

// The Kernel concept: the archetype and the shipped kernels pass on a backend and its double twin; a type
// without gram_vjp, a non-kernel, and a backend without a double twin are rejected by the named parts.
using distill::testing::ArchetypeKernel;
using EF = distill::EigenBackend<float>;
static_assert(dk::Kernel<ArchetypeKernel, EF> && dk::KernelFloatAndDouble<ArchetypeKernel, EF>);
static_assert(dk::KernelFloatAndDouble<dk::FcNtk, EF> && dk::KernelFloatAndDouble<dk::Rbf, EF> &&
              dk::KernelFloatAndDouble<dk::Linear, EF>);
static_assert(dk::HasGram<distill::testing::NoGramVjpKernel, EF> &&
              !dk::HasGramVjp<distill::testing::NoGramVjpKernel, EF> &&
              !dk::Kernel<distill::testing::NoGramVjpKernel, EF>);
static_assert(!dk::Kernel<int, EF> && !dk::Kernel<ArchetypeKernel, int>);
static_assert(dk::HasDoubleTwin<EF> && !dk::HasDoubleTwin<int>);
static_assert(std::is_same_v<dk::detail::double_twin_t<EF>, distill::EigenBackend<double>> &&
              std::is_same_v<dk::detail::double_twin_t<int>, void>);

TEMPLATE_TEST_CASE("krr_fit/krr_predict: the archetype kernel (only what the concept promises) interpolates",
                   "[kernels][krr][concepts]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  // 6 points in 8 dimensions: the linear Gram matrix X·Xᵀ is full rank.
  const auto xs = normal_tensor<double>({6, 8}, 5), ys = normal_tensor<double>({6, 2}, 6);
  const ArchetypeKernel k;
  const auto pred = dk::krr_predict<B>(k, dk::krr_fit<B>(k, xs, ys, {.reg = 1e-12}), xs);
  CHECK(distill::max_abs_diff(pred, ys) < 1e-6);
}

TEMPLATE_TEST_CASE("RidgeCholesky: a matrix that is not positive definite throws with the hint", "[kernels][krr]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // Eigenvalues 3 and -1: no ridge of 1e-6·tr/n can fix that.
  const Tensor<T> k({2, 2}, {T(1), T(2), T(2), T(1)});
  try {
    (void)dk::RidgeCholesky::factor<B>(k, 1e-6, "test");
    FAIL("expected numerical_error");
  } catch (const distill::numerical_error& e) {
    const std::string what = e.what();
    CHECK(what.find("increase reg (now 1e-06") != std::string::npos);
  }
  // A singular PSD matrix (two identical points): its second pivot is exactly 0, so reg = 0 fails and the
  // default-sized ridge fixes it.
  const Tensor<T> kd({2, 2}, {T(1), T(1), T(1), T(1)});
  CHECK_THROWS_AS(dk::RidgeCholesky::factor<B>(kd, 0.0), distill::numerical_error);
  CHECK_NOTHROW(dk::RidgeCholesky::factor<B>(kd, 1e-6));
  CHECK_THROWS_AS(dk::RidgeCholesky::factor<B>(Tensor<T>({2, 3}), 1e-6), distill::invalid_argument);
}
