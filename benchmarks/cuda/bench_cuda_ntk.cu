// SPDX-License-Identifier: MIT
// bench_cuda_ntk: the depth-3 FC NTK on a CUDA device against the CPU path.
//
//   1. the 10,000 × 60,000 Gram matrix of 784-feature rows (MNIST's shape) on the device (cuda::FcNtk::
//      gram_on_device: GEMM + the fused recursion, no host copies), fp32 and TF32 GEMMs: milliseconds, GFLOP/s of
//      the GEMM's 2·n1·n2·d flops (the recursion's ~100 flops per entry are not counted) and that rate as a fraction
//      of the device's fp32 and dense TF32 peaks (SM count × clock × per-SM rate of the architecture);
//   2. one KIP step (synthetic::kip_loss_and_grad, 10 classes, 784 features) at 100 support × 5000 targets and at
//      500 × 10,000, with cuda::FcNtk and with kernels::FcNtk (this machine's CPU threads): steps per second and the
//      ratio.
//
// Without a CUDA device it prints "SKIPPED: ..." and exits 0. Usage: bench_cuda_ntk [--quick] (smaller sizes).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "distill/cuda/fc_ntk.cuh"
#include "distill/kernels.hpp"
#include "distill/synthetic/kip_loss.hpp"

namespace dd = distill;
using BF = dd::EigenBackend<float>;

namespace {

dd::Tensor<float> uniform(dd::Shape shape, unsigned seed) {
  dd::Tensor<float> t(std::move(shape));
  unsigned s = seed * 2654435761u + 1;
  for (auto& v : t) {
    s = s * 1664525u + 1013904223u;
    v = float(s >> 8) / float(1u << 24) - 0.5f;
  }
  return t;
}

/// Per-SM fp32 and dense TF32 flops per clock of the architectures this library is built for (and newer).
struct Peak {
  double fp32, tf32;
};
Peak peak_flops(int dev) {
  int sms = 0, khz = 0, major = 0, minor = 0;
  DISTILL_CUDA_CALL(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  DISTILL_CUDA_CALL(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev));
  DISTILL_CUDA_CALL(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  DISTILL_CUDA_CALL(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  double fp32_clk = 256, tf32_clk = 2048;                        // Hopper (sm_90) and later
  if (major == 8 && minor == 0) fp32_clk = 128, tf32_clk = 1024;  // A100
  else if (major == 8) fp32_clk = 256, tf32_clk = 512;            // GA10x / Ada
  const double hz = double(khz) * 1e3 * double(sms);
  return {hz * fp32_clk, hz * tf32_clk};
}

template <class F>
double seconds_per_call(F&& f, int reps) {
  f();  // warm-up (handles, pools, first-touch)
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (dd::cuda::device_count() == 0) {
    std::printf("SKIPPED: no CUDA device (cudaGetDeviceCount reports none): bench_cuda_ntk measured nothing\n");
    return 0;
  }
  int dev = 0;
  DISTILL_CUDA_CALL(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  DISTILL_CUDA_CALL(cudaGetDeviceProperties(&prop, dev));
  const Peak peak = peak_flops(dev);
  std::printf("device: %s (sm_%d%d, %d SMs); peaks: fp32 %.1f TFLOP/s, dense TF32 %.1f TFLOP/s\n", prop.name,
              prop.major, prop.minor, prop.multiProcessorCount, peak.fp32 / 1e12, peak.tf32 / 1e12);

  // 1. the Gram matrix, on the device only
  const std::size_t n1 = quick ? 2000 : 10000, n2 = quick ? 12000 : 60000, d = 784;
  dd::cuda::Context& ctx = dd::cuda::Context::for_this_thread();
  const auto x1 = uniform({n1, d}, 1), x2 = uniform({n2, d}, 2);
  const dd::cuda::DeviceBuffer<float> dx1(x1.data(), x1.size(), ctx.stream()), dx2(x2.data(), x2.size(), ctx.stream());
  dd::cuda::DeviceBuffer<float> k(n1 * n2, ctx.stream());
  std::printf("\n%-34s %10s %10s %9s %9s\n", "depth-3 NTK Gram matrix", "ms", "GFLOP/s", "of fp32", "of TF32");
  for (bool tf32 : {false, true}) {
    const dd::cuda::FcNtk kern{{.depth = 3}, 2048, tf32};
    cudaEvent_t start, stop;
    DISTILL_CUDA_CALL(cudaEventCreate(&start));
    DISTILL_CUDA_CALL(cudaEventCreate(&stop));
    kern.gram_on_device(dx1.data(), n1, dx2.data(), n2, d, k.data(), ctx);  // warm-up
    const int reps = 10;
    DISTILL_CUDA_CALL(cudaEventRecord(start, ctx.stream()));
    for (int r = 0; r < reps; ++r) kern.gram_on_device(dx1.data(), n1, dx2.data(), n2, d, k.data(), ctx);
    DISTILL_CUDA_CALL(cudaEventRecord(stop, ctx.stream()));
    DISTILL_CUDA_CALL(cudaEventSynchronize(stop));
    float ms = 0;
    DISTILL_CUDA_CALL(cudaEventElapsedTime(&ms, start, stop));
    ms /= float(reps);
    const double flops = 2.0 * double(n1) * double(n2) * double(d) / (double(ms) * 1e-3);
    std::printf("%zu x %zu, d %zu, %-12s %10.2f %10.0f %8.1f%% %8.1f%%\n", n1, n2, d, tf32 ? "TF32 GEMM" : "fp32 GEMM",
                double(ms), flops / 1e9, 100 * flops / peak.fp32, 100 * flops / peak.tf32);
    DISTILL_CUDA_CALL(cudaEventDestroy(start));
    DISTILL_CUDA_CALL(cudaEventDestroy(stop));
  }

  // 2. one KIP step, device kernel against the CPU path
  std::printf("\n%-30s %12s %12s %8s\n", "KIP step (depth-3 NTK, C=10)", "GPU steps/s", "CPU steps/s", "ratio");
  for (auto [n, m] : {std::pair<std::size_t, std::size_t>{100, 5000}, {500, 10000}}) {
    if (quick) m /= 5;
    const auto xs = uniform({n, d}, 3), xt = uniform({m, d}, 4), ys = uniform({n, 10}, 5), yt = uniform({m, 10}, 6);
    const dd::kernels::FcNtk cpu{.depth = 3};
    const dd::cuda::FcNtk gpu{cpu};
    const double g = seconds_per_call([&] { (void)dd::synthetic::kip_loss_and_grad<BF>(gpu, xs, ys, xt, yt, 1e-6); },
                                      20);
    const double c = seconds_per_call([&] { (void)dd::synthetic::kip_loss_and_grad<BF>(cpu, xs, ys, xt, yt, 1e-6); },
                                      3);
    std::printf("%zu support x %-16zu %12.1f %12.2f %7.1fx\n", n, m, 1 / g, 1 / c, c / g);
  }
  return 0;
}
