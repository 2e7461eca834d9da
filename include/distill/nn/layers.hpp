// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_LAYERS_HPP
#define DISTILL_NN_LAYERS_HPP

/**
 * @file
 * Layers as values (neural-tangents' stax: each layer is an (init, apply) pair), composed with serial().
 *
 * WHAT A LAYER IS (the Layer concept below)
 *   A small aggregate of options with
 *     - `std::size_t num_params() const`: how many parameter tensors it owns (0 for relu, pooling, flatten);
 *     - `template <Backend B> void init(Rng&, Params<T>&, const std::string& prefix) const`: appends its tensors,
 *       named prefix + "weight" / "bias" (PyTorch's state_dict names), initialised like PyTorch's defaults;
 *     - `template <Backend B> ad::Var<B> apply(const std::vector<ad::Var<B>>& params, std::size_t& cursor,
 *       const ad::Var<B>& x) const`: reads its tensors at params[cursor...], advances cursor past them and
 *       returns the output, built from differentiable tape ops only (so second order works).
 *
 * Initialisation follows PyTorch 1.13: Linear and Conv2d weights are Kaiming-uniform with a = √5, i.e.
 * U(−1/√fan_in, 1/√fan_in), and so are their biases; normalisation γ = 1, β = 0.
 */

#include <cmath>
#include <concepts>
#include <string>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/core/rng.hpp"
#include "distill/nn/detail/conv_fast.hpp"
#include "distill/nn/params.hpp"

namespace distill::nn {

//! A value with num_params / init<B> / apply<B>, usable inside serial(); see the file comment.
template <class L, class B>
concept Layer = Backend<B> && requires(const L& l, Rng& rng, Params<typename B::Scalar>& p, const std::string& prefix,
                                       const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x) {
  { l.num_params() } -> std::convertible_to<std::size_t>;
  l.template init<B>(rng, p, prefix);
  { l.template apply<B>(params, cursor, x) } -> std::same_as<ad::Var<B>>;
};

/// How Linear and Conv2d draw their weights.
enum class WeightInit {
  pytorch,        //!< PyTorch's default: W, b ~ U(±1/√fan_in) (kaiming_uniform_(a=√5) and its bias rule)
  xavier_normal,  //!< Glorot & Bengio 2010: W ~ N(0, 2/(fan_in + fan_out)), b = 0 (Wang et al. 2018's init)
};

namespace detail {

//! A tensor of `shape` drawn from U(−bound, bound) (PyTorch's kaiming_uniform_(a=√5) and bias init).
template <Backend B>
Tensor<typename B::Scalar> uniform_init(Rng& rng, Shape shape, double bound) {
  using T = typename B::Scalar;
  auto t = Tensor<T>::empty(std::move(shape));
  B::random_uniform(rng, t.data(), t.size(), T(-bound), T(bound));
  return t;
}

//! params[cursor++], checked to exist and to have `shape`.
template <Backend B>
const ad::Var<B>& take_param(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const Shape& shape,
                             const char* layer, const char* what) {
  DISTILL_CHECK(cursor < params.size(), layer, "::apply(): ran out of parameters (", params.size(), " given) looking for its ",
                what);
  const ad::Var<B>& p = params[cursor++];
  DISTILL_CHECK(p.shape() == shape, layer, "::apply(): ", what, " has shape ", show(p.shape()), ", expected ", show(shape));
  return p;
}

//! Appends prefix + "weight" (shape, fan_in, fan_out) and, if `bias`, prefix + "bias" [out], drawn by `scheme`.
template <Backend B>
void init_weight_and_bias(Rng& rng, Params<typename B::Scalar>& p, const std::string& prefix, WeightInit scheme,
                          Shape shape, std::size_t fan_in, std::size_t fan_out, bool bias) {
  using T = typename B::Scalar;
  const std::size_t out = shape[0];
  if (scheme == WeightInit::pytorch) {
    const double bound = 1.0 / std::sqrt(double(fan_in));
    p.add(prefix + "weight", uniform_init<B>(rng, std::move(shape), bound));
    if (bias) p.add(prefix + "bias", uniform_init<B>(rng, Shape{out}, bound));
    return;
  }
  auto w = Tensor<T>::empty(std::move(shape));
  B::random_normal(rng, w.data(), w.size(), T(0), T(std::sqrt(2.0 / double(fan_in + fan_out))));
  p.add(prefix + "weight", std::move(w));
  if (bias) p.add(prefix + "bias", Tensor<T>(Shape{out}, T(0)));
}

inline void check_input(bool ok, const char* layer, const Shape& got, const char* expected) {
  DISTILL_CHECK(ok, layer, "::apply(): input has shape ", show(got), ", expected ", expected);
}

}  // namespace detail

/// Fully connected: y = x Wᵀ + b with W [out, in] (PyTorch's layout, so weights load into torch.nn.Linear).
struct Linear {
  std::size_t in = 0;
  std::size_t out = 0;
  bool bias = true;
  WeightInit weight_init = WeightInit::pytorch;

  std::size_t num_params() const { return bias ? 2 : 1; }

  template <Backend B>
  void init(Rng& rng, Params<typename B::Scalar>& p, const std::string& prefix = "") const {
    DISTILL_CHECK(in > 0 && out > 0, "Linear::init(): in (", in, ") and out (", out, ") must be positive");
    detail::init_weight_and_bias<B>(rng, p, prefix, weight_init, Shape{out, in}, in, out, bias);
  }

  //! x [N, in] -> [N, out].
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x) const {
    detail::check_input(x.rank() == 2 && x.shape(1) == in, "Linear", x.shape(), "[N, in]");
    const auto& w = detail::take_param(params, cursor, Shape{out, in}, "Linear", "weight");
    ad::Var<B> y = ad::matmul(x, w, {.trans_b = true});
    if (bias) y = ad::add(y, detail::take_param(params, cursor, Shape{out}, "Linear", "bias"));
    return y;
  }
};

/// 2-D convolution over NCHW with a square kernel; weight [out, in, k, k] (PyTorch's layout), bias [out].
struct Conv2d {
  std::size_t in = 0;
  std::size_t out = 0;
  std::size_t kernel = 3;
  std::size_t stride = 1;
  std::size_t padding = 1;
  bool bias = true;
  WeightInit weight_init = WeightInit::pytorch;

  std::size_t num_params() const { return bias ? 2 : 1; }

  template <Backend B>
  void init(Rng& rng, Params<typename B::Scalar>& p, const std::string& prefix = "") const {
    DISTILL_CHECK(in > 0 && out > 0 && kernel > 0 && stride > 0, "Conv2d::init(): in (", in, "), out (", out,
                  "), kernel (", kernel, ") and stride (", stride, ") must be positive");
    detail::init_weight_and_bias<B>(rng, p, prefix, weight_init, Shape{out, in, kernel, kernel}, in * kernel * kernel,
                                    out * kernel * kernel, bias);
  }

  //! x [N, in, H, W] -> [N, out, OH, OW].
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x) const {
    detail::check_input(x.rank() == 4 && x.shape(1) == in, "Conv2d", x.shape(), "[N, in, H, W]");
    const auto& w = detail::take_param(params, cursor, Shape{out, in, kernel, kernel}, "Conv2d", "weight");
    ad::Var<B> b;
    if (bias) b = detail::take_param(params, cursor, Shape{out}, "Conv2d", "bias");
    return detail::conv2d_fast(x, w, b, stride, padding);
  }
};

/// ReLU, max(x, 0).
struct Relu {
  std::size_t num_params() const { return 0; }
  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>&, const std::string& = "") const {}
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>&, std::size_t&, const ad::Var<B>& x) const {
    return ad::relu(x);
  }
};

/// tanh.
struct Tanh {
  std::size_t num_params() const { return 0; }
  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>&, const std::string& = "") const {}
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>&, std::size_t&, const ad::Var<B>& x) const {
    return ad::tanh(x);
  }
};

/// The logistic sigmoid.
struct Sigmoid {
  std::size_t num_params() const { return 0; }
  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>&, const std::string& = "") const {}
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>&, std::size_t&, const ad::Var<B>& x) const {
    return ad::sigmoid(x);
  }
};

/// Average pooling over size×size windows (stride defaults to size), no padding; odd borders are dropped.
struct AvgPool {
  std::size_t size = 2;
  std::size_t stride = 0;  //!< 0: same as size

  std::size_t num_params() const { return 0; }
  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>&, const std::string& = "") const {}
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>&, std::size_t&, const ad::Var<B>& x) const {
    detail::check_input(x.rank() == 4, "AvgPool", x.shape(), "[N, C, H, W]");
    return ad::avg_pool2d(x, size, stride);
  }
};

/// Max pooling over size×size windows (stride defaults to size).
struct MaxPool {
  std::size_t size = 2;
  std::size_t stride = 0;  //!< 0: same as size

  std::size_t num_params() const { return 0; }
  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>&, const std::string& = "") const {}
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>&, std::size_t&, const ad::Var<B>& x) const {
    detail::check_input(x.rank() == 4, "MaxPool", x.shape(), "[N, C, H, W]");
    return ad::max_pool2d(x, size, stride);
  }
};

/// Group normalisation (Wu & He 2018) with an optional per-channel affine γ, β (torch.nn.GroupNorm), and an
/// optional ReLU after it (then_relu: the norm → relu of a ConvNet block as one fused op).
struct GroupNorm {
  std::size_t groups = 1;
  std::size_t channels = 0;
  bool affine = true;
  double eps = 1e-5;
  bool then_relu = false;
  bool then_avg_pool2 = false;  //!< then 2×2 average pooling, in the same node (ConvNet's norm → relu → pool)

  std::size_t num_params() const { return affine ? 2 : 0; }

  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>& p, const std::string& prefix = "") const {
    using T = typename B::Scalar;
    DISTILL_CHECK(channels > 0 && groups > 0 && channels % groups == 0, "GroupNorm::init(): ", channels,
                  " channels do not split into ", groups, " groups");
    if (!affine) return;
    p.add(prefix + "weight", Tensor<T>(Shape{channels}, T(1)));
    p.add(prefix + "bias", Tensor<T>(Shape{channels}, T(0)));
  }

  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x) const {
    detail::check_input(x.rank() == 4 && x.shape(1) == channels, "GroupNorm", x.shape(), "[N, channels, H, W]");
    const ad::NormOptions options{.eps = eps, .relu = then_relu};
    const auto normalise = [&](const ad::Var<B>& g, const ad::Var<B>& b) {
      return then_avg_pool2 ? ad::group_norm_avg_pool2(x, groups, g, b, options) : ad::group_norm(x, groups, g, b, options);
    };
    if (!affine) return normalise(ad::Var<B>{}, ad::Var<B>{});
    const auto& g = detail::take_param(params, cursor, Shape{channels}, "GroupNorm", "weight");
    const auto& b = detail::take_param(params, cursor, Shape{channels}, "GroupNorm", "bias");
    return normalise(g, b);
  }
};

/// Instance normalisation: group norm with one group per channel (what DC/DSA/DM call 'instancenorm').
struct InstanceNorm {
  std::size_t channels = 0;
  bool affine = true;
  double eps = 1e-5;

  std::size_t num_params() const { return affine ? 2 : 0; }
  GroupNorm as_group_norm() const { return GroupNorm{.groups = channels, .channels = channels, .affine = affine, .eps = eps}; }

  template <Backend B>
  void init(Rng& rng, Params<typename B::Scalar>& p, const std::string& prefix = "") const {
    DISTILL_CHECK(channels > 0, "InstanceNorm::init(): channels must be positive");
    as_group_norm().template init<B>(rng, p, prefix);
  }
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>& params, std::size_t& cursor, const ad::Var<B>& x) const {
    return as_group_norm().template apply<B>(params, cursor, x);
  }
};

/// [N, ...] -> [N, prod(...)].
struct Flatten {
  std::size_t num_params() const { return 0; }
  template <Backend B>
  void init(Rng&, Params<typename B::Scalar>&, const std::string& = "") const {}
  template <Backend B>
  ad::Var<B> apply(const std::vector<ad::Var<B>>&, std::size_t&, const ad::Var<B>& x) const {
    return ad::flatten(x);
  }
};

}  // namespace distill::nn

#endif  // DISTILL_NN_LAYERS_HPP
