// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CUDA_CHOLESKY_CUH
#define DISTILL_CUDA_CHOLESKY_CUH

/**
 * @file
 * kernels::RidgeCholesky on the device: K + λI (λ = reg · tr(K)/n) factored by cuSOLVER's potrf in double, solves
 * by potrs. The same interface and messages as the CPU class (factor(k, reg, where), solve(rhs), ridge(), size()),
 * so code written against one takes the other; the factor stays on the device between solves.
 *
 * K + λI is symmetric, so its row-major storage is also its column-major storage and potrf's lower factor of the
 * column-major view is what the CPU computes (transposed); right-hand sides are transposed to column-major on the
 * host on the way in and out.
 */

#include <cmath>
#include <cstddef>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/cuda/error.cuh"
#include "distill/cuda/memory.cuh"
#include "distill/kernels/detail/ridge_checks.hpp"

namespace distill::cuda {

class RidgeCholesky {
 public:
  RidgeCholesky() = default;

  /**
   * Factors K + λI on the device.
   * @param k      [n, n], symmetric (double, like the CPU class's factorisation)
   * @param reg    relative ridge (λ = reg · tr(K)/n), >= 0
   * @throw invalid_argument when k is not square, has a NaN/inf, or reg < 0, or there is no CUDA device
   * @throw numerical_error when K + λI is not positive definite (potrf's info names the pivot)
   */
  static RidgeCholesky factor(const Tensor<double>& k, double reg, const char* where = "cuda::RidgeCholesky::factor()") {
    kernels::detail::check_ridge_input(k, reg, where);
    RidgeCholesky f;
    const std::size_t n = k.shape(0);
    f.n_ = n;
    f.ridge_ = kernels::detail::relative_ridge(k, reg);
    if (n == 0) return f;
    std::vector<double> a(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) a[i * n + j] = 0.5 * (k[i * n + j] + k[j * n + i]) + (i == j ? f.ridge_ : 0.0);
    Context& ctx = Context::for_this_thread();
    f.ctx_ = &ctx;
    f.l_ = DeviceBuffer<double>(a.data(), a.size(), ctx.stream());
    int lwork = 0;
    DISTILL_CUDA_CALL(cusolverDnDpotrf_bufferSize(ctx.solver(), CUBLAS_FILL_MODE_LOWER, int(n), f.l_.data(), int(n),
                                                  &lwork));
    DeviceBuffer<double> work(std::size_t(lwork > 0 ? lwork : 1), ctx.stream());
    DeviceBuffer<int> info(1, ctx.stream());
    DISTILL_CUDA_CALL(cusolverDnDpotrf(ctx.solver(), CUBLAS_FILL_MODE_LOWER, int(n), f.l_.data(), int(n), work.data(),
                                       lwork, info.data()));
    int bad = 0;
    info.download(&bad, 1);
    if (bad != 0) kernels::detail::throw_not_positive_definite(where, std::size_t(bad - 1), n, reg, f.ridge_);
    return f;
  }

  //! (K + λI)⁻¹ · rhs for rhs [n, m] (or [n]); solved in double on the device, returned in T.
  template <class T>
  Tensor<T> solve(const Tensor<T>& rhs) const {
    DISTILL_CHECK(rhs.rank() >= 1 && rhs.shape(0) == n_, "cuda::RidgeCholesky::solve(): right-hand side has shape ",
                  show(rhs.shape()), ", expected ", n_, " rows");
    const std::size_t m = n_ ? rhs.size() / n_ : 0;
    Tensor<T> out = Tensor<T>::empty(rhs.shape());
    if (n_ == 0 || m == 0) return out;
    std::vector<double> b(n_ * m);  // column-major [n, m]
    for (std::size_t i = 0; i < n_; ++i)
      for (std::size_t c = 0; c < m; ++c) b[c * n_ + i] = double(rhs[i * m + c]);
    DeviceBuffer<double> db(b.data(), b.size(), ctx_->stream());
    DeviceBuffer<int> info(1, ctx_->stream());
    DISTILL_CUDA_CALL(cusolverDnDpotrs(ctx_->solver(), CUBLAS_FILL_MODE_LOWER, int(n_), int(m), l_.data(), int(n_),
                                       db.data(), int(n_), info.data()));
    db.download(b.data(), b.size());
    for (std::size_t i = 0; i < n_; ++i)
      for (std::size_t c = 0; c < m; ++c) out[i * m + c] = T(b[c * n_ + i]);
    return out;
  }

  double ridge() const { return ridge_; }  //!< λ
  std::size_t size() const { return n_; }   //!< n

 private:
  DeviceBuffer<double> l_;
  std::size_t n_ = 0;
  double ridge_ = 0;
  Context* ctx_ = nullptr;
};

}  // namespace distill::cuda

#endif  // DISTILL_CUDA_CHOLESKY_CUH
