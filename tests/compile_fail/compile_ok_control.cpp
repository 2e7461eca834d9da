// SPDX-License-Identifier: MIT
// MUST compile: the control for the must-not-compile cases. It uses the same headers correctly, so a broken
// include path or flag cannot make the other cases "pass" for the wrong reason.
#include <Eigen/Core>

#include <cstdint>
#include <vector>

#include "distill/autodiff/ops/linalg.hpp"
#include "distill/callbacks/invoke.hpp"
#include "distill/core/backend.hpp"
#include "distill/core/eigen_backend.hpp"
#include "distill/core/eigen_interop.hpp"
#include "distill/eval/krr_eval.hpp"
#include "distill/kernels/linear.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/synthetic/label_solve.hpp"

template <distill::Backend B>
void train_something() {}

// A complete model (the counterpart of model_missing_forward.cpp).
struct TinyModel {
  template <distill::Backend B>
  distill::nn::Params<typename B::Scalar> init(distill::Rng&) const {
    distill::nn::Params<typename B::Scalar> p;
    p.add("weight", distill::Tensor<typename B::Scalar>(distill::Shape{3, 2}));
    return p;
  }
  template <distill::Backend B>
  distill::ad::Var<B> forward(const std::vector<distill::ad::Var<B>>& params, const distill::ad::Var<B>& x) const {
    return distill::ad::matmul(x, params.at(0));
  }
};

// The DISTILL_REQUIRE_* macros as member declarations at the top of a class body (as in UnrolledGd, Kip).
template <class M, class K, class B>
struct UsesEveryConcept {
  DISTILL_REQUIRE_BACKEND(B, "control");
  DISTILL_REQUIRE_MODEL(M, B, "control");
  DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "control");
  int value = 0;
};

struct Counter {
  int steps = 0;
  void on_step(distill::callbacks::TrainingState&) { ++steps; }
};

int main() {
  distill::RowMatrix<float> m(2, 3);
  auto t = distill::view_of(m);
  train_something<distill::EigenBackend<float>>();
  // The entry points whose must-not-compile cases are in this folder, used correctly.
  using B = distill::EigenBackend<float>;
  distill::Rng rng(0);
  const distill::Tensor<float> x(distill::Shape{4, 3}), y(distill::Shape{4, 2});
  const std::vector<std::int64_t> labels(4, 0);
  const auto logits = distill::nn::predict<B>(TinyModel{}, TinyModel{}.init<B>(rng), x);
  const auto ys = distill::synthetic::label_solve<B>(distill::kernels::Linear{}, x, x, y);
  const auto krr = distill::eval::krr_accuracy<B>(distill::kernels::Linear{}, x, ys, x, labels);
  UsesEveryConcept<TinyModel, distill::kernels::Linear, B> uses;
  if (logits.size() != 8 || krr.count != 4) return uses.value + 1;
  distill::callbacks::TrainingState state;
  Counter counter;
  distill::callbacks::invoke_on_step(state, counter);
  return int(t.size()) - 6 + counter.steps - 1;
}
