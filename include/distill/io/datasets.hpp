// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_DATASETS_HPP
#define DISTILL_IO_DATASETS_HPP

/**
 * @file
 * The standard data sets, found where scripts/setup.sh puts them:
 *
 *   <data_root()>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]          (LeCun et al. 1998)
 *   <data_root()>/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]  (Xiao, Rasul, Vollgraf 2017,
 *                                                                                    arXiv:1708.07747)
 *
 * data_root() is $DISTILL_DATA when set and non-empty, else the compile-time DISTILL_DEFAULT_DATA_DIR when defined (the
 * project's CMake defines it for its own tests, examples and benchmarks), else "./data".
 */

#include <array>
#include <concepts>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "distill/core/error.hpp"
#include "distill/io/idx.hpp"
#include "distill/io/labeled_data.hpp"

namespace distill::io {

//! Where data sets live: $DISTILL_DATA, else DISTILL_DEFAULT_DATA_DIR, else "./data".
inline std::filesystem::path data_root() {
  if (const char* env = std::getenv("DISTILL_DATA"); env && *env) return std::filesystem::path(env);
#ifdef DISTILL_DEFAULT_DATA_DIR
  return std::filesystem::path(DISTILL_DEFAULT_DATA_DIR);
#else
  return std::filesystem::path("data");
#endif
}

namespace detail {
//! `<dir>/<stem>` if it exists, else `<dir>/<stem>.gz`; throws an io_error that says how to get the data.
inline std::filesystem::path find_data_file(const std::filesystem::path& dir, const std::string& stem, std::string_view where) {
  const auto raw = dir / stem;
  if (std::filesystem::exists(raw)) return raw;
  auto gz = raw;
  gz += ".gz";
  if (std::filesystem::exists(gz)) return gz;
  DISTILL_THROW(io_error, where, ": cannot find '", raw.string(), "' (or '", gz.string(),
                "'); run scripts/setup.sh to download the data sets, or set DISTILL_DATA to the folder that holds them");
}

template <std::floating_point T>
LabeledData<T> load_idx_dataset(std::string_view folder, std::string_view split, std::string_view where) {
  DISTILL_CHECK(split == "train" || split == "test", where, ": split is '", split, "', expected \"train\" or \"test\"");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto dir = data_root() / std::string(folder);
  const auto images = find_data_file(dir, prefix + "-images-idx3-ubyte", where);
  const auto labels = find_data_file(dir, prefix + "-labels-idx1-ubyte", where);
  return load_idx<T>(images, labels);
}
}  // namespace detail

/**
 * MNIST (LeCun, Bottou, Bengio, Haffner 1998): 60000 train / 10000 test grey 28x28 digits, 10 classes.
 * @param split  "train" or "test".
 * @return images [N, 1, 28, 28] in [0, 1] and labels in 0..9.
 * @throw invalid_argument on another split; io_error naming the missing path (run scripts/setup.sh).
 */
template <std::floating_point T = float>
LabeledData<T> load_mnist(std::string_view split = "train") {
  return detail::load_idx_dataset<T>("mnist", split, "io::load_mnist()");
}

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747): the MNIST layout with 10 clothing classes.
 * @param split  "train" or "test".
 * @throw invalid_argument on another split; io_error naming the missing path (run scripts/setup.sh).
 */
template <std::floating_point T = float>
LabeledData<T> load_fashion_mnist(std::string_view split = "train") {
  return detail::load_idx_dataset<T>("fashion-mnist", split, "io::load_fashion_mnist()");
}

/**
 * A data set by name, for command lines: "mnist" or "fashion" (also "fashion-mnist").
 * @throw invalid_argument naming the unknown data set or split; io_error naming a missing file.
 */
template <std::floating_point T = float>
LabeledData<T> load_dataset(std::string_view name, std::string_view split = "train") {
  if (name == "mnist") return load_mnist<T>(split);
  if (name == "fashion" || name == "fashion-mnist") return load_fashion_mnist<T>(split);
  DISTILL_THROW(invalid_argument, "io::load_dataset(): unknown data set '", name, "', expected mnist or fashion");
}

}  // namespace distill::io

#endif  // DISTILL_IO_DATASETS_HPP
