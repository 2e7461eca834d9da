// SPDX-License-Identifier: MIT
// Helpers shared by the io/ tests: scratch directories, byte files, IDX/gzip builders, a NumPy runner.
#ifndef DISTILL_TESTS_IO_IO_TEST_SUPPORT_HPP
#define DISTILL_TESTS_IO_IO_TEST_SUPPORT_HPP

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

#include "distill/core/error.hpp"

namespace iotest {

namespace fs = std::filesystem;
using Bytes = std::vector<std::byte>;

//! A fresh, empty directory under the system temp dir, removed with everything in it on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("distill_io_test_" + std::to_string(rd()) + "_" + std::to_string(counter.fetch_add(1)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& name) const { return path / name; }
  //! File names in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

inline void write_bytes(const fs::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}
inline Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Bytes b(c.size());
  std::memcpy(b.data(), c.data(), c.size());
  return b;
}
inline Bytes to_bytes(std::initializer_list<int> values) {
  Bytes b;
  for (int v : values) b.push_back(static_cast<std::byte>(v));
  return b;
}
inline void append_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::byte>((v >> s) & 0xFF));
}

//! An IDX file: magic, big-endian dims, then `payload` (unsigned bytes).
inline Bytes make_idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& payload) {
  Bytes b;
  append_be32(b, magic);
  for (auto d : dims) append_be32(b, d);
  for (auto v : payload) b.push_back(static_cast<std::byte>(v));
  return b;
}

//! gzip-compresses `in` with zlib (what `gzip` writes).
inline Bytes gzip(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

//! Raw DEFLATE (no header, -MAX_WBITS), as in ZIP entries.
inline Bytes deflate_raw(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/**
 * Runs `fn`, requires that it throws distill::io_error, and that the message contains every string in
 * `parts` (the file name, the problem). Returns the message.
 */
inline std::string require_io_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  std::string message;
  bool thrown = false;
  try {
    fn();
  } catch (const distill::io_error& e) {
    thrown = true;
    message = e.what();
  }
  INFO("expected distill::io_error containing the given parts");
  REQUIRE(thrown);
  for (const auto& p : parts) {
    INFO("message: " << message);
    CHECK(message.find(p) != std::string::npos);
  }
  return message;
}

//! True when /usr/bin/python3 exists and imports numpy.
inline bool have_numpy() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  return ok;
}

//! Runs a Python script (written to `dir`) with /usr/bin/python3; returns its exit status (0 = asserts passed).
inline int run_python(const fs::path& dir, const std::string& script) {
  static std::atomic<int> n{0};
  const auto file = dir / ("snippet_" + std::to_string(n.fetch_add(1)) + ".py");
  {
    std::ofstream out(file);
    out << "import sys\nimport numpy as np\n" << script << "\n";
  }
  const std::string cmd = "cd '" + dir.string() + "' && /usr/bin/python3 '" + file.string() + "'";
  const int rc = std::system(cmd.c_str());
  fs::remove(file);
  return rc;
}

}  // namespace iotest

#endif  // DISTILL_TESTS_IO_IO_TEST_SUPPORT_HPP
