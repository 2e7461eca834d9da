// SPDX-License-Identifier: MIT
// Tests for include/distill/core/eigen_interop.hpp: zero-copy views both ways, copies of column-major data.
#include <catch2/catch.hpp>

#include "distill/core/eigen_interop.hpp"

#include <Eigen/Core>

namespace dd = distill;

TEMPLATE_TEST_CASE("Eigen interop: view_of a row-major matrix is zero-copy", "[core][interop][eigen]", float, double) {
  using T = TestType;
  dd::RowMatrix<T> m(3, 4);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) m(i, j) = T(10 * i + j);

  auto t = dd::view_of(m);
  REQUIRE(t.data() == m.data());
  REQUIRE_FALSE(t.owns_data());
  REQUIRE(t.shape() == dd::Shape{3, 4});
  REQUIRE(t.at(2, 1) == T(21));
  t.at(1, 3) = T(-5);  // writes reach the user's matrix
  REQUIRE(m(1, 3) == T(-5));
  m(0, 0) = T(42);  // and the other way round
  REQUIRE(t[0] == T(42));

  // Vectors (column or row) are contiguous whatever their storage order.
  Eigen::Matrix<T, Eigen::Dynamic, 1> v(5);
  v << 1, 2, 3, 4, 5;
  auto tv = dd::view_of(v);
  REQUIRE(tv.data() == v.data());
  REQUIRE(tv.shape() == dd::Shape{5});
  REQUIRE(tv[4] == T(5));
  Eigen::Matrix<T, 1, Eigen::Dynamic> rv(3);
  rv << 7, 8, 9;
  REQUIRE(dd::view_of(rv).data() == rv.data());

  // Fixed-size row-major matrices work too.
  Eigen::Matrix<T, 2, 3, Eigen::RowMajor> f;
  f << 1, 2, 3, 4, 5, 6;
  auto tf = dd::view_of(f);
  REQUIRE(tf.data() == f.data());
  REQUIRE(tf.at(1, 0) == T(4));
}

TEMPLATE_TEST_CASE("Eigen interop: as_matrix and as_vector map a tensor without copying", "[core][interop][eigen]",
                   float, double) {
  using T = TestType;
  dd::Tensor<T> t({2, 3, 2});
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = T(i);
  auto m = dd::as_matrix(t);
  REQUIRE(m.data() == t.data());
  REQUIRE(m.rows() == 2);
  REQUIRE(m.cols() == 6);
  REQUIRE(m(1, 0) == T(6));  // row-major: element (1, 0) is t[6]
  m(0, 5) = T(-1);
  REQUIRE(t.at(0, 2, 1) == T(-1));

  const dd::Tensor<T>& ct = t;
  auto cm = dd::as_matrix(ct);
  REQUIRE(cm.data() == t.data());
  auto v = dd::as_vector(t);
  REQUIRE(v.data() == t.data());
  REQUIRE(v.size() == 12);
  REQUIRE(dd::as_vector(ct).sum() == Approx(double(66 - 5 - 1)));  // 0+..+11 = 66, element 5 is now -1

  // Eigen math on the map writes into the tensor.
  dd::as_matrix(t) *= T(2);
  REQUIRE(t[6] == T(12));

  // Round trip tensor -> Eigen map -> tensor view: still the same memory.
  dd::RowMatrix<T> owned = dd::as_matrix(t);  // an explicit copy
  REQUIRE(owned.data() != t.data());
  REQUIRE(dd::view_of(owned).at(1, 0) == t[6]);

  auto s = dd::Tensor<T>::scalar(T(3));
  REQUIRE(dd::as_matrix(s).rows() == 1);
  REQUIRE(dd::as_matrix(s).cols() == 1);
  dd::Tensor<T> e({0, 4});
  REQUIRE(dd::as_matrix(e).rows() == 0);
  REQUIRE(dd::as_matrix(e).cols() == 0);
}

TEMPLATE_TEST_CASE("Eigen interop: from_eigen copies column-major data into row-major order", "[core][interop][eigen]",
                   float, double) {
  using T = TestType;
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> cm(3, 2);  // column-major (Eigen's default)
  cm << 1, 2,
        3, 4,
        5, 6;
  auto t = dd::from_eigen(cm);
  REQUIRE(t.shape() == dd::Shape{3, 2});
  REQUIRE(t.owns_data());
  REQUIRE(t.data() != cm.data());
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) REQUIRE(t.at(i, j) == cm(i, j));
  // Memory order is row-major: 1 2 3 4 5 6 (the column-major buffer holds 1 3 5 2 4 6).
  for (std::size_t i = 0; i < 6; ++i) REQUIRE(t[i] == T(i + 1));

  // Expressions (a transpose, a block) are evaluated into the copy.
  auto tt = dd::from_eigen(cm.transpose());
  REQUIRE(tt.shape() == dd::Shape{2, 3});
  REQUIRE(tt.at(1, 2) == T(6));
  auto blk = dd::from_eigen(cm.block(1, 0, 2, 2));
  REQUIRE(blk.shape() == dd::Shape{2, 2});
  REQUIRE(blk.at(0, 0) == T(3));
  REQUIRE(blk.at(1, 1) == T(6));

  // A copy is independent of the source.
  cm(0, 0) = T(100);
  REQUIRE(t.at(0, 0) == T(1));

  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> empty(0, 3);
  REQUIRE(dd::from_eigen(empty).shape() == dd::Shape{0, 3});
}
