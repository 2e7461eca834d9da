// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_CONV_REFERENCE_HPP
#define DISTILL_TESTS_SUPPORT_CONV_REFERENCE_HPP

// Pieces of the convolutions written from their definitions, shared by the direct and Winograd path tests.
#include <cstdint>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/rng.hpp"

//! n values uniform in [−1, 1), reproducible by seed.
template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed) {
  distill::Rng rng(seed);
  std::vector<T> v(n);
  for (auto& e : v) e = T(rng.uniform(-1.0, 1.0));
  return v;
}

//! x at (sample n, channel c, row i, column j) of the zero-padded NCHW batch x, 0 outside the image.
template <class T>
double padded_at(const distill::ConvGeometry& g, const std::vector<T>& x, std::size_t n, std::size_t c, std::size_t i,
                 std::size_t j) {
  const long h = long(i) - long(g.pad_h), w = long(j) - long(g.pad_w);
  if (h < 0 || w < 0 || h >= long(g.height) || w >= long(g.width)) return 0;
  return double(x[((n * g.channels + c) * g.height + std::size_t(h)) * g.width + std::size_t(w)]);
}

#endif  // DISTILL_TESTS_SUPPORT_CONV_REFERENCE_HPP
