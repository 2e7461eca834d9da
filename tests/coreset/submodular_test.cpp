// SPDX-License-Identifier: MIT
// coreset/submodular.hpp and craig.hpp: lazy greedy picks exactly what the plain greedy picks, stochastic greedy
// reaches most of its value, graph cut against its definition, and CRAIG against explicit per-sample gradients
// (medoids and cluster-size weights).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "distill/coreset.hpp"
#include "distill/nn.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;

namespace {
double facility_value(const cs::Similarity& s, const std::vector<std::size_t>& picks) {
  double f = 0;
  for (std::size_t i = 0; i < s.n; ++i) {
    double m = 0;
    for (auto j : picks) m = std::max(m, double(s(i, j)));
    f += m;
  }
  return f;
}
double graph_cut_value(const cs::Similarity& s, const std::vector<std::size_t>& picks, double lambda) {
  double f = 0;
  for (std::size_t i = 0; i < s.n; ++i)
    for (auto j : picks) f += s(i, j);
  for (auto i : picks)
    for (auto j : picks) f -= lambda * s(i, j);
  return f;
}
// The plain greedy on a set function, by its definition.
template <class F>
std::vector<std::size_t> naive_greedy(std::size_t n, std::size_t k, F&& f) {
  std::vector<std::size_t> s;
  while (s.size() < k) {
    std::size_t best = n;
    double best_g = -1e300;
    const double base = f(s);
    for (std::size_t j = 0; j < n; ++j) {
      if (std::find(s.begin(), s.end(), j) != s.end()) continue;
      auto t = s;
      t.push_back(j);
      const double g = f(t) - base;
      if (g > best_g + 1e-9 * std::abs(best_g)) best_g = g, best = j;
    }
    s.push_back(best);
  }
  return s;
}
cs::Similarity random_similarity(std::size_t n, std::uint64_t seed) {
  const auto d = coreset_test::float_data(n, 1, seed);
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  return cs::feature_similarity(d.images, idx, "t");
}
}  // namespace

TEST_CASE("facility_location_greedy: lazy = plain greedy, stochastic close, similarity = max d - d", "[coreset]") {
  const auto data = coreset_test::float_data(40, 1, 3);
  std::vector<std::size_t> idx(40);
  for (std::size_t i = 0; i < 40; ++i) idx[i] = i;
  const auto s = cs::feature_similarity(data.images, idx, "t");
  double top = 0;
  for (std::size_t i = 0; i < 40; ++i)
    for (std::size_t j = 0; j < 40; ++j) {
      double d2 = 0;
      for (std::size_t k = 0; k < 16; ++k) d2 += std::pow(double(data.images[i * 16 + k]) - data.images[j * 16 + k], 2);
      top = std::max(top, std::sqrt(d2));
    }
  for (std::size_t i : {0u, 13u})
    for (std::size_t j : {5u, 39u}) {
      double d2 = 0;
      for (std::size_t k = 0; k < 16; ++k) d2 += std::pow(double(data.images[i * 16 + k]) - data.images[j * 16 + k], 2);
      CHECK(s(i, j) == Approx(top - std::sqrt(d2)).margin(1e-4));
    }
  const auto naive = naive_greedy(40, 8, [&](const std::vector<std::size_t>& p) { return facility_value(s, p); });
  std::vector<double> gains;
  const auto lazy = cs::facility_location_greedy(s, 8, cs::GreedyKind::lazy, gains);
  CHECK(lazy == naive);
  CHECK(gains.size() == 8);
  CHECK(std::is_sorted(gains.rbegin(), gains.rend()));  // diminishing returns
  gains.clear();
  CHECK(cs::facility_location_greedy(s, 8, cs::GreedyKind::naive, gains) == naive);
  gains.clear();
  const auto sto = cs::facility_location_greedy(s, 8, cs::GreedyKind::stochastic, gains, 1, 0.1);
  CHECK(std::set<std::size_t>(sto.begin(), sto.end()).size() == 8);
  CHECK(facility_value(s, sto) >= 0.9 * facility_value(s, naive));
}

TEST_CASE("graph_cut_greedy: the greedy on G(S) by its definition", "[coreset]") {
  const auto s = random_similarity(30, 4);
  for (double lambda : {0.2, 0.5}) {
    std::vector<double> gains;
    const auto got = cs::graph_cut_greedy(s, 6, lambda, cs::GreedyKind::lazy, gains);
    CHECK(got == naive_greedy(30, 6, [&](const std::vector<std::size_t>& p) { return graph_cut_value(s, p, lambda); }));
    double sum = 0;
    for (double g : gains) sum += g;
    CHECK(sum == Approx(graph_cut_value(s, got, lambda)).epsilon(1e-6));
  }
}

TEST_CASE("FacilityLocation / GraphCut selectors: per class, a fraction split over the classes", "[coreset]") {
  cs::SelectionView<float> view(coreset_test::float_data(60, 3, 8));
  const auto a = cs::FacilityLocation{}.select(view, {.images_per_class = 4});
  REQUIRE(a.size() == 12);
  for (std::size_t t = 0; t < 12; ++t) CHECK(view.data().labels[a.indices[t]] == std::int64_t(t / 4));
  const auto b = cs::GraphCut{}.select(view, {.fraction = 0.1});
  CHECK(b.size() == 6);
  CHECK(std::set<std::size_t>(b.indices.begin(), b.indices.end()).size() == 6);
}

TEST_CASE("Craig: facility location on explicit last-layer gradients, weights are cluster sizes", "[coreset]") {
  cs::SelectionView<float> view(coreset_test::bytes_data(36, 2, 9), nn::Mlp{.widths = {16, 5, 2}},
                                {.proxy_epochs = 2, .batch_size = 8, .lr = 0.02});
  const auto s = cs::Craig{}.select(view, {.images_per_class = 4});
  REQUIRE(s.size() == 8);
  REQUIRE(s.weights);
  const auto e = view.errors(), h = view.inputs();
  for (std::int64_t c = 0; c < 2; ++c) {
    const auto idx = view.data().indices_of_class(c);
    const std::size_t n = idx.size();
    // g_i = e_i ⊗ h_i, written out.
    std::vector<std::vector<double>> g(n);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t b = 0; b < 6; ++b) g[r].push_back(double(e[idx[r] * 2 + a]) * h[idx[r] * 6 + b]);
    cs::Similarity sim{n, std::vector<float>(n * n)};
    double top = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) top = std::max(top, std::sqrt(coreset_test::dist2(g[i], g[j])));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) sim.s[i * n + j] = float(top - std::sqrt(coreset_test::dist2(g[i], g[j])));
    const auto naive = naive_greedy(n, 4, [&](const std::vector<std::size_t>& p) { return facility_value(sim, p); });
    double w_total = 0;
    for (std::size_t t = 0; t < 4; ++t) {
      const std::size_t k = std::size_t(c) * 4 + t;
      CHECK(s.indices[k] == idx[naive[t]]);
      w_total += (*s.weights)[k];
    }
    CHECK(w_total == double(n));
    // The first pick's weight: the examples for which it is the most similar pick.
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t best = 0;
      for (std::size_t t = 1; t < 4; ++t)
        if (sim(i, naive[t]) > sim(i, naive[best])) best = t;
      count += best == 0;
    }
    CHECK((*s.weights)[std::size_t(c) * 4] == Approx(double(count)).margin(1.0));  // float vs double similarity
  }
}
