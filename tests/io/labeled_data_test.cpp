// SPDX-License-Identifier: MIT
// Tests for include/distill/io/labeled_data.hpp: validation, subsets, class bookkeeping.
#include <catch2/catch.hpp>

#include <cstdint>
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
