// SPDX-License-Identifier: MIT
// Tests for include/distill/io/labeled_data.hpp: validation, subsets, class bookkeeping, standardisation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "distill/io/labeled_data.hpp"

namespace dd = distill;
using Catch::Matchers::Contains;

namespace {
template <class T>
dd::LabeledData<T> small_set() {
  // 4 examples of 1x1x2 "images" whose values encode their index, classes 2, 0, 2, 1.
  dd::Tensor<T> images({4, 1, 1, 2}, {0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5});
  return {images, {2, 0, 2, 1}, 3};
}
}  // namespace

TEMPLATE_TEST_CASE("LabeledData: subset copies the chosen rows in order", "[io][labeled_data]", float, double) {
  using T = TestType;
  const auto d = small_set<T>();
  d.validate();
  const std::vector<std::size_t> idx{3, 0, 3};
  const auto s = d.subset(idx);
  REQUIRE(s.size() == 3);
  REQUIRE(s.images.shape() == dd::Shape{3, 1, 1, 2});
  REQUIRE(s.labels == std::vector<std::int64_t>{1, 2, 1});
  REQUIRE(s.num_classes == 3);
  REQUIRE(s.images.at(0, 0, 0, 1) == T(3.5));
  REQUIRE(s.images.at(1, 0, 0, 0) == T(0));
  REQUIRE_FALSE(s.images.same_storage(d.images));  // a deep copy
  SECTION("empty subset keeps the shape of one example") {
    const auto e = d.subset(std::vector<std::size_t>{});
    REQUIRE(e.empty());
    REQUIRE(e.images.shape() == dd::Shape{0, 1, 1, 2});
  }
  SECTION("head") {
    REQUIRE(d.head(2).labels == std::vector<std::int64_t>{2, 0});
    REQUIRE(d.head(10).size() == 4);
  }
  SECTION("out-of-range index") {
    REQUIRE_THROWS_AS(d.subset(std::vector<std::size_t>{0, 4}), dd::invalid_argument);
    REQUIRE_THROWS_WITH(d.subset(std::vector<std::size_t>{0, 4}), Contains("index 1 is 4") && Contains("< 4"));
  }
}

TEST_CASE("LabeledData: class counts and indices", "[io][labeled_data]") {
  const auto d = small_set<float>();
  REQUIRE(d.class_counts() == std::vector<std::size_t>{1, 1, 2});
  REQUIRE(d.indices_of_class(2) == std::vector<std::size_t>{0, 2});
  REQUIRE(d.indices_of_class(5).empty());
}

TEST_CASE("LabeledData: validate rejects inconsistent data", "[io][labeled_data]") {
  auto d = small_set<float>();
  SECTION("negative label") {
    d.labels[1] = -1;
    REQUIRE_THROWS_AS(d.validate("Test::fit()"), dd::invalid_argument);
    REQUIRE_THROWS_WITH(d.validate("Test::fit()"), Contains("Test::fit()") && Contains("label 1 is -1"));
  }
  SECTION("label >= num_classes") {
    d.num_classes = 2;
    REQUIRE_THROWS_WITH(d.validate(), Contains("label 0 is 2") && Contains("[0, 2)"));
    REQUIRE_THROWS_AS(d.class_counts(), dd::invalid_argument);
  }
  SECTION("count mismatch") {
    d.labels.pop_back();
    REQUIRE_THROWS_WITH(d.validate(), Contains("4 rows") && Contains("3 labels"));
  }
  SECTION("rank 1 images") {
    d.images = dd::Tensor<float>({4});
    REQUIRE_THROWS_WITH(d.validate(), Contains("rank >= 2"));
  }
  SECTION("num_classes 0 with labels") {
    d.num_classes = 0;
    REQUIRE_THROWS_WITH(d.validate(), Contains("num_classes is 0"));
  }
}

TEMPLATE_TEST_CASE("LabeledData: where keeps the examples whose label passes, in order", "[io][labeled_data]", float, double) {
  using T = TestType;
  const auto d = small_set<T>();  // classes 2, 0, 2, 1
  const auto twos = d.where([](std::int64_t y) { return y == 2; });
  REQUIRE(twos.labels == std::vector<std::int64_t>{2, 2});
  REQUIRE(twos.images.shape() == dd::Shape{2, 1, 1, 2});
  REQUIRE(twos.images.at(0, 0, 0, 0) == T(0));  // example 0
  REQUIRE(twos.images.at(1, 0, 0, 1) == T(2.5));  // example 2
  REQUIRE(twos.num_classes == 3);                 // the label space is kept
  REQUIRE_FALSE(twos.images.same_storage(d.images));
  twos.validate();
  SECTION("a capturing predicate, and the complement") {
    const std::int64_t c = 2;
    const auto others = d.where([&](std::int64_t y) { return y != c; });
    REQUIRE(others.labels == std::vector<std::int64_t>{0, 1});
    REQUIRE(others.images.at(1, 0, 0, 0) == T(3));  // example 3
    REQUIRE(others.size() + twos.size() == d.size());
  }
  SECTION("everything and nothing") {
    REQUIRE(d.where([](std::int64_t) { return true; }).labels == d.labels);
    const auto none = d.where([](std::int64_t y) { return y > 5; });
    REQUIRE(none.empty());
    REQUIRE(none.images.shape() == dd::Shape{0, 1, 1, 2});
  }
  SECTION("the predicate sees each label once, in order") {
    std::vector<std::int64_t> seen;
    (void)d.where([&](std::int64_t y) {
      seen.push_back(y);
      return false;
    });
    REQUIRE(seen == d.labels);
  }
  SECTION("inconsistent data throws as subset() does") {
    auto bad = d;
    bad.labels.push_back(0);
    REQUIRE_THROWS_AS(bad.where([](std::int64_t) { return true; }), dd::invalid_argument);
  }
}

TEMPLATE_TEST_CASE("io::standardize: the reference's mean and stddev, applied to every tensor", "[io][standardize]", float,
                   double) {
  using T = TestType;
  dd::Tensor<T> train({2, 1, 1, 2}, {1, 2, 3, 4});  // mean 2.5, population variance 1.25
  dd::Tensor<T> test({2}, {2.5, 5});
  dd::Tensor<T> none({0, 1, 1, 2});
  const auto norm = dd::io::standardize({&train, &test, &none});
  const double sd = std::sqrt(1.25);
  REQUIRE(norm.mean == Approx(2.5));
  REQUIRE(double(norm.stddev) == Approx(sd).epsilon(1e-6));
  for (std::size_t i = 0; i < 4; ++i) CHECK(double(train[i]) == Approx((double(i + 1) - 2.5) / sd).epsilon(1e-6));
  CHECK(double(test[0]) == Approx(0).margin(1e-12));
  CHECK(double(test[1]) == Approx(2.5 / sd).epsilon(1e-6));
  REQUIRE(none.shape() == dd::Shape{0, 1, 1, 2});
  // The reference now has mean 0 and stddev 1; x = y * stddev + mean undoes it.
  double s = 0, s2 = 0;
  for (T v : train) s += double(v), s2 += double(v) * double(v);
  CHECK(s / 4 == Approx(0).margin(1e-6));
  CHECK(s2 / 4 == Approx(1).epsilon(1e-6));
  CHECK(double(train[3] * norm.stddev + norm.mean) == Approx(4).epsilon(1e-6));
  SECTION("a single tensor") {
    dd::Tensor<T> x({3}, {-1, 0, 1});
    const auto n = dd::io::standardize({&x});
    CHECK(n.mean == T(0));
    CHECK(double(n.stddev) == Approx(std::sqrt(2.0 / 3)).epsilon(1e-6));
  }
  SECTION("a large offset keeps its precision (accumulated in double, two passes)") {
    dd::Tensor<T> x({4}, {T(1000), T(1001), T(1002), T(1003)});
    const auto n = dd::io::standardize({&x});
    CHECK(double(n.mean) == Approx(1001.5));
    CHECK(double(n.stddev) == Approx(std::sqrt(1.25)).epsilon(1e-6));
  }
}

TEST_CASE("io::standardize: rejects what it cannot standardise, naming the argument", "[io][standardize]") {
  using T = float;
  dd::Tensor<T> ok({3}, {1, 2, 3});
  dd::Tensor<T> before = ok.clone();
  SECTION("no tensors") {
    REQUIRE_THROWS_AS(dd::io::standardize(std::initializer_list<dd::Tensor<T>*>{}), dd::invalid_argument);
    REQUIRE_THROWS_WITH(dd::io::standardize(std::initializer_list<dd::Tensor<T>*>{}),
                        Contains("io::standardize()") && Contains("tensors is empty"));
  }
  SECTION("a null entry") {
    REQUIRE_THROWS_WITH(dd::io::standardize({&ok, static_cast<dd::Tensor<T>*>(nullptr)}), Contains("tensors[1] is null"));
  }
  SECTION("an empty reference") {
    dd::Tensor<T> empty({0, 1, 28, 28});
    REQUIRE_THROWS_AS(dd::io::standardize({&empty, &ok}), dd::invalid_argument);
    REQUIRE_THROWS_WITH(dd::io::standardize({&empty, &ok}),
                        Contains("tensors[0] (the reference)") && Contains("[0, 1, 28, 28]") && Contains("at least one value"));
  }
  SECTION("a constant reference") {
    dd::Tensor<T> flat({2, 3}, T(0.1));
    REQUIRE_THROWS_AS(dd::io::standardize({&flat, &ok}), dd::invalid_argument);
    REQUIRE_THROWS_WITH(dd::io::standardize({&flat, &ok}),
                        Contains("tensors[0] (the reference)") && Contains("zero spread") && Contains("all 6 values"));
    dd::Tensor<T> one({1}, {T(5)});
    REQUIRE_THROWS_WITH(dd::io::standardize({&one}), Contains("zero spread"));
  }
  SECTION("NaN or infinity in the reference") {
    dd::Tensor<T> bad({3}, {1, std::numeric_limits<T>::quiet_NaN(), 3});
    REQUIRE_THROWS_WITH(dd::io::standardize({&bad, &ok}), Contains("tensors[0]") && Contains("NaN or infinity"));
    bad[1] = std::numeric_limits<T>::infinity();
    REQUIRE_THROWS_WITH(dd::io::standardize({&bad, &ok}), Contains("NaN or infinity"));
  }
  SECTION("the same storage twice") {
    dd::Tensor<T> alias = ok;  // copies share storage
    REQUIRE_THROWS_WITH(dd::io::standardize({&ok, &alias}), Contains("tensors[1] shares storage with tensors[0]"));
    REQUIRE_THROWS_WITH(dd::io::standardize({&ok, &ok}), Contains("tensors[1] shares storage with tensors[0]"));
  }
  // Nothing was modified by a call that threw.
  for (std::size_t i = 0; i < ok.size(); ++i) CHECK(ok[i] == before[i]);
}
