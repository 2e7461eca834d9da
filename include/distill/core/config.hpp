// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_CONFIG_HPP
#define DISTILL_CORE_CONFIG_HPP

#define DISTILL_VERSION_MAJOR 0
#define DISTILL_VERSION_MINOR 1
#define DISTILL_VERSION_PATCH 0

// GCC 12's AVX-512 intrinsic headers give their "undefined" vectors a self-initialisation (`__m512 __Y = __Y;`),
// which -Wall reports as (maybe-)uninitialised wherever Eigen, xsimd or <experimental/simd> inline those
// intrinsics: 8,000 warnings in one build with -march=native on an AVX-512 machine (GCC bug 105593, fixed in
// GCC 13). The diagnostic is attributed to the intrinsic header's own lines, so including it here first, under
// a pragma, silences exactly those lines and no warning about our code. Headers that pull in Eigen, xtensor or
// SIMD include this file before them.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13 && defined(__AVX512F__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

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
