// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EVAL_HPP
#define DISTILL_EVAL_HPP

// The eval layer: training, batched evaluation, the train-from-scratch protocol and KRR evaluation.
#include "distill/eval/dc_augment.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/eval/train.hpp"
#if __has_include("distill/eval/krr_eval.hpp")
#include "distill/eval/krr_eval.hpp"
#endif

#endif  // DISTILL_EVAL_HPP
