// SPDX-License-Identifier: MIT
// Tests for include/distill/core/detail/winograd_conv.hpp: the F(2×2, 3×3) forward pass, input gradient and weight
// gradient against sums written from the convolution's definition, on every backend and precision, over
// geometries with even and odd output sizes (partial tiles), padding 0, 1 and 2, unequal padding, H ≠ W, one
// channel in or out, and batches that split into several chunks with a short last one; plus the path rule.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "distill/core/detail/winograd_conv.hpp"
#include "distill/core/rng.hpp"
#include "support/backends.hpp"
#include "support/conv_reference.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;

namespace winograd_conv_test {

struct Case {
  std::size_t batch, channels, height, width, pad_h, pad_w, out_channels;
};

}  // namespace winograd_conv_test

TEMPLATE_TEST_CASE("WinogradConv forward, input and weight gradients match their definitions", "[core][conv][winograd]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  using W = dd::detail::WinogradConv<B>;
  using winograd_conv_test::Case;
  const Case c = GENERATE(Case{2, 3, 6, 6, 1, 1, 5},     // even output: whole tiles
                          Case{3, 4, 7, 7, 1, 1, 3},     // ConvNet's 7×7 layer shape: the last tile row/column is half out
                          Case{2, 2, 5, 8, 0, 0, 2},     // no padding, H ≠ W: a 3×6 output
                          Case{1, 3, 4, 5, 2, 2, 2},     // padding 2: a 6×7 output
                          Case{2, 2, 6, 5, 1, 0, 3},     // unequal padding
                          Case{2, 1, 5, 5, 1, 1, 4},     // one input channel (ConvNet's first layer)
                          Case{2, 3, 5, 5, 1, 1, 1},     // one output channel
                          Case{50, 2, 6, 6, 1, 1, 2});   // 9 tiles a sample: chunks of 22, 22 and 6 samples
  const dd::ConvGeometry g{c.batch, c.channels, c.height, c.width, 3, 3, 1, 1, c.pad_h, c.pad_w};
  REQUIRE(W::applies(g));
  const std::size_t n = c.batch, ch = c.channels, o = c.out_channels, oh = g.out_h(), ow = g.out_w();
  const auto x = random_values<T>(n * ch * c.height * c.width, 1);
  const auto w = random_values<T>(o * ch * 9, 2);
  const auto bias = random_values<T>(o, 3);
  const auto dy = random_values<T>(n * o * oh * ow, 4);

  const W conv(g, o);
  // Outputs start as NaN: every element must be written, none accumulated into.
  std::vector<T> y(n * o * oh * ow, T(std::nan(""))), dx(x.size(), T(std::nan(""))), dw(w.size(), T(std::nan("")));
  conv.forward(x.data(), w.data(), bias.data(), y.data());
  conv.input_grad(dy.data(), w.data(), dx.data());
  conv.weight_grad(x.data(), dy.data(), dw.data());

  // Relative to the sum of |terms| (36 or so products of values ≤ 1, times the channels): a few ulps per term.
  const double tol = Tolerances<T>::value;
  auto w_at = [&](std::size_t f, std::size_t k, std::size_t ky, std::size_t kx) {
    return double(w[((f * ch + k) * 3 + ky) * 3 + kx]);
  };
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t f = 0; f < o; ++f)
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) {
          double sum = double(bias[f]), scale = 1;
          for (std::size_t k = 0; k < ch; ++k)
            for (std::size_t ky = 0; ky < 3; ++ky)
              for (std::size_t kx = 0; kx < 3; ++kx) {
                const double term = w_at(f, k, ky, kx) * padded_at(g, x, s, k, i + ky, j + kx);
                sum += term;
                scale += std::abs(term);
              }
          INFO("forward: sample " << s << ", channel " << f << ", (" << i << ", " << j << ")");
          REQUIRE(std::abs(double(y[((s * o + f) * oh + i) * ow + j]) - sum) <= tol * scale);
        }
  // dx[s, k, h, v] = Σ_{f, ky, kx} dy[s, f, h + pad − ky, v + pad − kx] · w[f, k, ky, kx] over outputs inside the map.
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t k = 0; k < ch; ++k)
      for (std::size_t h = 0; h < c.height; ++h)
        for (std::size_t v = 0; v < c.width; ++v) {
          double sum = 0, scale = 1;
          for (std::size_t f = 0; f < o; ++f)
            for (std::size_t ky = 0; ky < 3; ++ky)
              for (std::size_t kx = 0; kx < 3; ++kx) {
                const long i = long(h + c.pad_h) - long(ky), j = long(v + c.pad_w) - long(kx);
                if (i < 0 || j < 0 || i >= long(oh) || j >= long(ow)) continue;
                const double term = double(dy[((s * o + f) * oh + std::size_t(i)) * ow + std::size_t(j)]) * w_at(f, k, ky, kx);
                sum += term;
                scale += std::abs(term);
              }
          INFO("input gradient: sample " << s << ", channel " << k << ", (" << h << ", " << v << ")");
          REQUIRE(std::abs(double(dx[((s * ch + k) * c.height + h) * c.width + v]) - sum) <= tol * scale);
        }
  // dw[f, k, ky, kx] = Σ_{s, i, j} dy[s, f, i, j] · x_padded[s, k, i + ky, j + kx].
  for (std::size_t f = 0; f < o; ++f)
    for (std::size_t k = 0; k < ch; ++k)
      for (std::size_t ky = 0; ky < 3; ++ky)
        for (std::size_t kx = 0; kx < 3; ++kx) {
          double sum = 0, scale = 1;
          for (std::size_t s = 0; s < n; ++s)
            for (std::size_t i = 0; i < oh; ++i)
              for (std::size_t j = 0; j < ow; ++j) {
                const double term = double(dy[((s * o + f) * oh + i) * ow + j]) * padded_at(g, x, s, k, i + ky, j + kx);
                sum += term;
                scale += std::abs(term);
              }
          INFO("weight gradient: channel " << f << " from " << k << ", tap (" << ky << ", " << kx << ")");
          REQUIRE(std::abs(double(dw[((f * ch + k) * 3 + ky) * 3 + kx]) - sum) <= tol * scale);
        }
}

TEST_CASE("WinogradConv takes 3x3 stride-1 layers with padding below 3 and rejects the rest", "[core][conv][winograd]") {
  using W = dd::detail::WinogradConv<dd::EigenBackend<float>>;
  auto geo = [](std::size_t k, std::size_t stride, std::size_t pad) {
    return dd::ConvGeometry{4, 128, 14, 14, k, k, stride, stride, pad, pad};
  };
  CHECK(W::applies(geo(3, 1, 1)));  // ConvNet-3's 128 → 128 layers
  CHECK(W::applies(geo(3, 1, 0)));
  CHECK_FALSE(W::applies(geo(3, 2, 1)));  // strided
  CHECK_FALSE(W::applies(geo(5, 1, 2)));  // 5×5
  CHECK_FALSE(W::applies(geo(3, 1, 3)));  // padding as large as the kernel
  CHECK_FALSE(W::applies(dd::ConvGeometry{1, 2, 1, 1, 3, 3, 1, 1, 0, 0}));  // kernel larger than the input
  CHECK_THROWS_WITH(W(geo(3, 2, 1), 8), Catch::Matchers::Contains("stride 2x2"));
  CHECK_THROWS_WITH(W(geo(3, 1, 1), 0), Catch::Matchers::Contains("out_channels must be positive"));
}
