// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_DISTILL_HPP
#define DISTILL_DISTILL_HPP

/**
 * @file
 * The one header users need: `#include <distill/distill.hpp>` and `namespace dd = distill;`.
 * Layers (each also includable on its own): core, autodiff, nn, io, kernels, synthetic, eval, callbacks.
 */
#include "distill/autodiff.hpp"
#include "distill/callbacks.hpp"
#include "distill/core.hpp"
#include "distill/coreset.hpp"
#include "distill/eval.hpp"
#include "distill/frame.hpp"
#include "distill/io.hpp"
#include "distill/kernels.hpp"
#include "distill/knowledge.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic.hpp"

#endif  // DISTILL_DISTILL_HPP
