// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_ARCHETYPES_HPP
#define DISTILL_TESTS_SUPPORT_ARCHETYPES_HPP

// Minimal types that satisfy each concept and nothing more (dlib's EXAMPLE_COMPUTATIONAL_LAYER_): if a generic
// algorithm compiles with these, it only uses what the concept promises.
#include <cstddef>
#include <vector>

#include "distill/autodiff/ops/linalg.hpp"  // ad::matmul
#include "distill/autodiff/ops/shape.hpp"   // ad::flatten
#include "distill/kernels/concepts.hpp"
#include "distill/nn/concepts.hpp"

namespace distill::testing {

/// The smallest Model: a linear classifier [N, in] -> [N, out], logits = x Wᵀ (one parameter, no bias).
struct ArchetypeModel {
  std::size_t in = 4;
  std::size_t out = 3;

  template <Backend B>
  nn::Params<typename B::Scalar> init(Rng& rng) const {
    using T = typename B::Scalar;
    nn::Params<T> p;
    auto w = Tensor<T>::empty(Shape{out, in});
    B::random_normal(rng, w.data(), w.size(), T(0), T(0.1));
    p.add("weight", w);
    return p;
  }

  template <Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return ad::matmul(ad::flatten(x), params.at(0), {.trans_b = true});
  }
};

/// Has forward() but no init(): must not satisfy Model.
struct NoInitModel {
  template <Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& params, const ad::Var<B>& x) const {
    return x;
  }
};

static_assert(nn::Model<ArchetypeModel>);
static_assert(nn::Model<ArchetypeModel, DefaultBackend<double>>);
static_assert(!nn::Model<int>);
static_assert(!nn::Model<NoInitModel>);
static_assert(!nn::HasFeatures<ArchetypeModel, DefaultBackend<float>>);

/// The smallest Kernel: the plain dot product K = X1·X2ᵀ (rows flattened), with its exact VJP.
struct ArchetypeKernel {
  template <Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2) const {
    using T = typename B::Scalar;
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0), d = n1 ? x1.size() / n1 : 0;
    auto k = Tensor<T>::empty(Shape{n1, n2});
    B::gemm(Gemm<T>{.trans_b = true, .m = n1, .n = n2, .k = d, .a = x1.data(), .lda = d, .b = x2.data(), .ldb = d,
                    .c = k.data(), .ldc = n2});
    return k;
  }

  //! dX1 = G·X2, dX2 = Gᵀ·X1 (both always computed; `wrt` is accepted for the concept's signature).
  template <Backend B>
  kernels::GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1,
                                                const Tensor<typename B::Scalar>& x2,
                                                const Tensor<typename B::Scalar>& g,
                                                kernels::VjpWrt = kernels::VjpWrt::both) const {
    using T = typename B::Scalar;
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0), d = n1 ? x1.size() / n1 : 0;
    kernels::GramVjp<T> r{Tensor<T>::empty(x1.shape()), Tensor<T>::empty(x2.shape())};
    B::gemm(Gemm<T>{.m = n1, .n = d, .k = n2, .a = g.data(), .lda = n2, .b = x2.data(), .ldb = d, .c = r.dx1.data(),
                    .ldc = d});
    B::gemm(Gemm<T>{.trans_a = true, .m = n2, .n = d, .k = n1, .a = g.data(), .lda = n2, .b = x1.data(), .ldb = d,
                    .c = r.dx2.data(), .ldc = d});
    return r;
  }
};

/// Has gram() but no gram_vjp(): must not satisfy Kernel.
struct NoGramVjpKernel {
  template <Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2) const {
    return ArchetypeKernel{}.gram<B>(x1, x2);
  }
};

static_assert(kernels::Kernel<ArchetypeKernel, DefaultBackend<float>>);
static_assert(kernels::KernelFloatAndDouble<ArchetypeKernel, DefaultBackend<float>>);
static_assert(!kernels::Kernel<int, DefaultBackend<float>>);
static_assert(kernels::HasGram<NoGramVjpKernel, DefaultBackend<float>> &&
              !kernels::HasGramVjp<NoGramVjpKernel, DefaultBackend<float>> &&
              !kernels::Kernel<NoGramVjpKernel, DefaultBackend<float>>);

}  // namespace distill::testing

#endif  // DISTILL_TESTS_SUPPORT_ARCHETYPES_HPP
