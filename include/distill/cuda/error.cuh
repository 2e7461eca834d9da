// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CUDA_ERROR_CUH
#define DISTILL_CUDA_ERROR_CUH

/**
 * @file
 * Errors of the CUDA runtime, cuBLAS and cuSOLVER as distill::cuda_error, naming the call that failed.
 *
 *     DISTILL_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
 *
 * throws `distill::cuda_error: cudaMemcpyAsync failed: invalid argument (cudaErrorInvalidValue) at fc_ntk.cuh:120`.
 * One macro takes all three status types (overloads of check()), so call sites do not pick a checker. Kernel
 * launches are checked with DISTILL_CUDA_LAUNCHED("kernel name") right after the launch. Destructors of the RAII
 * types (memory.cuh) never throw: they ignore the status of their release calls.
 */

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <string>
#include <string_view>

#include "distill/core/error.hpp"

namespace distill::cuda::detail {

/// "cudaMemcpyAsync(dst, ...)" -> "cudaMemcpyAsync": the call's name without its arguments.
inline std::string call_name(std::string_view expr) { return std::string(expr.substr(0, expr.find('('))); }

inline const char* status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}

inline const char* status_name(cusolverStatus_t s) {
  switch (s) {
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default: return "cuSOLVER error";
  }
}

inline void check(cudaError_t e, std::string_view expr, const char* file, int line) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();  // clear a sticky-free error so the next call does not report it again
  DISTILL_THROW(cuda_error, call_name(expr), " failed: ", cudaGetErrorString(e), " (", cudaGetErrorName(e), ") at ",
                file, ':', line);
}
inline void check(cublasStatus_t s, std::string_view expr, const char* file, int line) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  DISTILL_THROW(cuda_error, call_name(expr), " failed: ", status_name(s), " (", int(s), ") at ", file, ':', line);
}
inline void check(cusolverStatus_t s, std::string_view expr, const char* file, int line) {
  if (s == CUSOLVER_STATUS_SUCCESS) return;
  DISTILL_THROW(cuda_error, call_name(expr), " failed: ", status_name(s), " (", int(s), ") at ", file, ':', line);
}

}  // namespace distill::cuda::detail

/// Runs a CUDA runtime, cuBLAS or cuSOLVER call and throws distill::cuda_error naming it when it fails.
#define DISTILL_CUDA_CALL(expr) ::distill::cuda::detail::check((expr), #expr, __FILE__, __LINE__)

/// After a kernel launch: throws distill::cuda_error naming the kernel when the launch failed.
#define DISTILL_CUDA_LAUNCHED(kernel_name) \
  ::distill::cuda::detail::check(cudaGetLastError(), kernel_name "<<<>>>", __FILE__, __LINE__)

#endif  // DISTILL_CUDA_ERROR_CUH
