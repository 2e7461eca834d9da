// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_HPP
#define DISTILL_NN_HPP

// The nn layer: the Model concept, Params (+ NPZ save/load), layers and serial(), MLP / LeNet / ConvNet,
// losses and the optimizers.
#include "distill/nn/concepts.hpp"
#include "distill/nn/layers.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/models.hpp"
#include "distill/nn/params.hpp"
#include "distill/nn/serial.hpp"
#if __has_include("distill/nn/optimizers.hpp")
#include "distill/nn/optimizers.hpp"
#endif

#endif  // DISTILL_NN_HPP
