// SPDX-License-Identifier: MIT
// coreset/glister.hpp: the greedy picks of a naive GLISTER that keeps the last layer's weights explicitly, takes
// each simulated step on them and recomputes the validation gradient from scratch.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "distill/coreset.hpp"
#include "distill/coreset/glister.hpp"
#include "distill/nn.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;

TEST_CASE("Glister: the picks of the naive algorithm on explicit last-layer weights", "[coreset]") {
  const auto data = coreset_test::bytes_data(40, 2, 13);
  cs::SelectionView<float> view(data, nn::Mlp{.widths = {16, 5, 2}}, {.proxy_epochs = 2, .batch_size = 8, .lr = 0.02});
  const double eta = 0.5;
  const auto s = cs::Glister{.eta = eta}.select(view, {.images_per_class = 4});
  REQUIRE(s.size() == 8);
  const auto& run = view.proxy(0);
  const auto h = view.inputs();
  // The last layer as run.params holds it: fc1.weight [2, 5], fc1.bias [2]; z = W h + b.
  for (std::int64_t c = 0; c < 2; ++c) {
    const auto idx = data.indices_of_class(c);
    const std::size_t n = idx.size();
    std::vector<double> w(2 * 6);  // [W | b] as a 2 × 6 matrix acting on [h, 1]
    for (std::size_t a = 0; a < 2; ++a) {
      for (std::size_t q = 0; q < 5; ++q) w[a * 6 + q] = run.params.tensors[2][a * 5 + q];
      w[a * 6 + 5] = run.params.tensors[3][a];
    }
    auto err = [&](const std::vector<double>& wm, std::size_t i) {  // softmax(W h̃_i) − y_i
      double z[2];
      for (std::size_t a = 0; a < 2; ++a) {
        z[a] = 0;
        for (std::size_t q = 0; q < 6; ++q) z[a] += wm[a * 6 + q] * h[i * 6 + q];
      }
      const double m = std::max(z[0], z[1]), e0 = std::exp(z[0] - m), e1 = std::exp(z[1] - m);
      std::vector<double> e{e0 / (e0 + e1), e1 / (e0 + e1)};
      e[std::size_t(data.labels[i])] -= 1;
      return e;
    };
    std::vector<std::size_t> picks;
    auto wm = w;
    for (std::size_t t = 0; t < 4; ++t) {
      std::vector<double> gv(12, 0.0);
      for (std::size_t v : idx) {
        const auto e = err(wm, v);
        for (std::size_t a = 0; a < 2; ++a)
          for (std::size_t q = 0; q < 6; ++q) gv[a * 6 + q] += e[a] * h[v * 6 + q] / double(n);
      }
      std::size_t best = n;
      double best_g = 0;
      for (std::size_t r = 0; r < n; ++r) {
        if (std::find(picks.begin(), picks.end(), r) != picks.end()) continue;
        const auto e = err(w, idx[r]);  // the candidate's gradient at the proxy's weights
        double g = 0;
        for (std::size_t a = 0; a < 2; ++a)
          for (std::size_t q = 0; q < 6; ++q) g += eta * e[a] * h[idx[r] * 6 + q] * gv[a * 6 + q];
        if (best == n || g > best_g) best = r, best_g = g;
      }
      picks.push_back(best);
      const auto e = err(w, idx[best]);
      for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t q = 0; q < 6; ++q) wm[a * 6 + q] -= eta * e[a] * h[idx[best] * 6 + q];
      CHECK(s.indices[std::size_t(c) * 4 + t] == idx[best]);
      CHECK(s.scores[std::size_t(c) * 4 + t] == Approx(best_g).epsilon(1e-4).margin(1e-9));
    }
  }
  CHECK_THROWS_WITH(cs::Glister{.eta = -1}.select(view, {.images_per_class = 1}), Catch::Contains("eta is -1"));
}
