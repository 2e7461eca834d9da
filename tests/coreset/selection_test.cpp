// SPDX-License-Identifier: MIT
// coreset/selection.hpp, concepts.hpp and random.hpp: budgets and their errors, pools, ranking with seeded ties,
// the Selector concept, Random's determinism, and a selection saved as a distilled set.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "distill/coreset.hpp"
#include "distill/io/distilled_set.hpp"
#include "support/temp_file.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;

static_assert(cs::Selector<cs::Random>);
static_assert(cs::Selector<cs::Herding>);
static_assert(cs::Selector<cs::KCenterGreedy>);
static_assert(cs::Selector<cs::Uncertainty>);
static_assert(cs::Selector<cs::Forgetting>);
static_assert(cs::Selector<cs::El2n>);
static_assert(cs::Selector<cs::Grand>);
static_assert(cs::Selector<cs::Importance>);
static_assert(cs::Selector<cs::Craig>);
static_assert(cs::Selector<cs::FacilityLocation>);
static_assert(cs::Selector<cs::GraphCut>);
static_assert(cs::Selector<cs::GradMatch>);
static_assert(cs::Selector<cs::Cal>);
static_assert(cs::Selector<cs::Glister>);
static_assert(cs::Selector<cs::DeepFool>);
static_assert(!cs::Selector<int>);
struct NoName {
  template <class T>
  cs::Selection select(cs::SelectionView<T>&, const cs::Budget&) const { return {}; }
};
static_assert(cs::HasSelect<NoName> && !cs::Selector<NoName>);

TEST_CASE("make_pools: per-class and global budgets, proportional class split", "[coreset]") {
  const std::vector<std::int64_t> y{0, 1, 2, 0, 1, 2, 0, 1, 0, 0};  // 5, 3, 2
  const auto per = cs::make_pools(y, 3, {.images_per_class = 2}, "t");
  REQUIRE(per.size() == 3);
  CHECK(per[0].indices == std::vector<std::size_t>{0, 3, 6, 8, 9});
  CHECK(per[2].indices == std::vector<std::size_t>{2, 5});
  for (const auto& p : per) CHECK(p.count == 2);
  const auto global = cs::make_pools(y, 3, {.fraction = 0.5}, "t");
  REQUIRE(global.size() == 1);
  CHECK(global[0].indices.size() == 10);
  CHECK(global[0].count == 5);
  const auto split = cs::make_pools(y, 3, {.fraction = 0.6}, "t", true);  // 6 = 3 + 1.8 + 1.2 -> 3, 2, 1
  std::size_t total = 0;
  for (const auto& p : split) total += p.count;
  CHECK(total == 6);
  CHECK(split[0].count == 3);
  CHECK(split[1].count == 2);
  CHECK(split[2].count == 1);
}

TEST_CASE("make_pools: bad budgets and empty classes are refused with a clear message", "[coreset]") {
  const std::vector<std::int64_t> y{0, 1, 0, 1, 0};
  CHECK_THROWS_WITH(cs::make_pools(y, 2, {}, "KCenterGreedy::select()"),
                    Catch::Contains("KCenterGreedy::select(): the budget is 0"));
  CHECK_THROWS_WITH(cs::make_pools(y, 2, {.images_per_class = 3}, "t"),
                    Catch::Contains("images_per_class is 3 but class 1 has only 2 examples"));
  CHECK_THROWS_WITH(cs::make_pools(y, 2, {.images_per_class = 1, .fraction = 0.5}, "t"), Catch::Contains("both"));
  for (double f : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
    CHECK_THROWS_WITH(cs::make_pools(y, 2, {.fraction = f}, "t"), Catch::Contains("expected a number in (0, 1]"));
  CHECK_THROWS_WITH(cs::make_pools(y, 2, {.fraction = 0.01}, "t"), Catch::Contains("rounds to 0"));
  CHECK_THROWS_WITH(cs::make_pools(y, 3, {.images_per_class = 1}, "t"), Catch::Contains("class 2 has no examples"));
  CHECK_THROWS_WITH(cs::make_pools(y, 3, {.fraction = 0.4}, "t"), Catch::Contains("class 2 has no examples"));
  CHECK_THROWS_WITH(cs::make_pools({}, 2, {.images_per_class = 1}, "t"), Catch::Contains("the data are empty"));
  // The selectors check before any work, through the same function.
  cs::SelectionView<float> view(coreset_test::bytes_data(12, 3, 1));
  CHECK_THROWS_WITH(cs::Random{}.select(view, {.images_per_class = 5}), Catch::Contains("Random::select(): images_per_class is 5"));
  CHECK_THROWS_WITH(cs::Herding{}.select(view, {.fraction = 2.0}), Catch::Contains("Herding::select(): fraction is 2"));
  CHECK_THROWS_WITH(cs::KCenterGreedy{}.select(view, {}), Catch::Contains("KCenterGreedy::select(): the budget is 0"));
}

TEST_CASE("top_by_score: descending, ties in a seeded order", "[coreset]") {
  const cs::Pool pool{{0, 1, 2, 3, 4, 5}, 4};
  const std::vector<double> s{0.5, 3.0, 1.0, 1.0, 1.0, 2.0};
  const auto a = cs::top_by_score(pool, s, 1);
  CHECK(a[0] == 1);
  CHECK(a[1] == 5);
  CHECK(std::set<std::size_t>{2, 3, 4}.count(a[2]) == 1);
  CHECK(a == cs::top_by_score(pool, s, 1));
  std::set<std::size_t> third;  // the tie is broken differently by different seeds
  for (std::uint64_t seed = 0; seed < 20; ++seed) third.insert(cs::top_by_score(pool, s, seed)[2]);
  CHECK(third.size() > 1);
}

TEST_CASE("Random: per-class and global, distinct indices, same seed same selection", "[coreset]") {
  cs::SelectionView<float> view(coreset_test::bytes_data(30, 3, 2));
  const auto a = cs::Random{.seed = 4}.select(view, {.images_per_class = 4});
  REQUIRE(a.size() == 12);
  for (std::size_t k = 0; k < 12; ++k) CHECK(view.data().labels[a.indices[k]] == std::int64_t(k / 4));
  CHECK(std::set<std::size_t>(a.indices.begin(), a.indices.end()).size() == 12);
  CHECK(a.indices == cs::Random{.seed = 4}.select(view, {.images_per_class = 4}).indices);
  CHECK(a.indices != cs::Random{.seed = 5}.select(view, {.images_per_class = 4}).indices);
  CHECK_FALSE(a.weights);
  const auto g = cs::Random{}.select(view, {.fraction = 0.5});
  CHECK(g.size() == 15);
  CHECK(std::set<std::size_t>(g.indices.begin(), g.indices.end()).size() == 15);
}

TEST_CASE("to_distilled_set: real images standardised, hard labels, indices and weights, saved and loaded", "[coreset]") {
  const auto data = coreset_test::bytes_data(20, 2, 3);
  cs::Selection s;
  s.append(7, 1.0);
  s.append(2, 0.5);
  s.weights = std::vector<double>{3.0, 1.5};
  const auto set = cs::to_distilled_set(s, data, "craig", "{\"a\":1}");
  CHECK(set.method == "craig");
  CHECK(set.size() == 2);
  CHECK(set.labels[0] == 1.0f);
  CHECK(set.labels[1] == 0.0f);
  REQUIRE(set.mean.size() == 1);
  for (std::size_t k = 0; k < 16; ++k)
    CHECK(set.images[16 + k] == Approx((data.images[2 * 16 + k] - set.mean[0]) / set.stddev[0]).margin(1e-6));
  TempFile f;
  distill::io::save_distilled(f.path, set);
  const auto back = distill::io::load_distilled<float>(f.path);
  CHECK(back.extra.at("indices").to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 2});
  CHECK(back.extra.at("weights").to_vector<double>() == std::vector<double>{3.0, 1.5});
  CHECK(back.method == "craig");
  const auto raw = cs::to_distilled_set(s, data, "craig", "{}", false);
  CHECK(raw.images[0] == data.images[7 * 16]);
  CHECK(raw.mean.size() == 0);
  s.weights->pop_back();
  CHECK_THROWS_WITH(cs::to_distilled_set(s, data, "x"), Catch::Contains("1 weights for 2 indices"));
}
