// SPDX-License-Identifier: MIT
// distill/cuda (error.cuh, memory.cuh, fc_ntk.cuh): errors that name the call and the no-device message on every
// machine; on a GPU, the device Gram matrix, its streamed VJP, one KIP step and 100 KIP steps against the CPU path.
// Without a CUDA device the GPU cases print "SKIPPED: ..." (ctest lists them as skipped).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "distill/cuda/fc_ntk.cuh"
#include "distill/kernels.hpp"
#include "distill/synthetic/kip.hpp"
#include "support/blobs.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/skip.hpp"

namespace dd = distill;
namespace dk = distill::kernels;
namespace ds = distill::synthetic;
using distill::Tensor;
using BF = distill::EigenBackend<float>;
using BD = distill::EigenBackend<double>;

static_assert(dk::Kernel<dd::cuda::FcNtk, BF>);
static_assert(dk::KernelFloatAndDouble<dd::cuda::FcNtk, BF>);

#define DISTILL_REQUIRE_GPU()                                                                          \
  if (dd::cuda::device_count() == 0)                                                                   \
  DISTILL_SKIP("no CUDA device (cudaGetDeviceCount reports none): the GPU parity checks did not run")

namespace {

const dk::FcNtk kCases[] = {
    {.depth = 0},
    {.depth = 3},
    {.depth = 3, .weight_var = 1.5, .bias_var = 0.1},
    {.depth = 5, .bias_var = 0.05, .kind = dk::KernelKind::nngp},
};

/// max |a − b| / max |b|
template <class T>
double rel_err(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.size() == b.size());
  double scale = 1e-30, err = 0;
  for (std::size_t e = 0; e < b.size(); ++e) {
    scale = std::max(scale, std::abs(double(b[e])));
    err = std::max(err, std::abs(double(a[e]) - double(b[e])));
  }
  return err / scale;
}

}  // namespace

TEST_CASE("cuda: failed CUDA, cuBLAS and cuSOLVER calls throw cuda_error naming the call", "[cuda]") {
  CHECK_THROWS_AS(DISTILL_CUDA_CALL(cudaErrorInvalidValue), dd::cuda_error);
  CHECK_THROWS_WITH(dd::cuda::detail::check(cudaErrorMemoryAllocation, "cudaMallocAsync(&p, bytes, s)", "x.cuh", 3),
                    Catch::Contains("cudaMallocAsync failed") && Catch::Contains("cudaErrorMemoryAllocation") &&
                        Catch::Contains("x.cuh:3"));
  CHECK_THROWS_WITH(dd::cuda::detail::check(CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm(h, ...)", "x.cuh", 4),
                    Catch::Contains("cublasSgemm failed") && Catch::Contains("CUBLAS_STATUS_INVALID_VALUE"));
  CHECK_THROWS_WITH(dd::cuda::detail::check(CUSOLVER_STATUS_EXECUTION_FAILED, "cusolverDnDpotrf(h, ...)", "x.cuh", 5),
                    Catch::Contains("cusolverDnDpotrf failed") && Catch::Contains("CUSOLVER_STATUS_EXECUTION_FAILED"));
  CHECK_NOTHROW(DISTILL_CUDA_CALL(cudaSuccess));
}

TEST_CASE("cuda: without a device cuda::FcNtk says so, with one it needs no device code to check its arguments",
          "[cuda]") {
  const dd::cuda::FcNtk k{{.depth = 2}};
  const auto x = normal_tensor<float>({3, 4}, 1), y = normal_tensor<float>({2, 5}, 2);
  CHECK_THROWS_WITH(k.gram<BF>(x, y), Catch::Contains("X1 has 4 features but X2 has 5"));
  CHECK_THROWS_WITH((dd::cuda::FcNtk{{.depth = 40}}.gram<BF>(x, x)), Catch::Contains("depth is 40"));
  if (dd::cuda::device_count() == 0) {
    CHECK_THROWS_WITH(k.gram<BF>(x, x), Catch::Contains("no CUDA device"));
  } else {
    CHECK(k.gram<BF>(x, x).shape() == dd::Shape{3, 3});
  }
}

TEST_CASE("cuda::FcNtk: the device Gram matrix matches the CPU path (float 1e-5, double 1e-12 relative)",
          "[cuda][gpu]") {
  DISTILL_REQUIRE_GPU();
  const auto x1 = normal_tensor<double>({37, 3, 7}, 11), x2 = normal_tensor<double>({70, 21}, 12);
  for (const auto& k : kCases) {
    INFO("depth " << k.depth << " bias_var " << k.bias_var);
    const dd::cuda::FcNtk gk{k};
    CHECK(rel_err(gk.gram<BD>(x1, x2), k.gram<BD>(x1, x2)) < 1e-12);
    const auto f1 = x1.cast<float>(), f2 = x2.cast<float>();
    CHECK(rel_err(gk.gram<BF>(f1, f2), k.gram<BD>(x1, x2).cast<float>()) < 1e-5);
  }
}

TEST_CASE("cuda::FcNtk: the streamed device VJP matches the CPU path for both inputs and ragged blocks",
          "[cuda][gpu]") {
  DISTILL_REQUIRE_GPU();
  const auto x1 = normal_tensor<double>({37, 21}, 21), x2 = normal_tensor<double>({70, 21}, 22);
  const auto g = normal_tensor<double>({37, 70}, 23);
  for (const auto& k : kCases) {
    for (std::size_t rows : {std::size_t(8), std::size_t(2048)}) {
      INFO("depth " << k.depth << " block_rows " << rows);
      const dd::cuda::FcNtk gk{k, rows};
      const auto ref = k.gram_vjp<BD>(x1, x2, g);
      const auto dev = gk.gram_vjp<BD>(x1, x2, g);
      CHECK(rel_err(dev.dx1, ref.dx1) < 1e-11);
      CHECK(rel_err(dev.dx2, ref.dx2) < 1e-11);
      const auto devf = gk.gram_vjp<BF>(x1.cast<float>(), x2.cast<float>(), g.cast<float>(), dk::VjpWrt::second);
      CHECK(devf.dx1.size() == 0);
      CHECK(rel_err(devf.dx2, ref.dx2.cast<float>()) < 1e-4);
    }
  }
}

TEST_CASE("cuda::FcNtk: one KIP step (loss, support and label gradients) matches the CPU path (1e-4 relative)",
          "[cuda][gpu][kip]") {
  DISTILL_REQUIRE_GPU();
  const auto xs = normal_tensor<float>({12, 1, 3, 4}, 31), xt = normal_tensor<float>({50, 1, 3, 4}, 32);
  const auto ys = normal_tensor<float>({12, 3}, 33), yt = normal_tensor<float>({50, 3}, 34);
  const dk::FcNtk k{.depth = 3};
  const auto cpu = ds::kip_loss_and_grad<BF>(k, xs, ys, xt, yt, 1e-6);
  const auto gpu = ds::kip_loss_and_grad<BF>(dd::cuda::FcNtk{k}, xs, ys, xt, yt, 1e-6);
  CHECK(gpu.loss == Approx(cpu.loss).epsilon(1e-4));
  CHECK(rel_err(gpu.d_support, cpu.d_support) < 1e-4);
  CHECK(rel_err(gpu.d_labels, cpu.d_labels) < 1e-4);
}

TEST_CASE("cuda::FcNtk: 100 KIP steps through Kip follow the CPU path (images within 1e-3 of their scale)",
          "[cuda][gpu][kip]") {
  DISTILL_REQUIRE_GPU();
  const auto train = image_blobs(40, 3, 5);
  const ds::KipOptions<float> opt{.images_per_class = 2, .steps = 100, .target_batch_size = 60, .lr = 0.01, .seed = 7};
  ds::Kip<dk::FcNtk, BF> cpu{dk::FcNtk{.depth = 3}, opt};
  ds::Kip<dd::cuda::FcNtk, BF> gpu{dd::cuda::FcNtk{{.depth = 3}}, opt};
  const auto a = cpu.fit(train), b = gpu.fit(train);
  CHECK(rel_err(b.images, a.images) < 1e-3);
}
