// SPDX-License-Identifier: MIT
// Tests for include/distill/core/xtensor_interop.hpp: zero-copy views both ways and copies of expressions.
#include <catch2/catch.hpp>

#include "distill/core/config.hpp"

#if DISTILL_HAS_XTENSOR
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "distill/core/xtensor_interop.hpp"

namespace dd = distill;
using Catch::Matchers::Contains;

TEMPLATE_TEST_CASE("xtensor interop: view_of an xarray / xtensor is zero-copy", "[core][interop][xtensor]", float,
                   double) {
  using T = TestType;
  xt::xarray<T> a = {{1, 2, 3}, {4, 5, 6}};
  auto t = dd::view_of(a);
  REQUIRE(t.data() == a.data());
  REQUIRE_FALSE(t.owns_data());
  REQUIRE(t.shape() == dd::Shape{2, 3});
  REQUIRE(t.at(1, 2) == T(6));
  t.at(0, 1) = T(-2);
  REQUIRE(a(0, 1) == T(-2));
  a(1, 0) = T(40);
  REQUIRE(t[3] == T(40));

  xt::xtensor<T, 3> b = xt::zeros<T>({2, 2, 5});
  auto tb = dd::view_of(b);
  REQUIRE(tb.data() == b.data());
  REQUIRE(tb.shape() == dd::Shape{2, 2, 5});
  tb.at(1, 1, 4) = T(9);
  REQUIRE(b(1, 1, 4) == T(9));

  // A column-major container is refused at run time with a message that says what to do.
  xt::xarray<T, xt::layout_type::column_major> cm = xt::zeros<T>({2, 3});
  REQUIRE_THROWS_AS(dd::view_of(cm), dd::invalid_argument);
  REQUIRE_THROWS_WITH(dd::view_of(cm), Contains("not row-major") && Contains("from_xtensor"));
}

TEMPLATE_TEST_CASE("xtensor interop: as_xtensor adapts a tensor without copying", "[core][interop][xtensor]", float,
                   double) {
  using T = TestType;
  dd::Tensor<T> t({2, 3});
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = T(i);
  auto x = dd::as_xtensor(t);
  REQUIRE(x.data() == t.data());
  REQUIRE(x.dimension() == 2);
  REQUIRE(x.shape()[1] == 3);
  REQUIRE(x(1, 0) == T(3));
  x(0, 2) = T(-7);
  REQUIRE(t[2] == T(-7));
  x *= T(2);  // xtensor math writes into the tensor
  REQUIRE(t[5] == T(10));

  const dd::Tensor<T>& ct = t;
  auto cx = dd::as_xtensor(ct);
  REQUIRE(cx.data() == t.data());
  REQUIRE(cx(1, 2) == T(10));

  // Round trip: tensor -> xtensor adaptor -> view_of gives the same memory again.
  auto back = dd::view_of(x);
  REQUIRE(back.data() == t.data());
  REQUIRE(back.shape() == t.shape());
}

TEMPLATE_TEST_CASE("xtensor interop: from_xtensor copies any expression", "[core][interop][xtensor]", float, double) {
  using T = TestType;
  xt::xarray<T> a = {{1, 2}, {3, 4}, {5, 6}};
  auto t = dd::from_xtensor(a);
  REQUIRE(t.owns_data());
  REQUIRE(t.data() != a.data());
  REQUIRE(t.shape() == dd::Shape{3, 2});
  a(0, 0) = T(100);
  REQUIRE(t.at(0, 0) == T(1));

  // A transposed expression and a column-major container are copied in row-major order.
  auto tt = dd::from_xtensor(xt::transpose(a));
  REQUIRE(tt.shape() == dd::Shape{2, 3});
  REQUIRE(tt.at(1, 2) == T(6));
  REQUIRE(tt[0] == T(100));
  xt::xarray<T, xt::layout_type::column_major> cm = {{1, 2, 3}, {4, 5, 6}};
  auto tc = dd::from_xtensor(cm);
  for (std::size_t i = 0; i < 6; ++i) REQUIRE(tc[i] == T(i + 1));

  auto sum = dd::from_xtensor(a + a);
  REQUIRE(sum.at(2, 1) == T(12));
  auto sl = dd::from_xtensor(xt::view(a, xt::range(1, 3), xt::all()));
  REQUIRE(sl.shape() == dd::Shape{2, 2});
  REQUIRE(sl.at(0, 0) == T(3));
}
#else
TEST_CASE("xtensor interop: skipped, distill was configured without xtensor", "[core][interop][xtensor]") {
  REQUIRE(DISTILL_HAS_XTENSOR == 0);
}
#endif
