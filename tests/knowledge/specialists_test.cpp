// SPDX-License-Identifier: MIT
// knowledge/specialists.hpp: confusable clusters from the co-prediction of the generalist, eq. 5's objective
// and its gradient against central differences in double, the combination's fixed points, a generalist with
// specialists on a problem of two confusable pairs, with_classes, and bad options named.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

#include "distill/knowledge/specialists.hpp"
#include "distill/nn.hpp"

namespace nn = distill::nn;
namespace kd = distill::knowledge;
using distill::LabeledData;
using distill::Tensor;

namespace {

// Four classes in two confusable pairs: {0, 1} light features 0–2, {2, 3} features 3–5; within a pair, class
// 2k lights feature 9 a little and class 2k + 1 feature 10. Noise N(0, 1).
LabeledData<float> two_pairs(std::size_t per_class, std::uint64_t seed) {
  distill::Rng rng(seed);
  LabeledData<float> d{Tensor<float>({4 * per_class, 12}), {}, 4};
  for (std::size_t i = 0; i < 4 * per_class; ++i) {
    const std::size_t c = i % 4;
    for (std::size_t f = 0; f < 12; ++f) {
      double mean = 0;
      if (f / 3 == c / 2) mean = 2.5;
      if (f == 9 + c % 2) mean = 1.2;
      d.images[i * 12 + f] = float(mean + rng.normal());
    }
    d.labels.push_back(std::int64_t(c));
  }
  return d;
}

}  // namespace

TEST_CASE("confusable_clusters groups classes predicted together", "[knowledge]") {
  // Rows of classes 0/1 split their mass between 0 and 1; rows of 2/3 between 2 and 3; class 4 is always sure.
  distill::Rng rng(1);
  std::vector<double> p;
  for (std::size_t i = 0; i < 300; ++i) {
    std::vector<double> row(5, 0.0);
    const double u = rng.uniform();
    if (i % 3 == 0) row[0] = u, row[1] = 1 - u;
    if (i % 3 == 1) row[2] = u, row[3] = 1 - u;
    if (i % 3 == 2) row[4] = 1;
    p.insert(p.end(), row.begin(), row.end());
  }
  distill::Rng start(4);
  const auto clusters = kd::confusable_clusters(p, 5, 3, 100, start);
  REQUIRE(clusters.size() == 2);  // {4} alone gets no specialist
  CHECK(clusters[0] == std::vector<std::size_t>{0, 1});
  CHECK(clusters[1] == std::vector<std::size_t>{2, 3});
  CHECK_THROWS_WITH(kd::confusable_clusters(p, 5, 6, 10, start), Catch::Contains("6 clusters of 5 classes"));
  CHECK_THROWS_WITH(kd::confusable_clusters(p, 5, 2, 10, start, 0), Catch::Contains("restarts is 0"));
  CHECK_THROWS_WITH(kd::confusable_clusters(std::vector<double>(5, 0.2), 5, 2, 10, start),
                    Catch::Contains("at least 2 rows"));
}

TEST_CASE("eq. 5: the gradient matches central differences, agreeing specialists leave p_g, a sure one moves q", "[knowledge]") {
  const std::size_t k = 5;
  const std::vector<double> pg{0.30, 0.25, 0.20, 0.15, 0.10};
  kd::Specialist<double> a{{1, 3}, {}}, b{{0, 2, 4}, {}};
  const std::vector<double> pa{0.7, 0.1, 0.2}, pb{0.2, 0.3, 0.1, 0.4};
  const std::vector<std::pair<const kd::Specialist<double>*, const double*>> both{{&a, pa.data()}, {&b, pb.data()}};
  const std::vector<double> z{0.3, -0.2, 0.5, 0.1, -0.4};
  std::vector<double> grad, scratch;
  (void)kd::combination_objective(z, pg.data(), both, grad);
  for (std::size_t c = 0; c < k; ++c) {
    auto up = z, down = z;
    up[c] += 1e-6;
    down[c] -= 1e-6;
    const double fd = (kd::combination_objective(up, pg.data(), both, scratch) -
                       kd::combination_objective(down, pg.data(), both, scratch)) / 2e-6;
    CHECK(grad[c] == Approx(fd).margin(1e-7));
  }
  // A specialist that predicts exactly the generalist's collapsed distribution changes nothing.
  const auto agree = a.collapse(pg.data(), k);
  const auto q0 = kd::combine<double>(pg.data(), k, {{&a, agree.data()}}, 200);
  for (std::size_t c = 0; c < k; ++c) CHECK(q0[c] == Approx(pg[c]).margin(1e-9));
  // No active specialist: q is p_g.
  CHECK(kd::combine<double>(pg.data(), k, {}, 10) == pg);
  // A specialist sure of class 3 among {1, 3} moves mass from 1 to 3, and the result is a distribution.
  const std::vector<double> sure{0.01, 0.95, 0.04 + 0.0};
  const auto q = kd::combine<double>(pg.data(), k, {{&a, sure.data()}}, 200);
  CHECK(std::accumulate(q.begin(), q.end(), 0.0) == Approx(1.0));
  CHECK(q[3] > pg[3] + 0.1);
  CHECK(q[1] < pg[1] - 0.1);
}

TEST_CASE("with_classes sets a model's output count", "[knowledge]") {
  CHECK(kd::with_classes(nn::Mlp{.widths = {12, 8, 4}}, 3).widths == std::vector<std::size_t>{12, 8, 3});
  CHECK(kd::with_classes(nn::ConvNet{.classes = 10}, 4).classes == 4);
  CHECK(kd::with_classes(nn::LeNet{}, 2).classes == 2);
}

TEST_CASE("a generalist with specialists on two confusable pairs", "[knowledge]") {
  const auto train = two_pairs(150, 3), test = two_pairs(150, 4);
  const nn::Mlp net{.widths = {12, 16, 4}};
  distill::Rng rng(5);
  auto params = net.init<distill::DefaultBackend<float>>(rng);
  kd::train_teacher(net, params, train, kd::FitOptions{.epochs = 8, .batch_size = 32, .lr = 0.05});

  kd::SpecialistEnsemble<nn::Mlp, float> ens{net, params, {.clusters = 2, .fit = {.epochs = 4, .batch_size = 32, .lr = 0.02}}};
  ens.fit(train);
  REQUIRE(ens.specialists().size() == 2);
  CHECK(ens.specialists()[0].classes == std::vector<std::size_t>{0, 1});
  CHECK(ens.specialists()[1].classes == std::vector<std::size_t>{2, 3});
  CHECK(ens.specialists()[0].params.tensors.back().size() == 3);  // two classes and the dustbin

  const auto q = ens.predict(test.images);
  REQUIRE(q.size() == test.size() * 4);
  for (std::size_t i = 0; i < test.size(); ++i)
    CHECK(std::accumulate(q.begin() + std::ptrdiff_t(4 * i), q.begin() + std::ptrdiff_t(4 * i + 4), 0.0) == Approx(1.0));
  const auto general = kd::count_errors(net, params, test);
  const auto combined = kd::count_errors(q, test);
  INFO("generalist " << general.errors << " errors, with specialists " << combined.errors << " of " << test.size());
  CHECK(combined.total == test.size());
  CHECK(combined.errors <= general.errors + 6);  // the specialists refine within pairs; they must not hurt
  CHECK(combined.errors < test.size() / 3);     // and the ensemble is far better than chance (3/4 errors)

  // The same seed gives the same specialists.
  kd::SpecialistEnsemble<nn::Mlp, float> again{net, params, {.clusters = 2, .fit = {.epochs = 4, .batch_size = 32, .lr = 0.02}}};
  again.fit(train);
  CHECK(again.predict(test.images) == q);
}

TEST_CASE("SpecialistEnsemble names bad options and data", "[knowledge]") {
  const nn::Mlp net{.widths = {12, 4}};
  distill::Rng rng(1);
  const auto params = net.init<distill::DefaultBackend<float>>(rng);
  using Ens = kd::SpecialistEnsemble<nn::Mlp, float>;
  CHECK_THROWS_WITH(Ens(net, params, {.clusters = 0}), Catch::Contains("clusters is 0"));
  CHECK_THROWS_WITH(Ens(net, params, {.top_classes = 0}), Catch::Contains("top_classes is 0"));
  CHECK_THROWS_WITH(Ens(net, params, {.temperature = -1}), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(Ens(net, distill::nn::Params<float>{}, {}), Catch::Contains("output layer"));
  Ens ens{net, params, {.clusters = 2}};
  auto three = two_pairs(10, 1);
  three.num_classes = 5;
  CHECK_THROWS_WITH(ens.fit(three), Catch::Contains("5 classes, the generalist 4"));
}
