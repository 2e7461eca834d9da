// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_SAMPLE_HPP
#define DISTILL_AUTODIFF_OPS_SAMPLE_HPP

/**
 * @file
 * Resampling of NCHW images at fixed (constant) positions: bilinear sampling on an affine grid (scale, rotation),
 * whole-pixel translation with zero fill, and a horizontal flip of chosen images. Each is linear in the images and
 * comes with its exact adjoint, and each one's backward is the other, so derivatives of any order exist (the
 * pattern of slice / pad_slice). The positions are constants: nothing here differentiates with respect to them.
 *
 * These are the geometric parts of differentiable siamese augmentation (synthetic/dsa.hpp): the synthetic images
 * must receive the gradient through the same transform that was applied to the real ones.
 *
 * Conventions follow PyTorch's F.affine_grid / F.grid_sample with align_corners = true and zero padding, as the
 * DSA paper's code uses them: normalised coordinates −1 and +1 are the centres of the first and last pixels.
 */

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "distill/autodiff/tape.hpp"

namespace distill::ad {

/**
 * The sampling grid of an affine map (F.affine_grid, align_corners = true): for output pixel (i, j) of an
 * h × w image, grid[n, i, j] = θ_n · (x_j, y_i, 1) with x_j = −1 + 2j/(w−1), y_i = −1 + 2i/(h−1) (0 for a side of 1).
 * @param theta [K, 2, 3]: row 0 gives the source x (width axis), row 1 the source y (height axis)
 * @return [K, h, w, 2] holding (x, y) source positions in normalised coordinates
 * @throw invalid_argument when theta is not [K, 2, 3]
 */
template <class T>
Tensor<T> affine_grid(const Tensor<T>& theta, std::size_t h, std::size_t w) {
  DISTILL_CHECK(theta.rank() == 3 && theta.shape(1) == 2 && theta.shape(2) == 3, "affine_grid(): theta has shape ",
                show(theta.shape()), ", expected [K, 2, 3]");
  const std::size_t k = theta.shape(0);
  auto grid = Tensor<T>::empty({k, h, w, 2});
  auto norm = [](std::size_t i, std::size_t n) { return n > 1 ? -1.0 + 2.0 * double(i) / double(n - 1) : 0.0; };
  for (std::size_t n = 0; n < k; ++n) {
    const T* t = theta.data() + n * 6;
    for (std::size_t i = 0; i < h; ++i)
      for (std::size_t j = 0; j < w; ++j) {
        const double x = norm(j, w), y = norm(i, h);
        T* g = grid.data() + ((n * h + i) * w + j) * 2;
        g[0] = T(double(t[0]) * x + double(t[1]) * y + double(t[2]));
        g[1] = T(double(t[3]) * x + double(t[4]) * y + double(t[5]));
      }
  }
  return grid;
}

namespace detail {

/// The four taps of bilinear sampling at every output pixel of one grid image: flat source offsets within a plane
/// (or −1 outside the image: zero padding) and their weights.
template <class T>
struct BilinearTaps {
  std::vector<std::int64_t> index;  // [pixels · 4]
  std::vector<T> weight;            // [pixels · 4]
};

template <class T>
BilinearTaps<T> bilinear_taps(const T* grid, std::size_t pixels, std::size_t h, std::size_t w) {
  BilinearTaps<T> taps{std::vector<std::int64_t>(pixels * 4, -1), std::vector<T>(pixels * 4, T(0))};
  for (std::size_t p = 0; p < pixels; ++p) {
    // align_corners = true: −1 ↦ 0, +1 ↦ size − 1.
    const double ix = (double(grid[2 * p]) + 1.0) * 0.5 * double(w - 1);
    const double iy = (double(grid[2 * p + 1]) + 1.0) * 0.5 * double(h - 1);
    const double fx = std::floor(ix), fy = std::floor(iy);
    const double ax = ix - fx, ay = iy - fy;
    const long x0 = long(fx), y0 = long(fy);
    const long xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
    const double wx[2] = {1.0 - ax, ax}, wy[2] = {1.0 - ay, ay};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        const std::size_t k = p * 4 + std::size_t(a * 2 + b);
        if (ys[a] < 0 || ys[a] >= long(h) || xs[b] < 0 || xs[b] >= long(w)) continue;
        taps.index[k] = std::int64_t(ys[a]) * std::int64_t(w) + xs[b];
        taps.weight[k] = T(wy[a] * wx[b]);
      }
  }
  return taps;
}

inline void check_grid(const Shape& grid, std::size_t n, const char* op) {
  DISTILL_CHECK(grid.size() == 4 && grid[3] == 2 && (grid[0] == n || grid[0] == 1), op, "(): grid has shape ",
                show(grid), ", expected [N, H, W, 2] or [1, H, W, 2] for a batch of ", n);
}

// y[n, c] (grid plane) <-> x[n, c] (image plane): forward gathers, adjoint scatters with the same taps.
template <Backend B>
Tensor<typename B::Scalar> sample_values(const Tensor<typename B::Scalar>& x, const Tensor<typename B::Scalar>& grid,
                                         const Shape& out_shape, bool adjoint) {
  using T = typename B::Scalar;
  const std::size_t n = out_shape[0], channels = out_shape[1];
  // grid-side (gh, gw) and image-side (ih, iw) extents
  const Shape& image = adjoint ? out_shape : x.shape();
  const std::size_t ih = image[2], iw = image[3], gh = grid.shape(1), gw = grid.shape(2);
  const std::size_t grid_pixels = gh * gw, image_pixels = ih * iw;
  Tensor<T> out(out_shape);
  std::vector<BilinearTaps<T>> taps;
  for (std::size_t k = 0; k < grid.shape(0); ++k) taps.push_back(bilinear_taps(grid.data() + k * grid_pixels * 2, grid_pixels, ih, iw));
#pragma omp parallel for schedule(static) if (n * channels * grid_pixels > (1u << 16))
  for (long nl = 0; nl < long(n); ++nl) {
    const std::size_t s = std::size_t(nl);
    const BilinearTaps<T>& t = taps[taps.size() == 1 ? 0 : s];
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t plane = s * channels + c;
      if (!adjoint) {
        const T* src = x.data() + plane * image_pixels;
        T* dst = out.data() + plane * grid_pixels;
        for (std::size_t p = 0; p < grid_pixels; ++p) {
          T acc = T(0);
          for (std::size_t q = 0; q < 4; ++q)
            if (t.index[p * 4 + q] >= 0) acc += t.weight[p * 4 + q] * src[t.index[p * 4 + q]];
          dst[p] = acc;
        }
      } else {
        const T* src = x.data() + plane * grid_pixels;
        T* dst = out.data() + plane * image_pixels;
        for (std::size_t p = 0; p < grid_pixels; ++p)
          for (std::size_t q = 0; q < 4; ++q)
            if (t.index[p * 4 + q] >= 0) dst[t.index[p * 4 + q]] += t.weight[p * 4 + q] * src[p];
      }
    }
  }
  return out;
}

}  // namespace detail

template <Backend B>
Var<B> grid_sample_adjoint(const Var<B>& g, const Tensor<typename B::Scalar>& grid, const Shape& image_shape);

/**
 * Bilinear sampling of x at the positions of `grid` (F.grid_sample, align_corners = true, zero padding):
 * y[n, c, i, j] = Σ bilinear weights · x[n, c, ·, ·] around grid[n, i, j]. Linear in x; the grid is a constant.
 * @param x     [N, C, H, W]
 * @param grid  [N, Ho, Wo, 2] (or [1, Ho, Wo, 2]: one grid for every image), normalised (x, y) positions
 * @return [N, C, Ho, Wo]
 * @throw invalid_argument on shapes that do not fit
 */
template <Backend B>
Var<B> grid_sample(const Var<B>& x, const Tensor<typename B::Scalar>& grid) {
  DISTILL_CHECK(x.rank() == 4, "grid_sample(): x has shape ", show(x.shape()), ", expected [N, C, H, W]");
  detail::check_grid(grid.shape(), x.shape(0), "grid_sample");
  const Shape out_shape{x.shape(0), x.shape(1), grid.shape(1), grid.shape(2)};
  return make_result<B>(detail::sample_values<B>(x.value(), grid, out_shape, false), {x},
                        [grid, in_shape = x.shape()](const Var<B>&, const Var<B>& gy) {
                          return std::vector<Var<B>>{grid_sample_adjoint(gy, grid, in_shape)};
                        },
                        "grid_sample");
}

/**
 * The adjoint of grid_sample: each value of g [N, C, Ho, Wo] is spread onto the four pixels of an image of
 * `image_shape` [N, C, H, W] with the same bilinear weights. Its backward is grid_sample.
 */
template <Backend B>
Var<B> grid_sample_adjoint(const Var<B>& g, const Tensor<typename B::Scalar>& grid, const Shape& image_shape) {
  DISTILL_CHECK(g.rank() == 4 && image_shape.size() == 4 && g.shape(0) == image_shape[0] && g.shape(1) == image_shape[1],
                "grid_sample_adjoint(): g has shape ", show(g.shape()), " but the image shape is ", show(image_shape));
  detail::check_grid(grid.shape(), g.shape(0), "grid_sample_adjoint");
  DISTILL_CHECK(grid.shape(1) == g.shape(2) && grid.shape(2) == g.shape(3), "grid_sample_adjoint(): g has shape ",
                show(g.shape()), " but the grid is ", show(grid.shape()));
  return make_result<B>(detail::sample_values<B>(g.value(), grid, image_shape, true), {g},
                        [grid](const Var<B>&, const Var<B>& gg) { return std::vector<Var<B>>{grid_sample(gg, grid)}; },
                        "grid_sample_adjoint");
}

namespace detail {
// y[n, c, i, j] = x[n, c, i − dy_n, j − dx_n], 0 where that is outside the image.
template <class T>
Tensor<T> translate_values(const Tensor<T>& x, const std::vector<long>& dy, const std::vector<long>& dx) {
  const std::size_t n = x.shape(0), channels = x.shape(1), h = x.shape(2), w = x.shape(3);
  Tensor<T> out(x.shape());
  for (std::size_t s = 0; s < n; ++s) {
    const long sy = dy[dy.size() == 1 ? 0 : s], sx = dx[dx.size() == 1 ? 0 : s];
    const long j0 = std::max(0L, sx), j1 = std::min(long(w), long(w) + sx);
    if (j0 >= j1) continue;
    for (std::size_t c = 0; c < channels; ++c) {
      const T* src = x.data() + (s * channels + c) * h * w;
      T* dst = out.data() + (s * channels + c) * h * w;
      for (long i = std::max(0L, sy); i < std::min(long(h), long(h) + sy); ++i)
        std::copy(src + (i - sy) * long(w) + (j0 - sx), src + (i - sy) * long(w) + (j1 - sx), dst + i * long(w) + j0);
    }
  }
  return out;
}
inline void check_per_image(std::size_t count, std::size_t n, const char* op, const char* what) {
  DISTILL_CHECK(count == 1 || count == n, op, "(): ", what, " has ", count, " entries, expected 1 (all images) or ", n,
                " (one per image)");
}
}  // namespace detail

/**
 * Moves every image by whole pixels with zero fill: y[n, c, i, j] = x[n, c, i − dy_n, j − dx_n] (0 outside).
 * dy, dx hold one shift per image, or one for all. The adjoint is the opposite shift, which is its backward.
 */
template <Backend B>
Var<B> translate(const Var<B>& x, std::vector<long> dy, std::vector<long> dx) {
  DISTILL_CHECK(x.rank() == 4, "translate(): x has shape ", show(x.shape()), ", expected [N, C, H, W]");
  detail::check_per_image(dy.size(), x.shape(0), "translate", "dy");
  detail::check_per_image(dx.size(), x.shape(0), "translate", "dx");
  auto value = detail::translate_values(x.value(), dy, dx);
  return make_result<B>(std::move(value), {x},
                        [dy, dx](const Var<B>&, const Var<B>& g) {
                          std::vector<long> ny(dy.size()), nx(dx.size());
                          for (std::size_t i = 0; i < dy.size(); ++i) ny[i] = -dy[i];
                          for (std::size_t i = 0; i < dx.size(); ++i) nx[i] = -dx[i];
                          return std::vector<Var<B>>{translate(g, std::move(ny), std::move(nx))};
                        },
                        "translate");
}

/**
 * Mirrors the images whose entry of `which` is non-zero along the width axis (one entry per image, or one for
 * all); the others pass unchanged. A permutation that is its own inverse and transpose, so it is its own backward.
 */
template <Backend B>
Var<B> flip_width(const Var<B>& x, std::vector<char> which) {
  using T = typename B::Scalar;
  DISTILL_CHECK(x.rank() == 4, "flip_width(): x has shape ", show(x.shape()), ", expected [N, C, H, W]");
  detail::check_per_image(which.size(), x.shape(0), "flip_width", "which");
  const std::size_t n = x.shape(0), rows = x.shape(1) * x.shape(2), w = x.shape(3);
  auto out = Tensor<T>::empty(x.shape());
  for (std::size_t s = 0; s < n; ++s) {
    const bool flip = which[which.size() == 1 ? 0 : s] != 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* src = x.value().data() + (s * rows + r) * w;
      T* dst = out.data() + (s * rows + r) * w;
      if (flip) std::reverse_copy(src, src + w, dst);
      else std::copy(src, src + w, dst);
    }
  }
  return make_result<B>(std::move(out), {x},
                        [which](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{flip_width(g, which)}; },
                        "flip_width");
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_SAMPLE_HPP
