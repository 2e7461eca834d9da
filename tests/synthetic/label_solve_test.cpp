// SPDX-License-Identifier: MIT
// Label Solve: the solved labels minimise the KRR target loss (lower than one-hot, and a stationary point).
#include <catch2/catch.hpp>

#include "distill/kernels.hpp"
#include "distill/synthetic/kip.hpp"
#include "distill/synthetic/label_solve.hpp"
#include "support/backends.hpp"

namespace dk = distill::kernels;
namespace ds = distill::synthetic;
using distill::Tensor;

TEMPLATE_TEST_CASE("label_solve: solved labels beat one-hot labels on the target loss", "[synthetic][label_solve]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(3);
  const std::size_t n = 8, m = 40, d = 6, c = 2;
  Tensor<T> xs({n, d}), xt({m, d});
  std::vector<std::int64_t> ls, lt;
  for (std::size_t i = 0; i < n; ++i) ls.push_back(std::int64_t(i % c));
  for (std::size_t i = 0; i < m; ++i) lt.push_back(std::int64_t(i % c));
  for (std::size_t i = 0; i < n * d; ++i) xs[i] = T(rng.normal() + (ls[i / d] == std::int64_t(i % d % c) ? 1.0 : 0.0));
  for (std::size_t i = 0; i < m * d; ++i) xt[i] = T(rng.normal() + (lt[i / d] == std::int64_t(i % d % c) ? 1.0 : 0.0));
  const auto ys = dk::centred_one_hot<T>(ls, c), yt = dk::centred_one_hot<T>(lt, c);
  const dk::FcNtk k{.depth = 2};
  const auto solved = ds::label_solve<B>(k, xs, xt, yt, {.reg = 1e-4, .solve_reg = 1e-10});
  REQUIRE(solved.shape() == distill::Shape{n, c});
  const auto before = ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-4);
  const auto after = ds::kip_loss_and_grad<B>(k, xs, solved, xt, yt, 1e-4);
  CHECK(after.loss < before.loss);
  // The least-squares labels are a stationary point of the loss: its label gradient (nearly) vanishes.
  double g_before = 0, g_after = 0;
  for (std::size_t i = 0; i < before.d_labels.size(); ++i)
    g_before = std::max(g_before, double(std::abs(before.d_labels[i]))),
    g_after = std::max(g_after, double(std::abs(after.d_labels[i])));
  CHECK(g_after < 1e-3 * g_before);
  CHECK_THROWS_AS(ds::label_solve<B>(k, xs, xt, ys), distill::invalid_argument);
}
