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
 *   - A type that is not a Kernel fails with one static_assert line naming the missing member
 *     (DISTILL_REQUIRE_KERNEL and DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE at the entry points).
 *   - gram(X, X) is symmetric and positive semi-definite (for the kernels shipped here).
 *   - Kernels whose value depends only on x·x', |x|² and |x'|² may take a GramCache, so that a later
 *     gram_vjp on the same inputs reuses the dot products instead of recomputing the GEMM.
 */

#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include "distill/autodiff/tape.hpp"
#include "distill/core/backend.hpp"
#include "distill/core/tensor.hpp"
#include "distill/kernels/detail/cholesky.hpp"  // detail::rebind_scalar_t

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

//! K computes the Gram matrix on backend B: `k.template gram<B>(x1, x2) -> Tensor<B::Scalar>`.
template <class K, class B>
concept HasGram = requires(const K& k, const Tensor<typename B::Scalar>& x) {
  { k.template gram<B>(x, x) } -> std::same_as<Tensor<typename B::Scalar>>;
};
//! K has the exact VJP of its Gram matrix on backend B: `k.template gram_vjp<B>(x1, x2, g) -> GramVjp<B::Scalar>`.
template <class K, class B>
concept HasGramVjp = requires(const K& k, const Tensor<typename B::Scalar>& x) {
  { k.template gram_vjp<B>(x, x, x) } -> std::same_as<GramVjp<typename B::Scalar>>;
};

/// A differentiable kernel over backend B: gram<B>(X1, X2) and gram_vjp<B>(X1, X2, G). See the file comment.
template <class K, class B>
concept Kernel = Backend<B> && HasGram<K, B> && HasGramVjp<K, B>;

/**
 * Optional: K is a sum of explicit feature maps, K(x, x') = Σ_m φ_m(x)·φ_m(x')ᵀ, each φ_m built from tape ops
 * (the finite networks of kernels/empirical.hpp). `k.feature_maps()` is the number of maps and
 * `k.template feature_map<B>(m, x)` returns φ_m(x) as an ad::Var<B> [N, F_m] with the kernel's scale folded in.
 * KIP then computes each batch's features once per step and shares them between K_ss and K_ts
 * (synthetic/kip_loss.hpp) instead of running the network once per Gram matrix and once more per VJP.
 */
template <class K, class B>
concept FeatureKernel = Backend<B> && requires(const K& k, const ad::Var<B>& x, std::size_t m) {
  { k.feature_maps() } -> std::convertible_to<std::size_t>;
  { k.template feature_map<B>(m, x) } -> std::same_as<ad::Var<B>>;
};

//! B is a class template over its scalar, so `detail::rebind_scalar_t<B, double>` names its double twin.
template <class B>
concept HasDoubleTwin = requires { typename detail::rebind_scalar_t<B, double>; };

namespace detail {
template <class B>
struct double_twin {
  using type = void;  // no twin: every Backend part is false for void, so the twin checks stay silent
};
template <HasDoubleTwin B>
struct double_twin<B> {
  using type = rebind_scalar_t<B, double>;
};
//! rebind_scalar_t<B, double>, or void when B has no double twin (never a hard error).
template <class B>
using double_twin_t = typename double_twin<B>::type;
}  // namespace detail

/// K is a Kernel on B and on B's double twin (what KRR's n×n solves and KIP need). See the file comment.
template <class K, class B>
concept KernelFloatAndDouble = Kernel<K, B> && HasDoubleTwin<B> && Kernel<K, detail::double_twin_t<B>>;

//! \cond INTERNAL  (the signatures that DISTILL_REQUIRE_KERNEL's messages quote)
#define DISTILL_DETAIL_KERNEL_GRAM_SIG \
  "`template <Backend B> Tensor<T> gram(const Tensor<T>& x1, const Tensor<T>& x2) const`"
#define DISTILL_DETAIL_KERNEL_GRAM_VJP_SIG \
  "`template <Backend B> GramVjp<T> gram_vjp(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& g, "           \
  "VjpWrt = VjpWrt::both) const`"
//! \endcond

/**
 * The one-line diagnostic for entry points that take a user's kernel type (ensmallen CheckFunctionTypeAPI),
 * one static_assert per part of the Kernel concept, so the message names the missing member:
 *
 *     DISTILL_REQUIRE_BACKEND(B, "distill::kernels::krr_fit");      // first: reports a bad B once
 *     DISTILL_REQUIRE_KERNEL(K, B, "distill::kernels::krr_fit");
 *
 * gives, for a kernel without gram_vjp,
 *
 *     error: static assertion failed: distill::kernels::krr_fit: K must provide `template <Backend B> GramVjp<T>
 *            gram_vjp(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& g, VjpWrt = VjpWrt::both) const`;
 *            see kernels/concepts.hpp
 *
 * Static_asserts only: usable as a statement at the top of a function body and as a member declaration at the
 * top of a class body. `where` must be a string literal. Silent when B is not a Backend (DISTILL_REQUIRE_BACKEND
 * reports that), so the entry point must take `class B`, not `Backend B`, for the readable path.
 */
#define DISTILL_REQUIRE_KERNEL(K, B, where)                                                                           \
  static_assert(!::distill::Backend<B> || ::distill::kernels::HasGram<K, B>,                                           \
                where ": K must provide " DISTILL_DETAIL_KERNEL_GRAM_SIG "; see kernels/concepts.hpp");                \
  static_assert(!::distill::Backend<B> || ::distill::kernels::HasGramVjp<K, B>,                                        \
                where ": K must provide " DISTILL_DETAIL_KERNEL_GRAM_VJP_SIG "; see kernels/concepts.hpp")

/**
 * DISTILL_REQUIRE_KERNEL for B and for its double twin `kernels::detail::rebind_scalar_t<B, double>` (KRR and
 * KIP solve the n×n system in double): `DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::Kip");`.
 * Also says so when B is not a class template over its scalar (B<float> -> B<double>).
 */
#define DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, where)                                                          \
  DISTILL_REQUIRE_KERNEL(K, B, where);                                                                                 \
  static_assert(!::distill::Backend<B> || ::distill::kernels::HasDoubleTwin<B>,                                        \
                where ": B must be a class template over its scalar (B<float> -> B<double>, see "                     \
                      "kernels::detail::rebind_scalar), because the kernel solve runs in double; see "                 \
                      "kernels/concepts.hpp");                                                                         \
  static_assert(!::distill::Backend<::distill::kernels::detail::double_twin_t<B>> ||                                \
                    !::distill::kernels::HasGram<K, B> ||                                                              \
                    ::distill::kernels::HasGram<K, ::distill::kernels::detail::double_twin_t<B>>,                      \
                where ": K must provide " DISTILL_DETAIL_KERNEL_GRAM_SIG " for the double twin of B too (the n-by-n " \
                      "solve runs in double); see kernels/concepts.hpp");                                              \
  static_assert(!::distill::Backend<::distill::kernels::detail::double_twin_t<B>> ||                                \
                    !::distill::kernels::HasGramVjp<K, B> ||                                                           \
                    ::distill::kernels::HasGramVjp<K, ::distill::kernels::detail::double_twin_t<B>>,                   \
                where ": K must provide " DISTILL_DETAIL_KERNEL_GRAM_VJP_SIG " for the double twin of B too (the "    \
                      "n-by-n solve runs in double); see kernels/concepts.hpp")

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_CONCEPTS_HPP
