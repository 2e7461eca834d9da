// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_HPP
#define DISTILL_AUTODIFF_HPP

// The autodiff layer: Tape, Var, grad (with create_graph), the differentiable ops and gradcheck.
#include "distill/autodiff/grad.hpp"
#include "distill/autodiff/gradcheck.hpp"
#include "distill/autodiff/ops/broadcast.hpp"
#include "distill/autodiff/ops/conv.hpp"
#include "distill/autodiff/ops/dropout.hpp"
#include "distill/autodiff/ops/elementwise.hpp"
#include "distill/autodiff/ops/linalg.hpp"
#include "distill/autodiff/ops/norm.hpp"
#include "distill/autodiff/ops/norm_pool.hpp"
#include "distill/autodiff/ops/reduce.hpp"
#include "distill/autodiff/ops/sample.hpp"
#include "distill/autodiff/ops/shape.hpp"
#include "distill/autodiff/tape.hpp"

namespace distill {
// The short spelling from the docs: `auto [gx, geta] = distill::grad(loss, {x, eta}, {.create_graph = true});`
using ad::grad;
}  // namespace distill

#endif  // DISTILL_AUTODIFF_HPP
