// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_NORM_POOL_HPP
#define DISTILL_AUTODIFF_OPS_NORM_POOL_HPP

/**
 * @file
 * The tail of a ConvNet block — group norm (affine, optional ReLU), then 2×2 average pooling — as ONE tape node.
 *
 * Why one node: as two, the norm writes its full-resolution output, the pooling reads it back, and on the way
 * back the pooling writes a full-resolution gradient that the norm's backward reads again beside x and y: about
 * 8.5 tensor-sized passes through memory, and these passes (not arithmetic) are what a ConvNet-3 block's norm
 * costs. Fused, a group is normalised, rectified and pooled while it is in cache (forward: read x, write a
 * quarter), and the backward expands the pooled gradient, masks it with the ReLU recomputed from x, reduces it
 * and writes ∂x in the same visit (read x and a quarter, write ∂x): 3.5 passes. In a DC iteration at 1 image per
 * class (bench_dc_step --profile, one thread) norm and pooling took 1.15 s as two nodes, 0.61 s as one.
 *
 * Odd heights and widths drop the last row / column, as avg_pool2d(·, 2) does; their gradient is zero.
 * Higher order stays exact: under create_graph the backward is avg_pool2d_adjoint followed by group_norm's
 * op-built backward, with the ReLU mask recomputed from x.
 */

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "distill/autodiff/ops/conv.hpp"
#include "distill/autodiff/ops/norm.hpp"

namespace distill::ad {

namespace detail {

/// Forward: p = avgpool₂([relu](γ_c x̂ + β_c)) per group; μ and 1/σ written as norm_forward writes them.
template <class T>
void norm_pool_forward(const NormGeometry& g, std::size_t width, const T* x, const T* gamma, const T* beta,
                       double eps, bool relu, T* p, T* mean, T* rstd) {
  const std::size_t m = g.group_size(), total = g.batch * g.groups, cpg = g.per_group();
  const std::size_t oh = g.plane / width / 2, ow = width / 2;
#pragma omp parallel if (total * m > (1u << 15))
  {
    // One channel's normalised plane, in cache: one contiguous loop over the whole plane vectorises, where
    // loops over single rows of 28 or 14 pay their vector prologues and epilogues per row.
    std::vector<T> y(g.plane);
#pragma omp for schedule(static)
    for (std::size_t ng = 0; ng < total; ++ng) {
      const T* xi = x + ng * m;
      const auto [mu, r] = group_moments(g, xi, eps);
      mean[ng] = T(mu);
      rstd[ng] = T(r);
      const std::size_t c0 = (ng % g.groups) * cpg;
      for (std::size_t c = 0; c < cpg; ++c) {
        const auto [scale, shift] = channel_affine(gamma, beta, c0 + c, T(mu), T(r));
        const T* xc = xi + c * g.plane;
        if (relu) {
#pragma omp simd
          for (std::size_t i = 0; i < g.plane; ++i) y[i] = std::max(xc[i] * scale + shift, T(0));
        } else {
#pragma omp simd
          for (std::size_t i = 0; i < g.plane; ++i) y[i] = xc[i] * scale + shift;
        }
        T* pc = p + (ng * cpg + c) * oh * ow;
        for (std::size_t i = 0; i < oh; ++i) {
          const T* r0 = y.data() + 2 * i * width;
          const T* r1 = r0 + width;
          for (std::size_t j = 0; j < ow; ++j)
            pc[i * ow + j] = T(0.25) * ((r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]));
        }
      }
    }
  }
}

/**
 * First-order backward from the pooled gradient dp. Per group, one visit: dz = dp/4 spread over each window and
 * masked by the ReLU (recomputed from x: γ_c x̂ + β_c > 0), written into dx as scratch while s1 = Σ dz and
 * s2 = Σ dz·x̂ accumulate per (n, c); then dx = InputGradient(dz, x) in place. sums is scratch of 2·N·C, as
 * norm_backward's.
 */
template <class T>
void norm_pool_backward(const NormGeometry& g, std::size_t width, const T* dp, const T* x, const T* gamma,
                        const T* beta, const T* mean, const T* rstd, bool relu, T* dx, T* sums) {
  const std::size_t m = g.group_size(), total = g.batch * g.groups, cpg = g.per_group();
  const std::size_t height = g.plane / width, oh = height / 2, ow = width / 2;
  T* s1 = sums;
  T* s2 = sums + g.batch * g.channels;
#pragma omp parallel for schedule(static) if (total * m > (1u << 15))
  for (std::size_t ng = 0; ng < total; ++ng) {
    const std::size_t n = ng / g.groups, c0 = (ng % g.groups) * cpg;
    const T mu = mean[ng], r = rstd[ng];
    GroupSums sums_ab;
    for (std::size_t c = 0; c < cpg; ++c) {
      const std::size_t off = ng * m + c * g.plane;
      const T* dpc = dp + (ng * cpg + c) * oh * ow;
      const T* xc = x + off;
      T* dz = dx + off;
      // The pooled gradient spread over its windows (avg_pool2d's adjoint), into dx as scratch; an odd height's
      // last row and an odd width's last column are outside every window.
      for (std::size_t i = 0; i < oh; ++i) {
        T* d0 = dz + 2 * i * width;
        T* d1 = d0 + width;
        for (std::size_t j = 0; j < ow; ++j) d0[2 * j] = d0[2 * j + 1] = d1[2 * j] = d1[2 * j + 1] = T(0.25) * dpc[i * ow + j];
        if (2 * ow < width) d0[2 * ow] = d1[2 * ow] = T(0);
      }
      if (2 * oh < height) std::fill_n(dz + 2 * oh * width, width, T(0));
      // Then masked by the ReLU (recomputed from x), reduced, over the whole plane at once, as norm_backward does.
      T t1 = 0, t2 = 0;
      if (relu) {
        const auto [scale, shift] = channel_affine(gamma, beta, c0 + c, mu, r);
        // Select, then use: as in norm_backward, a product inside the ternary keeps GCC 12 scalar.
#pragma omp simd reduction(+ : t1, t2)
        for (std::size_t i = 0; i < g.plane; ++i) {
          const T d = xc[i] * scale + shift > T(0) ? dz[i] : T(0);
          dz[i] = d;
          t1 += d;
          t2 += d * (xc[i] - mu);
        }
      } else {
        std::tie(t1, t2) = plane_grad_sums(dz, xc, g.plane, mu);
      }
      sums_ab.add(g, n, c0 + c, t1, t2 * r, gamma, s1, s2);
    }
    write_input_gradient(g, ng, dx, x, gamma, mu, r, sums_ab, dx);
  }
}

}  // namespace detail

/**
 * avg_pool2d(group_norm(x, groups, γ, β, opt), 2) as one node: x [N, C, H, W] → [N, C, H/2, W/2] (H, W ≥ 2;
 * an odd last row / column is dropped). γ, β as group_norm's (both [C], or both undefined).
 */
template <Backend B>
Var<B> group_norm_avg_pool2(const Var<B>& x, std::size_t groups, const Var<B>& gamma, const Var<B>& beta,
                            NormOptions opt = {}) {
  using T = typename B::Scalar;
  const detail::NormGeometry geo = detail::norm_geometry(x.shape(), groups, "group_norm_avg_pool2");
  detail::check_norm_affine(geo, gamma, beta, opt, "group_norm_avg_pool2");
  const ConvGeometry pool = detail::conv_geometry(x.shape(), 2, 2, 2, 0, "group_norm_avg_pool2");
  const std::size_t width = x.shape(3);
  auto p = Tensor<T>::empty(Shape{geo.batch, geo.channels, pool.out_h(), pool.out_w()});
  auto mean = Tensor<T>::empty(Shape{geo.batch * groups});
  auto rstd = Tensor<T>::empty(Shape{geo.batch * groups});
  const bool affine = gamma.defined();
  const T* g_data = affine ? gamma.value().data() : nullptr;
  const T* b_data = affine ? beta.value().data() : nullptr;
  detail::norm_pool_forward(geo, width, x.value().data(), g_data, b_data, opt.eps, opt.relu, p.data(), mean.data(),
                            rstd.data());
  std::vector<Var<B>> inputs{x};
  if (affine) {
    inputs.push_back(gamma);
    inputs.push_back(beta);
  }
  return make_result<B>(
      std::move(p), std::move(inputs),
      [x, gamma, beta, groups, opt, geo, pool, width, mean, rstd](const Var<B>& out, const Var<B>& dp) -> std::vector<Var<B>> {
        const bool affine = gamma.defined();
        const T* g_data = affine ? gamma.value().data() : nullptr;
        const T* b_data = affine ? beta.value().data() : nullptr;
        Tape<B>* tape = out.tape();
        if (tape && tape->recording()) {
          // The full-resolution output, only for its ReLU mask; the gradient itself is built from ops.
          auto y = Tensor<T>::empty(x.shape());
          auto mean2 = Tensor<T>::empty(mean.shape()), rstd2 = Tensor<T>::empty(rstd.shape());
          detail::norm_forward(geo, x.value().data(), g_data, b_data, opt.eps, opt.relu, y.data(), mean2.data(),
                               rstd2.data());
          return detail::norm_backward_ops(x, gamma, beta, Var<B>(std::move(y)), avg_pool2d_adjoint(dp, pool), groups,
                                           opt);
        }
        auto sums = Tensor<T>::empty(Shape{2, geo.batch, geo.channels});
        Tensor<T> dx = Tensor<T>::empty(x.shape());  // the expanded, masked gradient on the way: needed either way
        detail::norm_pool_backward(geo, width, dp.value().data(), x.value().data(), g_data, b_data, mean.data(),
                                   rstd.data(), opt.relu, dx.data(), sums.data());
        std::vector<Var<B>> grads{x.requires_grad() ? Var<B>(std::move(dx)) : Var<B>{}};
        if (affine) detail::push_affine_grads(sums, geo, gamma, beta, grads);
        return grads;
      },
      "group_norm_avg_pool2");
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_NORM_POOL_HPP
