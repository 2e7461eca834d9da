// SPDX-License-Identifier: MIT
// streamed_vjp_x2: the same ∂L/∂X2 as gram() + gram_vjp() for every shipped dot-product kernel, with ragged and
// single-row blocks; every row handed to row_grad exactly once; bad input rejected.
#include <catch2/catch.hpp>
#include <atomic>
#include <cmath>
#include <vector>

#include "distill/kernels.hpp"
#include "distill/kernels/streamed_vjp.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace dk = distill::kernels;
using distill::Tensor;

namespace {
// L = Σ_ij (½ w_ij K_ij² + v_ij K_ij), so ∂L/∂K = w∘K + v: a row loss that uses the kernel values it is given.
// Blocks of 1 and 7 rows run by rows, of 30 and 64 by columns (stream_by_columns); n2 = 14 and d = 53 take the
// skinny products' chunk of 12 rows and the rest, their pairs of SIMD packs, single packs and scalar tails.
template <class B, class K>
void check_against_gram_vjp(const K& kernel, double tolerance, std::size_t n2 = 7, std::size_t d = 6) {
  using T = typename B::Scalar;
  const std::size_t n1 = 30;
  const auto x1 = normal_tensor<T>({n1, 1, d}, 11), x2 = normal_tensor<T>({n2, d}, 12);
  const auto w = normal_tensor<T>({n1, n2}, 13), v = normal_tensor<T>({n1, n2}, 14);
  const Tensor<T> kk = kernel.template gram<B>(x1, x2);
  Tensor<T> g({n1, n2});
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = w[i] * kk[i] + v[i];
  const Tensor<T> want = kernel.template gram_vjp<B>(x1, x2, g, dk::VjpWrt::second).dx2;
  double scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::abs(double(want[i])));
  REQUIRE(scale > 0);

  for (const std::size_t block : {std::size_t(1), std::size_t(7), std::size_t(30), std::size_t(64)}) {
    CAPTURE(block);
    std::vector<std::atomic<int>> seen(n1);
    std::atomic<bool> slot_ok{true}, values_ok{true};
    auto row_grad = [&](std::size_t slot, std::size_t row0, std::size_t rows, T* k) {
      if (slot >= dk::stream_slots<B>()) slot_ok = false;
      for (std::size_t i = 0; i < rows; ++i) {
        ++seen[row0 + i];
        for (std::size_t j = 0; j < n2; ++j) {
          const std::size_t e = (row0 + i) * n2 + j;
          if (std::abs(double(k[i * n2 + j]) - double(kk[e])) > tolerance * (1 + std::abs(double(kk[e])))) values_ok = false;
          k[i * n2 + j] = w[e] * k[i * n2 + j] + v[e];
        }
      }
    };
    const Tensor<T> got = dk::streamed_vjp_x2<B>(kernel, x1, x2, row_grad, block);
    CHECK(got.shape() == x2.shape());
    CHECK(slot_ok);
    CHECK(values_ok);  // row_grad saw K(X1, X2)'s rows
    for (std::size_t i = 0; i < n1; ++i) CHECK(seen[i] == 1);
    double err = 0;
    for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(double(got[i]) - double(want[i])));
    CHECK(err / scale < tolerance);
  }
}
}  // namespace

TEMPLATE_TEST_CASE("streamed_vjp_x2 matches gram + gram_vjp for FcNtk, Rbf and Linear", "[kernels][streamed]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  const double tol = std::is_same_v<typename B::Scalar, double> ? 1e-12 : 1e-4;
  check_against_gram_vjp<B>(dk::FcNtk{.depth = 3}, tol);
  check_against_gram_vjp<B>(dk::FcNtk{.depth = 2, .bias_var = 0.1, .kind = dk::KernelKind::nngp}, tol);
  check_against_gram_vjp<B>(dk::Rbf{.gamma = 0.2}, tol);
  check_against_gram_vjp<B>(dk::Linear{.scale = 0.5, .bias = 0.2}, tol);
  check_against_gram_vjp<B>(dk::FcNtk{.depth = 3}, tol, 14, 53);
  check_against_gram_vjp<B>(dk::Linear{.scale = 0.5, .bias = 0.2}, tol, 14, 53);
}

TEMPLATE_TEST_CASE("streamed_vjp_x2 rejects bad input", "[kernels][streamed]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const auto x1 = normal_tensor<double>({5, 4}, 1), x2 = normal_tensor<double>({3, 4}, 2), x3 = normal_tensor<double>({3, 5}, 3);
  auto none = [](std::size_t, std::size_t, std::size_t, double*) {};
  CHECK_THROWS_WITH(dk::streamed_vjp_x2<B>(dk::FcNtk{}, x1, x3, none),
                    Catch::Contains("X1 has 4 features but X2 has 5"));
  CHECK_THROWS_WITH(dk::streamed_vjp_x2<B>(dk::FcNtk{}, x1, x2, none, 0), Catch::Contains("block_rows is 0"));
  CHECK_THROWS_WITH(dk::streamed_vjp_x2<B>(dk::FcNtk{}, normal_tensor<double>({5}, 4), x2, none),
                    Catch::Contains("X1 has shape"));
  // An empty X1 is an empty sum: the gradient is zero.
  const auto zero = dk::streamed_vjp_x2<B>(dk::FcNtk{}, Tensor<double>({0, 4}), x2, none);
  for (std::size_t i = 0; i < zero.size(); ++i) CHECK(zero[i] == 0.0);
}
