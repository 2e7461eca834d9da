// SPDX-License-Identifier: MIT
// coreset/gradmatch.hpp: OMP with the non-negative ridge against a naive OMP on explicit per-sample gradient vectors
// whose weights come from enumerating every support (exact NNLS for small k); the coordinate-descent solver on its
// own; weights >= 0 and a ridge objective that never grows.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "distill/coreset.hpp"
#include "distill/coreset/gradmatch.hpp"
#include "distill/nn.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;

namespace {
using Vec = std::vector<double>;

// Solves the m × m system M x = v by Gaussian elimination with partial pivoting.
Vec solve(std::vector<Vec> m, Vec v) {
  const std::size_t n = v.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(m[r][c]) > std::abs(m[p][c])) p = r;
    std::swap(m[c], m[p]);
    std::swap(v[c], v[p]);
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = m[r][c] / m[c][c];
      for (std::size_t q = c; q < n; ++q) m[r][q] -= f * m[c][q];
      v[r] -= f * v[c];
    }
  }
  Vec x(n);
  for (std::size_t c = n; c-- > 0;) {
    double s = v[c];
    for (std::size_t q = c + 1; q < n; ++q) s -= m[c][q] * x[q];
    x[c] = s / m[c][c];
  }
  return x;
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// min_{w >= 0} ||G w - b||² + λ||w||² by trying every support (the optimum is the unconstrained ridge solution on
// its support, with all entries > 0).
Vec nnls_by_supports(const std::vector<Vec>& g, const Vec& b, double lambda) {
  const std::size_t m = g.size();
  Vec best(m, 0.0);
  double best_v = dot(b, b);
  for (std::size_t mask = 1; mask < (1u << m); ++mask) {
    std::vector<std::size_t> s;
    for (std::size_t i = 0; i < m; ++i)
      if (mask & (1u << i)) s.push_back(i);
    std::vector<Vec> a(s.size(), Vec(s.size()));
    Vec y(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      for (std::size_t j = 0; j < s.size(); ++j) a[i][j] = dot(g[s[i]], g[s[j]]) + (i == j ? lambda : 0.0);
      y[i] = dot(g[s[i]], b);
    }
    const Vec x = solve(a, y);
    if (*std::min_element(x.begin(), x.end()) <= 0) continue;
    Vec w(m, 0.0), r = b;
    for (std::size_t i = 0; i < s.size(); ++i) w[s[i]] = x[i];
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t q = 0; q < b.size(); ++q) r[q] -= w[i] * g[i][q];
    const double v = dot(r, r) + lambda * dot(w, w);
    if (v < best_v) best_v = v, best = w;
  }
  return best;
}
}  // namespace

TEST_CASE("nonnegative_quadratic: the non-negative minimiser of a small quadratic", "[coreset]") {
  // A = [[2, 1], [1, 2]], y = [3, -3]: unconstrained (3, -3); with w >= 0: w = (1.5, 0).
  std::vector<double> w;
  cs::nonnegative_quadratic({2, 1, 1, 2}, {3, -3}, w);
  CHECK(w[0] == Approx(1.5));
  CHECK(w[1] == 0.0);
  cs::nonnegative_quadratic({2, 1, 1, 2}, {3, 3}, w);  // interior: (1, 1)
  CHECK(w[0] == Approx(1.0));
  CHECK(w[1] == Approx(1.0));
}

TEST_CASE("GradMatch: OMP picks and non-negative ridge weights of the naive algorithm on explicit gradients", "[coreset]") {
  cs::SelectionView<float> view(coreset_test::bytes_data(48, 2, 12), nn::Mlp{.widths = {16, 5, 2}},
                                {.proxy_epochs = 2, .batch_size = 8, .lr = 0.02});
  const double lambda = 0.05;
  const auto s = cs::GradMatch{.lambda = lambda}.select(view, {.images_per_class = 4});
  REQUIRE(s.size() == 8);
  REQUIRE(s.weights);
  const auto e = view.errors(), h = view.inputs();
  for (std::int64_t c = 0; c < 2; ++c) {
    const auto idx = view.data().indices_of_class(c);
    std::vector<Vec> g(idx.size());
    Vec b(2 * 6, 0.0);
    double mean = 0;
    for (std::size_t r = 0; r < idx.size(); ++r) {
      for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t q = 0; q < 6; ++q) g[r].push_back(double(e[idx[r] * 2 + a]) * h[idx[r] * 6 + q]);
      for (std::size_t q = 0; q < b.size(); ++q) b[q] += g[r][q];
      mean += dot(g[r], g[r]) / double(idx.size());
    }
    std::vector<std::size_t> picks;
    std::vector<Vec> gs;
    Vec w, res = b;
    double last = dot(res, res);
    for (std::size_t t = 0; t < 4; ++t) {
      std::size_t best = idx.size();
      double best_c = 0;
      for (std::size_t j = 0; j < idx.size(); ++j) {
        if (std::find(picks.begin(), picks.end(), j) != picks.end()) continue;
        const double cor = dot(g[j], res);
        if (best == idx.size() || cor > best_c) best = j, best_c = cor;
      }
      picks.push_back(best);
      gs.push_back(g[best]);
      w = nnls_by_supports(gs, b, lambda * mean);
      res = b;
      for (std::size_t i = 0; i < gs.size(); ++i)
        for (std::size_t q = 0; q < b.size(); ++q) res[q] -= w[i] * gs[i][q];
      const double objective = dot(res, res) + lambda * mean * dot(w, w);  // the ridge objective never grows
      CHECK(objective <= last * (1 + 1e-9));
      last = objective;
    }
    for (std::size_t t = 0; t < 4; ++t) {
      const std::size_t k = std::size_t(c) * 4 + t;
      CHECK(s.indices[k] == idx[picks[t]]);
      CHECK((*s.weights)[k] >= 0.0);
      CHECK((*s.weights)[k] == Approx(w[t]).epsilon(1e-6).margin(1e-9));
    }
  }
  CHECK_THROWS_WITH(cs::GradMatch{.lambda = 0}.select(view, {.images_per_class = 1}), Catch::Contains("lambda is 0"));
}
