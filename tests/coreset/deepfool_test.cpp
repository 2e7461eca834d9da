// SPDX-License-Identifier: MIT
// coreset/deepfool.hpp and the view's input Jacobian: for a linear proxy the Jacobian is its weight matrix and
// DeepFool's margin has a closed form, (1 + overshoot)(|z_l − z_ŷ| + 1e-4) / ‖w_l − w_ŷ‖ minimised over l; for a
// ReLU network, the perturbation found flips the prediction.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>

#include "distill/coreset.hpp"
#include "distill/coreset/deepfool.hpp"
#include "distill/nn.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;

TEST_CASE("DeepFool on a linear proxy: the closed-form margin, smallest first", "[coreset]") {
  const auto data = coreset_test::bytes_data(30, 3, 21);
  cs::SelectionView<float> view(data, nn::Mlp{.widths = {16, 3}}, {.proxy_epochs = 1, .batch_size = 8, .lr = 0.02});
  const auto& x = view.standardized();
  const auto& p = view.proxy(0).params;  // fc0.weight [3, 16], fc0.bias [3]
  distill::Tensor<float> logits;
  std::vector<distill::Tensor<float>> jac;
  view.input_jacobian(x.images.rows(0, 4), logits, jac);
  REQUIRE(jac.size() == 3);
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t q = 0; q < 16; ++q) CHECK(jac[c][i * 16 + q] == Approx(p.tensors[0][c * 16 + q]).margin(1e-6));

  const double overshoot = 0.02;
  std::vector<double> margin(30);
  for (std::size_t i = 0; i < 30; ++i) {
    double z[3];
    for (std::size_t c = 0; c < 3; ++c) {
      z[c] = p.tensors[1][c];
      for (std::size_t q = 0; q < 16; ++q) z[c] += double(p.tensors[0][c * 16 + q]) * x.images[i * 16 + q];
    }
    const std::size_t y = std::size_t(std::max_element(z, z + 3) - z);
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < 3; ++c) {
      if (c == y) continue;
      double w2 = 0;
      for (std::size_t q = 0; q < 16; ++q) w2 += std::pow(double(p.tensors[0][c * 16 + q]) - p.tensors[0][y * 16 + q], 2);
      best = std::min(best, (std::abs(z[c] - z[y]) + 1e-4) / std::sqrt(w2));
    }
    margin[i] = (1 + overshoot) * best;
  }
  const auto m = cs::deepfool_margins(view, 50, overshoot, 7);
  for (std::size_t i = 0; i < 30; ++i) CHECK(m[i] == Approx(margin[i]).epsilon(1e-3));
  const auto s = cs::DeepFool{.overshoot = overshoot}.select(view, {.images_per_class = 3});
  for (std::int64_t c = 0; c < 3; ++c) {
    auto idx = data.indices_of_class(c);
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return m[a] < m[b]; });
    for (std::size_t t = 0; t < 3; ++t) CHECK(s.indices[std::size_t(c) * 3 + t] == idx[t]);
  }
}

TEST_CASE("DeepFool on a ReLU proxy: each perturbation flips the prediction", "[coreset]") {
  const auto data = coreset_test::bytes_data(24, 3, 22);
  cs::SelectionView<float> view(data, nn::Mlp{.widths = {16, 8, 3}}, {.proxy_epochs = 2, .batch_size = 8, .lr = 0.02});
  const auto m = cs::deepfool_margins(view, 50, 0.02, 256);
  for (double v : m) CHECK((v > 0 && std::isfinite(v)));
  const auto s = cs::DeepFool{}.select(view, {.fraction = 0.25});
  CHECK(s.size() == 6);
  CHECK(std::is_sorted(s.scores.begin(), s.scores.end()));
  CHECK_THROWS_WITH(cs::DeepFool{}.select(*std::make_unique<cs::SelectionView<float>>(data), {.images_per_class = 1}),
                    Catch::Contains("needs a proxy model"));
}
