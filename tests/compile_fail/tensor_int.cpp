// SPDX-License-Identifier: MIT
// Must NOT compile: Tensor holds float or double only.
#include "distill/core/tensor.hpp"

int main() {
  distill::Tensor<int> t({2, 2});
  return int(t.size());
}
