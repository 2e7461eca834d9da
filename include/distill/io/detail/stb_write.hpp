// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_DETAIL_STB_WRITE_HPP
#define DISTILL_IO_DETAIL_STB_WRITE_HPP

/**
 * @file
 * The one place that compiles stb_image_write (Sean Barrett, public domain; Debian: libstb-dev).
 *
 * distill is header-only, so it cannot own "the" translation unit with STB_IMAGE_WRITE_IMPLEMENTATION.
 * STB_IMAGE_WRITE_STATIC gives every translation unit its own private (static) copy instead, which never
 * clashes at link time with a user's own stb build. Only the in-memory writer is used (STBI_WRITE_NO_STDIO):
 * the bytes are then saved atomically by io/png.hpp.
 *
 * Caveat: a translation unit that includes <stb/stb_image_write.h> itself *before* this header, without
 * STB_IMAGE_WRITE_STATIC, gets conflicting declarations; include distill's headers first.
 */

#include "distill/core/config.hpp"

#if !DISTILL_HAS_STB
#error "distill/io/png.hpp needs stb_image_write.h (<stb/stb_image_write.h>; Debian/Ubuntu: apt install libstb-dev). Install it, or do not include distill/io/png.hpp."
#endif

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#endif

#ifndef STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_STATIC
#endif
#ifndef STBI_WRITE_NO_STDIO
#define STBI_WRITE_NO_STDIO
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#endif  // DISTILL_IO_DETAIL_STB_WRITE_HPP
