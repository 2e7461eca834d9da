// SPDX-License-Identifier: MIT
// DISTILL_SKIP: a test case that cannot run here (no NumPy, no data set) says so and stops, and ctest reports it
// as skipped rather than passed.
#ifndef DISTILL_TESTS_SUPPORT_SKIP_HPP
#define DISTILL_TESTS_SUPPORT_SKIP_HPP

#include <iostream>

/**
 * Prints one line "SKIPPED: <reason>" to stdout and returns from the enclosing TEST_CASE (so put it before any
 * SECTION, at the top level of the test case's body). `reason` is a stream expression:
 *
 *     if (!iotest::have_numpy()) DISTILL_SKIP("/usr/bin/python3 with numpy is not available");
 *     if (!exists(dir)) DISTILL_SKIP(name << " not found under " << dir.string() << " (run scripts/setup.sh)");
 *
 * tests/CMakeLists.txt registers every test with SKIP_REGULAR_EXPRESSION "SKIPPED: ", so ctest lists such a
 * case as "Skipped" (and counts it apart from the passed ones). Run directly, the executable prints the line
 * and reports the case as passed with no assertions; read the output.
 */
#define DISTILL_SKIP(reason)                                  \
  do {                                                        \
    std::cout << "SKIPPED: " << reason << std::endl;          \
    return;                                                   \
  } while (0)

#endif  // DISTILL_TESTS_SUPPORT_SKIP_HPP
