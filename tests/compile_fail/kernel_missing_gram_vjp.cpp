// SPDX-License-Identifier: MIT
// Must NOT compile: a kernel with gram() but no gram_vjp() is not a distill::kernels::Kernel, and label_solve
// says in distill's own words (DISTILL_REQUIRE_KERNEL) which member is missing.
#include "distill/core/eigen_backend.hpp"
#include "distill/synthetic/label_solve.hpp"

struct GramOnlyKernel {
  template <distill::Backend B>
  distill::Tensor<typename B::Scalar> gram(const distill::Tensor<typename B::Scalar>& x1,
                                           const distill::Tensor<typename B::Scalar>& x2) const {
    return distill::Tensor<typename B::Scalar>(distill::Shape{x1.shape(0), x2.shape(0)});
  }
};

int main() {
  using B = distill::EigenBackend<float>;
  const distill::Tensor<float> x(distill::Shape{4, 3}), y(distill::Shape{4, 2});
  return int(distill::synthetic::label_solve<B>(GramOnlyKernel{}, x, x, y).size());
}
