// SPDX-License-Identifier: MIT
// Tests for include/distill/core/tensor.hpp: shapes, shared storage, deep clones, views and bounds checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "distill/core/tensor.hpp"

namespace dd = distill;
using Catch::Matchers::Contains;

TEMPLATE_TEST_CASE("Tensor: construction, shape and element access", "[core][tensor]", float, double) {
  using T = TestType;
  SECTION("a shaped tensor is zero-filled and reports its extents") {
    dd::Tensor<T> t({2, 3, 4});
    REQUIRE(t.rank() == 3);
    REQUIRE(t.size() == 24);
    REQUIRE(t.shape() == dd::Shape{2, 3, 4});
    REQUIRE(t.shape(1) == 3);
    REQUIRE(t.owns_data());
    for (T v : t) REQUIRE(v == T(0));
  }
  SECTION("fill constructor and value list") {
    dd::Tensor<T> f({3}, T(2.5));
    for (T v : f) REQUIRE(v == T(2.5));
    dd::Tensor<T> t({2, 3}, {1, 2, 3, 4, 5, 6});
    REQUIRE(t.at(0, 0) == T(1));
    REQUIRE(t.at(1, 2) == T(6));
    REQUIRE(t.at(1, 0) == T(4));  // row-major
    t.at(0, 1) = T(-7);
    REQUIRE(t[1] == T(-7));
  }
  SECTION("scalar has shape [] and one element") {
    auto s = dd::Tensor<T>::scalar(T(3));
    REQUIRE(s.rank() == 0);
    REQUIRE(s.size() == 1);
    REQUIRE(s.item() == T(3));
  }
  SECTION("64-byte aligned owned storage") {
    dd::Tensor<T> t({17});
    REQUIRE(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  }
  SECTION("numel and to_string") {
    REQUIRE(dd::numel({}) == 1);
    REQUIRE(dd::numel({3, 0, 2}) == 0);
    REQUIRE(dd::to_string({2, 3}) == "[2, 3]");
    REQUIRE(dd::to_string({}) == "[]");
  }
}

TEMPLATE_TEST_CASE("Tensor: copies share storage, clone is deep", "[core][tensor]", float, double) {
  using T = TestType;
  dd::Tensor<T> a({2, 2}, {1, 2, 3, 4});
  dd::Tensor<T> b = a;  // shallow
  REQUIRE(b.same_storage(a));
  b[0] = T(10);
  REQUIRE(a[0] == T(10));

  dd::Tensor<T> c = a.clone();
  REQUIRE_FALSE(c.same_storage(a));
  REQUIRE(c.shape() == a.shape());
  c[1] = T(20);
  REQUIRE(a[1] == T(2));
  REQUIRE(c[0] == T(10));

  // A clone of a view owns its storage and outlives the viewed memory.
  dd::Tensor<T> d;
  {
    std::vector<T> buf{5, 6, 7};
    auto v = dd::Tensor<T>::view(buf.data(), {3});
    REQUIRE_FALSE(v.owns_data());
    d = v.clone();
  }
  REQUIRE(d.owns_data());
  REQUIRE(d[2] == T(7));
}

TEMPLATE_TEST_CASE("Tensor: reshape, rows and row are views of the same storage", "[core][tensor]", float, double) {
  using T = TestType;
  dd::Tensor<T> a({3, 4});
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = T(i);

  auto r = a.reshape({2, 6});
  REQUIRE(r.shape() == dd::Shape{2, 6});
  REQUIRE(r.same_storage(a));
  r.at(1, 0) = T(-1);
  REQUIRE(a.at(1, 2) == T(-1));

  auto mid = a.rows(1, 3);
  REQUIRE(mid.shape() == dd::Shape{2, 4});
  REQUIRE(mid.data() == a.data() + 4);
  mid.at(1, 3) = T(99);
  REQUIRE(a.at(2, 3) == T(99));

  auto row = a.row(2);
  REQUIRE(row.shape() == dd::Shape{4});
  REQUIRE(row[3] == T(99));

  auto none = a.rows(3, 3);
  REQUIRE(none.size() == 0);
  REQUIRE(none.shape() == dd::Shape{0, 4});

  // Views of user memory: writes go straight through.
  std::vector<T> buf(6, T(0));
  auto v = dd::Tensor<T>::view(buf.data(), {2, 3});
  v.at(1, 1) = T(4);
  REQUIRE(buf[4] == T(4));
  v.fill(T(1));
  REQUIRE(buf[0] == T(1));
  REQUIRE(buf[5] == T(1));
}

TEMPLATE_TEST_CASE("Tensor: bad arguments throw distill::invalid_argument naming the problem", "[core][tensor]", float,
                   double) {
  using T = TestType;
  dd::Tensor<T> a({2, 3});
  REQUIRE_THROWS_MATCHES(a.reshape({4, 2}), dd::invalid_argument, Catch::Matchers::Message(
      "Tensor::reshape(): cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)"));
  REQUIRE_THROWS_WITH(a.rows(1, 3), Contains("Tensor::rows()") && Contains("[1, 3)") && Contains("size 2"));
  REQUIRE_THROWS_AS(a.rows(2, 1), dd::invalid_argument);
  REQUIRE_THROWS_WITH(a.row(2), Contains("Tensor::rows()"));
  REQUIRE_THROWS_WITH(a.at(0, 3), Contains("Tensor::at()") && Contains("index 3") && Contains("axis 1"));
  REQUIRE_THROWS_WITH(a.at(0), Contains("Tensor::at()") && Contains("1 indices") && Contains("rank-2"));
  REQUIRE_THROWS_WITH(a.shape(2), Contains("Tensor::shape()") && Contains("axis 2"));
  REQUIRE_THROWS_WITH(a.item(), Contains("Tensor::item()") && Contains("6 elements"));
  REQUIRE_THROWS_WITH(dd::Tensor<T>::scalar(T(1)).rows(0, 1), Contains("scalar"));
  REQUIRE_THROWS_WITH((dd::Tensor<T>({2, 2}, {T(1), T(2), T(3)})), Contains("needs 4 values but got 3"));
  REQUIRE_THROWS_WITH(dd::Tensor<T>::view(nullptr, {2}), Contains("Tensor::view()") && Contains("null"));
  dd::Tensor<T> small({5});
  REQUIRE_THROWS_WITH(a.assign(small), Contains("Tensor::assign()") && Contains("5 elements"));
  REQUIRE_THROWS_WITH(dd::max_abs_diff(a, small), Contains("max_abs_diff()") && Contains("[2, 3]"));
  // Every one of them is also a std::invalid_argument, so generic handlers catch it.
  REQUIRE_THROWS_AS(a.reshape({7}), std::invalid_argument);
  // A refused allocation is a clear error, not a bad_alloc or a crash.
  REQUIRE_THROWS_WITH(dd::Tensor<T>({std::size_t(1) << 21, std::size_t(1) << 21}), Contains("refusing to allocate"));
}

TEMPLATE_TEST_CASE("Tensor: empty tensors are valid everywhere", "[core][tensor]", float, double) {
  using T = TestType;
  dd::Tensor<T> d;
  REQUIRE(d.shape() == dd::Shape{0});
  REQUIRE(d.size() == 0);
  REQUIRE(d.empty_data());
  REQUIRE(d.begin() == d.end());
  REQUIRE(d.all_finite());

  dd::Tensor<T> z({0, 5});
  REQUIRE(z.size() == 0);
  REQUIRE(z.clone().shape() == dd::Shape{0, 5});
  REQUIRE(z.reshape({5, 0}).shape() == dd::Shape{5, 0});
  REQUIRE(z.rows(0, 0).size() == 0);
  z.fill(T(1));  // no-op, no crash
  REQUIRE(dd::Tensor<T>::view(nullptr, {0}).size() == 0);
  REQUIRE(dd::Tensor<T>::empty({0}).size() == 0);
  REQUIRE(dd::max_abs_diff(z, dd::Tensor<T>({0, 5})) == T(0));
  REQUIRE(z.template cast<float>().shape() == dd::Shape{0, 5});
}

TEST_CASE("Tensor: all_finite, cast, assign and max_abs_diff", "[core][tensor]") {
  dd::Tensor<double> a({3}, {1.0, 2.0, 3.0});
  REQUIRE(a.all_finite());
  a[1] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_FALSE(a.all_finite());
  a[1] = std::numeric_limits<double>::infinity();
  REQUIRE_FALSE(a.all_finite());
  a[1] = 0.1;

  dd::Tensor<float> f = a.cast<float>();
  REQUIRE(f.shape() == a.shape());
  REQUIRE(f[1] == 0.1f);

  dd::Tensor<double> b({3});
  b.assign(a);
  REQUIRE_FALSE(b.same_storage(a));
  REQUIRE(dd::max_abs_diff(a, b) == 0.0);
  b[2] = 5.0;
  REQUIRE(dd::max_abs_diff(a, b) == 2.0);

  // assign works across shapes with the same element count.
  dd::Tensor<double> c({1, 3});
  c.assign(a);
  REQUIRE(c.at(0, 2) == 3.0);
}
