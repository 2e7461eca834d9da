// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EVAL_DC_AUGMENT_HPP
#define DISTILL_EVAL_DC_AUGMENT_HPP

/**
 * @file
 * The augmentation of the DC evaluation protocol (Zhao, Mopuri, Bilen 2021, Dataset Condensation with Gradient
 * Matching, ICLR; arXiv:2006.05929; the paper code's `augment` and `get_daparam`, VICO-UoE/DatasetCondensation,
 * utils.py): while the fresh networks train on a small set, every image of every minibatch gets ONE transform,
 * drawn uniformly from the strategy's words:
 *
 *   crop   = pad by `crop` pixels with the batch's channel mean, cut an H×W window at a uniform offset in
 *            [0, 2·crop) along each axis (a whole-pixel shift by −crop … crop − 1)
 *   scale  = resize (nearest neighbour, PyTorch's rule src = ⌊dst · in / out⌋) to h = ⌊u·H⌋, w = ⌊v·H⌋ with
 *            u, v uniform in [1 − scale, 1 + scale], centre it on a zero canvas, cut the centre H×W
 *   rotate = rotate about the centre by an integer angle in [−rotate, rotate) degrees, filling with the mean of
 *            the channel means (bilinear; the paper code uses SciPy's cubic spline)
 *   noise  = add N(0, noise²) to every pixel
 *
 * The paper code picks the strategy per data set: "crop_scale_rotate" for MNIST, none for the others (its
 * Fashion-MNIST and colour numbers train without it; rotating clothes by up to 45° does not help them); its
 * published MNIST numbers (random real images 64.9 / 95.1 / 97.9 %, DC 91.7 / 97.4 / 98.8 % at 1 / 10 / 50 images
 * per class) are trained this way. It is not differentiable and does
 * not need to be: it only augments the evaluation networks' training data (DSA, synthetic/dsa.hpp, is the
 * differentiable one that the DSA, DM and MTT papers evaluate with instead).
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "distill/core.hpp"
#include "distill/core/transform_list.hpp"

namespace distill::eval {

/// One transform of the DC augmentation (a word of its strategy string).
enum class DcTransform { crop, scale, rotate, noise };

//! The strategy word of a transform.
inline const char* dc_transform_name(DcTransform t) {
  switch (t) {
    case DcTransform::crop: return "crop";
    case DcTransform::scale: return "scale";
    case DcTransform::rotate: return "rotate";
    case DcTransform::noise: return "noise";
  }
  return "?";
}

/**
 * Parses "crop_scale_rotate" (words from crop, scale, rotate, noise joined by '_'); "none" or "" is no
 * augmentation. An unknown or repeated word throws, naming it (parse_transform_list).
 */
inline std::vector<DcTransform> parse_dc_strategy(std::string_view strategy) {
  static constexpr DcTransform all[] = {DcTransform::crop, DcTransform::scale, DcTransform::rotate, DcTransform::noise};
  return parse_transform_list(strategy, all, dc_transform_name, "DC augmentation strategy");
}

//! The paper code's choice for a data set (the name distill's loaders give it): crop_scale_rotate for MNIST, none
//! for every other.
inline std::string default_dc_strategy(std::string_view data) { return data == "mnist" ? "crop_scale_rotate" : "none"; }

/// The transforms' ranges; the defaults are the paper code's get_daparam().
struct DcAugmentParams {
  std::size_t crop = 4;  //!< padding of the random crop, pixels
  double scale = 0.2;    //!< each side resized by a factor in [1 − scale, 1 + scale]
  int rotate = 45;       //!< the angle is an integer number of degrees in [−rotate, rotate)
  double noise = 0.001;  //!< standard deviation of the additive noise

  void validate() const {
    DISTILL_CHECK(crop >= 1, "DcAugmentParams: crop must be at least 1 pixel (got 0)");
    DISTILL_CHECK(std::isfinite(scale) && scale >= 0 && scale < 1, "DcAugmentParams: scale must be in [0, 1) (got ", scale, ")");
    DISTILL_CHECK(rotate >= 1 && rotate <= 360, "DcAugmentParams: rotate must be in [1, 360] degrees (got ", rotate, ")");
    DISTILL_CHECK(std::isfinite(noise) && noise >= 0, "DcAugmentParams: noise must be finite and ≥ 0 (got ", noise, ")");
  }
};

/**
 * The DC evaluation augmentation over a strategy.
 *
 * @code
 * opt.protocol.augment = eval::DcAugment{"crop_scale_rotate"}.augmentation<float>();
 * @endcode
 */
class DcAugment {
 public:
  explicit DcAugment(std::string_view strategy = "crop_scale_rotate", DcAugmentParams params = {})
      : strategy_(parse_dc_strategy(strategy)), params_(params) {
    params_.validate();
    for (const DcTransform t : strategy_) {
      if (!name_.empty()) name_ += '_';
      name_ += dc_transform_name(t);
    }
    if (name_.empty()) name_ = "none";
  }

  const std::vector<DcTransform>& transforms() const { return strategy_; }
  const std::string& strategy() const { return name_; }
  const DcAugmentParams& params() const { return params_; }
  bool empty() const { return strategy_.empty(); }

  /**
   * Augments a batch [N, C, H, W]: one transform per image, drawn from `rng`, then that transform's numbers. The
   * fill values are the batch's channel means, as in the paper code.
   */
  template <std::floating_point T>
  Tensor<T> apply(const Tensor<T>& x, Rng& rng) const {
    DISTILL_CHECK(x.rank() == 4, "DcAugment::apply(): the batch has shape ", show(x.shape()), ", expected [N, C, H, W]");
    const std::size_t n = x.shape(0), channels = x.shape(1), h = x.shape(2), w = x.shape(3), plane = h * w;
    Tensor<T> out(x.shape());
    if (n == 0 || plane == 0) return out;
    std::copy(x.data(), x.data() + x.size(), out.data());
    if (empty()) return out;
    std::vector<double> mean(channels, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < channels; ++c) {
        const T* p = x.data() + (i * channels + c) * plane;
        for (std::size_t k = 0; k < plane; ++k) mean[c] += p[k];
      }
    double mean_of_means = 0;
    for (auto& m : mean) {
      m /= double(n * plane);
      mean_of_means += m / double(channels);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const DcTransform t = strategy_[rng.uniform_int(strategy_.size())];
      const T* src = x.data() + i * channels * plane;
      T* dst = out.data() + i * channels * plane;
      switch (t) {
        case DcTransform::crop: crop(src, dst, channels, h, w, mean, rng); break;
        case DcTransform::scale: scale(src, dst, channels, h, w, rng); break;
        case DcTransform::rotate: rotate(src, dst, channels, h, w, T(mean_of_means), rng); break;
        case DcTransform::noise:
          for (std::size_t k = 0; k < channels * plane; ++k) dst[k] = T(double(src[k]) + params_.noise * rng.normal());
          break;
      }
    }
    return out;
  }

  //! As an augmentation for training networks on a set (eval::ProtocolOptions::augment).
  template <std::floating_point T>
  std::function<Tensor<T>(const Tensor<T>&, Rng&)> augmentation() const {
    return [aug = *this](const Tensor<T>& x, Rng& rng) { return aug.apply(x, rng); };
  }

 private:
  // A window of the image padded by `crop` on every side with the channel mean.
  template <class T>
  void crop(const T* src, T* dst, std::size_t channels, std::size_t h, std::size_t w, const std::vector<double>& mean,
            Rng& rng) const {
    const std::size_t pad = params_.crop;
    const auto dr = std::ptrdiff_t(rng.uniform_int(2 * pad)) - std::ptrdiff_t(pad);
    const auto dc = std::ptrdiff_t(rng.uniform_int(2 * pad)) - std::ptrdiff_t(pad);
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t r = 0; r < h; ++r)
        for (std::size_t q = 0; q < w; ++q) {
          const std::ptrdiff_t sr = std::ptrdiff_t(r) + dr, sq = std::ptrdiff_t(q) + dc;
          const bool inside = sr >= 0 && sr < std::ptrdiff_t(h) && sq >= 0 && sq < std::ptrdiff_t(w);
          dst[(c * h + r) * w + q] = inside ? src[(c * h + std::size_t(sr)) * w + std::size_t(sq)] : T(mean[c]);
        }
  }

  // Nearest-neighbour resize to [rh, rw], centred on a zero canvas of side max(rh, rw, h, w), centre cut back.
  template <class T>
  void scale(const T* src, T* dst, std::size_t channels, std::size_t h, std::size_t w, Rng& rng) const {
    // Both factors multiply the height, as in the paper code (its images are square).
    const auto rh = std::size_t(rng.uniform(1 - params_.scale, 1 + params_.scale) * double(h));
    const auto rw = std::size_t(rng.uniform(1 - params_.scale, 1 + params_.scale) * double(h));
    const std::size_t side = std::max({rh, rw, h, w});
    const std::size_t r0 = (side - rh) / 2, c0 = (side - rw) / 2, r1 = (side - h) / 2, c1 = (side - w) / 2;
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t r = 0; r < h; ++r)
        for (std::size_t q = 0; q < w; ++q) {
          const std::size_t cr = r + r1, cq = q + c1;  // on the canvas
          T v = T(0);
          if (cr >= r0 && cr < r0 + rh && cq >= c0 && cq < c0 + rw) {
            const std::size_t sr = std::min(std::size_t(double(cr - r0) * (double(h) / double(rh))), h - 1);
            const std::size_t sq = std::min(std::size_t(double(cq - c0) * (double(w) / double(rw))), w - 1);
            v = src[(c * h + sr) * w + sq];
          }
          dst[(c * h + r) * w + q] = v;
        }
  }

  // Rotation about the image centre, bilinear; samples outside the image read `fill`.
  template <class T>
  void rotate(const T* src, T* dst, std::size_t channels, std::size_t h, std::size_t w, T fill, Rng& rng) const {
    const int degrees = int(rng.uniform_int(std::uint64_t(2 * params_.rotate))) - params_.rotate;
    const double a = degrees * std::numbers::pi / 180.0, ca = std::cos(a), sa = std::sin(a);
    const double yc = (double(h) - 1) / 2, xc = (double(w) - 1) / 2;
    auto at = [&](std::size_t c, std::ptrdiff_t r, std::ptrdiff_t q) {
      return r >= 0 && r < std::ptrdiff_t(h) && q >= 0 && q < std::ptrdiff_t(w) ? double(src[(c * h + std::size_t(r)) * w + std::size_t(q)])
                                                                                  : double(fill);
    };
    for (std::size_t r = 0; r < h; ++r)
      for (std::size_t q = 0; q < w; ++q) {
        // The source of output pixel (r, q): the inverse rotation of its offset from the centre.
        const double y = double(r) - yc, x = double(q) - xc;
        const double sy = ca * y - sa * x + yc, sx = sa * y + ca * x + xc;
        const double fy = std::floor(sy), fx = std::floor(sx), ty = sy - fy, tx = sx - fx;
        const auto y0 = std::ptrdiff_t(fy), x0 = std::ptrdiff_t(fx);
        for (std::size_t c = 0; c < channels; ++c) {
          const double v = (1 - ty) * ((1 - tx) * at(c, y0, x0) + tx * at(c, y0, x0 + 1)) +
                           ty * ((1 - tx) * at(c, y0 + 1, x0) + tx * at(c, y0 + 1, x0 + 1));
          dst[(c * h + r) * w + q] = T(v);
        }
      }
  }

  std::vector<DcTransform> strategy_;
  std::string name_;
  DcAugmentParams params_;
};

}  // namespace distill::eval

#endif  // DISTILL_EVAL_DC_AUGMENT_HPP
