// SPDX-License-Identifier: MIT
// distill_kip --device cuda: the FC NTK/NNGP Gram matrices and VJPs of distill/cuda/fc_ntk.cuh, compiled by nvcc
// into their own library so that distill_kip.cpp stays a host C++ file (see CudaFcNtk there).
#include "distill/core.hpp"  // DefaultBackend
#include "distill/cuda/fc_ntk.cuh"

namespace distill::kip_cuda {

int device_count() { return cuda::device_count(); }

Tensor<float> gram(const kernels::FcNtk& k, const Tensor<float>& x1, const Tensor<float>& x2) {
  return cuda::FcNtk{k}.gram<DefaultBackend<float>>(x1, x2);
}
Tensor<double> gram(const kernels::FcNtk& k, const Tensor<double>& x1, const Tensor<double>& x2) {
  return cuda::FcNtk{k}.gram<DefaultBackend<double>>(x1, x2);
}
kernels::GramVjp<float> gram_vjp(const kernels::FcNtk& k, const Tensor<float>& x1, const Tensor<float>& x2,
                                 const Tensor<float>& g, kernels::VjpWrt wrt) {
  return cuda::FcNtk{k}.gram_vjp<DefaultBackend<float>>(x1, x2, g, wrt);
}
kernels::GramVjp<double> gram_vjp(const kernels::FcNtk& k, const Tensor<double>& x1, const Tensor<double>& x2,
                                  const Tensor<double>& g, kernels::VjpWrt wrt) {
  return cuda::FcNtk{k}.gram_vjp<DefaultBackend<double>>(x1, x2, g, wrt);
}

}  // namespace distill::kip_cuda
