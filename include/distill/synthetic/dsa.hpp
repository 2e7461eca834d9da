// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_DSA_HPP
#define DISTILL_SYNTHETIC_DSA_HPP

/**
 * @file
 * Differentiable siamese augmentation (DSA): Zhao, Bilen 2021, Dataset Condensation with Differentiable Siamese
 * Augmentation, ICML; arXiv:2102.08259.
 *
 *   strategy = "color_crop_cutout_flip_scale_rotate" (groups joined by '_')
 *   draw:   pick one group uniformly (the paper code's aug_mode 'S'), then its random numbers — once for the whole
 *           batch (siamese: the real and the synthetic batch of a class get the very same transform) or once per
 *           image (plain augmentation, e.g. while evaluating a set)
 *   apply:  color  = brightness x + b, saturation (x − mean_c x)·s + mean_c x, contrast (x − mean x)·k + mean x
 *           crop   = whole-pixel translation by up to ratio_crop_pad of the side, zero fill
 *           cutout = a ratio_cutout-sided square set to 0
 *           flip   = mirror along the width with probability prob_flip
 *           scale  = x, y scaled by factors in [1/ratio, ratio] by bilinear sampling on an affine grid
 *           rotate = rotation by up to ±ratio_rotate degrees, bilinear
 *
 * Every transform is linear in the images and written with differentiable ops (autodiff/ops/sample.hpp for the
 * geometry), so a matching loss on augmented synthetic images has the exact gradient with respect to the images,
 * to any order. The numbers and ranges are the paper code's ParamDiffAug / DiffAugment (VICO-UoE/
 * DatasetCondensation, utils.py). The pixels are the standardised ones, so zero fill is the mean colour.
 */

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "distill/autodiff/ops/broadcast.hpp"
#include "distill/core/transform_list.hpp"
#include "distill/autodiff/ops/elementwise.hpp"
#include "distill/autodiff/ops/reduce.hpp"
#include "distill/autodiff/ops/sample.hpp"
#include "distill/core.hpp"

namespace distill::synthetic {

/// One group of DSA transforms (a word of the strategy string).
enum class DsaTransform { color, crop, cutout, flip, scale, rotate };

//! The strategy word of a transform ("color", "crop", ...).
inline const char* dsa_name(DsaTransform t) {
  switch (t) {
    case DsaTransform::color: return "color";
    case DsaTransform::crop: return "crop";
    case DsaTransform::cutout: return "cutout";
    case DsaTransform::flip: return "flip";
    case DsaTransform::scale: return "scale";
    case DsaTransform::rotate: return "rotate";
  }
  return "?";
}

/**
 * The transforms of a strategy string, e.g. "color_crop_cutout_flip_scale_rotate"; "" or "none" is no
 * augmentation.
 * @throw invalid_argument naming an unknown or repeated word (parse_transform_list)
 */
inline std::vector<DsaTransform> parse_dsa_strategy(std::string_view strategy) {
  static constexpr DsaTransform all[] = {DsaTransform::color, DsaTransform::crop,  DsaTransform::cutout,
                                         DsaTransform::flip,  DsaTransform::scale, DsaTransform::rotate};
  return parse_transform_list(strategy, all, dsa_name, "DSA strategy");
}

/**
 * The paper's strategy for a data set: all six groups, without flip for single-channel (digit-like) data, where a
 * mirrored image is a different or an impossible symbol.
 */
inline std::string default_dsa_strategy(std::size_t channels) {
  return channels == 1 ? "color_crop_cutout_scale_rotate" : "color_crop_cutout_flip_scale_rotate";
}

/// The strengths of the transforms (the paper code's ParamDiffAug, with its defaults).
struct DsaParams {
  double prob_flip = 0.5;
  double ratio_scale = 1.2;       //!< scale factors uniform in [1/ratio, ratio]
  double ratio_rotate = 15.0;     //!< degrees, uniform in [−ratio, ratio]
  double ratio_crop_pad = 0.125;  //!< largest shift as a fraction of the side
  double ratio_cutout = 0.5;      //!< side of the cut square as a fraction of the image side
  double brightness = 1.0;        //!< b uniform in [−brightness/2, brightness/2]
  double saturation = 2.0;        //!< factor uniform in [0, saturation]
  double contrast = 0.5;          //!< factor uniform in [contrast, contrast + 1]

  //! @throw invalid_argument naming the first strength out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(prob_flip >= 0 && prob_flip <= 1, where, ": prob_flip is ", prob_flip, ", expected a value in [0, 1]");
    DISTILL_CHECK(ratio_scale >= 1 && std::isfinite(ratio_scale), where, ": ratio_scale is ", ratio_scale,
                  ", expected a finite ratio >= 1");
    DISTILL_CHECK(ratio_rotate >= 0 && ratio_rotate <= 180, where, ": ratio_rotate is ", ratio_rotate,
                  ", expected degrees in [0, 180]");
    DISTILL_CHECK(ratio_crop_pad >= 0 && ratio_crop_pad < 1, where, ": ratio_crop_pad is ", ratio_crop_pad,
                  ", expected a fraction in [0, 1)");
    DISTILL_CHECK(ratio_cutout >= 0 && ratio_cutout <= 1, where, ": ratio_cutout is ", ratio_cutout,
                  ", expected a fraction in [0, 1]");
    DISTILL_CHECK(brightness >= 0 && std::isfinite(brightness), where, ": brightness is ", brightness, ", expected >= 0");
    DISTILL_CHECK(saturation >= 0 && std::isfinite(saturation), where, ": saturation is ", saturation, ", expected >= 0");
    DISTILL_CHECK(contrast >= 0 && std::isfinite(contrast), where, ": contrast is ", contrast, ", expected >= 0");
  }
};

/**
 * One draw of DSA's random numbers: the group and the numbers it applies, either one set for every image of any
 * batch (siamese, count = 1) or one set per image (count = N). Applying the same draw to two batches applies the
 * same transform to both.
 */
struct DsaDraw {
  DsaTransform transform = DsaTransform::color;
  std::size_t count = 1;  //!< 1: shared by every image; otherwise the batch size it was drawn for
  // color: brightness offset, saturation factor, contrast factor
  std::vector<double> brightness{0.0}, saturation{1.0}, contrast{1.0};
  // crop: shifts in pixels (content moves down / right by these)
  std::vector<long> shift_y{0}, shift_x{0};
  // cutout: first row / column and side of the zeroed square (clipped to the image)
  std::vector<long> cut_y{0}, cut_x{0};
  std::size_t cut_h = 0, cut_w = 0;
  // flip
  std::vector<char> flip{0};
  // scale: factors of the source coordinates (the paper's θ = diag(sx, sy))
  std::vector<double> scale_x{1.0}, scale_y{1.0};
  // rotate: angle in radians
  std::vector<double> angle{0.0};

  //! A draw that changes nothing, for the given group (tests; the identity at zero strength).
  static DsaDraw identity(DsaTransform t) {
    DsaDraw d;
    d.transform = t;
    return d;
  }
};

/**
 * Differentiable siamese augmentation over a strategy.
 *
 * @code
 * dd::synthetic::Dsa dsa{"color_crop_cutout_scale_rotate"};
 * const auto d = dsa.draw(ctx.rng, 28, 28);          // once per class and step
 * auto real_aug = dsa.apply(real, d);                 // Tensor: no tape
 * auto syn_aug  = dsa.apply<B>(syn_var, d);           // on the tape: the gradient reaches the synthetic images
 * eval_options.augment = dsa.augmentation<float>();   // per-image DSA while training evaluation networks
 * @endcode
 */
class Dsa {
 public:
  explicit Dsa(std::string_view strategy = "color_crop_cutout_flip_scale_rotate", DsaParams params = {})
      : strategy_(parse_dsa_strategy(strategy)), name_(strategy), params_(params) {
    params_.validate("Dsa");
  }

  const std::vector<DsaTransform>& transforms() const { return strategy_; }
  const std::string& strategy() const { return name_; }
  const DsaParams& params() const { return params_; }
  //! True when the strategy has no transform: apply() returns its input.
  bool empty() const { return strategy_.empty(); }

  /**
   * Draws a group and its numbers for h × w images: one set for all images when count = 1 (siamese), else one per
   * image of a batch of `count`.
   */
  DsaDraw draw(Rng& rng, std::size_t h, std::size_t w, std::size_t count = 1) const {
    DISTILL_CHECK(count > 0, "Dsa::draw(): count is 0, expected 1 (siamese) or the batch size");
    DsaDraw d;
    d.count = count;
    if (strategy_.empty()) return d;
    d.transform = strategy_[strategy_.size() == 1 ? 0 : rng.uniform_int(strategy_.size())];
    const auto& p = params_;
    auto each = [&](auto& v, auto f) {
      v.resize(count);
      for (auto& x : v) x = f();
    };
    switch (d.transform) {
      case DsaTransform::color:
        each(d.brightness, [&] { return (rng.uniform() - 0.5) * p.brightness; });
        each(d.saturation, [&] { return rng.uniform() * p.saturation; });
        each(d.contrast, [&] { return rng.uniform() + p.contrast; });
        break;
      case DsaTransform::crop: {
        const long sy = long(double(h) * p.ratio_crop_pad + 0.5), sx = long(double(w) * p.ratio_crop_pad + 0.5);
        each(d.shift_y, [&] { return long(rng.uniform_int(std::uint64_t(2 * sy + 1))) - sy; });
        each(d.shift_x, [&] { return long(rng.uniform_int(std::uint64_t(2 * sx + 1))) - sx; });
        break;
      }
      case DsaTransform::cutout: {
        // The paper's centre is uniform in [0, side + (1 − size mod 2)); the square starts size / 2 before it.
        d.cut_h = std::size_t(double(h) * p.ratio_cutout + 0.5);
        d.cut_w = std::size_t(double(w) * p.ratio_cutout + 0.5);
        each(d.cut_y, [&] { return long(rng.uniform_int(h + (1 - d.cut_h % 2))) - long(d.cut_h / 2); });
        each(d.cut_x, [&] { return long(rng.uniform_int(w + (1 - d.cut_w % 2))) - long(d.cut_w / 2); });
        break;
      }
      case DsaTransform::flip:
        each(d.flip, [&] { return char(rng.uniform() < p.prob_flip ? 1 : 0); });
        break;
      case DsaTransform::scale:
        each(d.scale_x, [&] { return rng.uniform() * (p.ratio_scale - 1.0 / p.ratio_scale) + 1.0 / p.ratio_scale; });
        each(d.scale_y, [&] { return rng.uniform() * (p.ratio_scale - 1.0 / p.ratio_scale) + 1.0 / p.ratio_scale; });
        break;
      case DsaTransform::rotate:
        each(d.angle, [&] { return (rng.uniform() - 0.5) * 2.0 * p.ratio_rotate / 180.0 * std::numbers::pi; });
        break;
    }
    return d;
  }

  /**
   * Applies a draw to x [N, C, H, W] with differentiable ops: on a tape, the gradient flows back to x.
   * @throw invalid_argument when x is not NCHW or the draw was made for another batch size
   */
  template <Backend B>
  ad::Var<B> apply(const ad::Var<B>& x, const DsaDraw& d) const {
    using T = typename B::Scalar;
    DISTILL_CHECK(x.rank() == 4, "Dsa::apply(): x has shape ", show(x.shape()), ", expected [N, C, H, W]");
    const std::size_t n = x.shape(0), h = x.shape(2), w = x.shape(3);
    DISTILL_CHECK(d.count == 1 || d.count == n, "Dsa::apply(): the draw was made for ", d.count,
                  " images, but the batch has ", n, "; draw with count 1 for a siamese draw");
    if (strategy_.empty()) return x;
    const std::size_t k = d.count;
    // A per-image constant [k, 1, 1, 1] (broadcast over a batch when k = 1).
    auto per_image = [&](const std::vector<double>& v) {
      Tensor<T> t({k, 1, 1, 1});
      for (std::size_t i = 0; i < k; ++i) t[i] = T(v[i]);
      return ad::Var<B>(std::move(t));
    };
    switch (d.transform) {
      case DsaTransform::color: {
        ad::Var<B> y = ad::add(x, per_image(d.brightness));
        const ad::Var<B> mc = ad::mean(y, {1}, true);
        y = ad::add(ad::mul(ad::sub(y, mc), per_image(d.saturation)), mc);
        const ad::Var<B> m = ad::mean(y, {1, 2, 3}, true);
        return ad::add(ad::mul(ad::sub(y, m), per_image(d.contrast)), m);
      }
      case DsaTransform::crop:
        return ad::translate(x, d.shift_y, d.shift_x);
      case DsaTransform::cutout: {
        Tensor<T> mask({k, 1, h, w}, T(1));
        for (std::size_t i = 0; i < k; ++i)
          for (long r = std::max(0L, d.cut_y[i]); r < std::min(long(h), d.cut_y[i] + long(d.cut_h)); ++r)
            for (long c = std::max(0L, d.cut_x[i]); c < std::min(long(w), d.cut_x[i] + long(d.cut_w)); ++c)
              mask[(i * h + std::size_t(r)) * w + std::size_t(c)] = T(0);
        return ad::mul(x, ad::Var<B>(std::move(mask)));
      }
      case DsaTransform::flip:
        return ad::flip_width(x, d.flip);
      case DsaTransform::scale:
      case DsaTransform::rotate: {
        Tensor<T> theta({k, 2, 3});
        for (std::size_t i = 0; i < k; ++i) {
          T* t = theta.data() + i * 6;
          if (d.transform == DsaTransform::scale) {
            t[0] = T(d.scale_x[i]);
            t[4] = T(d.scale_y[i]);
          } else {  // the paper's θ = [[cos, −sin, 0], [sin, cos, 0]]
            t[0] = T(std::cos(d.angle[i]));
            t[1] = T(-std::sin(d.angle[i]));
            t[3] = T(std::sin(d.angle[i]));
            t[4] = T(std::cos(d.angle[i]));
          }
        }
        return ad::grid_sample(x, ad::affine_grid(theta, h, w));
      }
    }
    return x;
  }

  //! The same on a plain tensor (no tape), with the default backend of its precision.
  template <std::floating_point T>
  Tensor<T> apply(const Tensor<T>& x, const DsaDraw& d) const {
    return apply<DefaultBackend<T>>(ad::Var<DefaultBackend<T>>(x), d).value();
  }

  /**
   * Per-image DSA as an augmentation for training networks on a set (eval::ProtocolOptions::augment, as the DSA,
   * DM and MTT papers evaluate): every call draws a group and one set of numbers per image.
   */
  template <std::floating_point T>
  std::function<Tensor<T>(const Tensor<T>&, Rng&)> augmentation() const {
    return [dsa = *this](const Tensor<T>& x, Rng& rng) {
      DISTILL_CHECK(x.rank() == 4, "Dsa augmentation: the batch has shape ", show(x.shape()), ", expected [N, C, H, W]");
      if (dsa.empty() || x.shape(0) == 0) return x;
      return dsa.apply(x, dsa.draw(rng, x.shape(2), x.shape(3), x.shape(0)));
    };
  }

 private:
  std::vector<DsaTransform> strategy_;
  std::string name_;
  DsaParams params_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_DSA_HPP
