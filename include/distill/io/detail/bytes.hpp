// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_DETAIL_BYTES_HPP
#define DISTILL_IO_DETAIL_BYTES_HPP

/**
 * @file
 * Byte-level helpers shared by the io/ parsers: whole-file reads, endian-explicit integer loads, gzip
 * detection and in-memory inflate, CRC-32. Internal; users never include this directly.
 *
 * Every parser in io/ works on a `std::span<const std::byte>` that holds the *whole* file. The file loaders
 * read it with one call; the fuzzers hand bytes in directly. So there is exactly one code path to get right,
 * and every size claimed by a header can be checked against the bytes that actually exist before anything
 * is allocated.
 */

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "distill/core/config.hpp"
#include "distill/core/error.hpp"

#if DISTILL_HAS_ZLIB
#include <zlib.h>
#endif

namespace distill::io::detail {

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;

//! Views a byte container as `std::span<const std::byte>`.
inline ByteSpan as_bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

//! Unsigned integer of `N` bytes at `p`, big-endian (IDX headers).
template <class U>
inline U load_be(const std::byte* p) {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | static_cast<U>(std::to_integer<unsigned>(p[i])));
  return v;
}
//! Unsigned integer at `p`, little-endian (NPY headers, ZIP records).
template <class U>
inline U load_le(const std::byte* p) {
  U v = 0;
  for (std::size_t i = sizeof(U); i-- > 0;) v = static_cast<U>((v << 8) | static_cast<U>(std::to_integer<unsigned>(p[i])));
  return v;
}
//! Appends `v` as `sizeof(U)` little-endian bytes.
template <class U>
inline void store_le(Bytes& out, U v) {
  for (std::size_t i = 0; i < sizeof(U); ++i) out.push_back(static_cast<std::byte>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF));
}

//! A little-endian value of arithmetic type T from possibly unaligned storage (NPY payloads).
template <class T>
inline T load_le_value(const std::byte* p) {
  T v;
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    std::memcpy(&v, p, sizeof(T));
  } else {
    std::byte tmp[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i) tmp[i] = p[sizeof(T) - 1 - i];
    std::memcpy(&v, tmp, sizeof(T));
  }
  return v;
}
//! Writes `v` little-endian into `p` (which has sizeof(T) bytes).
template <class T>
inline void store_le_value(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof(T));
  if constexpr (std::endian::native != std::endian::little && sizeof(T) > 1) std::reverse(p, p + sizeof(T));
}

//! a * b, or false when it overflows std::size_t.
inline bool mul_overflows(std::size_t a, std::size_t b, std::size_t& out) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return true;
  out = a * b;
  return false;
}

//! "'path'" for messages.
inline std::string quoted(std::string_view name) {
  std::string s;  // built by append: GCC 12 warns falsely (-Wrestrict) about "'" + std::string(name) + "'"
  s.reserve(name.size() + 2);
  s += '\'';
  s.append(name);
  s += '\'';
  return s;
}

/**
 * Reads a whole file into memory with one read.
 * @param where  the public function name, for messages ("io::load_npy()").
 * @throw io_error when the file is missing, not a regular file, or cannot be read.
 */
inline Bytes read_file(const std::filesystem::path& path, std::string_view where) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    DISTILL_THROW(io_error, where, ": cannot open ", quoted(path.string()), ": no such file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    DISTILL_THROW(io_error, where, ": ", quoted(path.string()), " is not a regular file");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) DISTILL_THROW(io_error, where, ": cannot open ", quoted(path.string()), ": ", std::strerror(errno));
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  const auto expected = std::filesystem::file_size(path, ec);
  Bytes bytes(ec ? 0 : static_cast<std::size_t>(expected));
  std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  if (got != bytes.size()) {
    if (std::ferror(f)) DISTILL_THROW(io_error, where, ": error reading ", quoted(path.string()), ": ", std::strerror(errno));
    bytes.resize(got);  // the file shrank between stat and read: take what is there, the parser checks it
  }
  // A file that grew (or whose size the OS does not report) is read to its end.
  std::byte chunk[65536];
  while (std::size_t n = std::fread(chunk, 1, sizeof(chunk), f)) bytes.insert(bytes.end(), chunk, chunk + n);
  if (std::ferror(f)) DISTILL_THROW(io_error, where, ": error reading ", quoted(path.string()), ": ", std::strerror(errno));
  return bytes;
}

//! True when the bytes start with the gzip magic 1f 8b (detection by content, never by file extension).
inline bool is_gzip(ByteSpan bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

/**
 * Inflates raw DEFLATE (`window_bits` = -MAX_WBITS, as in ZIP entries) or gzip (`16 + MAX_WBITS`) data.
 * @param expected  exact output size when known (ZIP entries), or `unknown_size` (gzip: grown as needed).
 * @throw io_error on corrupt or truncated data, or when zlib is not available.
 */
inline constexpr std::size_t unknown_size = std::numeric_limits<std::size_t>::max();

inline Bytes inflate_bytes(ByteSpan in, int window_bits, std::size_t expected, std::string_view name, std::string_view what) {
#if DISTILL_HAS_ZLIB
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) DISTILL_THROW(io_error, what, " ", quoted(name), ": zlib inflateInit2 failed");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};
  const bool gzip = window_bits > MAX_WBITS;
  const bool known = expected != unknown_size;
  Bytes out;
  if (known) {
    out.resize(expected + 1);  // one spare byte: filling it proves the data is longer than declared
  } else {
    // gzip stores the size mod 2^32 in its last 4 bytes; trust it only as a hint, capped by the ratio
    // DEFLATE can reach (~1032:1), so a forged trailer cannot make us allocate gigabytes up front.
    std::size_t hint = in.size() >= 4 ? load_le<std::uint32_t>(in.data() + in.size() - 4) : 0;
    hint = std::min<std::size_t>(hint, in.size() * 1032 + 1024);
    out.resize(std::max<std::size_t>(hint, 4096));
  }
  std::size_t in_pos = 0, out_pos = 0;
  for (;;) {
    if (out_pos == out.size()) {
      if (known) {
        // Full but the stream has not ended: more data than the ZIP directory claims.
        DISTILL_THROW(io_error, what, " ", quoted(name), ": compressed data inflates to more than the ", expected,
                      " bytes the archive directory declares");
      }
      out.resize(out.size() * 2);
    }
    const std::size_t in_chunk = std::min<std::size_t>(in.size() - in_pos, UINT_MAX);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - out_pos, UINT_MAX);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + in_pos));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_pos += in_chunk - zs.avail_in;
    out_pos += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // gzip files may hold several members back to back (what `cat a.gz b.gz` makes); gzread reads them all.
      if (gzip && is_gzip(in.subspan(in_pos))) {
        if (inflateReset(&zs) != Z_OK) DISTILL_THROW(io_error, what, " ", quoted(name), ": zlib inflateReset failed");
        continue;
      }
      break;
    }
    if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR) {
      DISTILL_THROW(io_error, what, " ", quoted(name), ": corrupt compressed data (zlib: ", zs.msg ? zs.msg : "data error", ")");
    }
    if (rc == Z_MEM_ERROR) DISTILL_THROW(io_error, what, " ", quoted(name), ": zlib ran out of memory");
    if (rc == Z_BUF_ERROR || rc == Z_OK) {
      if (in_pos == in.size() && zs.avail_out != 0) {
        DISTILL_THROW(io_error, what, " ", quoted(name), ": compressed data is truncated (stream ends after ", in.size(),
                      " bytes without its end marker)");
      }
      continue;
    }
    DISTILL_THROW(io_error, what, " ", quoted(name), ": zlib inflate failed (code ", rc, ")");
  }
  if (gzip) {
    for (std::size_t i = in_pos; i < in.size(); ++i) {
      if (in[i] != std::byte{0}) {
        DISTILL_THROW(io_error, what, " ", quoted(name), ": ", in.size() - in_pos, " bytes of trailing garbage after the gzip data");
      }
    }
  }
  if (known && out_pos != expected) {
    DISTILL_THROW(io_error, what, " ", quoted(name), ": compressed data inflates to ", out_pos, " bytes but the archive directory declares ",
                  expected);
  }
  out.resize(out_pos);
  return out;
#else
  (void)in, (void)window_bits, (void)expected;
  DISTILL_THROW(io_error, what, " ", quoted(name), " is compressed, but distill was built without zlib (install zlib1g-dev)");
#endif
}

//! Decompresses a whole gzip file held in memory.
inline Bytes gunzip(ByteSpan in, std::string_view name, std::string_view what) {
#if DISTILL_HAS_ZLIB
  return inflate_bytes(in, 16 + MAX_WBITS, unknown_size, name, what);
#else
  return inflate_bytes(in, 0, unknown_size, name, what);
#endif
}

//! CRC-32 (the ZIP/gzip polynomial) of `data`, continuing from `crc` (0 to start); zlib's when available.
inline std::uint32_t crc32_update(std::uint32_t crc, ByteSpan data) {
#if DISTILL_HAS_ZLIB
  uLong c = crc;
  for (std::size_t pos = 0; pos < data.size();) {
    const std::size_t n = std::min<std::size_t>(data.size() - pos, UINT_MAX);
    c = ::crc32(c, reinterpret_cast<const Bytef*>(data.data() + pos), static_cast<uInt>(n));
    pos += n;
  }
  return static_cast<std::uint32_t>(c);
#else
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = ~crc;
  for (std::byte b : data) c = table[(c ^ std::to_integer<std::uint32_t>(b)) & 0xFF] ^ (c >> 8);
  return ~c;
#endif
}
//! CRC-32 of `data`.
inline std::uint32_t crc32_of(ByteSpan data) { return crc32_update(0, data); }

}  // namespace distill::io::detail

#endif  // DISTILL_IO_DETAIL_BYTES_HPP
