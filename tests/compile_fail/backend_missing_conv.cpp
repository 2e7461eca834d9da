// SPDX-License-Identifier: MIT
// Must NOT compile: a type without im2col/col2im is not a distill::Backend, and a function constrained on
// the concept names the missing part (BackendConv) instead of failing deep inside a template.
#include <cstddef>
#include <string_view>

#include "distill/core/backend.hpp"

struct NoConvBackend {
  using Scalar = float;
  static constexpr std::string_view name = "no-conv";
  static void gemm(const distill::Gemm<float>&) {}
  static void axpby(float, const float*, float, float*, std::size_t) {}
  static double dot(const float*, const float*, std::size_t) { return 0; }
  static void unary(distill::UnaryOp, const float*, float*, std::size_t) {}
  static void binary(distill::BinaryOp, const float*, const float*, float*, std::size_t) {}
  static void binary_scalar(distill::BinaryOp, const float*, float, float*, std::size_t) {}
  static void reduce(distill::ReduceOp, const float*, float*, std::size_t, std::size_t, std::size_t) {}
  static void fill(float*, std::size_t, float) {}
  static void random_normal(distill::Rng&, float*, std::size_t, float, float) {}
  static void random_uniform(distill::Rng&, float*, std::size_t, float, float) {}
};

template <distill::Backend B>
void train_something() {}

int main() { train_something<NoConvBackend>(); }
