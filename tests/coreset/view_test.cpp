// SPDX-License-Identifier: MIT
// coreset/view.hpp: each part is built only when asked for (pixel-only selection trains no proxy), exact byte rows,
// probabilities, the closed-form last-layer gradient factors against the tape, training dynamics per epoch, the
// same seed giving the same view, and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "distill/coreset.hpp"
#include "distill/nn.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;
namespace ad = distill::ad;
using B = distill::DefaultBackend<float>;

TEST_CASE("SelectionView: pixels are exact bytes for 8-bit data, floats otherwise, no proxy is trained for them", "[coreset]") {
  const auto data = coreset_test::bytes_data(24, 3, 1);
  cs::SelectionView<float> view(data, nn::Mlp{.widths = {16, 8, 3}}, {.proxy_epochs = 2});
  const auto& px = view.pixels();
  CHECK(px.bytes());
  CHECK(px.rows() == 24);
  CHECK(px.dim() == 16);
  CHECK(px.row_bytes() == 16);
  const auto c = coreset_test::codes(data.images);
  CHECK(px.distance2(3, 17) == coreset_test::dist2(c[3], c[17]));  // exact integers
  CHECK(px.norm2(5) == coreset_test::dist2(c[5], std::vector<double>(16, 0.0)));
  CHECK(&view.features() == &view.pixels());
  (void)cs::KCenterGreedy{}.select(view, {.images_per_class = 2});
  (void)cs::Herding{}.select(view, {.images_per_class = 2});
  CHECK(view.proxies_trained() == 0);

  cs::SelectionView<float> cont(coreset_test::float_data(24, 3, 1));
  CHECK_FALSE(cont.pixels().bytes());
  CHECK(cont.pixels().row_bytes() == 64);
  CHECK_FALSE(cont.has_proxy());
  CHECK_THROWS_WITH(cont.probabilities(), Catch::Contains("needs a proxy model"));
  CHECK_THROWS_WITH(cs::Forgetting{}.select(cont, {.images_per_class = 1}), Catch::Contains("needs a proxy model"));
}

TEST_CASE("SelectionView: probabilities, gradient factors equal the tape's last-layer gradient, dynamics per epoch", "[coreset]") {
  const auto data = coreset_test::bytes_data(30, 3, 2);
  const nn::Mlp mlp{.widths = {16, 8, 3}};
  cs::SelectionView<float> view(data, mlp, {.features = cs::FeatureSource::embedding, .proxy_epochs = 4, .batch_size = 8, .lr = 0.05});
  const auto& p = view.probabilities();
  CHECK(view.proxies_trained() == 1);
  REQUIRE(p.shape() == distill::Shape{30, 3});
  for (std::size_t i = 0; i < 30; ++i) CHECK(p[3 * i] + p[3 * i + 1] + p[3 * i + 2] == Approx(1.0).epsilon(1e-5));
  CHECK(view.dynamics().size() == 4);
  CHECK(view.dynamics()[3].size() == 30);
  CHECK(view.embedding().shape() == distill::Shape{30, 8});
  CHECK(view.features().dim() == 8);
  CHECK_FALSE(view.features().bytes());

  const auto e = view.errors(), h = view.inputs();
  REQUIRE(h.shape() == distill::Shape{30, 9});
  const auto& run = view.proxy(0);
  const auto& x = view.standardized();
  for (std::size_t i : {0u, 7u, 29u}) {
    ad::Tape<B> tape;
    const auto theta = nn::variables(tape, run.params);
    const auto loss = nn::cross_entropy(mlp.forward<B>(theta, ad::Var<B>(x.images.rows(i, i + 1))), std::vector<std::int64_t>{x.labels[i]});
    const auto g = ad::grad(loss, theta);
    const auto& gw = g[2].value();  // fc1.weight [3, 8]
    const auto& gb = g[3].value();  // fc1.bias [3]
    for (std::size_t c = 0; c < 3; ++c) {
      CHECK(gb[c] == Approx(e[i * 3 + c]).margin(1e-5));
      for (std::size_t f = 0; f < 8; ++f) CHECK(gw[c * 8 + f] == Approx(e[i * 3 + c] * h[i * 9 + f]).margin(1e-5));
    }
    CHECK(h[i * 9 + 8] == 1.0f);
  }
  // Dynamics are the proxy's correctness at each epoch's end: the last epoch's agree with the final probabilities.
  std::size_t agree = 0;
  for (std::size_t i = 0; i < 30; ++i) {
    const float* r = p.data() + 3 * i;
    const bool right = std::size_t(std::max_element(r, r + 3) - r) == std::size_t(data.labels[i]);
    agree += right == bool(view.dynamics()[3][i]);
  }
  CHECK(agree == 30);

  cs::SelectionView<float> again(data, mlp, {.features = cs::FeatureSource::embedding, .proxy_epochs = 4, .batch_size = 8, .lr = 0.05});
  const auto& q = again.probabilities();
  CHECK(std::equal(p.begin(), p.end(), q.begin()));
}

TEST_CASE("SelectionView: several proxies are averaged, bad options and data are refused", "[coreset]") {
  const auto data = coreset_test::bytes_data(18, 3, 3);
  cs::SelectionView<float> view(data, nn::Mlp{.widths = {16, 4, 3}}, {.proxy_epochs = 1, .proxy_nets = 2});
  const auto& p = view.probabilities();
  CHECK(view.proxies_trained() == 2);
  for (std::size_t i = 0; i < p.size(); ++i)
    CHECK(p[i] == Approx((view.proxy(0).probabilities[i] + view.proxy(1).probabilities[i]) / 2).margin(1e-6));
  CHECK_THROWS_WITH(view.proxy(2), Catch::Contains("net 2 but proxy_nets is 2"));
  CHECK_THROWS_WITH(cs::SelectionView<float>(data, {.proxy_epochs = 0}), Catch::Contains("proxy_epochs is 0"));
  CHECK_THROWS_WITH(cs::SelectionView<float>(distill::LabeledData<float>{distill::Tensor<float>({0, 1, 4, 4}), {}, 3}),
                    Catch::Contains("the data are empty"));
  cs::SelectionView<float> linear(data, nn::Mlp{.widths = {16, 3}}, {.proxy_epochs = 1});
  CHECK(linear.inputs().shape() == distill::Shape{18, 17});  // one linear layer: h is the flattened input
}
