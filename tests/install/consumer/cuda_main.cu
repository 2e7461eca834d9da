// SPDX-License-Identifier: MIT
// Uses the installed distill::cuda: the RAII context and buffers, the error translation, and the shared host/device
// NTK math in a kernel. Prints "cuda consumer: <entry>" where a CUDA device runs it, and "cuda consumer: no CUDA
// device" elsewhere; exits non-zero only on a wrong result.
#include <distill/cuda/memory.cuh>
#include <distill/kernels/detail/fc_ntk_math.hpp>
#include <cmath>
#include <iostream>

namespace fm = distill::kernels::detail::fc_ntk_math;

// Depth-1 NTK of x = (1, 0) and x' = (0, 1) with σ_w² = 2, d = 2: q = 1, c = 0, θ = π/2 → Θ = 1/π + 1/2.
__global__ void entry(double* out) {
  const double r[1] = {1.0}, ir[1] = {1.0}, dq[1] = {1.0};
  const fm::Params<double> p{1, 2.0, 0.0, 0.5, true, r, ir, r, ir, 1, 1, dq};
  out[0] = fm::forward(p, 0, 0, 0.0);
}

int main() {
  namespace dd = distill;
  if (dd::cuda::device_count() == 0) {
    std::cout << "cuda consumer: no CUDA device\n";
    return 0;
  }
  dd::cuda::Context ctx;
  dd::cuda::DeviceBuffer<double> out(1, ctx.stream());
  entry<<<1, 1, 0, ctx.stream()>>>(out.data());
  DISTILL_CUDA_LAUNCHED("entry");
  double v = 0;
  out.download(&v, 1);
  std::cout << "cuda consumer: " << v << '\n';
  return std::abs(v - (1 / M_PI + 0.5)) < 1e-12 ? 0 : 1;
}
