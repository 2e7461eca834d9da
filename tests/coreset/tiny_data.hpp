// SPDX-License-Identifier: MIT
// Small data sets for the coreset tests: 8-bit "images" (every pixel k/255, so RowStore keeps exact bytes) or
// continuous ones, with a class structure a proxy can learn.
#ifndef DISTILL_TESTS_CORESET_TINY_DATA_HPP
#define DISTILL_TESTS_CORESET_TINY_DATA_HPP

#include <cmath>
#include <cstdint>
#include <vector>

#include "distill/core/rng.hpp"
#include "distill/io/labeled_data.hpp"

namespace coreset_test {

// n examples of `classes` classes (class of i: i % classes), [n, 1, 4, 4]; class c brightens pixels c, c+3, ...
inline distill::LabeledData<float> bytes_data(std::size_t n, std::size_t classes, std::uint64_t seed) {
  distill::Rng rng(seed);
  distill::LabeledData<float> d{distill::Tensor<float>({n, 1, 4, 4}), std::vector<std::int64_t>(n), classes};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % classes;
    d.labels[i] = std::int64_t(c);
    for (std::size_t k = 0; k < 16; ++k) {
      const auto code = std::uint64_t(rng.uniform_int(128)) + (k % classes == c ? 127u : 0u);
      d.images[i * 16 + k] = float(double(code) / 255.0);
    }
  }
  return d;
}

// The same layout with continuous pixels (not 8-bit codes).
inline distill::LabeledData<float> float_data(std::size_t n, std::size_t classes, std::uint64_t seed) {
  auto d = bytes_data(n, classes, seed);
  distill::Rng rng(seed + 99);
  for (auto& v : d.images) v += float(0.01 * rng.normal());
  return d;
}

// The 8-bit codes of a [n, ...] tensor of k/255 values, as doubles (for exact naive references).
inline std::vector<std::vector<double>> codes(const distill::Tensor<float>& x) {
  const std::size_t n = x.shape(0), d = x.size() / n;
  std::vector<std::vector<double>> out(n, std::vector<double>(d));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < d; ++k) out[i][k] = std::nearbyint(double(x[i * d + k]) * 255.0);
  return out;
}

inline double dist2(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

}  // namespace coreset_test

#endif  // DISTILL_TESTS_CORESET_TINY_DATA_HPP
