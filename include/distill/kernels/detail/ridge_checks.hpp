// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_DETAIL_RIDGE_CHECKS_HPP
#define DISTILL_KERNELS_DETAIL_RIDGE_CHECKS_HPP

/**
 * @file
 * What every factorisation of K + λI does around its numerics, on the CPU (kernels::RidgeCholesky) and on a GPU
 * (cuda::RidgeCholesky): the argument checks, the trace-scaled ridge λ = reg · tr(K)/n, and the error that names
 * the failed pivot. One copy, so both solvers refuse the same inputs with the same words. Depends on nothing but
 * the tensor, so the CUDA header can include it.
 */

#include <cmath>
#include <cstddef>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"

namespace distill::kernels::detail {

//! K must be square and finite, reg finite and >= 0; `where` names the caller in the message.
template <class T>
void check_ridge_input(const Tensor<T>& k, double reg, const char* where) {
  DISTILL_CHECK(k.rank() == 2 && k.shape(0) == k.shape(1), where, ": the kernel matrix has shape ", show(k.shape()),
                ", expected a square [n, n]");
  DISTILL_CHECK(reg >= 0 && std::isfinite(reg), where, ": reg is ", reg, ", expected a finite value >= 0");
  DISTILL_CHECK(k.all_finite(), where, ": the kernel matrix contains NaN or infinity (check the inputs)");
}

//! λ = reg · tr(K)/n, in double (0 for an empty K).
template <class T>
double relative_ridge(const Tensor<T>& k, double reg) {
  const std::size_t n = k.shape(0);
  double trace = 0;
  for (std::size_t i = 0; i < n; ++i) trace += double(k[i * n + i]);
  return n ? reg * trace / double(n) : 0.0;
}

//! The factorisation stopped at `pivot` (0-based) of n: K + λI is not positive definite, and a larger reg helps.
[[noreturn]] inline void throw_not_positive_definite(const char* where, std::size_t pivot, std::size_t n, double reg,
                                                     double ridge) {
  DISTILL_THROW(numerical_error, where, ": K + λI is not positive definite (pivot ", pivot, " of ", n,
                " is not positive); increase reg (now ", reg, "·tr(K)/n = ", ridge, ")");
}

}  // namespace distill::kernels::detail

#endif  // DISTILL_KERNELS_DETAIL_RIDGE_CHECKS_HPP
