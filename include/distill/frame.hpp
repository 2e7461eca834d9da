// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_FRAME_HPP
#define DISTILL_FRAME_HPP

/**
 * @file
 * The frame every iterative method stands on: the outer loop (callbacks, checkpoint/resume, divergence guard), the
 * checkpointable state, the one seed scheme, class-balanced sampling and shuffled minibatches, and the preparation
 * of a training set.
 */

#include "distill/frame/checkpoint_state.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/seed.hpp"
#include "distill/frame/training_set.hpp"

#endif  // DISTILL_FRAME_HPP
