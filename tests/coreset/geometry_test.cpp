// SPDX-License-Identifier: MIT
// coreset/k_center_greedy.hpp and herding.hpp: exact indices against naive references that hold every distance
// (8-bit data: exact integers; continuous data: double), per class and global budgets, pruning that reads fewer
// rows and picks the same, and determinism.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>

#include "distill/coreset.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
using coreset_test::dist2;

namespace {
using Rows = std::vector<std::vector<double>>;

Rows rows_of(const distill::Tensor<float>& x, bool bytes) {
  if (bytes) return coreset_test::codes(x);
  const std::size_t n = x.shape(0), d = x.size() / n;
  Rows r(n, std::vector<double>(d));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < d; ++k) r[i][k] = double(x[i * d + k]);
  return r;
}

// Sener & Savarese's Algorithm 1 with a full distance matrix.
std::vector<std::size_t> naive_k_center(const Rows& x, const std::vector<std::size_t>& pool, std::size_t k, std::size_t first) {
  std::vector<std::size_t> s{pool[first]};
  while (s.size() < k) {
    std::size_t best = 0;
    double best_d = -1;
    for (std::size_t j : pool) {
      if (std::find(s.begin(), s.end(), j) != s.end()) continue;
      double d = std::numeric_limits<double>::infinity();
      for (std::size_t c : s) d = std::min(d, dist2(x[j], x[c]));
      if (d > best_d) best_d = d, best = j;
    }
    s.push_back(best);
  }
  return s;
}

// Herding as stated: the running mean closest to the pool mean.
std::vector<std::size_t> naive_herding(const Rows& x, const std::vector<std::size_t>& pool, std::size_t k) {
  const std::size_t d = x[0].size();
  std::vector<double> mu(d, 0.0), sum(d, 0.0);
  for (std::size_t j : pool)
    for (std::size_t q = 0; q < d; ++q) mu[q] += x[j][q] / double(pool.size());
  std::vector<std::size_t> s;
  while (s.size() < k) {
    std::size_t best = 0;
    double best_v = std::numeric_limits<double>::infinity();
    for (std::size_t j : pool) {
      if (std::find(s.begin(), s.end(), j) != s.end()) continue;
      std::vector<double> m(d);
      for (std::size_t q = 0; q < d; ++q) m[q] = (sum[q] + x[j][q]) / double(s.size() + 1);
      const double v = dist2(m, mu);
      if (std::isinf(best_v) || v < best_v - 1e-12 * std::abs(best_v)) best_v = v, best = j;
    }
    s.push_back(best);
    for (std::size_t q = 0; q < d; ++q) sum[q] += x[best][q];
  }
  return s;
}

std::vector<std::size_t> class_pool(const distill::LabeledData<float>& d, std::int64_t c) { return d.indices_of_class(c); }
std::vector<std::size_t> all(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}
}  // namespace

TEST_CASE("KCenterGreedy: exact indices of the naive algorithm, per class and global, 8-bit and float", "[coreset]") {
  for (bool bytes : {true, false}) {
    const auto data = bytes ? coreset_test::bytes_data(90, 3, 5) : coreset_test::float_data(90, 3, 5);
    const Rows x = rows_of(data.images, bytes);
    cs::SelectionView<float> view(data);
    REQUIRE(view.pixels().bytes() == bytes);
    const auto s = cs::KCenterGreedy{.seed = 2}.select(view, {.images_per_class = 7});
    REQUIRE(s.size() == 21);
    for (std::int64_t c = 0; c < 3; ++c) {
      const auto pool = class_pool(data, c);
      const std::vector<std::size_t> got(s.indices.begin() + c * 7, s.indices.begin() + (c + 1) * 7);
      const auto first = std::size_t(std::find(pool.begin(), pool.end(), got[0]) - pool.begin());
      CHECK(got == naive_k_center(x, pool, 7, first));
    }
    // Scores: the squared distance each pick had to the earlier centres, in the data's units.
    const double unit = bytes ? 1.0 / (255.0 * 255.0) : 1.0;
    CHECK(s.scores[1] == Approx(dist2(x[s.indices[1]], x[s.indices[0]]) * unit).epsilon(1e-5));
    const auto g = cs::KCenterGreedy{.seed = 3}.select(view, {.fraction = 0.2});
    REQUIRE(g.size() == 18);
    const auto pool = all(90);
    CHECK(g.indices == naive_k_center(x, pool, 18, g.indices[0]));
    // The default first centre is the point nearest the mean; FirstCentre::random draws it from the seed.
    std::vector<double> mu(16, 0.0);
    for (std::size_t j = 0; j < 90; ++j)
      for (std::size_t q = 0; q < 16; ++q) mu[q] += x[j][q] / 90.0;
    std::size_t nearest = 0;
    for (std::size_t j = 1; j < 90; ++j)
      if (dist2(x[j], mu) < dist2(x[nearest], mu)) nearest = j;
    CHECK(g.indices[0] == nearest);
    const auto r = cs::KCenterGreedy{.seed = 3, .first = cs::FirstCentre::random}.select(view, {.fraction = 0.2});
    CHECK(r.indices == naive_k_center(x, pool, 18, r.indices[0]));
    CHECK(r.indices == cs::KCenterGreedy{.seed = 3, .first = cs::FirstCentre::random}.select(view, {.fraction = 0.2}).indices);
    cs::StreamStats pruned, full;
    const auto unpruned = cs::KCenterGreedy{.seed = 3, .prune = false}.select(view, {.fraction = 0.2}, &full);
    CHECK(cs::KCenterGreedy{.seed = 3, .prune = true}.select(view, {.fraction = 0.2}, &pruned).indices == unpruned.indices);
    CHECK(full.steps == 17);
    CHECK(full.rows_read == 17 * 90);
    CHECK(pruned.rows_read < full.rows_read);
    CHECK(full.bytes_read == full.rows_read * view.pixels().row_bytes());
  }
}

TEST_CASE("Herding: exact indices of the naive algorithm, per class and global, 8-bit and float", "[coreset]") {
  for (bool bytes : {true, false}) {
    const auto data = bytes ? coreset_test::bytes_data(90, 3, 6) : coreset_test::float_data(90, 3, 6);
    const Rows x = rows_of(data.images, bytes);
    cs::SelectionView<float> view(data);
    const auto s = cs::Herding{}.select(view, {.images_per_class = 6});
    REQUIRE(s.size() == 18);
    for (std::int64_t c = 0; c < 3; ++c) {
      const std::vector<std::size_t> got(s.indices.begin() + c * 6, s.indices.begin() + (c + 1) * 6);
      CHECK(got == naive_herding(x, class_pool(data, c), 6));
    }
    const auto g = cs::Herding{}.select(view, {.fraction = 0.25});
    CHECK(g.indices == naive_herding(x, all(90), 23));
    // Scores: ‖μ − mean(S)‖² after each pick, in the data's units.
    const double unit = bytes ? 1.0 / (255.0 * 255.0) : 1.0;
    std::vector<double> mu(16, 0.0), first(16);
    for (std::size_t j = 0; j < 90; ++j)
      for (std::size_t q = 0; q < 16; ++q) mu[q] += x[j][q] / 90.0;
    CHECK(g.scores[0] == Approx(dist2(x[g.indices[0]], mu) * unit).epsilon(1e-6));
    CHECK(g.scores.back() < g.scores.front());
    CHECK(std::set<std::size_t>(g.indices.begin(), g.indices.end()).size() == 23);
  }
}

TEST_CASE("KCenterGreedy and Herding on duplicated points still pick distinct examples", "[coreset]") {
  auto data = coreset_test::bytes_data(12, 2, 7);
  for (std::size_t k = 0; k < 16; ++k) data.images[16 + k] = data.images[k];  // no change in labels: 0 and 1 differ
  for (std::size_t i = 2; i < 12; ++i)
    for (std::size_t k = 0; k < 16; ++k) data.images[i * 16 + k] = data.images[(i % 2) * 16 + k];
  cs::SelectionView<float> view(data);
  for (const auto& s : {cs::KCenterGreedy{}.select(view, {.images_per_class = 4}), cs::Herding{}.select(view, {.images_per_class = 4})})
    CHECK(std::set<std::size_t>(s.indices.begin(), s.indices.end()).size() == 8);
}
