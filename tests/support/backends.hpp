// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_BACKENDS_HPP
#define DISTILL_TESTS_SUPPORT_BACKENDS_HPP

// The type lists every typed test runs over: each backend in each precision.
#include "distill/core.hpp"

#if DISTILL_HAS_XTENSOR
#define DISTILL_TEST_BACKENDS                                                                      \
  distill::EigenBackend<float>, distill::EigenBackend<double>, distill::XtensorBackend<float>, \
      distill::XtensorBackend<double>
#define DISTILL_TEST_DOUBLE_BACKENDS distill::EigenBackend<double>, distill::XtensorBackend<double>
#define DISTILL_TEST_FLOAT_BACKENDS distill::EigenBackend<float>, distill::XtensorBackend<float>
#else
#define DISTILL_TEST_BACKENDS distill::EigenBackend<float>, distill::EigenBackend<double>
#define DISTILL_TEST_DOUBLE_BACKENDS distill::EigenBackend<double>
#define DISTILL_TEST_FLOAT_BACKENDS distill::EigenBackend<float>
#endif

#endif  // DISTILL_TESTS_SUPPORT_BACKENDS_HPP
