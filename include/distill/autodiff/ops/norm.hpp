// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_NORM_HPP
#define DISTILL_AUTODIFF_OPS_NORM_HPP

/**
 * @file
 * Instance and group normalisation, optionally with the per-channel affine γ, β and a ReLU, as ONE tape node.
 *
 * Why one node: written from mean / sub / mul / sqrt / div / mul γ / add β / relu, a ConvNet block made about
 * eight full passes over its activations forward and fifteen backward, each single-threaded, and those passes
 * cost more than the convolutions' GEMMs. The fused node makes one pass forward (statistics and output while a
 * group is in cache) and one backward, in parallel over (sample, group).
 *
 * Higher order stays exact: the first-order backward (recording off) runs the fused kernel; under
 * create_graph the backward is written with differentiable ops instead — x̂ and 1/σ recomputed from x, and
 *   ∂x = (1/σ)·(ĝ − mean_g ĝ − x̂ · mean_g(ĝ x̂)),  ĝ = γ · g·[y > 0],  ∂γ = Σ g·[y > 0]·x̂,  ∂β = Σ g·[y > 0]
 * — so a distillation loss can differentiate through a ConvNet's gradient.
 */

#include <algorithm>
#include <cmath>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "distill/autodiff/ops/reduce.hpp"

namespace distill::ad {

/// Options of group_norm / instance_norm.
struct NormOptions {
  double eps = 1e-5;
  bool relu = false;  //!< apply max(0, ·) after the affine part (a ConvNet block's norm → relu, fused)
};

namespace detail {

/// Sizes of x [N, C, H, W] seen as N·G groups of M = (C/G)·H·W contiguous values.
struct NormGeometry {
  std::size_t batch, channels, groups, plane;  // plane = H·W
  std::size_t per_group() const { return channels / groups; }
  std::size_t group_size() const { return per_group() * plane; }
};

inline NormGeometry norm_geometry(const Shape& s, std::size_t groups, const char* op) {
  DISTILL_CHECK(s.size() == 4, op, "(): input must be NCHW, got ", show(s));
  DISTILL_CHECK(groups > 0 && s[1] % groups == 0, op, "(): ", s[1], " channels do not split into ", groups, " groups");
  DISTILL_CHECK(s[2] * s[3] > 0, op, "(): input has an empty plane, shape ", show(s));
  return {s[0], s[1], groups, s[2] * s[3]};
}

/// Σ (x_i − shift) over one plane, vectorised.
template <class T>
T plane_sum(const T* x, std::size_t n, T shift) {
  T acc = 0;
#pragma omp simd reduction(+ : acc)
  for (std::size_t i = 0; i < n; ++i) acc += x[i] - shift;
  return acc;
}
/// Σ (x_i − shift)² over one plane, vectorised.
template <class T>
T plane_sum_sq(const T* x, std::size_t n, T shift) {
  T acc = 0;
#pragma omp simd reduction(+ : acc)
  for (std::size_t i = 0; i < n; ++i) acc += (x[i] - shift) * (x[i] - shift);
  return acc;
}

/// μ and 1/σ of one group of M = per_group · plane values: two passes (mean, then squared deviations) while the
/// group is in cache; per-plane partial sums in T are vectorised (omp simd) and added up in double.
template <class T>
std::pair<double, double> group_moments(const NormGeometry& g, const T* xi, double eps) {
  const double m = double(g.group_size());
  double s = 0;
  for (std::size_t c = 0; c < g.per_group(); ++c) s += double(plane_sum(xi + c * g.plane, g.plane, T(0)));
  const double mu = s / m;
  double v = 0;
  for (std::size_t c = 0; c < g.per_group(); ++c) v += double(plane_sum_sq(xi + c * g.plane, g.plane, T(mu)));
  return {mu, 1.0 / std::sqrt(v / m + eps)};
}

/// γ_c / σ and β_c − μ γ_c / σ: the affine map x ↦ scale·x + shift that normalises channel c of a group.
template <class T>
std::pair<T, T> channel_affine(const T* gamma, const T* beta, std::size_t channel, T mu, T r) {
  const T scale = r * (gamma ? gamma[channel] : T(1));
  return {scale, (beta ? beta[channel] : T(0)) - mu * scale};
}

/// The checks group_norm and group_norm_avg_pool2 share: γ and β both or neither, one per channel; eps > 0.
template <Backend B>
void check_norm_affine(const NormGeometry& geo, const Var<B>& gamma, const Var<B>& beta, const NormOptions& opt,
                       const char* op) {
  DISTILL_CHECK(gamma.defined() == beta.defined(), op, "(): give both gamma and beta, or neither");
  DISTILL_CHECK(!gamma.defined() || (gamma.size() == geo.channels && beta.size() == geo.channels), op, "(): gamma ",
                show(gamma.shape()), " and beta ", show(beta.shape()), " must have ", geo.channels,
                " elements (one per channel)");
  DISTILL_CHECK(opt.eps > 0, op, "(): eps must be positive, got ", opt.eps);
}

/// Forward: y = [relu](γ_c · (x − μ_ng)/σ_ng + β_c); writes μ and 1/σ per group (accumulated in double).
template <class T>
void norm_forward(const NormGeometry& g, const T* x, const T* gamma, const T* beta, double eps, bool relu, T* y,
                  T* mean, T* rstd) {
  const std::size_t m = g.group_size(), total = g.batch * g.groups;
#pragma omp parallel for schedule(static) if (total * m > (1u << 15))
  for (std::size_t ng = 0; ng < total; ++ng) {
    const T* xi = x + ng * m;
    const auto [mu, r] = group_moments(g, xi, eps);
    mean[ng] = T(mu);
    rstd[ng] = T(r);
    const std::size_t c0 = (ng % g.groups) * g.per_group();
    T* yi = y + ng * m;
    for (std::size_t c = 0; c < g.per_group(); ++c) {
      const auto [scale, shift] = channel_affine(gamma, beta, c0 + c, T(mu), T(r));
      const T* xc = xi + c * g.plane;
      T* yc = yi + c * g.plane;
      if (relu)
        for (std::size_t i = 0; i < g.plane; ++i) yc[i] = std::max(xc[i] * scale + shift, T(0));
      else
        for (std::size_t i = 0; i < g.plane; ++i) yc[i] = xc[i] * scale + shift;
    }
  }
}

/// ∂x = r·γ·dz − r·(a + (x − μ)·r·b) for one channel of a group (a, b: the group's sums over M): one
/// multiply-add per element after hoisting the constants.
template <class T>
struct InputGradient {
  T k_dz, k_x, k_0;
  InputGradient(T r, T gc, T am, T bm, T mu) : k_dz(r * gc), k_x(r * r * bm), k_0(r * am - r * r * bm * mu) {}
  T operator()(T dz, T x) const { return k_dz * dz - k_x * x - k_0; }
};

/// Σ dz and Σ dz·(x − μ) over one plane, vectorised.
template <class T>
std::pair<T, T> plane_grad_sums(const T* dz, const T* x, std::size_t n, T mu) {
  T t1 = 0, t2 = 0;
#pragma omp simd reduction(+ : t1, t2)
  for (std::size_t i = 0; i < n; ++i) {
    t1 += dz[i];
    t2 += dz[i] * (x[i] - mu);
  }
  return {t1, t2};
}

/// A group's backward sums: per (n, c) s1 = Σ dz and s2 = Σ dz·x̂ are stored (∂β, ∂γ come from them) and their
/// γ-weighted totals a = Σ_c γ_c s1, b = Σ_c γ_c s2 kept for ∂x.
struct GroupSums {
  double a = 0, b = 0;
  template <class T>
  void add(const NormGeometry& g, std::size_t n, std::size_t channel, T t1, T t2, const T* gamma, T* s1, T* s2) {
    s1[n * g.channels + channel] = t1;
    s2[n * g.channels + channel] = t2;
    const double gc = gamma ? double(gamma[channel]) : 1.0;
    a += gc * t1;
    b += gc * t2;
  }
};

/// ∂x of group ng from its (already masked) dz, which may be dx itself.
template <class T>
void write_input_gradient(const NormGeometry& g, std::size_t ng, const T* dz, const T* x, const T* gamma, T mu, T r,
                          const GroupSums& sums, T* dx) {
  const std::size_t m = g.group_size(), c0 = (ng % g.groups) * g.per_group();
  const T am = T(sums.a / double(m)), bm = T(sums.b / double(m));
  for (std::size_t c = 0; c < g.per_group(); ++c) {
    const std::size_t off = ng * m + c * g.plane;
    const InputGradient<T> k(r, gamma ? gamma[c0 + c] : T(1), am, bm, mu);
#pragma omp simd
    for (std::size_t i = 0; i < g.plane; ++i) dx[off + i] = k(dz[off + i], x[off + i]);
  }
}

/**
 * First-order backward. dz = dy·[y > 0] (or dy), x̂ = (x − μ)/σ. Per (n, c): s1 = Σ dz, s2 = Σ dz·x̂, from which
 * ∂β_c = Σ_n s1, ∂γ_c = Σ_n s2 and, per group, a = Σ_c γ_c s1 / M, b = Σ_c γ_c s2 / M, ∂x = (1/σ)(γ_c dz − a − x̂ b).
 * dx may be null (input needs no gradient); sums is scratch of 2·N·C.
 */
template <class T>
void norm_backward(const NormGeometry& g, const T* dy, const T* x, const T* y, const T* gamma, const T* mean,
                   const T* rstd, bool relu, T* dx, T* sums) {
  const std::size_t m = g.group_size(), total = g.batch * g.groups, cpg = g.per_group();
  T* s1 = sums;
  T* s2 = sums + g.batch * g.channels;
#pragma omp parallel for schedule(static) if (total * m > (1u << 15))
  for (std::size_t ng = 0; ng < total; ++ng) {
    const std::size_t n = ng / g.groups, c0 = (ng % g.groups) * cpg;
    const T mu = mean[ng], r = rstd[ng];
    GroupSums sums_ab;
    for (std::size_t c = 0; c < cpg; ++c) {
      const std::size_t off = ng * m + c * g.plane;
      T t1 = 0, t2 = 0;
      if (relu) {
#pragma omp simd reduction(+ : t1, t2)
        for (std::size_t i = 0; i < g.plane; ++i) {
          const T dz = y[off + i] > T(0) ? dy[off + i] : T(0);
          t1 += dz;
          t2 += dz * (x[off + i] - mu);
        }
      } else {
        std::tie(t1, t2) = plane_grad_sums(dy + off, x + off, g.plane, mu);
      }
      sums_ab.add(g, n, c0 + c, t1, t2 * r, gamma, s1, s2);
    }
    if (!dx) continue;
    if (!relu) {
      write_input_gradient(g, ng, dy, x, gamma, mu, r, sums_ab, dx);
      continue;
    }
    const T am = T(sums_ab.a / double(m)), bm = T(sums_ab.b / double(m));
    for (std::size_t c = 0; c < cpg; ++c) {
      const std::size_t off = ng * m + c * g.plane;
      const InputGradient<T> k(r, gamma ? gamma[c0 + c] : T(1), am, bm, mu);
      // Select dy first, then scale: with the product inside the ternary, GCC 12 (which assumes FP operations
      // may trap) kept this loop scalar with a branch per element: most of ConvNet-3's norm backward time.
#pragma omp simd
      for (std::size_t i = 0; i < g.plane; ++i) {
        const T dz = y[off + i] > T(0) ? dy[off + i] : T(0);
        dx[off + i] = k(dz, x[off + i]);
      }
    }
  }
}

/// ∂γ_c = Σ_n s2[n, c] and ∂β_c = Σ_n s1[n, c] from a backward's `sums` [2, N, C], appended to grads.
template <Backend B>
void push_affine_grads(const Tensor<typename B::Scalar>& sums, const NormGeometry& geo, const Var<B>& gamma,
                       const Var<B>& beta, std::vector<Var<B>>& grads) {
  using T = typename B::Scalar;
  Tensor<T> per_channel = reduce_to<B>(sums, Shape{2, 1, geo.channels});
  const T* sums_c = per_channel.data();
  grads.push_back(Var<B>(Tensor<T>(gamma.shape(), std::span<const T>(sums_c + geo.channels, geo.channels))));
  grads.push_back(Var<B>(Tensor<T>(beta.shape(), std::span<const T>(sums_c, geo.channels))));
}

/// x̂ = (x − μ)/σ per group and 1/σ, [N, G, M], from differentiable ops (the create_graph backward's pieces).
template <Backend B>
std::pair<Var<B>, Var<B>> normalized_groups(const Var<B>& x, std::size_t groups, double eps) {
  using T = typename B::Scalar;
  const Shape s = x.shape();
  const Var<B> xg = reshape(x, Shape{s[0], groups, s[1] / groups * s[2] * s[3]});
  const Var<B> centred = sub(xg, mean(xg, {2}, true));
  const Var<B> rstd = reciprocal(sqrt(add_scalar(mean(mul(centred, centred), {2}, true), T(eps))));
  return {mul(centred, rstd), rstd};
}

/// The backward of group_norm as differentiable ops (used when the backward itself is recorded).
template <Backend B>
std::vector<Var<B>> norm_backward_ops(const Var<B>& x, const Var<B>& gamma, const Var<B>& beta, const Var<B>& out,
                                      const Var<B>& dy, std::size_t groups, const NormOptions& opt) {
  const Shape s = x.shape();
  const Shape grouped{s[0], groups, s[1] / groups * s[2] * s[3]}, channel{1, s[1], 1, 1};
  const auto [xhat, rstd] = normalized_groups(x, groups, opt.eps);
  const Var<B> dz = opt.relu ? mul(dy, Var<B>(unary_value(UnaryOp::relu_mask, out.detach()))) : dy;
  const Var<B> xhat4 = reshape(xhat, s);
  std::vector<Var<B>> grads;
  if (x.requires_grad()) {
    const Var<B> dxhat = reshape(gamma.defined() ? mul(dz, reshape(gamma, channel)) : dz, grouped);
    const Var<B> centred = sub(dxhat, mean(dxhat, {2}, true));
    grads.push_back(reshape(mul(rstd, sub(centred, mul(xhat, mean(mul(dxhat, xhat), {2}, true)))), s));
  } else {
    grads.push_back(Var<B>{});
  }
  if (gamma.defined()) {
    grads.push_back(gamma.requires_grad() ? reshape(sum_to(mul(dz, xhat4), channel), gamma.shape()) : Var<B>{});
    grads.push_back(beta.requires_grad() ? reshape(sum_to(dz, channel), beta.shape()) : Var<B>{});
  }
  return grads;
}

}  // namespace detail

/**
 * Group normalisation over x [N, C, H, W]: each sample's channels split into `groups` groups normalised to mean 0,
 * variance 1, then (when γ, β are given, both [C]) y = γ_c x̂ + β_c, then optionally a ReLU. One tape node.
 */
template <Backend B>
Var<B> group_norm(const Var<B>& x, std::size_t groups, const Var<B>& gamma, const Var<B>& beta, NormOptions opt = {}) {
  using T = typename B::Scalar;
  const detail::NormGeometry geo = detail::norm_geometry(x.shape(), groups, "group_norm");
  detail::check_norm_affine(geo, gamma, beta, opt, "group_norm");
  auto y = Tensor<T>::empty(x.shape());
  auto mean = Tensor<T>::empty(Shape{geo.batch * groups});
  auto rstd = Tensor<T>::empty(Shape{geo.batch * groups});
  const bool affine = gamma.defined();
  detail::norm_forward(geo, x.value().data(), affine ? gamma.value().data() : nullptr,
                       affine ? beta.value().data() : nullptr, opt.eps, opt.relu, y.data(), mean.data(), rstd.data());
  std::vector<Var<B>> inputs{x};
  if (affine) {
    inputs.push_back(gamma);
    inputs.push_back(beta);
  }
  return make_result<B>(
      std::move(y), std::move(inputs),
      [x, gamma, beta, groups, opt, geo, mean, rstd](const Var<B>& out, const Var<B>& dy) -> std::vector<Var<B>> {
        Tape<B>* tape = out.tape();
        if (tape && tape->recording()) return detail::norm_backward_ops(x, gamma, beta, out, dy, groups, opt);
        auto sums = Tensor<T>::empty(Shape{2, geo.batch, geo.channels});
        Tensor<T> dx = x.requires_grad() ? Tensor<T>::empty(x.shape()) : Tensor<T>{};
        detail::norm_backward(geo, dy.value().data(), x.value().data(), out.value().data(),
                              gamma.defined() ? gamma.value().data() : nullptr, mean.data(), rstd.data(), opt.relu,
                              x.requires_grad() ? dx.data() : nullptr, sums.data());
        std::vector<Var<B>> grads{x.requires_grad() ? Var<B>(std::move(dx)) : Var<B>{}};
        if (gamma.defined()) detail::push_affine_grads(sums, geo, gamma, beta, grads);
        return grads;
      },
      "group_norm");
}

//! Group normalisation without the affine part.
template <Backend B>
Var<B> group_norm(const Var<B>& x, std::size_t groups, typename B::Scalar eps = typename B::Scalar(1e-5)) {
  return group_norm(x, groups, Var<B>{}, Var<B>{}, NormOptions{.eps = double(eps)});
}

//! Instance norm: group norm with one channel per group.
template <Backend B>
Var<B> instance_norm(const Var<B>& x, typename B::Scalar eps = typename B::Scalar(1e-5)) {
  DISTILL_CHECK(x.rank() == 4, "instance_norm(): input must be NCHW, got ", show(x.shape()));
  return group_norm(x, x.shape(1), eps);
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_NORM_HPP
