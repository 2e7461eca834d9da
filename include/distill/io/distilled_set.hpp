// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_DISTILLED_SET_HPP
#define DISTILL_IO_DISTILLED_SET_HPP

/**
 * @file
 * The distilled-set file: what a distillation (or coreset) run produces, saved as an `.npz` that NumPy and
 * PyTorch load with `np.load(path)` (no pickle). Full description: docs/distilled_set_format.md.
 *
 *   key             dtype        shape          meaning
 *   --------------  -----------  -------------  -----------------------------------------------------------
 *   format_version  int64        ()             1 (this layout); readers refuse versions they do not know
 *   images          float32/64   [N, C, H, W]   the synthetic images, in the *normalised* space
 *   labels          int64        [N]            hard class labels in [0, num_classes)      } exactly one
 *   soft_labels     float32/64   [N, K]         soft / learned label vectors (K classes)   } of these two
 *   num_classes     int64        ()             number of classes
 *   mean            float32/64   [C]            per-channel mean used to normalise:  x_norm = (x - mean) / std
 *   std             float32/64   [C]            per-channel standard deviation (> 0)
 *   step_sizes      float32/64   [S] (any rank) optional: learned inner-loop learning rates
 *   method          '<U'         (1,)           the method that made the set, e.g. "kip"
 *   options_json    '<U'         (1,)           the method's options as JSON text ("{}" when none)
 *   <any other>     any          any            method-specific extras (DistilledSet::extra), e.g. a coreset's
 *                                               `indices` and `weights`, unrolled GD's `unrolled_steps`
 *
 * Floats are stored in the precision of the DistilledSet<T> that was saved and converted on load. Keys that are
 * not part of the layout are loaded into `extra` as they are, so later versions can add keys without breaking
 * older readers.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/npy.hpp"
#include "distill/io/npz.hpp"

namespace distill::io {

//! The distilled-set layout version that save_distilled writes and load_distilled reads.
inline constexpr std::int64_t distilled_set_format_version = 1;

/**
 * WHAT THIS OBJECT REPRESENTS
 *   A small synthetic (or selected) training set with everything needed to train on it elsewhere:
 *   images in normalised space, hard or soft labels, the normalisation that maps real images into that
 *   space, optionally the learned inner-loop step sizes, and a record of how it was made.
 *
 *   labels has shape [N] (hard labels: whole numbers in [0, num_classes)) or [N, K] (soft labels).
 *   mean and stddev have shape [C], or are both empty, meaning "no normalisation" (saved as 0 and 1).
 */
template <std::floating_point T = float>
struct DistilledSet {
  Tensor<T> images;                     //!< [N, C, H, W]
  Tensor<T> labels;                     //!< [N] hard or [N, K] soft
  std::optional<Tensor<T>> step_sizes;  //!< learned learning rates, when the method learns them
  Tensor<T> mean;                       //!< [C] per-channel mean (empty = 0)
  Tensor<T> stddev;                     //!< [C] per-channel standard deviation (empty = 1)
  std::string method;                   //!< e.g. "kip", "dc", "dm", "k_center_greedy"
  std::string options_json;             //!< the method's options as JSON text
  std::size_t num_classes = 0;          //!< 0 = infer (largest hard label + 1, or K)
  std::map<std::string, NpyArray> extra;  //!< method-specific arrays saved under their own keys (not a layout key)

  //! The keys of the layout itself, which `extra` may not use.
  static bool is_layout_key(std::string_view key) {
    for (const char* k : {"format_version", "images", "labels", "soft_labels", "num_classes", "mean", "std", "step_sizes",
                          "method", "options_json"})
      if (key == k) return true;
    return false;
  }

  //! Number of examples N.
  std::size_t size() const { return images.rank() >= 1 ? images.shape(0) : 0; }
  //! True when labels are soft ([N, K]).
  bool has_soft_labels() const { return labels.rank() == 2; }

  //! The class count: num_classes if set, else K for soft labels or the largest hard label + 1.
  std::size_t classes() const {
    if (num_classes) return num_classes;
    if (has_soft_labels()) return labels.shape(1);
    T m = -1;
    for (T v : labels) m = std::max(m, v);
    return static_cast<std::size_t>(m + 1);
  }

  //! Hard labels: the labels themselves, or the argmax of each soft label row.
  std::vector<std::int64_t> hard_labels() const {
    std::vector<std::int64_t> out(size());
    if (!has_soft_labels()) {
      for (std::size_t i = 0; i < out.size() && i < labels.size(); ++i) out[i] = static_cast<std::int64_t>(labels[i]);
      return out;
    }
    const std::size_t k = labels.shape(1);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const T* row = labels.data() + i * k;
      out[i] = static_cast<std::int64_t>(std::max_element(row, row + k) - row);
    }
    return out;
  }

  //! The images with hard labels (argmax of soft labels), for evaluation protocols that need classes.
  LabeledData<T> to_labeled_data() const { return {images, hard_labels(), classes()}; }

  //! A set made of real examples (a coreset), with hard labels and no normalisation recorded.
  static DistilledSet from_labeled_data(const LabeledData<T>& data, std::string method, std::string options_json = "{}") {
    DistilledSet s;
    s.images = data.images;
    s.labels = Tensor<T>({data.labels.size()});
    for (std::size_t i = 0; i < data.labels.size(); ++i) s.labels[i] = static_cast<T>(data.labels[i]);
    s.num_classes = data.num_classes;
    s.method = std::move(method);
    s.options_json = std::move(options_json);
    return s;
  }

  /**
   * Checks the invariants listed above.
   * @throw invalid_argument naming the field that is wrong.
   */
  void validate(std::string_view where = "DistilledSet::validate()") const {
    DISTILL_CHECK(images.rank() == 4, where, ": images have shape ", show(images.shape()), ", expected [N, C, H, W]");
    const std::size_t n = images.shape(0), c = images.shape(1);
    DISTILL_CHECK(images.all_finite(), where, ": images contain NaN or infinity");
    DISTILL_CHECK(labels.rank() == 1 || labels.rank() == 2, where, ": labels have shape ", show(labels.shape()),
                  ", expected [N] (hard) or [N, K] (soft)");
    DISTILL_CHECK(labels.shape(0) == n, where, ": labels have shape ", show(labels.shape()), " but there are ", n, " images");
    DISTILL_CHECK(labels.all_finite(), where, ": labels contain NaN or infinity");
    if (has_soft_labels()) {
      DISTILL_CHECK(labels.shape(1) >= 1, where, ": soft labels have shape ", show(labels.shape()), ", expected K >= 1 classes");
      DISTILL_CHECK(num_classes == 0 || num_classes == labels.shape(1), where, ": num_classes is ", num_classes,
                    " but soft labels have K = ", labels.shape(1));
    } else {
      for (std::size_t i = 0; i < labels.size(); ++i) {
        const T v = labels[i];
        DISTILL_CHECK(v >= 0 && std::trunc(v) == v && (num_classes == 0 || v < static_cast<T>(num_classes)), where, ": hard label ", i,
                      " is ", v, ", expected a whole number in [0, ", num_classes ? std::to_string(num_classes) : std::string("num_classes"), ")");
      }
    }
    DISTILL_CHECK(mean.size() == stddev.size(), where, ": mean has shape ", show(mean.shape()), " but stddev has ", show(stddev.shape()));
    if (mean.size() != 0) {
      DISTILL_CHECK(mean.rank() == 1 && mean.size() == c && stddev.rank() == 1, where, ": mean/stddev have shape ", show(mean.shape()),
                    ", expected [", c, "] (one per channel) or empty");
      DISTILL_CHECK(mean.all_finite(), where, ": mean contains NaN or infinity");
      for (T s : stddev) DISTILL_CHECK(std::isfinite(s) && s > 0, where, ": stddev has an entry ", s, ", expected finite and > 0");
    }
    if (step_sizes) {
      DISTILL_CHECK(step_sizes->rank() >= 1, where, ": step_sizes is a scalar tensor, expected rank >= 1 (e.g. [steps])");
      DISTILL_CHECK(step_sizes->all_finite(), where, ": step_sizes contain NaN or infinity");
    }
    for (const auto& [key, array] : extra) {
      DISTILL_CHECK(!key.empty() && !is_layout_key(key), where, ": extra key '", key,
                    "' is empty or one of the layout's own keys");
      array.validate(where);
    }
  }
};

/**
 * Saves a distilled set in the format described at the top of this header (an `.npz`, atomically).
 * @throw invalid_argument when the set fails DistilledSet::validate(); io_error when it cannot be written.
 */
template <std::floating_point T>
void save_distilled(const std::filesystem::path& path, const DistilledSet<T>& set) {
  set.validate("io::save_distilled()");
  const std::size_t c = set.images.shape(1);
  NpzWriter w(path);
  w.add("format_version", NpyArray::from_values(std::vector<std::int64_t>{distilled_set_format_version}, Shape{}));
  w.add("images", set.images);
  if (set.has_soft_labels()) {
    w.add("soft_labels", set.labels);
  } else {
    std::vector<std::int64_t> hard(set.labels.size());
    for (std::size_t i = 0; i < hard.size(); ++i) hard[i] = static_cast<std::int64_t>(set.labels[i]);
    w.add("labels", NpyArray::from_values(hard));
  }
  w.add("num_classes", NpyArray::from_values(std::vector<std::int64_t>{static_cast<std::int64_t>(set.classes())}, Shape{}));
  w.add("mean", set.mean.size() ? set.mean : Tensor<T>({c}, T(0)));
  w.add("std", set.stddev.size() ? set.stddev : Tensor<T>({c}, T(1)));
  if (set.step_sizes) w.add("step_sizes", *set.step_sizes);
  for (const auto& [key, array] : set.extra) w.add(key, array);
  w.add_string("method", set.method);
  w.add_string("options_json", set.options_json.empty() ? std::string("{}") : set.options_json);
  w.finish();
}

//! The same as save_distilled: `dd::io::save_npz("set.npz", distilled)`.
template <std::floating_point T>
void save_npz(const std::filesystem::path& path, const DistilledSet<T>& set) {
  save_distilled(path, set);
}

/**
 * Loads a distilled-set `.npz` (written by save_distilled, or by any tool that follows the format).
 * @throw io_error when the file is unreadable, is not a distilled-set file, has an unknown format_version,
 *        or has missing or inconsistent keys; the message names the file and the key.
 */
template <std::floating_point T = float>
DistilledSet<T> load_distilled(const std::filesystem::path& path) {
  const auto arrays = load_npz(path);
  const std::string file = path.string();
  auto fail = [&](const std::string& what) { DISTILL_THROW(io_error, "io::load_distilled(): '", file, "' ", what); };
  auto find = [&](const char* key) -> const NpyArray* {
    const auto it = arrays.find(key);
    return it == arrays.end() ? nullptr : &it->second;
  };
  auto numeric = [&](const char* key, const NpyArray& a) {
    if (a.dtype != DType::float32 && a.dtype != DType::float64 && a.dtype != DType::int64 && a.dtype != DType::int32 &&
        a.dtype != DType::uint8) {
      fail(std::string("key '") + key + "' has dtype " + a.descr() + ", expected a numeric array");
    }
  };
  // Conversions can only fail on content (a float where an integer belongs): report those as io_error too.
  auto guard = [&](const char* key, auto&& f) {
    try {
      return f();
    } catch (const invalid_argument& e) {
      fail(std::string("key '") + key + "': " + e.what());
      throw;  // not reached
    }
  };

  const NpyArray* version = find("format_version");
  if (!version) fail("is not a distilled-set file (it has no 'format_version' key; see docs/distilled_set_format.md)");
  numeric("format_version", *version);
  const auto v = guard("format_version", [&] { return version->to_vector<std::int64_t>(); });
  if (v.size() != 1 || v[0] != distilled_set_format_version) {
    fail("has format_version " + (v.size() == 1 ? std::to_string(v[0]) : std::string("of ") + std::to_string(v.size()) + " values") +
         ", this distill reads version " + std::to_string(distilled_set_format_version));
  }

  DistilledSet<T> set;
  const NpyArray* images = find("images");
  if (!images) fail("has no 'images' key");
  numeric("images", *images);
  if (images->shape.size() != 4) fail("key 'images' has shape " + to_string(images->shape) + ", expected [N, C, H, W]");
  set.images = images->as<T>();
  const std::size_t n = images->shape[0], c = images->shape[1];

  const NpyArray* hard = find("labels");
  const NpyArray* soft = find("soft_labels");
  if ((hard == nullptr) == (soft == nullptr)) fail("must have exactly one of the keys 'labels' (hard) and 'soft_labels'");
  if (hard) {
    numeric("labels", *hard);
    if (hard->shape != Shape{n}) fail("key 'labels' has shape " + to_string(hard->shape) + ", expected [" + std::to_string(n) + "]");
    const auto l = guard("labels", [&] { return hard->to_vector<std::int64_t>(); });
    set.labels = Tensor<T>({n});
    for (std::size_t i = 0; i < n; ++i) {
      if (l[i] < 0) fail("key 'labels' has label " + std::to_string(l[i]) + " at index " + std::to_string(i) + ", expected >= 0");
      set.labels[i] = static_cast<T>(l[i]);
    }
  } else {
    numeric("soft_labels", *soft);
    if (soft->shape.size() != 2 || soft->shape[0] != n) {
      fail("key 'soft_labels' has shape " + to_string(soft->shape) + ", expected [" + std::to_string(n) + ", K]");
    }
    set.labels = soft->as<T>();
  }

  if (const NpyArray* k = find("num_classes")) {
    numeric("num_classes", *k);
    const auto kv = guard("num_classes", [&] { return k->to_vector<std::int64_t>(); });
    if (kv.size() != 1 || kv[0] < 1) fail("key 'num_classes' must hold one positive integer");
    set.num_classes = static_cast<std::size_t>(kv[0]);
  }

  const NpyArray* mean = find("mean");
  const NpyArray* sd = find("std");
  if (!mean || !sd) fail("lacks the normalisation keys 'mean' and 'std'");
  numeric("mean", *mean);
  numeric("std", *sd);
  if (mean->shape != Shape{c} || sd->shape != Shape{c}) {
    fail("keys 'mean'/'std' have shapes " + to_string(mean->shape) + "/" + to_string(sd->shape) + ", expected [" + std::to_string(c) +
         "] (one per channel)");
  }
  set.mean = mean->as<T>();
  set.stddev = sd->as<T>();

  if (const NpyArray* s = find("step_sizes")) {
    numeric("step_sizes", *s);
    set.step_sizes = s->as<T>();
  }
  auto text = [&](const char* key) {
    const NpyArray* a = find(key);
    if (!a) return std::string();
    return guard(key, [&] { return a->as_string(); });
  };
  set.method = text("method");
  set.options_json = text("options_json");
  for (const auto& [key, array] : arrays)
    if (!DistilledSet<T>::is_layout_key(key)) set.extra.emplace(key, array);

  try {
    set.validate("DistilledSet");
  } catch (const invalid_argument& e) {
    fail(std::string("is inconsistent: ") + e.what());
  }
  return set;
}

}  // namespace distill::io

#endif  // DISTILL_IO_DISTILLED_SET_HPP
