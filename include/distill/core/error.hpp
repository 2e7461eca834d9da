// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_ERROR_HPP
#define DISTILL_CORE_ERROR_HPP

/**
 * @file
 * The exception types of distill and the macros that raise them.
 *
 * API boundaries check their arguments always (release builds too) and throw; the message has the shape
 * `Class::method(): <arg> <what was wrong> (<got>), <expected>` and is only built when the check fails.
 * Internal invariants use DISTILL_ASSERT, which is compiled out unless DISTILL_DEBUG is defined.
 * Every throw goes through DISTILL_THROW, so a build with -fno-exceptions aborts with the same message.
 */

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

namespace distill {

//! Bad argument at an API boundary: wrong shape, NaN, empty class, budget larger than the data, ...
struct invalid_argument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
//! A file that cannot be read or written, or whose content is truncated or corrupt.
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
//! A numerical failure, such as a kernel matrix that is not positive definite.
struct numerical_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
//! A failed CUDA runtime or library call (only raised by the optional cuda/ headers).
struct cuda_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <class Exception>
[[noreturn]] inline void raise(const std::string& message) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  throw Exception(message);
#else
  std::fprintf(stderr, "distill: fatal: %s\n", message.c_str());
  std::abort();
#endif
}
}  // namespace detail
}  // namespace distill

/// Throws `Type` (one of distill's exceptions) with the message made by streaming the remaining arguments.
#define DISTILL_THROW(Type, ...) ::distill::detail::raise<Type>(::distill::detail::concat(__VA_ARGS__))

/// Always-on argument check: throws distill::invalid_argument built from the remaining arguments when `cond` fails.
#define DISTILL_CHECK(cond, ...)                                 \
  do {                                                           \
    if (!(cond)) [[unlikely]] {                                  \
      DISTILL_THROW(::distill::invalid_argument, __VA_ARGS__);   \
    }                                                            \
  } while (false)

/// Internal invariant; compiled only with DISTILL_DEBUG.
#if defined(DISTILL_DEBUG)
#define DISTILL_ASSERT(cond)                                                                          \
  do {                                                                                                \
    if (!(cond)) {                                                                                    \
      std::fprintf(stderr, "distill: assertion failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                                   \
    }                                                                                                 \
  } while (false)
#else
#define DISTILL_ASSERT(cond) ((void)0)
#endif

#endif  // DISTILL_CORE_ERROR_HPP
