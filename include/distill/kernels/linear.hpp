// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_LINEAR_HPP
#define DISTILL_KERNELS_LINEAR_HPP

#include <cmath>
#include <cstddef>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/dot_product.hpp"

namespace distill::kernels {

/// The linear kernel k(x, x') = scale · x·x' + bias (bias >= 0 keeps it positive semi-definite).
struct Linear {
  double scale = 1.0;
  double bias = 0.0;

  template <Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                  GramCache<typename B::Scalar>* cache = nullptr) const {
    validate("Linear::gram()");
    return detail::dot_kernel_gram<B>(*this, x1, x2, cache, "Linear::gram()");
  }

  template <Backend B>
  GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                       const Tensor<typename B::Scalar>& g, VjpWrt wrt = VjpWrt::both,
                                       const GramCache<typename B::Scalar>* cache = nullptr) const {
    validate("Linear::gram_vjp()");
    return detail::dot_kernel_vjp<B>(*this, x1, x2, g, wrt, cache, "Linear::gram_vjp()");
  }

  void validate(const char* where) const {
    DISTILL_CHECK(scale > 0 && std::isfinite(scale), where, ": scale is ", scale, ", expected a positive finite value");
    DISTILL_CHECK(bias >= 0 && std::isfinite(bias), where, ": bias is ", bias, ", expected a finite value >= 0");
  }

  template <class T>
  struct RowOps {
    T scale, bias;
    void forward(std::size_t, T* row, std::size_t n) const {
      for (std::size_t j = 0; j < n; ++j) row[j] = scale * row[j] + bias;
    }
    double backward(std::size_t, const T*, const T* g, T* p, T* r2, std::size_t n) const {
      for (std::size_t j = 0; j < n; ++j) p[j] = scale * g[j], r2[j] = T(0);
      return 0.0;
    }
  };

  template <class T>
  RowOps<T> row_ops(const std::vector<T>&, const std::vector<T>&, std::size_t) const {
    return RowOps<T>{T(scale), T(bias)};
  }
};

template <>
struct KernelTraits<Linear> {
  static constexpr bool is_normalized = false;
  static constexpr bool is_dot_product = true;
};

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_LINEAR_HPP
