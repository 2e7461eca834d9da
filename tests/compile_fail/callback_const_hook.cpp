// SPDX-License-Identifier: MIT
// Must NOT compile: a callback passed as const whose hook is non-const would be skipped silently; invoke
// refuses it with a static_assert that says so.
#include "distill/callbacks/invoke.hpp"

struct Counter {
  int steps = 0;
  void on_step(distill::callbacks::TrainingState&) { ++steps; }
};

int main() {
  distill::callbacks::TrainingState state;
  const Counter counter;
  return distill::callbacks::invoke_on_step(state, counter) ? 1 : 0;
}
