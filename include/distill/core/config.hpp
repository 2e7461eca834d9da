// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_CONFIG_HPP
#define DISTILL_CORE_CONFIG_HPP

#define DISTILL_VERSION_MAJOR 0
#define DISTILL_VERSION_MINOR 1
#define DISTILL_VERSION_PATCH 0

// Host/device tag for helpers that the optional CUDA header reuses (Eigen's EIGEN_DEVICE_FUNC).
#if defined(__CUDACC__)
#define DISTILL_HD __host__ __device__
#else
#define DISTILL_HD
#endif

// Feature switches. CMake defines these when the optional dependency is found; a user who
// includes the headers without CMake can define them by hand, or rely on __has_include.
#if !defined(DISTILL_HAS_EIGEN) && __has_include(<Eigen/Core>)
#define DISTILL_HAS_EIGEN 1
#endif
#if !defined(DISTILL_HAS_XTENSOR) && __has_include(<xtensor/xarray.hpp>) && __has_include(<xtensor-blas/xlinalg.hpp>)
#define DISTILL_HAS_XTENSOR 1
#endif
#if !defined(DISTILL_HAS_ZLIB) && __has_include(<zlib.h>)
#define DISTILL_HAS_ZLIB 1
#endif
#if !defined(DISTILL_HAS_STB) && __has_include(<stb/stb_image_write.h>)
#define DISTILL_HAS_STB 1
#endif

#endif  // DISTILL_CORE_CONFIG_HPP
