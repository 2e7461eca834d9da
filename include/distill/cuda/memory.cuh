// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CUDA_MEMORY_CUH
#define DISTILL_CUDA_MEMORY_CUH

/**
 * @file
 * RAII for the device: a stream, cuBLAS and cuSOLVER handles bound to it (Context), and device buffers allocated
 * in stream order (DeviceBuffer), plus device_count() for code that must run without a GPU.
 *
 * Buffers use cudaMallocAsync/cudaFreeAsync on the context's stream: the driver's pool makes the per-call
 * allocations of the Gram and VJP passes (a few per KIP step) cost microseconds instead of a cudaMalloc's
 * synchronisation. Every type here is move-only; destructors release without throwing.
 */

#include <cstddef>
#include <memory>
#include <utility>

#include "distill/core/error.hpp"
#include "distill/cuda/error.cuh"

namespace distill::cuda {

/// The number of CUDA devices, 0 where the runtime finds none or no driver (it never throws): GPU tests and the
/// benchmark skip on 0.
inline int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

/// A non-blocking stream with a cuBLAS and a cuSOLVER handle bound to it.
class Context {
 public:
  Context() {
    DISTILL_CHECK(device_count() > 0, "distill::cuda::Context: no CUDA device is available (cudaGetDeviceCount)");
    DISTILL_CUDA_CALL(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    try {
      DISTILL_CUDA_CALL(cublasCreate(&blas_));
      DISTILL_CUDA_CALL(cublasSetStream(blas_, stream_));
      DISTILL_CUDA_CALL(cusolverDnCreate(&solver_));
      DISTILL_CUDA_CALL(cusolverDnSetStream(solver_, stream_));
    } catch (...) {
      release();
      throw;
    }
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context() { release(); }

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t blas() const { return blas_; }
  cusolverDnHandle_t solver() const { return solver_; }
  /// Waits for everything queued on the stream; reports an asynchronous kernel error here, naming the sync.
  void synchronize() const { DISTILL_CUDA_CALL(cudaStreamSynchronize(stream_)); }

  /// This thread's context on the current device, created on first use (handles are not shared across threads).
  static Context& for_this_thread() {
    thread_local std::unique_ptr<Context> context;
    if (!context) context = std::make_unique<Context>();
    return *context;
  }

 private:
  void release() noexcept {
    if (solver_) (void)cusolverDnDestroy(solver_);
    if (blas_) (void)cublasDestroy(blas_);
    if (stream_) (void)cudaStreamDestroy(stream_);
    solver_ = nullptr;
    blas_ = nullptr;
    stream_ = nullptr;
  }

  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  cusolverDnHandle_t solver_ = nullptr;
};

/// n elements of T on the device, allocated and freed in the order of a stream.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t n, cudaStream_t stream) : n_(n), stream_(stream) {
    if (n > 0) DISTILL_CUDA_CALL(cudaMallocAsync(reinterpret_cast<void**>(&ptr_), n * sizeof(T), stream));
  }
  /// A device copy of n host elements.
  DeviceBuffer(const T* host, std::size_t n, cudaStream_t stream) : DeviceBuffer(n, stream) { upload(host, n); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)), stream_(o.stream_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
      stream_ = o.stream_;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return n_; }

  /// Copies n host elements to the front of the buffer (queued on the stream; the host memory must stay valid
  /// until the stream reaches it: pageable memory is staged before the call returns).
  void upload(const T* host, std::size_t n, std::size_t offset = 0) {
    DISTILL_CHECK(offset + n <= n_, "DeviceBuffer::upload(): ", n, " elements at ", offset, " do not fit in ", n_);
    if (n > 0) DISTILL_CUDA_CALL(cudaMemcpyAsync(ptr_ + offset, host, n * sizeof(T), cudaMemcpyHostToDevice, stream_));
  }
  /// Copies n elements to the host and waits for them.
  void download(T* host, std::size_t n, std::size_t offset = 0) const {
    DISTILL_CHECK(offset + n <= n_, "DeviceBuffer::download(): ", n, " elements at ", offset, " exceed ", n_);
    if (n > 0) DISTILL_CUDA_CALL(cudaMemcpyAsync(host, ptr_ + offset, n * sizeof(T), cudaMemcpyDeviceToHost, stream_));
    DISTILL_CUDA_CALL(cudaStreamSynchronize(stream_));
  }
  /// Sets every byte to 0 (in stream order).
  void zero() {
    if (n_ > 0) DISTILL_CUDA_CALL(cudaMemsetAsync(ptr_, 0, n_ * sizeof(T), stream_));
  }

 private:
  void release() noexcept {
    if (ptr_) (void)cudaFreeAsync(ptr_, stream_);
    ptr_ = nullptr;
    n_ = 0;
  }

  T* ptr_ = nullptr;
  std::size_t n_ = 0;
  cudaStream_t stream_ = nullptr;
};

}  // namespace distill::cuda

#endif  // DISTILL_CUDA_MEMORY_CUH
