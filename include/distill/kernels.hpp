// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KERNELS_HPP
#define DISTILL_KERNELS_HPP

// The kernels layer: the Kernel concept, the infinite-width FC NTK/NNGP, RBF, linear, the empirical feature kernel
// of a finite network (RFAD), kernel ridge regression, and the streamed gradient of row-separable losses of
// dot-product kernels.
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/empirical.hpp"
#include "distill/kernels/fc_ntk.hpp"
#include "distill/kernels/krr.hpp"
#include "distill/kernels/linear.hpp"
#include "distill/kernels/rbf.hpp"
#include "distill/kernels/streamed_vjp.hpp"

#endif  // DISTILL_KERNELS_HPP
