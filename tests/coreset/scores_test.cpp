// SPDX-License-Identifier: MIT
// coreset/uncertainty.hpp, forgetting.hpp, grand.hpp (GraNd, EL2N) and importance.hpp: the scores against their
// formulas, the selections against a naive ranking of those scores, and importance sampling's weights.
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
cs::SelectionView<float> proxy_view(std::size_t nets = 1) {
  return cs::SelectionView<float>(coreset_test::bytes_data(45, 3, 11), nn::Mlp{.widths = {16, 6, 3}},
                                  {.proxy_epochs = 3, .proxy_nets = nets, .batch_size = 8, .lr = 0.02});
}
// Per class, the top k of `score` in descending order (scores must be distinct).
std::vector<std::size_t> naive_top(const distill::LabeledData<float>& d, const std::vector<double>& score, std::size_t k) {
  std::vector<std::size_t> out;
  for (std::int64_t c = 0; c < std::int64_t(d.num_classes); ++c) {
    auto idx = d.indices_of_class(c);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
    out.insert(out.end(), idx.begin(), idx.begin() + std::ptrdiff_t(k));
  }
  return out;
}
}  // namespace

TEST_CASE("uncertainty_score: least confidence, entropy and margin of known rows", "[coreset]") {
  const float p[3] = {0.7f, 0.2f, 0.1f};
  CHECK(cs::uncertainty_score(p, 3, cs::UncertaintyKind::least_confidence) == Approx(0.3));
  CHECK(cs::uncertainty_score(p, 3, cs::UncertaintyKind::entropy) ==
        Approx(-(0.7 * std::log(0.7) + 0.2 * std::log(0.2) + 0.1 * std::log(0.1))).epsilon(1e-6));
  CHECK(cs::uncertainty_score(p, 3, cs::UncertaintyKind::margin) == Approx(1 - 0.5).epsilon(1e-6));
  const float u[2] = {0.5f, 0.5f};
  CHECK(cs::uncertainty_score(u, 2, cs::UncertaintyKind::margin) == Approx(1.0));
  CHECK(cs::Uncertainty{.kind = cs::UncertaintyKind::margin}.name() == "margin");
}

TEST_CASE("Uncertainty: the most uncertain per class, in descending score", "[coreset]") {
  auto view = proxy_view();
  const auto& p = view.probabilities();
  for (auto kind : {cs::UncertaintyKind::least_confidence, cs::UncertaintyKind::entropy, cs::UncertaintyKind::margin}) {
    std::vector<double> score(45);
    for (std::size_t i = 0; i < 45; ++i) score[i] = cs::uncertainty_score(p.data() + 3 * i, 3, kind);
    const auto s = cs::Uncertainty{.kind = kind}.select(view, {.images_per_class = 4});
    CHECK(s.indices == naive_top(view.data(), score, 4));
    for (std::size_t t = 0; t < s.size(); ++t) CHECK(s.scores[t] == score[s.indices[t]]);
  }
  CHECK(view.proxies_trained() == 1);  // one proxy serves every method
}

TEST_CASE("forgetting_counts and Forgetting: transitions correct -> incorrect, never-learned first", "[coreset]") {
  //                 example: 0  1  2  3
  const std::vector<std::vector<std::uint8_t>> dyn{{1, 0, 1, 0},   //
                                                  {0, 0, 1, 1},   //
                                                  {1, 0, 1, 0},   //
                                                  {0, 0, 1, 1}};
  CHECK(cs::forgetting_counts(dyn) == std::vector<double>{2, 5, 0, 1});
  CHECK(cs::forgetting_counts(dyn, cs::NeverLearned::zero) == std::vector<double>{2, 0, 0, 1});
  auto view = proxy_view();
  const auto counts = cs::forgetting_counts(view.dynamics());
  const auto s = cs::Forgetting{}.select(view, {.images_per_class = 5});
  REQUIRE(s.size() == 15);
  for (std::int64_t c = 0; c < 3; ++c) {
    auto idx = view.data().indices_of_class(c);
    std::vector<double> sorted;
    for (auto i : idx) sorted.push_back(counts[i]);
    std::sort(sorted.rbegin(), sorted.rend());
    for (std::size_t t = 0; t < 5; ++t) {
      CHECK(s.scores[std::size_t(c) * 5 + t] == sorted[t]);  // the 5 largest counts of the class, in order
      CHECK(s.scores[std::size_t(c) * 5 + t] == counts[s.indices[std::size_t(c) * 5 + t]]);
    }
  }
  CHECK(s.indices == cs::Forgetting{}.select(view, {.images_per_class = 5}).indices);
  // NeverLearned::zero: the same ranking over the zero policy's counts.
  const auto zero_counts = cs::forgetting_counts(view.dynamics(), cs::NeverLearned::zero);
  const auto z = cs::Forgetting{.never_learned = cs::NeverLearned::zero}.select(view, {.images_per_class = 5});
  REQUIRE(z.size() == 15);
  for (std::size_t t = 0; t < z.size(); ++t) CHECK(z.scores[t] == zero_counts[z.indices[t]]);
  for (std::int64_t c = 0; c < 3; ++c)
    for (auto i : view.data().indices_of_class(c))  // nothing left out counts more than the least chosen of its class
      if (std::find(z.indices.begin(), z.indices.end(), i) == z.indices.end())
        CHECK(zero_counts[i] <= z.scores[std::size_t(c) * 5 + 4]);
  CHECK_THROWS_WITH(cs::forgetting_counts({}), Catch::Contains("no epochs"));
}

TEST_CASE("El2n and Grand: error and last-layer gradient norms averaged over the proxies", "[coreset]") {
  auto view = proxy_view(2);
  std::vector<double> el2n(45, 0.0), grand(45, 0.0);
  for (std::size_t r = 0; r < 2; ++r) {
    const auto e = view.errors(r), h = view.inputs(r);
    for (std::size_t i = 0; i < 45; ++i) {
      double se = 0, sh = 0;
      for (std::size_t c = 0; c < 3; ++c) se += double(e[i * 3 + c]) * e[i * 3 + c];
      for (std::size_t f = 0; f < 7; ++f) sh += double(h[i * 7 + f]) * h[i * 7 + f];
      el2n[i] += std::sqrt(se) / 2;
      grand[i] += std::sqrt(se * sh) / 2;  // ‖e ⊗ h‖ = ‖e‖ ‖h‖
    }
  }
  const auto a = cs::El2n{}.select(view, {.images_per_class = 3});
  CHECK(a.indices == naive_top(view.data(), el2n, 3));
  const auto b = cs::Grand{}.select(view, {.images_per_class = 3});
  CHECK(b.indices == naive_top(view.data(), grand, 3));
  for (std::size_t t = 0; t < b.size(); ++t) CHECK(b.scores[t] == Approx(grand[b.indices[t]]).epsilon(1e-9));
}

TEST_CASE("Importance: sampled in proportion to sensitivity, weights 1 / (N p), seeded", "[coreset]") {
  auto view = proxy_view();
  const auto s = cs::Importance{.seed = 3}.select(view, {.images_per_class = 6});
  REQUIRE(s.size() == 18);
  REQUIRE(s.weights);
  CHECK(std::set<std::size_t>(s.indices.begin(), s.indices.end()).size() == 18);
  const auto g = cs::error_norm_scores(view, true);
  for (std::int64_t c = 0; c < 3; ++c) {
    const auto idx = view.data().indices_of_class(c);
    double mean = 0, total = 0;
    for (auto i : idx) mean += g[i] / double(idx.size());
    for (auto i : idx) total += g[i] + mean;
    for (std::size_t t = std::size_t(c) * 6; t < std::size_t(c + 1) * 6; ++t) {
      CHECK(view.data().labels[s.indices[t]] == c);
      const double p = (g[s.indices[t]] + mean) / total;
      CHECK((*s.weights)[t] == Approx(1.0 / (double(idx.size()) * p)).epsilon(1e-6));
    }
  }
  CHECK(s.indices == cs::Importance{.seed = 3}.select(view, {.images_per_class = 6}).indices);
  // Sampling follows p: over many draws, the most sensitive example of class 0 is drawn more often than the least.
  const auto idx = view.data().indices_of_class(0);
  const auto hi = *std::max_element(idx.begin(), idx.end(), [&](auto a, auto b) { return g[a] < g[b]; });
  const auto lo = *std::min_element(idx.begin(), idx.end(), [&](auto a, auto b) { return g[a] < g[b]; });
  int n_hi = 0, n_lo = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const auto d = cs::Importance{.seed = seed}.select(view, {.images_per_class = 1});
    n_hi += d.indices[0] == hi;
    n_lo += d.indices[0] == lo;
  }
  CHECK(n_hi > n_lo);
}
