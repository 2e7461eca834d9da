// SPDX-License-Identifier: MIT
// Must NOT compile: int is not a distill::Backend (it has no Scalar type, no kernels).
#include "distill/core/backend.hpp"

template <distill::Backend B>
void train_something() {}

int main() { train_something<int>(); }
