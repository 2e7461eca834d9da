// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_EMPIRICAL_HPP
#define DISTILL_KERNELS_EMPIRICAL_HPP

/**
 * @file
 * The empirical feature kernel of a finite network: the random-feature kernel of RFAD (Loo, Hasani, Amini, Rus
 * 2022, Efficient Dataset Distillation using Random Feature Approximation, NeurIPS; arXiv:2210.12067),
 *
 *     K(x, x') = (1/M) Σ_m φ_m(x) · φ_m(x')ᵀ / F
 *
 * where φ_m = `model.features<B>(θ_m, ·)` is the model's penultimate embedding [N, F] under the m-th of M random
 * initialisations θ_m. Dividing by the feature width F gives a width-independent limit: for a fully connected
 * ReLU network whose weights are N(0, σ_w²/fan_in) and biases N(0, σ_b²), K tends (as F → ∞, or M → ∞ at fixed
 * F, entrywise in expectation) to the post-ReLU covariance Ǩ of the last hidden layer, i.e.
 * (FcNtk{.kind = nngp} − σ_b²)/σ_w² of the same depth (FcNtk's NNGP includes the readout Dense layer, which the
 * features stop before). With σ_w² = 1 and σ_b² = 0 the two are the same kernel.
 *
 * θ_m is drawn from `frame::stream_rng(seed, frame::Stream::init, m)`, a pure function of (seed, m): the kernel
 * keeps no parameters, it re-draws them in every call (init is cheap next to the forward passes). So it has no
 * mutable state (thread-compatible, as the Kernel concept asks), float and double backends use the same draws
 * (in their own precision), and `resample(seed)` (RFAD draws new networks every step) only changes the seed.
 *
 * gram(): the features of X1 and X2 once each (once in all when X1 and X2 are the same tensor), then one GEMM per
 * initialisation, accumulated. gram_vjp(): per initialisation, φ(X1) and φ(X2) are recorded on an ad::Tape with
 * X1, X2 as variables; since ⟨G, φ1 φ2ᵀ⟩ is bilinear, its gradient is the VJP of φ1 with the seed G·φ2 and of φ2
 * with the seed Gᵀ·φ1 (two GEMMs; no n1×n2 matrix goes on the tape). When X1 and X2 are the same tensor the
 * features are recorded once and the two partial derivatives are two backward passes over that one graph.
 *
 * Both kernels here are FeatureKernels (kernels/concepts.hpp): φ_m/√(M·F) is exposed as feature_map(m, x), so KIP
 * runs each network once per batch and step and shares the features between K_ss and K_ts. gram()/gram_vjp()
 * (for KRR, Label Solve and any other Kernel user) are built on the same feature maps. They are not dot-product
 * kernels (KernelTraits' defaults): the GramCache a caller passes is accepted and left alone.
 *
 * NetworkFeatureKernel is the same kernel for one given (trained) network: FRePo's (synthetic/frepo.hpp).
 */

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "distill/autodiff/grad.hpp"
#include "distill/autodiff/ops/elementwise.hpp"
#include "distill/autodiff/tape.hpp"
#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/frame/seed.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/params.hpp"

namespace distill::kernels {

//! \cond INTERNAL
#define DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, where)                                                      \
  DISTILL_REQUIRE_BACKEND(B, where);                                                                          \
  DISTILL_REQUIRE_MODEL(M, B, where);                                                                         \
  static_assert(!::distill::Backend<B> || ::distill::nn::HasFeatures<M, B>,                                   \
                where ": M must provide `template <Backend B> ad::Var<B> features(const std::vector<ad::Var<B>>&, " \
                      "const ad::Var<B>&) const` (the optional part of the Model concept); see nn/concepts.hpp")
//! \endcond

namespace detail {

template <std::floating_point T>
std::size_t values_per_row(const Tensor<T>& x) {
  std::size_t n = 1;
  for (std::size_t a = 1; a < x.rank(); ++a) n *= x.shape(a);
  return n;
}

template <std::floating_point T>
void check_feature_inputs(const char* where, const Tensor<T>& x1, const Tensor<T>& x2) {
  DISTILL_CHECK(x1.rank() >= 2, where, ": x1 has shape ", show(x1.shape()), ", expected [n1, ...] (rank >= 2)");
  DISTILL_CHECK(x2.rank() >= 2, where, ": x2 has shape ", show(x2.shape()), ", expected [n2, ...] (rank >= 2)");
  DISTILL_CHECK(values_per_row(x1) == values_per_row(x2), where, ": x1 ", show(x1.shape()), " has ", values_per_row(x1),
                " values per row but x2 ", show(x2.shape()), " has ", values_per_row(x2), ", expected the same");
}

//! A network's features φ = model.features(θ, x) checked to be [N, F] and scaled by 1/√(maps·F): one term of a
//! kernel Σ_m φ_m φ_mᵀ whose entries do not grow with the width or the number of maps.
template <class B, class M>
ad::Var<B> scaled_features(const M& model, const std::vector<ad::Var<B>>& theta, const ad::Var<B>& x, std::size_t maps,
                           const char* where) {
  using T = typename B::Scalar;
  const ad::Var<B> phi = model.template features<B>(theta, x);
  DISTILL_CHECK(phi.rank() == 2 && phi.shape(0) == x.shape(0) && phi.shape(1) > 0, where, ": the model's features have ",
                "shape ", show(phi.shape()), ", expected [", x.shape(0), ", F] with F >= 1");
  return ad::mul_scalar(phi, T(1.0 / std::sqrt(double(maps) * double(phi.shape(1)))));
}

//! C (+)= A·Bᵀ (or Aᵀ·B with `trans_a`) for row-major A, B: the one GEMM shape the feature kernels need.
template <class B>
void gemm_rows(bool trans_a, std::size_t m, std::size_t n, std::size_t k, const typename B::Scalar* a,
               const typename B::Scalar* b, bool trans_b, typename B::Scalar beta, typename B::Scalar* c) {
  Gemm<typename B::Scalar> g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = trans_a ? m : k;
  g.b = b;
  g.ldb = trans_b ? k : n;
  g.beta = beta;
  g.c = c;
  g.ldc = n;
  B::gemm(g);
}

/**
 * gram() of any FeatureKernel: K(X1, X2) = Σ_m φ_m(X1)·φ_m(X2)ᵀ, each feature map run once per input (once in
 * all when X1 and X2 are the same tensor), one GEMM per map.
 */
template <class B, class K>
Tensor<typename B::Scalar> feature_gram(const K& kernel, const Tensor<typename B::Scalar>& x1,
                                        const Tensor<typename B::Scalar>& x2, const char* where) {
  using T = typename B::Scalar;
  check_feature_inputs(where, x1, x2);
  const std::size_t n1 = x1.shape(0), n2 = x2.shape(0);
  const bool same = x1.same_storage(x2) && x1.shape() == x2.shape();
  Tensor<T> k({n1, n2});
  if (n1 == 0 || n2 == 0) return k;  // nothing to run the model on
  for (std::size_t m = 0; m < kernel.feature_maps(); ++m) {
    const Tensor<T> f1 = kernel.template feature_map<B>(m, ad::Var<B>(x1)).value();
    const Tensor<T> f2 = same ? f1 : kernel.template feature_map<B>(m, ad::Var<B>(x2)).value();
    DISTILL_CHECK(f2.shape(1) == f1.shape(1), where, ": features of x2 have width ", f2.shape(1), " but those of x1 ",
                  f1.shape(1));
    gemm_rows<B>(false, n1, n2, f1.shape(1), f1.data(), f2.data(), true, m == 0 ? T(0) : T(1), k.data());
  }
  return k;
}

/**
 * gram_vjp() of any FeatureKernel, through the tape: per map, φ(X1) and φ(X2) are recorded with X1, X2 as
 * variables; ⟨G, φ1 φ2ᵀ⟩ is bilinear, so its gradient is the VJP of φ1 with the seed G·φ2 and of φ2 with Gᵀ·φ1
 * (two GEMMs; no n1×n2 matrix goes on the tape). When X1 and X2 are the same tensor the features are recorded
 * once and the two partial derivatives are two backward passes over that one graph.
 */
template <class B, class K>
GramVjp<typename B::Scalar> feature_gram_vjp(const K& kernel, const Tensor<typename B::Scalar>& x1,
                                             const Tensor<typename B::Scalar>& x2, const Tensor<typename B::Scalar>& g,
                                             VjpWrt wrt, const char* where) {
  using T = typename B::Scalar;
  check_feature_inputs(where, x1, x2);
  const std::size_t n1 = x1.shape(0), n2 = x2.shape(0);
  DISTILL_CHECK(g.rank() == 2 && g.shape(0) == n1 && g.shape(1) == n2, where, ": g has shape ", show(g.shape()),
                ", expected [", n1, ", ", n2, "]");
  const bool want1 = wrt != VjpWrt::second, want2 = wrt != VjpWrt::first;
  const bool same = x1.same_storage(x2) && x1.shape() == x2.shape();
  GramVjp<T> out;
  if (want1) out.dx1 = Tensor<T>(x1.shape());
  if (want2) out.dx2 = Tensor<T>(x2.shape());
  if (n1 == 0 || n2 == 0) return out;  // ⟨G, K⟩ is an empty sum: zero gradients
  for (std::size_t m = 0; m < kernel.feature_maps(); ++m) {
    ad::Tape<B> tape;
    const ad::Var<B> v1 = (want1 || (same && want2)) ? tape.variable(x1) : ad::Var<B>(x1);
    const ad::Var<B> v2 = same ? v1 : (want2 ? tape.variable(x2) : ad::Var<B>(x2));
    const ad::Var<B> phi1 = kernel.template feature_map<B>(m, v1);
    const ad::Var<B> phi2 = same ? phi1 : kernel.template feature_map<B>(m, v2);
    const std::size_t f = phi1.shape(1);
    DISTILL_CHECK(phi2.shape(1) == f, where, ": features of x2 have width ", phi2.shape(1), " but those of x1 ", f);
    if (want1) {  // ∂/∂φ1 = G·φ2
      Tensor<T> seed = Tensor<T>::empty({n1, f});
      gemm_rows<B>(false, n1, f, n2, g.data(), phi2.value().data(), false, T(0), seed.data());
      const Tensor<T> d = ad::grad(phi1, std::vector<ad::Var<B>>{v1}, {}, ad::Var<B>(seed))[0].value();
      B::axpby(T(1), d.data(), T(1), out.dx1.data(), d.size());
    }
    if (want2) {  // ∂/∂φ2 = Gᵀ·φ1
      Tensor<T> seed = Tensor<T>::empty({n2, f});
      gemm_rows<B>(true, n2, f, n1, g.data(), phi1.value().data(), false, T(0), seed.data());
      const Tensor<T> d = ad::grad(phi2, std::vector<ad::Var<B>>{v2}, {}, ad::Var<B>(seed))[0].value();
      B::axpby(T(1), d.data(), T(1), out.dx2.data(), d.size());
    }
  }
  return out;
}

}  // namespace detail

/**
 * The empirical feature kernel of a model with features() (RFAD's random-feature NNGP), averaged over `inits`
 * random initialisations drawn from `seed`.
 *
 * @code
 * dd::kernels::EmpiricalFeatureKernel<dd::nn::ConvNet> k{.model = {.width = 128}, .inits = 8, .seed = 1};
 * auto K = k.gram<dd::EigenBackend<float>>(x1, x2);   // [n1, n2]
 * k.resample(step_seed);                               // new networks (RFAD: every step)
 * @endcode
 *
 * @tparam M  a Model with features<B>(params, x) -> [N, F] (nn/concepts.hpp HasFeatures), e.g. nn::Mlp, nn::LeNet,
 *            nn::ConvNet; checked with one static_assert per missing member at gram()/gram_vjp().
 */
template <class M>
struct EmpiricalFeatureKernel {
  M model{};               //!< the network whose penultimate features define the kernel
  std::size_t inits = 1;   //!< the M of the formula above: random initialisations averaged over (>= 1)
  std::uint64_t seed = 0;  //!< θ_m is drawn from frame::stream_rng(seed, Stream::init, m)

  //! Draws new initialisations: the kernel of `new_seed` (RFAD resamples every step). Same seed, same kernel.
  void resample(std::uint64_t new_seed) { seed = new_seed; }

  /**
   * The parameters of initialisation m (`model.init<B>` with stream_rng(seed, Stream::init, m)); what gram() uses.
   */
  template <class B>
  nn::Params<typename B::Scalar> params(std::size_t m) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::EmpiricalFeatureKernel::params");
    Rng rng = frame::stream_rng(seed, frame::Stream::init, m);
    return model.template init<B>(rng);
  }

  //! The number of feature maps (FeatureKernel): one per initialisation.
  std::size_t feature_maps() const { return inits; }

  /**
   * φ_m(x) = model.features(θ_m, x)/√(M·F) (FeatureKernel), so that K = Σ_m φ_m φ_mᵀ; built from tape ops, so
   * gradients flow to x when it is a variable.
   * @throw invalid_argument when inits is 0, m >= inits or the features are not [N, F]
   */
  template <class B>
  ad::Var<B> feature_map(std::size_t m, const ad::Var<B>& x) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::EmpiricalFeatureKernel::feature_map");
    constexpr const char* where = "EmpiricalFeatureKernel::feature_map()";
    validate(where);
    DISTILL_CHECK(m < inits, where, ": feature map ", m, " of ", inits);
    return detail::scaled_features<B>(model, nn::constants<B>(params<B>(m)), x, inits, where);
  }

  /**
   * The Gram matrix K(X1, X2) = (1/M) Σ_m φ_m(X1)·φ_m(X2)ᵀ / F.
   * @param x1, x2  [n1, ...] and [n2, ...] in the shape the model's features() takes
   * @param cache   accepted for the Kernel interface (KIP passes one) and left untouched: nothing to reuse
   * @return [n1, n2]; zeros (without running the model) when n1 or n2 is 0
   * @throw invalid_argument on rank < 2, a different number of values per row in x1 and x2, inits = 0, or features
   *        that are not [N, F] (the model itself checks the per-row shape it takes)
   */
  template <class B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                  GramCache<typename B::Scalar>* cache = nullptr) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::EmpiricalFeatureKernel::gram");
    (void)cache;
    validate("EmpiricalFeatureKernel::gram()");
    return detail::feature_gram<B>(*this, x1, x2, "EmpiricalFeatureKernel::gram()");
  }

  /**
   * ∂⟨G, K(X1, X2)⟩/∂X1 and ∂/∂X2, through the tape (exact up to rounding).
   * @param g      [n1, n2]
   * @param wrt    which gradients to return (the other stays empty)
   * @param cache  accepted for the Kernel interface and ignored
   * @throw invalid_argument as gram(), or when g is not [n1, n2]
   */
  template <class B>
  GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                       const Tensor<typename B::Scalar>& g, VjpWrt wrt = VjpWrt::both,
                                       const GramCache<typename B::Scalar>* cache = nullptr) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::EmpiricalFeatureKernel::gram_vjp");
    (void)cache;
    validate("EmpiricalFeatureKernel::gram_vjp()");
    return detail::feature_gram_vjp<B>(*this, x1, x2, g, wrt, "EmpiricalFeatureKernel::gram_vjp()");
  }

  //! @throw invalid_argument when inits is 0.
  void validate(const char* where) const {
    DISTILL_CHECK(inits > 0, where, ": inits is 0, expected at least 1 random initialisation");
  }
};

/**
 * The feature kernel of one given network, K(x, x') = φ(x)·φ(x')ᵀ / F with φ = model.features(params, ·): the
 * kernel FRePo regresses with, whose network is trained rather than random (synthetic/frepo.hpp). The parameters
 * are stored in precision P and cast for a backend of another scalar (KIP's n×n part runs in double).
 *
 * @tparam M  a Model with features() (as EmpiricalFeatureKernel)
 * @tparam P  the precision the parameters are stored in
 */
template <class M, std::floating_point P = float>
struct NetworkFeatureKernel {
  M model{};             //!< the network
  nn::Params<P> params;  //!< its parameters, as model.init() lays them out

  //! One feature map (FeatureKernel).
  std::size_t feature_maps() const { return 1; }

  //! φ(x)/√F (FeatureKernel). @throw invalid_argument when m != 0 or the features are not [N, F]
  template <class B>
  ad::Var<B> feature_map(std::size_t m, const ad::Var<B>& x) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::NetworkFeatureKernel::feature_map");
    using T = typename B::Scalar;
    constexpr const char* where = "NetworkFeatureKernel::feature_map()";
    DISTILL_CHECK(m == 0, where, ": feature map ", m, " of 1");
    if constexpr (std::is_same_v<T, P>)
      return detail::scaled_features<B>(model, nn::constants<B>(params), x, 1, where);
    else
      return detail::scaled_features<B>(model, nn::constants<B>(params.template cast<T>()), x, 1, where);
  }

  //! K(X1, X2) = φ(X1)·φ(X2)ᵀ / F; `cache` is ignored. @throw invalid_argument as EmpiricalFeatureKernel::gram()
  template <class B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                  GramCache<typename B::Scalar>* cache = nullptr) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::NetworkFeatureKernel::gram");
    (void)cache;
    return detail::feature_gram<B>(*this, x1, x2, "NetworkFeatureKernel::gram()");
  }

  //! ∂⟨G, K(X1, X2)⟩/∂X1 and ∂/∂X2 through the tape; `cache` is ignored.
  template <class B>
  GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& x1, const Tensor<typename B::Scalar>& x2,
                                       const Tensor<typename B::Scalar>& g, VjpWrt wrt = VjpWrt::both,
                                       const GramCache<typename B::Scalar>* cache = nullptr) const {
    DISTILL_DETAIL_REQUIRE_FEATURE_MODEL(M, B, "distill::kernels::NetworkFeatureKernel::gram_vjp");
    (void)cache;
    return detail::feature_gram_vjp<B>(*this, x1, x2, g, wrt, "NetworkFeatureKernel::gram_vjp()");
  }
};

#undef DISTILL_DETAIL_REQUIRE_FEATURE_MODEL

}  // namespace distill::kernels

#endif  // DISTILL_KERNELS_EMPIRICAL_HPP
