// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_HPP
#define DISTILL_CORE_HPP

// The core layer: Tensor, the Backend concept and the backends whose libraries are available.
#include "distill/core/backend.hpp"
#include "distill/core/config.hpp"
#include "distill/core/error.hpp"
#include "distill/core/rng.hpp"
#include "distill/core/tensor.hpp"
#include "distill/core/transform_list.hpp"
#if DISTILL_HAS_EIGEN
#include "distill/core/eigen_backend.hpp"
#include "distill/core/eigen_interop.hpp"
#endif
#if DISTILL_HAS_XTENSOR
#include "distill/core/xtensor_backend.hpp"
#include "distill/core/xtensor_interop.hpp"
#endif

namespace distill {
#if DISTILL_HAS_EIGEN
/// The backend that methods use when the user names none.
template <class T = float>
using DefaultBackend = EigenBackend<T>;
#elif DISTILL_HAS_XTENSOR
template <class T = float>
using DefaultBackend = XtensorBackend<T>;
#endif
}  // namespace distill

#endif  // DISTILL_CORE_HPP
