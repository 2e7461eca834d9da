// SPDX-License-Identifier: MIT
// A unique file name in the system temp directory, removed on destruction. ctest runs each TEMPLATE_TEST_CASE
// instantiation as its own process, in parallel with -j, so a fixed temp name races between them.
#ifndef DISTILL_TESTS_SUPPORT_TEMP_FILE_HPP
#define DISTILL_TESTS_SUPPORT_TEMP_FILE_HPP

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& stem = "distill_test", const std::string& ext = ".npz")
      : path(std::filesystem::temp_directory_path() / (stem + "_" + std::to_string(std::random_device{}()) + ext)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

#endif  // DISTILL_TESTS_SUPPORT_TEMP_FILE_HPP
