// SPDX-License-Identifier: MIT
// coreset/cal.hpp: nearest neighbours against brute force, and CAL's ranking against its definition (mean KL
// divergence of the neighbours' predictions from the example's).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "distill/coreset.hpp"
#include "distill/coreset/cal.hpp"
#include "distill/nn.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;

TEST_CASE("nearest_neighbours: the k nearest other rows of the pool, nearest first", "[coreset]") {
  const auto d = coreset_test::float_data(1100, 1, 4);  // more rows than one block of 1024
  std::vector<std::size_t> idx(1100);
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  const auto nn = cs::nearest_neighbours(d.images, idx, 3);
  for (std::size_t i : {0u, 500u, 1099u}) {
    std::vector<std::pair<double, std::size_t>> all;
    for (std::size_t j = 0; j < 1100; ++j) {
      if (j == i) continue;
      double s = 0;
      for (std::size_t q = 0; q < 16; ++q) s += std::pow(double(d.images[i * 16 + q]) - d.images[j * 16 + q], 2);
      all.push_back({s, j});
    }
    std::sort(all.begin(), all.end());
    CHECK(nn[i] == std::vector<std::size_t>{all[0].second, all[1].second, all[2].second});
  }
}

TEST_CASE("Cal: per class, the highest mean neighbour KL divergence first", "[coreset]") {
  const auto data = coreset_test::float_data(60, 3, 5);
  cs::SelectionView<float> view(data, nn::Mlp{.widths = {16, 6, 3}}, {.proxy_epochs = 2, .batch_size = 8, .lr = 0.02});
  const auto s = cs::Cal{.neighbours = 4}.select(view, {.images_per_class = 5});
  REQUIRE(s.size() == 15);
  const auto& p = view.probabilities();
  for (std::int64_t c = 0; c < 3; ++c) {
    const auto idx = data.indices_of_class(c);
    std::vector<std::pair<double, std::size_t>> score;
    for (std::size_t i : idx) {
      std::vector<std::pair<double, std::size_t>> d;
      for (std::size_t j : idx) {
        if (j == i) continue;
        double s2 = 0;
        for (std::size_t q = 0; q < 16; ++q) s2 += std::pow(double(data.images[i * 16 + q]) - data.images[j * 16 + q], 2);
        d.push_back({s2, j});
      }
      std::sort(d.begin(), d.end());
      double kl = 0;
      for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t q = 0; q < 3; ++q) {
          const double a = p[d[t].second * 3 + q], b = p[i * 3 + q];
          kl += a * std::log(a / b) / 4;
        }
      score.push_back({-kl, i});
    }
    std::sort(score.begin(), score.end());
    for (std::size_t t = 0; t < 5; ++t) {
      CHECK(s.indices[std::size_t(c) * 5 + t] == score[t].second);
      CHECK(s.scores[std::size_t(c) * 5 + t] == Approx(-score[t].first).epsilon(1e-4));
    }
  }
  CHECK_THROWS_WITH(cs::Cal{.neighbours = 0}.select(view, {.images_per_class = 1}), Catch::Contains("neighbours is 0"));
}
