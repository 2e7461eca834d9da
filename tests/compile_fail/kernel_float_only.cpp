// SPDX-License-Identifier: MIT
// Must NOT compile: KRR evaluation solves the n×n system in double, so the kernel must work on the double twin
// of the backend too; krr_accuracy says so (DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE) for a float-only kernel.
#include <concepts>
#include <cstdint>
#include <vector>

#include "distill/core/eigen_backend.hpp"
#include "distill/eval/krr_eval.hpp"

struct FloatOnlyKernel {
  template <distill::Backend B>
    requires std::same_as<typename B::Scalar, float>
  distill::Tensor<float> gram(const distill::Tensor<float>& x1, const distill::Tensor<float>& x2) const {
    return distill::Tensor<float>(distill::Shape{x1.shape(0), x2.shape(0)});
  }
  template <distill::Backend B>
    requires std::same_as<typename B::Scalar, float>
  distill::kernels::GramVjp<float> gram_vjp(const distill::Tensor<float>& x1, const distill::Tensor<float>& x2,
                                            const distill::Tensor<float>&,
                                            distill::kernels::VjpWrt = distill::kernels::VjpWrt::both) const {
    return {x1, x2};
  }
};

int main() {
  using B = distill::EigenBackend<float>;
  const distill::Tensor<float> x(distill::Shape{4, 3}), y(distill::Shape{4, 2});
  const std::vector<std::int64_t> labels(4, 0);
  return int(distill::eval::krr_accuracy<B>(FloatOnlyKernel{}, x, y, x, labels).count);
}
