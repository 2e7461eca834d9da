// SPDX-License-Identifier: MIT
#ifndef DISTILL_TESTS_SUPPORT_DATA_HPP
#define DISTILL_TESTS_SUPPORT_DATA_HPP

// Where [data] tests find MNIST and Fashion-MNIST: $DISTILL_DATA, then the project-local data/ folder
// that scripts/setup.sh fills.
#include <cstdlib>
#include <filesystem>
#include <string>

inline std::filesystem::path test_data_dir(const std::string& name) {
  if (const char* env = std::getenv("DISTILL_DATA")) return std::filesystem::path(env) / name;
#ifdef DISTILL_DEFAULT_DATA_DIR
  return std::filesystem::path(DISTILL_DEFAULT_DATA_DIR) / name;
#else
  return std::filesystem::path("data") / name;
#endif
}

#endif  // DISTILL_TESTS_SUPPORT_DATA_HPP
