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
 *
 * A user's own data comes in through one "data spec" string, what the command lines take as `--data`
 * (load_data, load_data_split; docs/data.md):
 *
 *   mnist, fashion (or fashion-mnist)   the built-in data sets above
 *   DIR                                 a folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
 *   DIR                                 a CIFAR-10 binary folder: data_batch_1.bin ... data_batch_5.bin, test_batch.bin
 *                                       (or a folder holding cifar-10-batches-bin/; see io/cifar.hpp)
 *   train.npz                           arrays `images`, `labels` [, `test_images`, `test_labels`] [, `num_classes`]
 *   train.npz,test.npz                  the second file's `images`, `labels` are the test split
 */

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/cifar.hpp"
#include "distill/io/detail/bytes.hpp"
#include "distill/io/idx.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/npy.hpp"
#include "distill/io/npz.hpp"

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
inline constexpr std::string_view setup_hint =
    "run scripts/setup.sh to download the data sets, or set DISTILL_DATA to the folder that holds them";

//! `<dir>/<stem>` if it exists, else `<dir>/<stem>.gz`; throws an io_error that names both and ends with `hint`.
inline std::filesystem::path find_data_file(const std::filesystem::path& dir, const std::string& stem, std::string_view where,
                                            std::string_view hint = setup_hint) {
  const auto raw = dir / stem;
  if (std::filesystem::exists(raw)) return raw;
  auto gz = raw;
  gz += ".gz";
  if (std::filesystem::exists(gz)) return gz;
  DISTILL_THROW(io_error, where, ": cannot find '", raw.string(), "' (or '", gz.string(), "'); ", hint);
}

//! True when `dir/<stem>` or `dir/<stem>.gz` exists.
inline bool has_data_file(const std::filesystem::path& dir, const std::string& stem) {
  std::error_code ec;
  return std::filesystem::exists(dir / stem, ec) || std::filesystem::exists(dir / (stem + ".gz"), ec);
}

//! One split of an IDX folder (the MNIST file names); `hint` ends the message for a missing file.
template <std::floating_point T>
LabeledData<T> load_idx_folder(const std::filesystem::path& dir, std::string_view split, std::string_view where,
                               std::string_view hint = setup_hint) {
  DISTILL_CHECK(split == "train" || split == "test", where, ": split is '", split, "', expected \"train\" or \"test\"");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto images = find_data_file(dir, prefix + "-images-idx3-ubyte", where, hint);
  const auto labels = find_data_file(dir, prefix + "-labels-idx1-ubyte", where, hint);
  return load_idx<T>(images, labels);
}

template <std::floating_point T>
LabeledData<T> load_idx_dataset(std::string_view folder, std::string_view split, std::string_view where) {
  return load_idx_folder<T>(data_root() / std::string(folder), split, where);
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

// ---- data specs: one string for a user's own data (`--data`) ------------------------------------------

/**
 * WHAT THIS OBJECT REPRESENTS
 *   The two splits of a data set as load_data() returns them: images [N, C, H, W] with the same [C, H, W] in
 *   both splits, and the same num_classes in both (the larger of the two splits' counts, or an NPZ file's
 *   `num_classes`). `test` is empty (no labels, images [0, C, H, W]) only for an NPZ spec without a test split.
 */
template <std::floating_point T = float>
struct DataSplits {
  LabeledData<T> train;  //!< the training split
  LabeledData<T> test;   //!< the test split (empty for a single NPZ file without test_images / test_labels)
  std::string name;      //!< "mnist", "fashion", or the spec as given
};

namespace detail {

//! The accepted forms, for the message of an unknown spec.
inline constexpr std::string_view data_spec_forms =
    "expected one of: 'mnist'; 'fashion' (or 'fashion-mnist'); a folder holding train-images-idx3-ubyte, "
    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz); a CIFAR-10 binary "
    "folder holding data_batch_1.bin ... data_batch_5.bin and test_batch.bin; an NPZ file 'train.npz' with arrays "
    "'images' and 'labels' (optionally 'test_images', 'test_labels', 'num_classes'); or 'train.npz,test.npz' (see docs/data.md)";

//! The largest number of classes an NPZ file may declare or imply (a guard against reading the wrong array).
inline constexpr std::int64_t npz_max_classes = std::int64_t(1) << 20;

enum class SpecKind { mnist, fashion, idx_folder, cifar_folder, npz, npz_pair };

//! A parsed data spec: its kind and the file(s) or folder it names.
struct DataSpec {
  SpecKind kind = SpecKind::mnist;
  std::filesystem::path first;   //!< the folder, or the (train) NPZ file
  std::filesystem::path second;  //!< npz_pair: the test NPZ file
};

inline bool is_npz_name(std::string_view s) {
  return s.size() > 4 && (s.ends_with(".npz") || s.ends_with(".NPZ"));
}

//! Requires `path` to be an existing regular file; `role` says what it is for ("NPZ file").
inline void require_file(const std::filesystem::path& path, std::string_view spec, std::string_view role) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    DISTILL_THROW(io_error, "io::load_data(): data spec '", spec, "': cannot find the ", role, " ", detail::quoted(path.string()),
                  " (no such file)");
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    DISTILL_THROW(io_error, "io::load_data(): data spec '", spec, "': the ", role, " ", detail::quoted(path.string()), " is not a regular file");
  }
}

/**
 * Resolves a data spec to its kind (see load_data). Built-in names win over a folder of the same name.
 * @throw io_error naming the spec and the accepted forms when it is none of them, or naming the missing file.
 */
inline DataSpec parse_data_spec(std::string_view spec) {
  namespace fs = std::filesystem;
  if (spec == "mnist") return {SpecKind::mnist, {}, {}};
  if (spec == "fashion" || spec == "fashion-mnist") return {SpecKind::fashion, {}, {}};
  if (spec.empty()) DISTILL_THROW(io_error, "io::load_data(): data spec is empty; ", data_spec_forms);
  std::error_code ec;
  const fs::path path{std::string(spec)};
  // A comma separates train.npz,test.npz, unless the whole spec names an existing file or folder.
  if (const auto comma = spec.find(','); comma != std::string_view::npos && !fs::exists(path, ec)) {
    const auto a = spec.substr(0, comma), b = spec.substr(comma + 1);
    if (a.empty() || b.empty() || b.find(',') != std::string_view::npos || !is_npz_name(a) || !is_npz_name(b)) {
      DISTILL_THROW(io_error, "io::load_data(): data spec '", spec, "' has a comma but is not 'train.npz,test.npz' (two .npz ",
                    "files, no spaces); ", data_spec_forms);
    }
    require_file(fs::path(a), spec, "NPZ file (train split)");
    require_file(fs::path(b), spec, "NPZ file (test split)");
    return {SpecKind::npz_pair, fs::path(a), fs::path(b)};
  }
  if (is_npz_name(spec)) {
    require_file(path, spec, "NPZ file");
    return {SpecKind::npz, path, {}};
  }
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "data_batch_1.bin", ec)) return {SpecKind::cifar_folder, path, {}};
    if (fs::exists(path / "cifar-10-batches-bin" / "data_batch_1.bin", ec)) {
      return {SpecKind::cifar_folder, path / "cifar-10-batches-bin", {}};
    }
    if (has_data_file(path, "train-images-idx3-ubyte") || has_data_file(path, "t10k-images-idx3-ubyte")) {
      return {SpecKind::idx_folder, path, {}};
    }
    DISTILL_THROW(io_error, "io::load_data(): folder ", detail::quoted(path.string()), " holds neither IDX files (",
                  "train-images-idx3-ubyte[.gz], ...) nor a CIFAR-10 binary batch (data_batch_1.bin); ", data_spec_forms);
  }
  if (fs::exists(path, ec)) {
    DISTILL_THROW(io_error, "io::load_data(): data spec '", spec, "' is a file but not an .npz archive; ", data_spec_forms);
  }
  DISTILL_THROW(io_error, "io::load_data(): unknown data spec '", spec,
                "': not a built-in name and no file or folder of that name; ", data_spec_forms);
}

//! "NPZ 'file' array 'key'", for messages.
inline std::string npz_where(const std::filesystem::path& file, std::string_view key) {
  return "NPZ " + detail::quoted(file.string()) + " array '" + std::string(key) + "'";
}

//! The names of an archive's arrays, comma-separated, for messages.
inline std::string npz_keys(const std::map<std::string, NpyArray>& arrays) {
  std::string keys;
  for (const auto& [k, v] : arrays) keys += (keys.empty() ? "" : ", ") + k;
  return keys.empty() ? "none" : keys;
}

inline const NpyArray& npz_require(const std::map<std::string, NpyArray>& arrays, const std::filesystem::path& file,
                                   std::string_view key) {
  const auto it = arrays.find(std::string(key));
  if (it == arrays.end()) {
    DISTILL_THROW(io_error, "io::load_data(): NPZ ", detail::quoted(file.string()), " has no array '", key, "' (its arrays: ",
                  npz_keys(arrays), "), expected 'images' and 'labels'");
  }
  return it->second;
}

/**
 * An NPZ image array as [N, C, H, W]: uint8 scaled by 1/255, float32/float64 taken as they are.
 * @throw io_error on another dtype or rank, an empty axis, or a non-finite value.
 */
template <std::floating_point T>
Tensor<T> npz_images(const NpyArray& a, const std::filesystem::path& file, std::string_view key) {
  const std::string where = npz_where(file, key);
  if (a.shape.size() != 3 && a.shape.size() != 4) {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " has shape ", show(a.shape), ", expected [N, H, W] (one channel) or [N, C, H, W]");
  }
  for (std::size_t d = 0; d < a.shape.size(); ++d) {
    if (a.shape[d] == 0) {
      DISTILL_THROW(io_error, "io::load_data(): ", where, " has shape ", show(a.shape), ", expected no empty axis (at least one image)");
    }
  }
  Tensor<T> t;
  if (a.dtype == DType::uint8) {
    std::array<T, 256> lut;  // as parse_idx_images: byte / 255, rounded once per value
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<T>(v) / T(255);
    t = Tensor<T>::empty(a.shape);
    const auto* src = reinterpret_cast<const unsigned char*>(a.bytes.data());
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = lut[src[i]];
  } else if (a.dtype == DType::float32 || a.dtype == DType::float64) {
    t = a.as<T>();
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (!std::isfinite(t[i])) {
        DISTILL_THROW(io_error, "io::load_data(): ", where, " element ", i, " is ", t[i], ", expected finite pixel values");
      }
    }
  } else {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " has dtype ", a.descr(), " (", dtype_name(a.dtype),
                  "), expected uint8 (scaled to [0, 1]) or float32 / float64 (taken as they are)");
  }
  if (a.shape.size() == 3) t = t.reshape({a.shape[0], 1, a.shape[1], a.shape[2]});
  return t;
}

/**
 * An NPZ label array: 1-d, `n` entries, whole numbers in [0, 2^20) of an integer or float dtype.
 * @throw io_error naming the file, the array and the first bad entry.
 */
inline std::vector<std::int64_t> npz_labels(const NpyArray& a, const std::filesystem::path& file, std::string_view key,
                                             std::size_t n, std::string_view images_key) {
  const std::string where = npz_where(file, key);
  if (a.dtype == DType::unicode) {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " holds strings (", a.descr(), "), expected integer class labels");
  }
  if (a.shape.size() != 1) {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " has shape ", show(a.shape), ", expected 1-d [N] with N = ", n,
                  " (one class index per image)");
  }
  if (a.shape[0] != n) {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " has ", a.shape[0], " labels but '", images_key, "' has ", n,
                  " images, expected one label per image");
  }
  std::vector<std::int64_t> labels(n);
  // Integer and float labels take the same checks; `v` keeps its own type, so a huge int64 is printed exactly.
  auto check = [&](std::size_t i, auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>) {
      if (!std::isfinite(v) || std::trunc(v) != v) {
        DISTILL_THROW(io_error, "io::load_data(): ", where, " label ", i, " is ", v, ", expected a whole number (a class index)");
      }
    }
    if (v < 0) {
      DISTILL_THROW(io_error, "io::load_data(): ", where, " label ", i, " is ", v, ", expected a class index >= 0 (negative label)");
    }
    if (v >= static_cast<decltype(v)>(npz_max_classes)) {
      DISTILL_THROW(io_error, "io::load_data(): ", where, " label ", i, " is ", v, ", out of range: expected a class index < ",
                    npz_max_classes);
    }
    labels[i] = static_cast<std::int64_t>(v);
  };
  if (a.dtype == DType::float32 || a.dtype == DType::float64) {
    const auto v = a.to_vector<double>();
    for (std::size_t i = 0; i < n; ++i) check(i, v[i]);
  } else {
    const auto v = a.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < n; ++i) check(i, v[i]);
  }
  return labels;
}

//! The optional `num_classes` scalar of an archive. @throw io_error when it is not one whole number in [1, 2^20].
inline std::optional<std::int64_t> npz_num_classes(const std::map<std::string, NpyArray>& arrays, const std::filesystem::path& file) {
  const auto it = arrays.find("num_classes");
  if (it == arrays.end()) return std::nullopt;
  const NpyArray& a = it->second;
  const std::string where = npz_where(file, "num_classes");
  if (a.dtype == DType::unicode || a.size() != 1) {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " has dtype ", a.descr(), " and shape ", show(a.shape),
                  ", expected one whole number (a scalar)");
  }
  const double v = a.to_vector<double>()[0];
  if (!std::isfinite(v) || std::trunc(v) != v || v < 1 || v > double(npz_max_classes)) {
    DISTILL_THROW(io_error, "io::load_data(): ", where, " is ", v, ", expected a whole number in [1, ", npz_max_classes, "]");
  }
  return static_cast<std::int64_t>(v);
}

//! One split read from an archive: `images_key` and `labels_key`, both required.
template <std::floating_point T>
LabeledData<T> npz_split(const std::map<std::string, NpyArray>& arrays, const std::filesystem::path& file,
                         std::string_view images_key, std::string_view labels_key) {
  const NpyArray& im = npz_require(arrays, file, images_key);
  const NpyArray& lb = npz_require(arrays, file, labels_key);
  LabeledData<T> d;
  d.images = npz_images<T>(im, file, images_key);
  d.labels = npz_labels(lb, file, labels_key, d.images.shape(0), images_key);
  return d;
}

//! Both splits of an NPZ spec (one file, or train and test files), with num_classes set from the key or the labels.
template <std::floating_point T>
DataSplits<T> load_npz_splits(const DataSpec& s, std::string_view spec) {
  const auto a = load_npz(s.first);
  DataSplits<T> out;
  out.name = std::string(spec);
  out.train = npz_split<T>(a, s.first, "images", "labels");
  std::optional<std::int64_t> k = npz_num_classes(a, s.first);
  const bool has_ti = a.count("test_images") != 0, has_tl = a.count("test_labels") != 0;
  std::filesystem::path test_file = s.first;
  if (s.kind == SpecKind::npz_pair) {
    if (has_ti || has_tl) {
      DISTILL_THROW(io_error, "io::load_data(): NPZ ", detail::quoted(s.first.string()), " holds a test split (",
                    has_ti ? "test_images" : "test_labels", ") but the spec '", spec, "' also gives the test file ",
                    detail::quoted(s.second.string()), "; use one or the other");
    }
    const auto b = load_npz(s.second);
    out.test = npz_split<T>(b, s.second, "images", "labels");
    test_file = s.second;
    if (const auto kb = npz_num_classes(b, s.second)) {
      if (k && *k != *kb) {
        DISTILL_THROW(io_error, "io::load_data(): NPZ ", detail::quoted(s.first.string()), " has num_classes ", *k, " but ",
                      detail::quoted(s.second.string()), " has num_classes ", *kb, ", expected the same");
      }
      k = kb;
    }
  } else if (has_ti || has_tl) {
    if (!(has_ti && has_tl)) {
      DISTILL_THROW(io_error, "io::load_data(): NPZ ", detail::quoted(s.first.string()), " has '", has_ti ? "test_images" : "test_labels",
                    "' but no '", has_ti ? "test_labels" : "test_images", "' (its arrays: ", npz_keys(a),
                    "), expected both or neither");
    }
    out.test = npz_split<T>(a, s.first, "test_images", "test_labels");
  } else {
    Shape empty_shape = out.train.images.shape();
    empty_shape[0] = 0;
    out.test.images = Tensor<T>::empty(empty_shape);
  }
  std::int64_t max_label = -1;
  for (auto l : out.train.labels) max_label = std::max(max_label, l);
  for (auto l : out.test.labels) max_label = std::max(max_label, l);
  if (k) {
    auto check = [&](const LabeledData<T>& d, const std::filesystem::path& file, std::string_view key) {
      for (std::size_t i = 0; i < d.labels.size(); ++i) {
        if (d.labels[i] >= *k) {
          DISTILL_THROW(io_error, "io::load_data(): ", npz_where(file, key), " label ", i, " is ", d.labels[i],
                        ", out of range: expected a class index < num_classes = ", *k);
        }
      }
    };
    const bool pair = s.kind == SpecKind::npz_pair;
    check(out.train, s.first, "labels");
    check(out.test, test_file, pair ? "labels" : "test_labels");
  }
  const auto classes = static_cast<std::size_t>(k ? *k : max_label + 1);
  out.train.num_classes = out.test.num_classes = classes;
  return out;
}

//! Both splits agree on [C, H, W]; both get the larger num_classes. @throw io_error naming both shapes.
template <std::floating_point T>
void reconcile_splits(DataSplits<T>& d, std::string_view spec) {
  const Shape& a = d.train.images.shape();
  const Shape& b = d.test.images.shape();
  const bool same = a.size() == b.size() && std::equal(a.begin() + 1, a.end(), b.begin() + 1);
  if (!same) {
    DISTILL_THROW(io_error, "io::load_data(): data spec '", spec, "': train images have shape ", show(a),
                  " but test images have shape ", show(b), ", expected the same image size [C, H, W] in both splits");
  }
  const std::size_t k = std::max(d.train.num_classes, d.test.num_classes);
  d.train.num_classes = d.test.num_classes = k;
}

}  // namespace detail

/**
 * Both splits of a data set given by a data spec, the string the command lines take as `--data`:
 *
 *   "mnist", "fashion" (or "fashion-mnist")  the built-in data sets under data_root()
 *   "DIR"   a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 *           t10k-labels-idx1-ubyte (each optionally .gz): images [N, 1, rows, cols] in [0, 1]
 *   "DIR"   a CIFAR-10 binary folder (data_batch_1.bin exists; also a folder holding cifar-10-batches-bin/):
 *           see load_cifar10_folder; images [N, 3, 32, 32] in [0, 1], 10 classes
 *   "train.npz"  arrays `images` [N, H, W] or [N, C, H, W] (uint8, scaled to [0, 1], or float32/float64 taken
 *           as they are) and `labels` [N] (integers, or floats holding whole numbers); optionally `test_images`
 *           and `test_labels` (the test split) and a scalar `num_classes`
 *   "train.npz,test.npz"  the second file's `images` and `labels` are the test split
 *
 *     auto [train, test, name] = dd::io::load_data<float>(args.data);
 *
 * num_classes is the NPZ `num_classes` when present (every label must be below it), else the largest label
 * + 1 over both splits; CIFAR-10 has 10. Built-in names win over a folder of the same name (write ./mnist).
 *
 * @param spec  one of the forms above.
 * @return train and test with the same [C, H, W] and num_classes, and `name`: "mnist", "fashion" or the spec.
 *         For a single NPZ file without test arrays, `test` is empty (images [0, C, H, W]).
 * @throw io_error naming the file and the problem: an unknown spec (the message lists the accepted forms), a
 *        missing file or folder, a truncated or corrupt file, a CIFAR label above 9, an NPZ without `images` or
 *        `labels`, of the wrong rank or dtype, with a label count that differs from the image count, or with
 *        negative, non-integer or out-of-range labels, or train and test images of different sizes.
 */
template <std::floating_point T = float>
DataSplits<T> load_data(std::string_view spec) {
  const auto s = detail::parse_data_spec(spec);
  DataSplits<T> d;
  switch (s.kind) {
    case detail::SpecKind::mnist:
      d = {load_mnist<T>("train"), load_mnist<T>("test"), "mnist"};
      break;
    case detail::SpecKind::fashion:
      d = {load_fashion_mnist<T>("train"), load_fashion_mnist<T>("test"), "fashion"};
      break;
    case detail::SpecKind::idx_folder: {
      const std::string hint = "expected the IDX folder '" + s.first.string() +
                               "' to hold {train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte (each optionally .gz)";
      d = {detail::load_idx_folder<T>(s.first, "train", "io::load_data()", hint),
           detail::load_idx_folder<T>(s.first, "test", "io::load_data()", hint), std::string(spec)};
      break;
    }
    case detail::SpecKind::cifar_folder:
      d = {load_cifar10_folder<T>(s.first, "train"), load_cifar10_folder<T>(s.first, "test"), std::string(spec)};
      break;
    case detail::SpecKind::npz:
    case detail::SpecKind::npz_pair:
      d = detail::load_npz_splits<T>(s, spec);
      break;
  }
  detail::reconcile_splits(d, spec);
  return d;
}

/**
 * One split of a data set given by a data spec (see load_data for the forms).
 *
 * For the built-in names, an IDX folder and a CIFAR-10 folder only that split's files are read, and
 * num_classes is that split's own (largest label + 1; 10 for CIFAR-10). An NPZ spec is read whole, so
 * num_classes is the same as load_data's.
 *
 * @param split  "train" or "test".
 * @throw invalid_argument on another split; io_error as load_data, and for "test" of a single NPZ file that
 *        has no test_images / test_labels (the message says to give the test split as 'train.npz,test.npz').
 */
template <std::floating_point T = float>
LabeledData<T> load_data_split(std::string_view spec, std::string_view split) {
  DISTILL_CHECK(split == "train" || split == "test", "io::load_data_split(): split is '", split, "', expected \"train\" or \"test\"");
  const auto s = detail::parse_data_spec(spec);
  switch (s.kind) {
    case detail::SpecKind::mnist: return load_mnist<T>(split);
    case detail::SpecKind::fashion: return load_fashion_mnist<T>(split);
    case detail::SpecKind::idx_folder:
      return detail::load_idx_folder<T>(s.first, split, "io::load_data_split()",
                                        "expected the IDX folder '" + s.first.string() +
                                            "' to hold {train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte (each optionally .gz)");
    case detail::SpecKind::cifar_folder: return load_cifar10_folder<T>(s.first, split);
    case detail::SpecKind::npz:
    case detail::SpecKind::npz_pair: break;
  }
  auto d = load_data<T>(spec);
  if (split == "train") return std::move(d.train);
  if (d.test.empty()) {
    DISTILL_THROW(io_error, "io::load_data_split(): NPZ ", detail::quoted(s.first.string()),
                  " has no test split (arrays 'test_images' and 'test_labels'); add them, or give the test split as a second file: '",
                  spec, ",test.npz'");
  }
  return std::move(d.test);
}

}  // namespace distill::io

#endif  // DISTILL_IO_DATASETS_HPP
