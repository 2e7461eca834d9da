// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CUDA_FC_NTK_CUH
#define DISTILL_CUDA_FC_NTK_CUH

/**
 * @file
 * The FC NTK/NNGP Gram matrix and its VJP on a CUDA device, as a kernel type (cuda::FcNtk) that satisfies
 * kernels::Kernel: anything that takes a kernel (Kip, krr_fit, krr_accuracy, label solve) runs its kernel work on the
 * GPU with `distill::cuda::FcNtk{{.depth = 3}}` in place of `kernels::FcNtk{.depth = 3}`, tensors staying on the host.
 *
 *   gram:      D = X1·X2ᵀ (cuBLAS GEMM), then ONE fused kernel runs the whole depth recursion per entry
 *              (kernels/detail/fc_ntk_math.hpp, the same functions as the CPU's scalar path).
 *   gram_vjp:  streamed over blocks of X1's rows like kernels/streamed_vjp.hpp, so no n1×n2 matrix lives on the
 *              device: per block, D_b = X1_b·X2ᵀ (GEMM), one fused kernel P_b = G_b ∘ ∂K/∂D and the row/column sums
 *              r1, r2 of ∂K/∂|x|² (warp and block reductions), dX1_b = P_b·X2, dX2 += P_bᵀ·X1_b (GEMMs); at the
 *              end dX += 2 r∘X.
 *
 * Float runs cuBLAS in plain fp32 by default (`tf32 = true` lets it use TF32 tensor cores: 8× the peak, but a 10-bit
 * mantissa in x·x' moves nearly parallel points' angles by far more than the float pass's error). Double is double.
 * Row norms and the layer tables are accumulated in double, as on the CPU.
 *
 * Compile with nvcc (CMake's CUDA language) and link distill::cuda. Without a device, the first call throws
 * distill::invalid_argument saying so (Context); CUDA failures throw distill::cuda_error naming the call.
 */

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/cuda/cholesky.cuh"
#include "distill/cuda/error.cuh"
#include "distill/cuda/memory.cuh"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/fc_ntk_math.hpp"
#include "distill/kernels/fc_ntk.hpp"

namespace distill::cuda {

namespace detail {

namespace fm = kernels::detail::fc_ntk_math;

inline constexpr int tile_x = 32, tile_y = 8;  // a warp per row segment, 8 rows per block

/// Row-major C[m, n] = α op(A)·op(B) + β C through column-major cuBLAS (C ᵀ = op(B)ᵀ op(A)ᵀ).
inline void gemm(cublasHandle_t h, bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                 const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  DISTILL_CUDA_CALL(cublasSgemm(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k),
                                &alpha, b, int(ldb), a, int(lda), &beta, c, int(ldc)));
}
inline void gemm(cublasHandle_t h, bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha,
                 const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta, double* c,
                 std::size_t ldc) {
  DISTILL_CUDA_CALL(cublasDgemm(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k),
                                &alpha, b, int(ldb), a, int(lda), &beta, c, int(ldc)));
}

/// sq[i] = |x_i|² accumulated in double, one warp per row.
template <class T>
__global__ void squared_norms_kernel(const T* x, std::size_t n, std::size_t d, T* sq) {
  const std::size_t row = std::size_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const unsigned lane = threadIdx.x % 32;
  if (row >= n) return;
  double s = 0;
  for (std::size_t q = lane; q < d; q += 32) s += double(x[row * d + q]) * double(x[row * d + q]);
  for (int off = 16; off > 0; off /= 2) s += __shfl_down_sync(0xffffffffu, s, off);
  if (lane == 0) sq[row] = T(s);
}

/// The layer tables of FcNtk::row_ops on the device: r[l·n + i] = √q_l(i), ir = 1/√q_l (0 where q_l = 0).
template <class T>
__global__ void tables_kernel(const T* sq, std::size_t n, std::size_t depth, double w, double b, double inv_d, T* r,
                              T* ir) {
  const std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  double q = w * double(sq[i]) * inv_d + b;
  for (std::size_t l = 0; l < depth; ++l) {
    const double root = ::sqrt(q > 0 ? q : 0.0);
    r[l * n + i] = T(root);
    ir[l * n + i] = root > 0 ? T(1.0 / root) : T(0);
    q = w * q / 2 + b;
  }
}

/// K = f(D) in place over rows [0, rows) of a [rows, n2] block whose first row is table row `row0`.
template <class T>
__global__ void forward_kernel(fm::Params<T> p, std::size_t row0, std::size_t rows, T* k) {
  const std::size_t j = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= p.n2) return;
  for (std::size_t i = std::size_t(blockIdx.y) * blockDim.y + threadIdx.y; i < rows;
       i += std::size_t(gridDim.y) * blockDim.y) {
    T& e = k[i * p.n2 + j];
    e = fm::forward(p, row0 + i, j, e);
  }
}

/// The backward pass of a [rows, n2] block: d (in: dots, out: P = G ∘ ∂K/∂D), g the block of G; adds the block's
/// ∂/∂|x1|² row sums to r1[row0 + i] and ∂/∂|x2|² column sums to r2[j] (double, one atomic per warp row and per
/// block column).
template <class T>
__global__ void backward_kernel(fm::Params<T> p, std::size_t row0, std::size_t rows, T* d, const T* g, double* r1,
                                double* r2) {
  __shared__ double col[tile_y][tile_x];
  const std::size_t j = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  double c_sum = 0;
  for (std::size_t i0 = std::size_t(blockIdx.y) * blockDim.y; i0 < rows; i0 += std::size_t(gridDim.y) * blockDim.y) {
    const std::size_t i = i0 + threadIdx.y;
    double r_part = 0;
    if (i < rows && j < p.n2) {
      const fm::Grad<T> gr = fm::backward(p, row0 + i, j, d[i * p.n2 + j], g[i * p.n2 + j]);
      d[i * p.n2 + j] = gr.dot;
      r_part = double(gr.n1);
      c_sum += double(gr.n2);
    }
    for (int off = 16; off > 0; off /= 2) r_part += __shfl_down_sync(0xffffffffu, r_part, off);
    if (threadIdx.x == 0 && i < rows) atomicAdd(&r1[row0 + i], r_part);
  }
  col[threadIdx.y][threadIdx.x] = c_sum;
  __syncthreads();
  if (threadIdx.y == 0 && j < p.n2) {
    double s = 0;
    for (int y = 0; y < tile_y; ++y) s += col[y][threadIdx.x];
    atomicAdd(&r2[j], s);
  }
}

/// out[i, :] += 2 r[i] x[i, :]  (the |x|² terms of the VJP).
template <class T>
__global__ void add_norm_term_kernel(const double* r, const T* x, std::size_t n, std::size_t d, T* out) {
  const std::size_t e = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= n * d) return;
  out[e] += T(2 * r[e / d]) * x[e];
}

inline unsigned blocks_for(std::size_t n, unsigned per_block) { return unsigned((n + per_block - 1) / per_block); }

inline dim3 tile_grid(std::size_t rows, std::size_t cols) {
  return dim3(blocks_for(cols, tile_x), unsigned(std::min<std::size_t>((rows + tile_y - 1) / tile_y, 65535)));
}

/// Rows X [n, d] on the device (not owned) with their squared norms and layer tables.
template <class T>
struct DeviceRows {
  std::size_t n = 0, d = 0;
  const T* x;
  DeviceBuffer<T> sq, r, ir;

  DeviceRows(const T* rows, std::size_t n_, std::size_t d_, const kernels::FcNtk& k, cudaStream_t s)
      : n(n_), d(d_), x(rows), sq(n, s), r(std::max<std::size_t>(k.depth * n, 1), s),
        ir(std::max<std::size_t>(k.depth * n, 1), s) {
    if (n == 0) return;
    squared_norms_kernel<T><<<blocks_for(n, 8), 256, 0, s>>>(x, n, d, sq.data());
    DISTILL_CUDA_LAUNCHED("distill::cuda::detail::squared_norms_kernel");
    tables_kernel<T><<<blocks_for(n, 256), 256, 0, s>>>(sq.data(), n, k.depth, k.weight_var, k.bias_var,
                                                        1.0 / double(d), r.data(), ir.data());
    DISTILL_CUDA_LAUNCHED("distill::cuda::detail::tables_kernel");
  }
};

/// ∂q_l/∂|x|² per layer on the device (FcNtk::row_ops' dq).
template <class T>
DeviceBuffer<T> layer_slopes(const kernels::FcNtk& k, std::size_t d, cudaStream_t s) {
  std::vector<T> dq(std::max<std::size_t>(k.depth, 1), T(0));
  double slope = k.weight_var / double(d);
  for (std::size_t l = 0; l < k.depth; ++l, slope *= k.weight_var / 2) dq[l] = T(slope);
  return DeviceBuffer<T>(dq.data(), dq.size(), s);
}

template <class T>
fm::Params<T> params(const kernels::FcNtk& k, const DeviceRows<T>& a, const DeviceRows<T>& b, const T* dq) {
  return {k.depth, T(k.weight_var), T(k.bias_var), T(1.0 / double(a.d)), k.kind == kernels::KernelKind::ntk,
          a.r.data(), a.ir.data(), b.r.data(), b.ir.data(), a.n, b.n, dq};
}

}  // namespace detail

/**
 * kernels::FcNtk with its Gram matrix and VJP computed on the current CUDA device (see the file comment).
 *
 * @code
 * dd::cuda::FcNtk k{{.depth = 3}};
 * dd::synthetic::Kip kip{k, {.images_per_class = 10, .steps = 1000}};   // K_ss, K_ts and their VJPs on the GPU
 * @endcode
 */
struct FcNtk {
  kernels::FcNtk kernel;               //!< the options (depth, σ_w², σ_b², NTK or NNGP)
  std::size_t block_rows = 2048;       //!< rows of X1 per block of the streamed VJP (device memory ∝ block_rows·n2)
  bool tf32 = false;                   //!< let float GEMMs use TF32 tensor cores (see the file comment)

  //! KIP's, Label Solve's and KRR's solves with this kernel factor on the device (kernels::factor_ridge).
  using RidgeSolver = RidgeCholesky;

  /**
   * K(X1, X2), computed on the device and copied back.
   * @param cache  accepted for the Kernel interface and left untouched: the dot products stay on the device
   */
  template <Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                  kernels::GramCache<typename B::Scalar>* cache = nullptr) const {
    using T = typename B::Scalar;
    (void)cache;
    constexpr const char* where = "cuda::FcNtk::gram()";
    kernel.validate(where);
    const Tensor<T> a = kernels::detail::as_rows(x1, where, "X1"), b = kernels::detail::as_rows(x2, where, "X2");
    DISTILL_CHECK(a.shape(1) == b.shape(1), where, ": X1 has ", a.shape(1), " features but X2 has ", b.shape(1),
                  ", expected the same");
    DISTILL_CHECK(a.shape(1) > 0, where, ": inputs have 0 features, expected at least 1");
    const std::size_t n1 = a.shape(0), n2 = b.shape(0), d = a.shape(1);
    Tensor<T> out = Tensor<T>::empty({n1, n2});
    if (n1 == 0 || n2 == 0) return out;
    Context& ctx = Context::for_this_thread();
    const cudaStream_t s = ctx.stream();
    const DeviceBuffer<T> xa(a.data(), a.size(), s), xb(b.data(), b.size(), s);
    DeviceBuffer<T> k(n1 * n2, s);
    gram_on_device(xa.data(), n1, xb.data(), n2, d, k.data(), ctx);
    k.download(out.data(), out.size());
    return out;
  }

  /**
   * K(X1, X2) with everything on the device: x1 [n1, d], x2 [n2, d] and k [n1, n2] are device pointers (row-major),
   * queued on ctx's stream (no synchronisation). What gram() runs between its copies; the benchmark times it.
   */
  template <class T>
  void gram_on_device(const T* x1, std::size_t n1, const T* x2, std::size_t n2, std::size_t d, T* k,
                      Context& ctx) const {
    kernel.validate("cuda::FcNtk::gram_on_device()");
    if (n1 == 0 || n2 == 0) return;
    const cudaStream_t s = ctx.stream();
    set_math_mode<T>(ctx);
    const detail::DeviceRows<T> da(x1, n1, d, kernel, s), db(x2, n2, d, kernel, s);
    const DeviceBuffer<T> dq = detail::layer_slopes<T>(kernel, d, s);
    detail::gemm(ctx.blas(), false, true, n1, n2, d, T(1), x1, d, x2, d, T(0), k, n2);
    detail::forward_kernel<T><<<detail::tile_grid(n1, n2), dim3(detail::tile_x, detail::tile_y), 0, s>>>(
        detail::params(kernel, da, db, dq.data()), 0, n1, k);
    DISTILL_CUDA_LAUNCHED("distill::cuda::detail::forward_kernel");
  }

  /**
   * ∂⟨G, K(X1, X2)⟩/∂X1 and ∂/∂X2, streamed over blocks of X1's rows on the device.
   * @param cache  accepted for the Kernel interface and not used (see gram())
   */
  template <Backend B>
  kernels::GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1,
                                                const Tensor<typename B::Scalar>& x2,
                                                const Tensor<typename B::Scalar>& g,
                                                kernels::VjpWrt wrt = kernels::VjpWrt::both,
                                                const kernels::GramCache<typename B::Scalar>* cache = nullptr) const {
    using T = typename B::Scalar;
    (void)cache;
    constexpr const char* where = "cuda::FcNtk::gram_vjp()";
    kernel.validate(where);
    DISTILL_CHECK(block_rows > 0, where, ": block_rows is 0, expected at least 1");
    const Tensor<T> a = kernels::detail::as_rows(x1, where, "X1"), b = kernels::detail::as_rows(x2, where, "X2");
    DISTILL_CHECK(a.shape(1) == b.shape(1), where, ": X1 has ", a.shape(1), " features but X2 has ", b.shape(1),
                  ", expected the same");
    DISTILL_CHECK(a.shape(1) > 0, where, ": inputs have 0 features, expected at least 1");
    const std::size_t n1 = a.shape(0), n2 = b.shape(0), d = a.shape(1);
    DISTILL_CHECK(g.rank() == 2 && g.shape(0) == n1 && g.shape(1) == n2, where, ": G has shape ", show(g.shape()),
                  ", expected [", n1, ", ", n2, "] (the shape of K(X1, X2))");
    const bool want1 = wrt != kernels::VjpWrt::second, want2 = wrt != kernels::VjpWrt::first;
    kernels::GramVjp<T> out;
    if (n1 == 0 || n2 == 0) {
      if (want1) out.dx1 = Tensor<T>(x1.shape(), T(0));
      if (want2) out.dx2 = Tensor<T>(x2.shape(), T(0));
      return out;
    }
    Context& ctx = Context::for_this_thread();
    const cudaStream_t s = ctx.stream();
    set_math_mode<T>(ctx);
    const DeviceBuffer<T> xa(a.data(), a.size(), s), xbuf(b.data(), b.size(), s);
    const detail::DeviceRows<T> da(xa.data(), n1, d, kernel, s), db(xbuf.data(), n2, d, kernel, s);
    const DeviceBuffer<T> dq = detail::layer_slopes<T>(kernel, d, s);
    const auto p = detail::params(kernel, da, db, dq.data());
    const std::size_t rb = std::min(block_rows, n1);
    DeviceBuffer<T> dblock(rb * n2, s), gblock(rb * n2, s);
    DeviceBuffer<T> dx1(want1 ? n1 * d : 0, s), dx2(want2 ? n2 * d : 0, s);
    DeviceBuffer<double> r1(n1, s), r2(n2, s);
    r1.zero();
    r2.zero();
    dx2.zero();
    for (std::size_t row0 = 0; row0 < n1; row0 += rb) {
      const std::size_t rows = std::min(rb, n1 - row0);
      const T* xb = da.x + row0 * d;
      gblock.upload(g.data() + row0 * n2, rows * n2);
      detail::gemm(ctx.blas(), false, true, rows, n2, d, T(1), xb, d, db.x, d, T(0), dblock.data(), n2);
      detail::backward_kernel<T><<<detail::tile_grid(rows, n2), dim3(detail::tile_x, detail::tile_y), 0, s>>>(
          p, row0, rows, dblock.data(), gblock.data(), r1.data(), r2.data());
      DISTILL_CUDA_LAUNCHED("distill::cuda::detail::backward_kernel");
      if (want1)  // dX1_b = P_b·X2
        detail::gemm(ctx.blas(), false, false, rows, d, n2, T(1), dblock.data(), n2, db.x, d, T(0),
                     dx1.data() + row0 * d, d);
      if (want2)  // dX2 += P_bᵀ·X1_b
        detail::gemm(ctx.blas(), true, false, n2, d, rows, T(1), dblock.data(), n2, xb, d, T(1), dx2.data(), d);
    }
    if (want1) {
      detail::add_norm_term_kernel<T><<<detail::blocks_for(n1 * d, 256), 256, 0, s>>>(r1.data(), da.x, n1, d,
                                                                                    dx1.data());
      DISTILL_CUDA_LAUNCHED("distill::cuda::detail::add_norm_term_kernel");
      out.dx1 = Tensor<T>::empty({n1, d});
      dx1.download(out.dx1.data(), out.dx1.size());
      out.dx1 = out.dx1.reshape(x1.shape());
    }
    if (want2) {
      detail::add_norm_term_kernel<T><<<detail::blocks_for(n2 * d, 256), 256, 0, s>>>(r2.data(), db.x, n2, d,
                                                                                    dx2.data());
      DISTILL_CUDA_LAUNCHED("distill::cuda::detail::add_norm_term_kernel");
      out.dx2 = Tensor<T>::empty({n2, d});
      dx2.download(out.dx2.data(), out.dx2.size());
      out.dx2 = out.dx2.reshape(x2.shape());
    }
    return out;
  }

 private:
  template <class T>
  void set_math_mode(const Context& ctx) const {
    if constexpr (std::is_same_v<T, float>)
      DISTILL_CUDA_CALL(cublasSetMathMode(ctx.blas(), tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  }
};

}  // namespace distill::cuda

#endif  // DISTILL_CUDA_FC_NTK_CUH
