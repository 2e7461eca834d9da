// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_RBF_HPP
#define DISTILL_KERNELS_RBF_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/dot_product.hpp"

namespace distill::kernels {

/**
 * The Gaussian (RBF) kernel k(x, x') = exp(−γ |x − x'|²), with |x − x'|² = |x|² + |x'|² − 2 x·x' from one GEMM.
 * `gamma = 0` means γ = 1/d (d = features per row), a scale-free default for images.
 */
struct Rbf {
  double gamma = 0.0;  //!< γ > 0, or 0 for 1/d

  template <Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                  GramCache<typename B::Scalar>* cache = nullptr) const {
    validate("Rbf::gram()");
    return detail::dot_kernel_gram<B>(*this, x1, x2, cache, "Rbf::gram()");
  }

  template <Backend B>
  GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                       const Tensor<typename B::Scalar>& g, VjpWrt wrt = VjpWrt::both,
                                       const GramCache<typename B::Scalar>* cache = nullptr) const {
    validate("Rbf::gram_vjp()");
    return detail::dot_kernel_vjp<B>(*this, x1, x2, g, wrt, cache, "Rbf::gram_vjp()");
  }

  void validate(const char* where) const {
    DISTILL_CHECK(gamma >= 0 && std::isfinite(gamma), where, ": gamma is ", gamma, ", expected γ > 0 (or 0 for 1/d)");
  }

  template <class T>
  struct RowOps {
    const std::vector<T>* sq1;
    const std::vector<T>* sq2;
    T gamma;
    void forward(std::size_t i, T* row, std::size_t n) const {
      const T a = (*sq1)[i];
      for (std::size_t j = 0; j < n; ++j) row[j] = std::exp(-gamma * std::max(a + (*sq2)[j] - 2 * row[j], T(0)));
    }
    // k = exp(−γ(n1 + n2 − 2 dot)):  ∂k/∂dot = 2γk,  ∂k/∂n1 = ∂k/∂n2 = −γk (zero where the distance was clamped).
    double backward(std::size_t i, const T* dots, const T* g, T* p, T* r2, std::size_t n) const {
      const T a = (*sq1)[i];
      double r1 = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const T dist = a + (*sq2)[j] - 2 * dots[j];
        const T gk = dist > 0 ? g[j] * std::exp(-gamma * dist) : T(0);
        p[j] = 2 * gamma * gk;
        r2[j] = -gamma * gk;
        r1 += double(-gamma * gk);
      }
      return r1;
    }
  };

  template <class T>
  RowOps<T> row_ops(const std::vector<T>& sq1, const std::vector<T>& sq2, std::size_t d) const {
    DISTILL_CHECK(gamma > 0 || d > 0, "Rbf: inputs have 0 features and gamma = 0 (1/d) is undefined");
    return RowOps<T>{&sq1, &sq2, T(gamma > 0 ? gamma : 1.0 / double(d))};
  }
};

template <>
struct KernelTraits<Rbf> {
  static constexpr bool is_normalized = true;
  static constexpr bool is_dot_product = true;
};

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_RBF_HPP
