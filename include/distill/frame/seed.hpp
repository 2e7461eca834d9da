// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_FRAME_SEED_HPP
#define DISTILL_FRAME_SEED_HPP

/**
 * @file
 * The one seed scheme of the library: every random draw of a run comes from an Rng seeded by a pure function of
 * (the run's seed, a named stream, an index), never from a generator that carries state from one step to the
 * next. So step s of a run draws the same numbers whether the run got there in one go or was stopped, saved and
 * resumed at step s − 1, and two streams (a step's target batch, a pass's shuffling order) never overlap.
 *
 *   Rng rng = frame::stream_rng(seed, frame::Stream::step, s);     // everything step s draws
 *   Rng pass = frame::stream_rng(seed, frame::Stream::pass, p);    // the shuffled order of pass p over the data
 *   Rng init = frame::stream_rng(seed, frame::Stream::init);       // what a method draws before its first step
 */

#include <cstdint>

#include "distill/core/rng.hpp"

namespace distill::frame {

/// The independent streams of one run.
enum class Stream : std::uint64_t {
  init = 1,  //!< draws made once, before the first step (initial images, a fixed θ₀)
  step = 2,  //!< draws of one step (index = the step number)
  pass = 3,  //!< the shuffled order of one pass over the data (index = the pass number)
  eval = 4,  //!< held-out evaluation draws (unseen inits, validation splits)
};

/// A 64-bit seed for (seed, stream, index): splitmix64's finaliser over a mix of the three, so nearby indices or
/// seeds give unrelated streams.
inline std::uint64_t derive_seed(std::uint64_t seed, Stream stream, std::uint64_t index = 0) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + (static_cast<std::uint64_t>(stream) << 56) + index + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The generator of (seed, stream, index).
inline Rng stream_rng(std::uint64_t seed, Stream stream, std::uint64_t index = 0) {
  return Rng(derive_seed(seed, stream, index));
}

}  // namespace distill::frame

#endif  // DISTILL_FRAME_SEED_HPP
