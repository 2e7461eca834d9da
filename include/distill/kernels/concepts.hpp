// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_CONCEPTS_HPP
#define DISTILL_KERNELS_CONCEPTS_HPP

/**
 * @file
 * The Kernel concept and KernelTraits.
 *
 * WHAT THIS REPRESENTS
 *   A kernel k(x, x') between points given as the rows of tensors: a small value type (FcNtk, Rbf, Linear)
 *   whose options are plain members, and whose member templates compute, over a Backend B:
 *     - the Gram matrix         gram<B>(X1 [n1, ...], X2 [n2, ...])         -> K [n1, n2],  K_ij = k(x1_i, x2_j)
 *     - its vector-Jacobian product
 *                               gram_vjp<B>(X1, X2, G [n1, n2], wrt)        -> {dX1, dX2}
 *       with dX1 = ∂⟨G, K⟩/∂X1 and dX2 = ∂⟨G, K⟩/∂X2 (each only when `wrt` asks for it, else empty).
 *   Rows of rank > 2 inputs are flattened ([N, 1, 28, 28] is read as [N, 784]); gradients come back in the
 *   input's shape. The gradient is exact (hand-derived), so KIP can differentiate through it without a tape.
 *
 * REQUIRES (for a type K and a backend B with scalar T)
 *   - k.template gram<B>(x1, x2)          -> Tensor<T>
 *   - k.template gram_vjp<B>(x1, x2, g)   -> GramVjp<T>
 *   Both are const and thread-compatible (no mutable state).
 *
 * ENSURES
 *   - gram(X, X) is symmetric and positive semi-definite (for the kernels shipped here).
 *   - Kernels whose value depends only on x·x', |x|² and |x'|² may take a GramCache, so that a later
 *     gram_vjp on the same inputs reuses the dot products instead of recomputing the GEMM.
 */

#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/tensor.hpp"

namespace distill::kernels {

/// Which inputs of gram(X1, X2) a vector-Jacobian product is wanted for.
enum class VjpWrt { both, first, second };

/// The result of gram_vjp: ∂⟨G, K(X1, X2)⟩/∂X1 and ∂/∂X2 (empty tensors where not requested).
template <std::floating_point T>
struct GramVjp {
  Tensor<T> dx1;  //!< shape of X1, or empty
  Tensor<T> dx2;  //!< shape of X2, or empty
};

/**
 * What a dot-product kernel computed on the way to K(X1, X2): the raw products X1·X2ᵀ and the squared row
 * norms. Pass one to gram() and then to gram_vjp() on the same inputs to skip the second GEMM.
 */
template <std::floating_point T>
struct GramCache {
  Tensor<T> dots;         //!< [n1, n2] = X1·X2ᵀ
  std::vector<T> sq1;     //!< |x1_i|²
  std::vector<T> sq2;     //!< |x2_j|²
};

/**
 * Optional properties of a kernel, with defaults (mlpack's KernelTraits). Specialise for your kernel.
 *   - is_normalized:  k(x, x) == 1 for every x (RBF).
 *   - is_dot_product: k depends on x, x' only through x·x', |x|², |x'|² (FcNtk, Rbf, Linear), so it accepts
 *                     a GramCache.
 */
template <class K>
struct KernelTraits {
  static constexpr bool is_normalized = false;
  static constexpr bool is_dot_product = false;
};

template <class K, class B>
concept HasGram = requires(const K& k, const Tensor<typename B::Scalar>& x) {
  { k.template gram<B>(x, x) } -> std::same_as<Tensor<typename B::Scalar>>;
};
template <class K, class B>
concept HasGramVjp = requires(const K& k, const Tensor<typename B::Scalar>& x) {
  { k.template gram_vjp<B>(x, x, x) } -> std::same_as<GramVjp<typename B::Scalar>>;
};

/// A differentiable kernel over backend B: gram<B>(X1, X2) and gram_vjp<B>(X1, X2, G). See the file comment.
template <class K, class B>
concept Kernel = Backend<B> && HasGram<K, B> && HasGramVjp<K, B>;

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_CONCEPTS_HPP
