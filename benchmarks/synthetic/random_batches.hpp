// SPDX-License-Identifier: MIT
// Stand-ins for an MNIST-sized data set in the matching benchmarks (bench_dm_step, bench_dc_step): their time
// depends on the shapes, not on the pixels.
#ifndef DISTILL_BENCHMARKS_SYNTHETIC_RANDOM_BATCHES_HPP
#define DISTILL_BENCHMARKS_SYNTHETIC_RANDOM_BATCHES_HPP

#include <cstddef>
#include <vector>

#include "distill/core.hpp"

namespace distill::bench {

/// n standard-normal one-channel images [n, 1, side, side].
template <class B>
Tensor<typename B::Scalar> random_images(Rng& rng, std::size_t n, std::size_t side = 28) {
  using T = typename B::Scalar;
  auto x = Tensor<T>::empty({n, 1, side, side});
  B::random_normal(rng, x.data(), x.size(), T(0), T(1));
  return x;
}

/// One real batch per class: `classes` tensors of random_images(per_class).
template <class B>
std::vector<Tensor<typename B::Scalar>> random_class_batches(Rng& rng, std::size_t classes, std::size_t per_class,
                                                             std::size_t side = 28) {
  std::vector<Tensor<typename B::Scalar>> batches;
  for (std::size_t c = 0; c < classes; ++c) batches.push_back(random_images<B>(rng, per_class, side));
  return batches;
}

}  // namespace distill::bench

#endif  // DISTILL_BENCHMARKS_SYNTHETIC_RANDOM_BATCHES_HPP
