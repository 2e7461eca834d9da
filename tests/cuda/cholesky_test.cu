// SPDX-License-Identifier: MIT
// cuda/cholesky.cuh: argument checks on every machine; on a GPU, cuSOLVER's ridge Cholesky solve against
// kernels::RidgeCholesky (rel 1e-10) and the not-positive-definite message. Without a CUDA device the GPU cases print
// "SKIPPED: ..." (ctest lists them as skipped).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "distill/core.hpp"
#include "distill/cuda/cholesky.cuh"
#include "distill/kernels/krr.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/skip.hpp"

namespace dd = distill;
using distill::Tensor;

namespace {

/// A Aᵀ for a random [n, n + 3] A: symmetric positive definite.
Tensor<double> spd(std::size_t n, std::uint64_t seed) {
  const auto a = normal_tensor<double>({n, n + 3}, seed);
  Tensor<double> k({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t q = 0; q < n + 3; ++q) k[i * n + j] += a[i * (n + 3) + q] * a[j * (n + 3) + q];
  return k;
}

}  // namespace

TEST_CASE("cuda::RidgeCholesky: bad arguments are named before any device work", "[cuda]") {
  CHECK_THROWS_WITH(dd::cuda::RidgeCholesky::factor(Tensor<double>({2, 3}), 1e-6),
                    Catch::Contains("expected a square [n, n]"));
  CHECK_THROWS_WITH(dd::cuda::RidgeCholesky::factor(spd(3, 1), -1.0), Catch::Contains("reg is -1"));
  Tensor<double> nan = spd(3, 2);
  nan[4] = std::nan("");
  CHECK_THROWS_WITH(dd::cuda::RidgeCholesky::factor(nan, 1e-6), Catch::Contains("NaN or infinity"));
}

TEST_CASE("cuda::RidgeCholesky: cuSOLVER's solve matches kernels::RidgeCholesky (1e-10 relative)", "[cuda][gpu]") {
  if (dd::cuda::device_count() == 0)
    DISTILL_SKIP("no CUDA device (cudaGetDeviceCount reports none): the cuSOLVER checks did not run");
  using BD = dd::DefaultBackend<double>;
  const auto k = spd(37, 3);
  const auto y = normal_tensor<double>({37, 10}, 4);
  const auto cpu = dd::kernels::RidgeCholesky::factor<BD>(k, 1e-6);
  const auto gpu = dd::cuda::RidgeCholesky::factor(k, 1e-6);
  CHECK(gpu.ridge() == cpu.ridge());
  const auto a = cpu.solve(y), b = gpu.solve(y);
  double scale = 0, err = 0;
  for (std::size_t e = 0; e < a.size(); ++e) {
    scale = std::max(scale, std::abs(a[e]));
    err = std::max(err, std::abs(a[e] - b[e]));
  }
  CHECK(err / scale < 1e-10);
  const auto bf = gpu.solve(y.cast<float>());
  for (std::size_t e = 0; e < a.size(); ++e) CHECK(bf[e] == Approx(float(a[e])).epsilon(1e-5).margin(1e-6));

  Tensor<double> indefinite({2, 2}, {1, 2, 2, 1});
  CHECK_THROWS_AS(dd::cuda::RidgeCholesky::factor(indefinite, 0.0), dd::numerical_error);
  CHECK_THROWS_WITH(dd::cuda::RidgeCholesky::factor(indefinite, 0.0), Catch::Contains("pivot 1 of 2"));
}
