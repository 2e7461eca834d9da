// SPDX-License-Identifier: MIT
// Must NOT compile: a backend without im2col is not a distill::Backend, and an entry point that takes a user's
// backend (here eval::krr_accuracy) names the missing primitive in distill's own words (DISTILL_REQUIRE_BACKEND)
// instead of failing deep inside a template.
#include <concepts>
#include <cstdint>
#include <vector>

#include "distill/core/eigen_backend.hpp"
#include "distill/eval/krr_eval.hpp"
#include "distill/kernels/linear.hpp"

// Everything of the Eigen backend except im2col (deleted, so B::im2col(g, x, y) is ill-formed).
template <std::floating_point T>
struct NoIm2colBackend : distill::EigenBackend<T> {
  static void im2col(const distill::ConvGeometry&, const T*, T*) = delete;
};

int main() {
  using B = NoIm2colBackend<float>;
  const distill::Tensor<float> x(distill::Shape{4, 3}), y(distill::Shape{4, 2});
  const std::vector<std::int64_t> labels(4, 0);
  return int(distill::eval::krr_accuracy<B>(distill::kernels::Linear{}, x, y, x, labels).count);
}
