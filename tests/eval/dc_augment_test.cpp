// SPDX-License-Identifier: MIT
// eval::DcAugment: the DC protocol's crop / scale / rotate / noise, one transform per image, the paper code's rules.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "distill/eval.hpp"
#include "distill/nn.hpp"
#include "support/backends.hpp"

namespace eval = distill::eval;
using distill::Rng;
using distill::Shape;
using distill::Tensor;

namespace {
// n images [n, c, h, w] whose pixel (r, q) of channel ch holds a value unique to it: 1 + (ch * h + r) * w + q.
Tensor<double> numbered(std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  Tensor<double> x(Shape{n, c, h, w});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < c * h * w; ++k) x.data()[i * c * h * w + k] = double(1 + k);
  return x;
}
double pixel(const Tensor<double>& x, std::size_t i, std::size_t ch, std::size_t r, std::size_t q) {
  return x.data()[((i * x.shape(1) + ch) * x.shape(2) + r) * x.shape(3) + q];
}
// The whole-pixel shift (dr, dq) with mean fill that turns image i of x into image i of y, if there is one.
bool is_shift(const Tensor<double>& x, const Tensor<double>& y, std::size_t i, const std::vector<double>& mean, int pad) {
  const auto c = x.shape(1), h = x.shape(2), w = x.shape(3);
  for (int dr = -pad; dr < pad; ++dr)
    for (int dq = -pad; dq < pad; ++dq) {
      bool all = true;
      for (std::size_t ch = 0; ch < c && all; ++ch)
        for (std::size_t r = 0; r < h && all; ++r)
          for (std::size_t q = 0; q < w && all; ++q) {
            const int sr = int(r) + dr, sq = int(q) + dq;
            const double want = sr >= 0 && sr < int(h) && sq >= 0 && sq < int(w) ? pixel(x, i, ch, std::size_t(sr), std::size_t(sq)) : mean[ch];
            all = pixel(y, i, ch, r, q) == want;
          }
      if (all) return true;
    }
  return false;
}
}  // namespace

TEST_CASE("parse_dc_strategy reads the paper code's words and names a wrong one", "[eval][dc_augment]") {
  using eval::DcTransform;
  CHECK(eval::parse_dc_strategy("crop_scale_rotate") == std::vector{DcTransform::crop, DcTransform::scale, DcTransform::rotate});
  CHECK(eval::parse_dc_strategy("noise") == std::vector{DcTransform::noise});
  CHECK(eval::parse_dc_strategy("none").empty());
  CHECK(eval::parse_dc_strategy("").empty());
  CHECK_THROWS_WITH(eval::parse_dc_strategy("crop_flip"), Catch::Contains("unknown transform 'flip'"));
  CHECK_THROWS_WITH(eval::parse_dc_strategy("crop_crop"), Catch::Contains("names transform 'crop' twice"));
  CHECK_THROWS_WITH(eval::DcAugment("crop", {.scale = 1.5}), Catch::Contains("scale must be in [0, 1)"));
  CHECK(eval::default_dc_strategy("mnist") == "crop_scale_rotate");
  CHECK(eval::default_dc_strategy("fashion") == "none");
  CHECK(eval::default_dc_strategy("/data/cifar-10-batches-bin") == "none");
  CHECK(eval::DcAugment("rotate_crop").strategy() == "rotate_crop");
  CHECK(eval::DcAugment("none").empty());
}

TEST_CASE("DcAugment crop: a whole-pixel shift of -crop to crop - 1 pixels, the batch's channel mean as fill", "[eval][dc_augment]") {
  const auto x = numbered(40, 2, 9, 7);
  std::vector<double> mean(2);
  for (std::size_t ch = 0; ch < 2; ++ch) mean[ch] = 1 + double(ch * 63) + 31;  // mean of 1 + ch·63 + (0..62)
  Rng rng(3);
  const auto y = eval::DcAugment("crop", {.crop = 3}).apply(x, rng);
  REQUIRE(y.shape() == x.shape());
  std::size_t shifted = 0, moved = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    shifted += is_shift(x, y, i, mean, 3);
    moved += pixel(y, i, 0, 4, 3) != pixel(x, i, 0, 4, 3);
  }
  CHECK(shifted == 40);
  CHECK(moved > 30);  // 1 in 36 draws is the zero shift
}

TEST_CASE("DcAugment scale: nearest-neighbour resize by the paper code's rule, centred, zero outside", "[eval][dc_augment]") {
  const std::size_t h = 10, w = 10;
  const auto x = numbered(1, 1, h, w);
  SECTION("scale 0 is the identity") {
    Rng rng(1);
    const auto y = eval::DcAugment("scale", {.scale = 0.0}).apply(x, rng);
    CHECK(distill::max_abs_diff(x, y) == 0);
  }
  SECTION("every draw: rows and columns read monotone sources, shrinking leaves a zero border") {
    Rng rng(5);
    const eval::DcAugment aug("scale", {.scale = 0.4});
    std::size_t with_border = 0;
    for (int draw = 0; draw < 50; ++draw) {
      const auto y = aug.apply(x, rng);
      long last_row = -1;
      for (std::size_t r = 0; r < h; ++r) {
        long row = -1, last_col = -1;
        for (std::size_t q = 0; q < w; ++q) {
          const double v = pixel(y, 0, 0, r, q);
          if (v == 0) continue;
          const long src = long(v) - 1, sr = src / long(w), sq = src % long(w);
          CHECK((row == -1 || row == sr));  // one source row per output row
          row = sr;
          CHECK(sq >= last_col);  // columns move forward (or repeat when enlarging)
          last_col = sq;
        }
        if (row >= 0) {
          CHECK(row >= last_row);
          last_row = row;
        }
      }
      with_border += pixel(y, 0, 0, 0, 0) == 0 || pixel(y, 0, 0, h - 1, w - 1) == 0;
    }
    CHECK(with_border > 10);
  }
}

TEST_CASE("DcAugment rotate: about the centre, bilinear, filled with the mean", "[eval][dc_augment]") {
  const std::size_t s = 21;
  // A radially symmetric blob plus a small asymmetric ramp: rotation keeps the blob and moves the ramp.
  Tensor<double> blob(Shape{1, 1, s, s}), ramp(Shape{1, 1, s, s});
  for (std::size_t r = 0; r < s; ++r)
    for (std::size_t q = 0; q < s; ++q) {
      const double y = double(r) - 10, x = double(q) - 10;
      blob.data()[r * s + q] = std::exp(-(x * x + y * y) / 18);
      ramp.data()[r * s + q] = x;
    }
  Rng rng(7);
  const eval::DcAugment aug("rotate", {.rotate = 45});
  for (int draw = 0; draw < 20; ++draw) {
    const auto y = aug.apply(blob, rng);
    double err = 0;
    for (std::size_t r = 0; r < s; ++r)
      for (std::size_t q = 0; q < s; ++q)
        if ((double(r) - 10) * (double(r) - 10) + (double(q) - 10) * (double(q) - 10) <= 100)  // the corners read the fill
          err = std::max(err, std::abs(y.data()[r * s + q] - blob.data()[r * s + q]));
    CHECK(err < 0.03);  // bilinear error on a blob of width 3 px
    CHECK(pixel(y, 0, 0, 10, 10) == Approx(1.0));  // the centre stays
  }
  // The ramp x rotated by θ reads x cos θ + y sin θ near the centre: the angles drawn are integers in [-45, 45).
  std::set<long> angles;
  for (int draw = 0; draw < 200; ++draw) {
    const auto y = aug.apply(ramp, rng);
    const double c = pixel(y, 0, 0, 10, 11) - pixel(y, 0, 0, 10, 10);  // d/dx = cos θ
    const double sn = pixel(y, 0, 0, 11, 10) - pixel(y, 0, 0, 10, 10);  // d/dy = ±sin θ
    const double degrees = std::atan2(sn, c) * 180 / 3.141592653589793;
    CHECK(std::abs(degrees - std::round(degrees)) < 1e-6);
    angles.insert(std::lround(std::abs(degrees)));
    CHECK(std::abs(degrees) <= 45);
  }
  CHECK(angles.size() > 25);
}

TEST_CASE("DcAugment: one transform per image, each from the strategy, and the same seed gives the same batch", "[eval][dc_augment]") {
  const auto x = numbered(200, 1, 8, 8);
  const std::vector<double> mean{32.5};
  Rng rng(11);
  const eval::DcAugment aug("crop_noise", {.crop = 2, .noise = 0.01});
  const auto y = aug.apply(x, rng);
  std::size_t crops = 0, noisy = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    if (is_shift(x, y, i, mean, 2)) {
      ++crops;
      continue;
    }
    double d2 = 0;
    for (std::size_t k = 0; k < 64; ++k) d2 += std::pow(y.data()[i * 64 + k] - x.data()[i * 64 + k], 2);
    noisy += std::sqrt(d2 / 64) < 0.05 && d2 > 0;  // noise of std 0.01 only, no shift on top
  }
  CHECK(crops + noisy == 200);
  CHECK(crops > 70);
  CHECK(noisy > 70);
  Rng again(11);
  CHECK(distill::max_abs_diff(aug.apply(x, again), y) == 0);
  CHECK_THROWS_WITH(aug.apply(Tensor<double>(Shape{2, 64}), again), Catch::Contains("expected [N, C, H, W]"));
}

TEMPLATE_TEST_CASE("DcAugment plugs into the protocol as its augmentation", "[eval][dc_augment]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  // Two classes of 6x6 images: a bright left or right half. Crops and rotations keep the class readable.
  const std::size_t n = 20;
  distill::LabeledData<float> d{Tensor<float>(Shape{n, 1, 6, 6}), std::vector<std::int64_t>(n), 2};
  for (std::size_t i = 0; i < n; ++i) {
    d.labels[i] = std::int64_t(i % 2);
    for (std::size_t r = 0; r < 6; ++r)
      for (std::size_t q = 0; q < 6; ++q) d.images.data()[i * 36 + r * 6 + q] = (q < 3) == (i % 2 == 0) ? 1.f : -1.f;
  }
  const distill::nn::Mlp mlp{.widths = {36, 16, 2}};
  eval::ProtocolOptions<float> opt{.runs = 2, .epochs = 40, .batch_size = 10, .seed = 3};
  std::size_t calls = 0;
  const auto dc = eval::DcAugment("crop_rotate", {.crop = 1, .rotate = 10}).augmentation<float>();
  opt.augment = [&](const Tensor<float>& x, Rng& rng) {
    ++calls;
    return dc(x, rng);
  };
  const auto r = eval::train_from_scratch<B>(mlp, d, d, opt);
  CHECK(calls == 2 * 40 * 2);
  CHECK(r.mean > 0.9);
}
