// SPDX-License-Identifier: MIT
// MUST compile: the control for the must-not-compile cases. It uses the same headers correctly, so a broken
// include path or flag cannot make the other cases "pass" for the wrong reason.
#include <Eigen/Core>

#include "distill/callbacks/invoke.hpp"
#include "distill/core/backend.hpp"
#include "distill/core/eigen_backend.hpp"
#include "distill/core/eigen_interop.hpp"

template <distill::Backend B>
void train_something() {}

struct Counter {
  int steps = 0;
  void on_step(distill::callbacks::TrainingState&) { ++steps; }
};

int main() {
  distill::RowMatrix<float> m(2, 3);
  auto t = distill::view_of(m);
  train_something<distill::EigenBackend<float>>();
  distill::callbacks::TrainingState state;
  Counter counter;
  distill::callbacks::invoke_on_step(state, counter);
  return int(t.size()) - 6 + counter.steps - 1;
}
