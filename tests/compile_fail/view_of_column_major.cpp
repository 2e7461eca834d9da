// SPDX-License-Identifier: MIT
// Must NOT compile: a column-major Eigen matrix is not row-major memory, so view_of() refuses it at compile
// time (copy it with from_eigen() instead).
#include <Eigen/Core>

#include "distill/core/eigen_interop.hpp"

int main() {
  Eigen::MatrixXf m(2, 3);  // column-major by default
  auto t = distill::view_of(m);
  return int(t.size());
}
