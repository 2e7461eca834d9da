// SPDX-License-Identifier: MIT
// Must NOT compile: a model with init() but no forward() is not a distill::nn::Model, and nn::predict says in
// distill's own words (DISTILL_REQUIRE_MODEL) which member is missing.
#include "distill/core/eigen_backend.hpp"
#include "distill/nn/concepts.hpp"

struct InitOnlyModel {
  template <distill::Backend B>
  distill::nn::Params<typename B::Scalar> init(distill::Rng&) const {
    return {};
  }
};

int main() {
  using B = distill::EigenBackend<float>;
  const distill::nn::Params<float> params;
  const distill::Tensor<float> x(distill::Shape{2, 3});
  return int(distill::nn::predict<B>(InitOnlyModel{}, params, x).size());
}
