// SPDX-License-Identifier: MIT
// Uses the installed headers: a Tensor, the default backend's GEMM and a callback. Prints the sum of
// [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]], which is 134.
#include <distill/callbacks.hpp>
#include <distill/core.hpp>
#include <iostream>
#include <sstream>

int main() {
  namespace dd = distill;
  using B = dd::EigenBackend<double>;
  static_assert(dd::Backend<B>);

  dd::Tensor<double> a({2, 2}, {1, 2, 3, 4});
  dd::Tensor<double> b({2, 2}, {5, 6, 7, 8});
  dd::Tensor<double> c({2, 2});
  B::gemm({.m = 2, .n = 2, .k = 2, .a = a.data(), .lda = 2, .b = b.data(), .ldb = 2, .c = c.data(), .ldc = 2});

  std::ostringstream log;
  dd::callbacks::LossPrinter printer{.every = 1, .out = &log};
  dd::callbacks::TrainingState state{.step = 1, .total_steps = 1};
  state.loss = c.at(1, 1);
  dd::callbacks::invoke_on_step(state, printer);

  double sum = 0;
  for (double v : c) sum += v;
  std::cout << "distill " << DISTILL_VERSION_MAJOR << '.' << DISTILL_VERSION_MINOR << " consumer: sum = " << sum
            << ", " << log.str();
  return sum == 134.0 ? 0 : 1;
}
