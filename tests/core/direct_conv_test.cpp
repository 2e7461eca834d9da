// SPDX-License-Identifier: MIT
// Tests for include/distill/core/detail/direct_conv.hpp: the im2col-free stride-1 convolution of layers with few
// taps (LeNet's and ConvNet's first layers) against a convolution and a weight gradient written from their
// definitions, in float and double, over geometries that reach every register-block size (1–8 output channels
// left over), padding and none, H ≠ W, and several channels; the weight gradient with the output channels in the
// lanes; the input gradient; the short-row copy of its padding and staging; plus the rules that pick the paths.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "distill/core/detail/direct_conv.hpp"
#include "distill/core/rng.hpp"
#include "support/conv_reference.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;

namespace {

struct Case {
  std::size_t channels, height, width, kernel_h, kernel_w, pad_h, pad_w, out_channels;
};

dd::ConvGeometry geometry(const Case& c) {
  return dd::ConvGeometry{1, c.channels, c.height, c.width, c.kernel_h, c.kernel_w, 1, 1, c.pad_h, c.pad_w};
}

}  // namespace

TEMPLATE_TEST_CASE("DirectConv forward and weight gradient match their definitions", "[core][conv][direct]", float,
                   double) {
  using T = TestType;
  const Case c = GENERATE(Case{1, 28, 28, 5, 5, 2, 2, 6},    // LeNet conv1 (forward: a block of 6 or 4 + 2)
                          Case{1, 28, 28, 3, 3, 1, 1, 9},    // ConvNet conv1 shape, blocks of 8 + 1 (or 4, 4, 1)
                          Case{2, 6, 6, 3, 3, 1, 1, 15},     // forward blocks of 8 + 7 (or 4, 4, 4, 3)
                          Case{2, 7, 11, 3, 2, 0, 1, 3},     // H ≠ W, unequal kernel and padding, block of 3
                          Case{3, 5, 6, 3, 3, 1, 0, 4},      // 27 taps: odd, so the one-tap weight pass runs
                          Case{1, 4, 4, 1, 1, 0, 0, 5});     // 1×1 kernel
  const dd::ConvGeometry g = geometry(c);
  REQUIRE(dd::detail::DirectConv<T>::applies(g));
  const std::size_t oh = g.out_h(), ow = g.out_w(), taps = g.col_rows(), o = c.out_channels;
  const auto x = random_values<T>(c.channels * c.height * c.width, 1);
  const auto w = random_values<T>(o * taps, 2);
  const auto bias = random_values<T>(o, 3);
  const auto dy = random_values<T>(o * oh * ow, 4);

  const dd::detail::DirectConv<T> direct(g, o);
  std::vector<T> scratch(direct.scratch_size(), T(std::nan("")));  // the kernel must not read scratch it did not write
  std::vector<T> y(o * oh * ow);
  direct.forward(x.data(), w.data(), bias.data(), y.data(), scratch.data());
  std::vector<T> dw(o * taps, T(0.5));  // accumulates: starts from a non-zero gradient
  direct.accumulate_weight_grad(x.data(), dy.data(), dw.data(), scratch.data());

  const double tol = Tolerances<T>::value;
  for (std::size_t f = 0; f < o; ++f)
    for (std::size_t i = 0; i < oh; ++i)
      for (std::size_t j = 0; j < ow; ++j) {
        double s = double(bias[f]);
        for (std::size_t ch = 0, t = 0; ch < c.channels; ++ch)
          for (std::size_t ky = 0; ky < c.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < c.kernel_w; ++kx, ++t) s += double(w[f * taps + t]) * padded_at(g, x, 0, ch, i + ky, j + kx);
        INFO("forward at channel " << f << ", (" << i << ", " << j << ")");
        REQUIRE(std::abs(double(y[(f * oh + i) * ow + j]) - s) <= tol * (1 + std::abs(s)) * double(taps));
      }
  for (std::size_t f = 0; f < o; ++f)
    for (std::size_t ch = 0, t = 0; ch < c.channels; ++ch)
      for (std::size_t ky = 0; ky < c.kernel_h; ++ky)
        for (std::size_t kx = 0; kx < c.kernel_w; ++kx, ++t) {
          double s = 0.5;
          for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j) s += double(dy[(f * oh + i) * ow + j]) * padded_at(g, x, 0, ch, i + ky, j + kx);
          INFO("weight gradient at channel " << f << ", tap " << t);
          REQUIRE(std::abs(double(dw[f * taps + t]) - s) <= tol * (1 + std::abs(s)) * double(oh * ow));
        }

  // Lane-wise sums over two samples (the same one twice), added up once: twice the gradient on top of 0.5.
  using Direct = dd::detail::DirectConv<T>;
  std::vector<T> lanes(o * taps * Direct::lanes(), T(0)), dw2(o * taps, T(0.5));
  for (int sample = 0; sample < 2; ++sample)
    direct.accumulate_weight_grad_lanes(x.data(), dy.data(), lanes.data(), scratch.data());
  Direct::sum_lanes(lanes.data(), dw2.data(), o * taps);
  for (std::size_t i = 0; i < o * taps; ++i) {
    const double expected = 0.5 + 2 * (double(dw[i]) - 0.5);
    INFO("lane-wise weight gradient at " << i);
    REQUIRE(std::abs(double(dw2[i]) - expected) <= tol * (1 + std::abs(expected)) * double(oh * ow));
  }
}

TEMPLATE_TEST_CASE("DirectConv weight gradient with the output channels in the lanes matches its definition",
                   "[core][conv][direct]", float, double) {
  using T = TestType;
  using D = dd::detail::DirectConv<T>;
  const Case c = GENERATE(Case{6, 14, 14, 5, 5, 0, 0, 16},   // LeNet conv2: no padding, read in place
                          Case{2, 8, 7, 7, 5, 2, 1, 32},     // padded, 7 kernel rows: a block of 5 (or 2) and the rest
                          Case{8, 6, 9, 3, 3, 1, 1, 16});    // 3-wide kernel, 72 taps
  const dd::ConvGeometry g = geometry(c);
  const D direct(g, c.out_channels);
  REQUIRE(D::applies(g));
  REQUIRE(direct.by_channel());
  const std::size_t oh = g.out_h(), ow = g.out_w(), taps = g.col_rows(), o = c.out_channels;
  const auto x = random_values<T>(c.channels * c.height * c.width, 7);
  const auto dy = random_values<T>(o * oh * ow, 8);
  std::vector<T> scratch(direct.scratch_size(), T(std::nan("")));
  // Two samples (the same one twice) into the transposed sums, added once to a non-zero gradient.
  std::vector<T> dwt(taps * o, T(0)), dw(o * taps, T(0.5));
  for (int sample = 0; sample < 2; ++sample)
    direct.accumulate_weight_grad_by_channel(x.data(), dy.data(), dwt.data(), scratch.data());
  D::add_transposed(dwt.data(), dw.data(), o, taps);
  for (std::size_t f = 0; f < o; ++f)
    for (std::size_t ch = 0, t = 0; ch < c.channels; ++ch)
      for (std::size_t ky = 0; ky < c.kernel_h; ++ky)
        for (std::size_t kx = 0; kx < c.kernel_w; ++kx, ++t) {
          double s = 0;
          for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j) s += double(dy[(f * oh + i) * ow + j]) * padded_at(g, x, 0, ch, i + ky, j + kx);
          const double expected = 0.5 + 2 * s;
          INFO("weight gradient at channel " << f << ", tap " << t);
          REQUIRE(std::abs(double(dw[f * taps + t]) - expected) <=
                  Tolerances<T>::value * (1 + std::abs(expected)) * double(oh * ow));
        }
}

TEMPLATE_TEST_CASE("DirectConv::input_grad is the input gradient", "[core][conv][direct]", float, double) {
  using T = TestType;
  using D = dd::detail::DirectConv<T>;
  const Case c = GENERATE(Case{6, 14, 14, 5, 5, 0, 0, 16},  // LeNet conv2: 150 taps, 9 blocks of 8 taps and 6
                          Case{1, 28, 28, 5, 5, 2, 2, 6},   // LeNet conv1
                          Case{2, 7, 11, 3, 2, 0, 1, 3});   // H ≠ W, unequal kernel and padding
  const dd::ConvGeometry g = geometry(c);
  const std::size_t oh = g.out_h(), ow = g.out_w(), o = c.out_channels, kh = c.kernel_h, kw = c.kernel_w;
  REQUIRE(D::input_grad_applies(g, o));
  const auto w = random_values<T>(o * c.channels * kh * kw, 5);
  const auto dy = random_values<T>(o * oh * ow, 6);
  const D direct(g, o);
  std::vector<T> scratch(direct.input_grad_scratch_size(), T(std::nan("")));
  std::vector<T> dx(c.channels * c.height * c.width, T(std::nan("")));
  direct.input_grad(dy.data(), w.data(), dx.data(), scratch.data());
  // dx[c][h][w] = Σ_{o, i, j} dy[o][i][j] · w[o][c][h + pad − i][w + pad − j] over the taps that exist.
  std::vector<double> expect(dx.size());  // zeros
  for (std::size_t f = 0; f < o; ++f)
    for (std::size_t i = 0; i < oh; ++i)
      for (std::size_t j = 0; j < ow; ++j)
        for (std::size_t ch = 0; ch < c.channels; ++ch)
          for (std::size_t ky = 0; ky < kh; ++ky)
            for (std::size_t kx = 0; kx < kw; ++kx) {
              const long h = long(i + ky) - long(c.pad_h), v = long(j + kx) - long(c.pad_w);
              if (h < 0 || v < 0 || h >= long(c.height) || v >= long(c.width)) continue;
              expect[(ch * c.height + std::size_t(h)) * c.width + std::size_t(v)] +=
                  double(dy[(f * oh + i) * ow + j]) * double(w[((f * c.channels + ch) * kh + ky) * kw + kx]);
            }
  for (std::size_t k = 0; k < dx.size(); ++k) {
    INFO("input gradient at " << k);
    REQUIRE(std::abs(double(dx[k]) - expect[k]) <= Tolerances<T>::value * (1 + std::abs(expect[k])) * double(o * kh * kw));
  }
}

TEST_CASE("DirectConv takes stride 1 with at most 512 taps and leaves the rest to im2col + GEMM", "[core][conv][direct]") {
  using D = dd::detail::DirectConv<float>;
  CHECK(D::applies(dd::ConvGeometry{8, 1, 28, 28, 5, 5, 1, 1, 2, 2}));          // LeNet conv1: 25 taps
  CHECK(D::applies(dd::ConvGeometry{8, 6, 14, 14, 5, 5, 1, 1, 0, 0}));          // LeNet conv2: 150 taps
  CHECK_FALSE(D::applies(dd::ConvGeometry{8, 128, 14, 14, 3, 3, 1, 1, 1, 1}));  // ConvNet's 128-channel layers
  CHECK_FALSE(D::applies(dd::ConvGeometry{8, 1, 28, 28, 3, 3, 2, 2, 1, 1}));    // stride 2
  CHECK_FALSE(D::applies(dd::ConvGeometry{8, 1, 9, 9, 3, 3, 1, 1, 3, 3}));      // padding ≥ kernel
  // The weight gradient puts output channels in the lanes for LeNet conv2 (16 channels, 150 taps), not for
  // conv1 (6 channels) nor ConvNet's first layer (9 taps: transposing dy would cost more than it saves) where
  // packs have 4 lanes or more (a scalar build, DISTILL_NO_SIMD, takes every layer with ≥ 4 taps: lanes of one).
  CHECK(D(dd::ConvGeometry{8, 6, 14, 14, 5, 5, 1, 1, 0, 0}, 16).by_channel());
  if (D::lanes() >= 4) {
    CHECK_FALSE(D(dd::ConvGeometry{8, 1, 28, 28, 5, 5, 1, 1, 2, 2}, 6).by_channel());
    CHECK_FALSE(D(dd::ConvGeometry{8, 1, 28, 28, 3, 3, 1, 1, 1, 1}, 128).by_channel());
  }
  // Built for a geometry it does not take, it refuses instead of computing garbage.
  CHECK_THROWS_WITH(D(dd::ConvGeometry{8, 128, 14, 14, 3, 3, 1, 1, 1, 1}, 128), Catch::Matchers::Contains("1152 taps"));
}

TEMPLATE_TEST_CASE("copy_row copies rows of every length exactly and writes nothing past them", "[core][conv][direct]",
                   float, double) {
  using T = TestType;
  // Every length from 0 to past three packs: whole packs, the overlapping last pack, half and quarter packs, and the
  // scalar rest below them.
  for (std::size_t n = 0; n <= 3 * 16 + 5; ++n) {
    CAPTURE(n);
    std::vector<T> src(n), dst(n + 16, T(-1));
    for (std::size_t k = 0; k < n; ++k) src[k] = T(k) + T(0.5);
    dd::detail::copy_row(src.data(), n, dst.data());
    for (std::size_t k = 0; k < n; ++k) REQUIRE(dst[k] == src[k]);
    for (std::size_t k = n; k < dst.size(); ++k) REQUIRE(dst[k] == T(-1));
  }
}
