// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_FRAME_CHECKPOINT_STATE_HPP
#define DISTILL_FRAME_CHECKPOINT_STATE_HPP

/**
 * @file
 * CheckpointState: everything a method must keep to continue a run, registered once by name and saved to (or
 * restored from) one NPZ key scheme.
 *
 * WHAT THIS REPRESENTS
 *   A list of references to the method's live state: learned tensors, optimizer states (SGD momentum buffers,
 *   Adam moments and step counts), counters, scalars and per-step series. The method registers them before its
 *   loop; the outer loop (frame/outer_loop.hpp) saves them on a checkpoint, restores them on resume, and keeps an
 *   in-memory copy for rolling back after a divergence. Because every random draw of step s is a pure function
 *   of (seed, s) (frame/seed.hpp), this state plus the step number is all a resumed run needs to land on the
 *   same bytes as an uninterrupted one.
 *
 * THE FILE (an NPZ, written atomically: temporary file + rename)
 *   checkpoint_format_version  int64 ()     1 (this layout); load refuses other versions
 *   checkpoint_method          '<U' (1,)    the method's name ("kip", "unrolled_gd", "train", ...)
 *   step                       int64 ()     steps completed
 *   tensor.<name>              float [...]  a registered tensor
 *   tensors.<name>.<k>         float [...]  the k-th tensor of a registered list (tensors.<name>.count: int64 ())
 *   adam.<name>.step           int64 ()     Adam's step count;  adam.<name>.m.<k>, adam.<name>.v.<k>: its moments
 *   sgd.<name>.step            int64 ()     SGD's step count;   sgd.<name>.buffer.<k>: its momentum buffers
 *   count.<name>               int64 ()     a counter;   value.<name>: float64 (), a scalar
 *   series.<name>              float64 [n]  a per-step series (e.g. the loss history)
 *   options_json               '<U' (1,)    how the run was configured (for the reader; not checked on load)
 *
 * Loading checks the version, the method and every registered tensor's shape, and throws io_error naming the
 * file, the key and the mismatch (e.g. a checkpoint of another configuration).
 */

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/npz.hpp"
#include "distill/nn/optimizers.hpp"

namespace distill::frame {

//! The checkpoint layout version that CheckpointState writes and reads.
inline constexpr std::int64_t checkpoint_format_version = 1;

//! The arrays of a checkpoint by key: what CheckpointState::save writes, and an in-memory snapshot.
using CheckpointArrays = std::map<std::string, io::NpyArray>;

template <std::floating_point T>
class CheckpointState {
 public:
  //! @param method  the method's name, recorded in the file and checked on load
  explicit CheckpointState(std::string method) : method_(std::move(method)) {}

  //! Registers a learned tensor (its shape is checked on load).
  CheckpointState& add(std::string name, Tensor<T>& tensor) { return put(std::move(name), &tensor); }
  //! Registers a list of tensors whose length is fixed for the run (one image batch per unrolled step, ...).
  CheckpointState& add(std::string name, std::vector<Tensor<T>>& tensors) { return put(std::move(name), &tensors); }
  //! Registers an Adam state (step count and moments; empty moments before the first step).
  CheckpointState& add(std::string name, nn::Adam::State<T>& adam) { return put(std::move(name), &adam); }
  //! Registers an SGD state (step count and momentum buffers).
  CheckpointState& add(std::string name, nn::Sgd::State<T>& sgd) { return put(std::move(name), &sgd); }
  //! Registers a counter.
  CheckpointState& add(std::string name, std::size_t& count) { return put(std::move(name), &count); }
  //! Registers a scalar (e.g. a learning-rate factor lowered after a divergence).
  CheckpointState& add(std::string name, double& value) { return put(std::move(name), &value); }
  //! Registers a series that grows by a value per step (e.g. the loss history).
  CheckpointState& add(std::string name, std::vector<double>& series) { return put(std::move(name), &series); }

  //! The options JSON written with every checkpoint (for people reading it; not checked on load).
  void set_options_json(std::string json) { options_json_ = std::move(json); }
  const std::string& method() const { return method_; }

  /// Every registered quantity, and `step`, as arrays under the keys of the file comment (deep copies).
  CheckpointArrays arrays(std::size_t step) const {
    CheckpointArrays out;
    auto i64 = [](std::size_t v) { return io::NpyArray::from_values(std::vector<std::int64_t>{std::int64_t(v)}, Shape{}); };
    out["checkpoint_format_version"] =
        io::NpyArray::from_values(std::vector<std::int64_t>{checkpoint_format_version}, Shape{});
    out["checkpoint_method"] = io::NpyArray::from_string(method_);
    out["options_json"] = io::NpyArray::from_string(options_json_.empty() ? std::string("{}") : options_json_);
    out["step"] = i64(step);
    for (const auto& [name, ref] : entries_) {
      if (auto* t = std::get_if<Tensor<T>*>(&ref)) {
        out["tensor." + name] = io::NpyArray::from_tensor(**t);
      } else if (auto* list = std::get_if<std::vector<Tensor<T>>*>(&ref)) {
        out["tensors." + name + ".count"] = i64((*list)->size());
        for (std::size_t k = 0; k < (*list)->size(); ++k)
          out["tensors." + name + "." + std::to_string(k)] = io::NpyArray::from_tensor((**list)[k]);
      } else if (auto* adam = std::get_if<nn::Adam::State<T>*>(&ref)) {
        out["adam." + name + ".step"] = i64((*adam)->step);
        for (std::size_t k = 0; k < (*adam)->m.size(); ++k) {
          out["adam." + name + ".m." + std::to_string(k)] = io::NpyArray::from_tensor((*adam)->m[k]);
          out["adam." + name + ".v." + std::to_string(k)] = io::NpyArray::from_tensor((*adam)->v[k]);
        }
      } else if (auto* sgd = std::get_if<nn::Sgd::State<T>*>(&ref)) {
        out["sgd." + name + ".step"] = i64((*sgd)->step);
        for (std::size_t k = 0; k < (*sgd)->buffer.size(); ++k)
          out["sgd." + name + ".buffer." + std::to_string(k)] = io::NpyArray::from_tensor((*sgd)->buffer[k]);
      } else if (auto* count = std::get_if<std::size_t*>(&ref)) {
        out["count." + name] = i64(**count);
      } else if (auto* value = std::get_if<double*>(&ref)) {
        out["value." + name] = io::NpyArray::from_values(std::vector<double>{**value}, Shape{});
      } else if (auto* series = std::get_if<std::vector<double>*>(&ref)) {
        out["series." + name] = io::NpyArray::from_values(**series, Shape{(*series)->size()});
      }
    }
    return out;
  }

  /// Writes the checkpoint of `step` to `path` atomically (a failed save leaves the previous file intact).
  void save(const std::filesystem::path& path, std::size_t step) const {
    io::NpzWriter w(path);
    for (const auto& [key, array] : arrays(step)) w.add(key, array);
    w.finish();
  }

  /**
   * Restores every registered quantity from `path` and returns the saved step.
   * @throw io_error when the file cannot be read, is not a checkpoint of this method and layout version, lacks a
   *        registered key, or holds a tensor of another shape than the registered one
   */
  std::size_t load(const std::filesystem::path& path) { return restore(io::load_npz(path), path.string()); }

  /// Restores every registered quantity from `arrays` (a snapshot from arrays(), or a loaded file) and returns its
  /// step. @throw io_error as load(), naming `source`
  std::size_t restore(const CheckpointArrays& arrays, const std::string& source = "snapshot") {
    auto get = [&](const std::string& key) -> const io::NpyArray& {
      const auto it = arrays.find(key);
      if (it == arrays.end())
        DISTILL_THROW(io_error, "CheckpointState::load(): checkpoint '", source, "' has no '", key, "' (not a ", method_,
                      " checkpoint of this configuration?)");
      return it->second;
    };
    auto scalar = [&](const std::string& key) -> std::size_t {
      const auto v = get(key).template to_vector<std::int64_t>();
      if (v.size() != 1 || v[0] < 0)
        DISTILL_THROW(io_error, "CheckpointState::load(): checkpoint '", source, "' has '", key,
                      "' that is not a non-negative scalar");
      return std::size_t(v[0]);
    };
    auto tensor_like = [&](const std::string& key, const Shape& shape) {
      Tensor<T> t = get(key).template as<T>();
      if (t.shape() != shape)
        DISTILL_THROW(io_error, "CheckpointState::load(): checkpoint '", source, "' has '", key, "' of shape ",
                      show(t.shape()), " but this run needs ", show(shape), " (a checkpoint of another configuration?)");
      return t;
    };
    const std::size_t version = scalar("checkpoint_format_version");
    if (version != std::size_t(checkpoint_format_version))
      DISTILL_THROW(io_error, "CheckpointState::load(): checkpoint '", source, "' has layout version ", version,
                    ", this build reads version ", checkpoint_format_version);
    const std::string method = get("checkpoint_method").as_string();
    if (method != method_)
      DISTILL_THROW(io_error, "CheckpointState::load(): checkpoint '", source, "' was written by ", method,
                    ", not by ", method_);
    // Read everything first, then assign, so a file that fails halfway leaves the live state untouched.
    std::vector<std::function<void()>> assign;
    for (const auto& [name, ref] : entries_) {
      if (auto* t = std::get_if<Tensor<T>*>(&ref)) {
        assign.push_back([dst = *t, v = tensor_like("tensor." + name, (*t)->shape())] { dst->assign(v); });
      } else if (auto* list = std::get_if<std::vector<Tensor<T>>*>(&ref)) {
        const std::size_t count = scalar("tensors." + name + ".count");
        if (count != (*list)->size())
          DISTILL_THROW(io_error, "CheckpointState::load(): checkpoint '", source, "' has ", count, " tensors '", name,
                        "' but this run has ", (*list)->size());
        std::vector<Tensor<T>> values;
        for (std::size_t k = 0; k < count; ++k)
          values.push_back(tensor_like("tensors." + name + "." + std::to_string(k), (**list)[k].shape()));
        assign.push_back([dst = *list, values] {
          for (std::size_t k = 0; k < values.size(); ++k) (*dst)[k].assign(values[k]);
        });
      } else if (auto* adam = std::get_if<nn::Adam::State<T>*>(&ref)) {
        nn::Adam::State<T> s;
        s.step = scalar("adam." + name + ".step");
        for (std::size_t k = 0; arrays.count("adam." + name + ".m." + std::to_string(k)); ++k) {
          s.m.push_back(get("adam." + name + ".m." + std::to_string(k)).template as<T>());
          s.v.push_back(tensor_like("adam." + name + ".v." + std::to_string(k), s.m.back().shape()));
        }
        assign.push_back([dst = *adam, s] { *dst = deep_copy(s); });
      } else if (auto* sgd = std::get_if<nn::Sgd::State<T>*>(&ref)) {
        nn::Sgd::State<T> s;
        s.step = scalar("sgd." + name + ".step");
        for (std::size_t k = 0; arrays.count("sgd." + name + ".buffer." + std::to_string(k)); ++k)
          s.buffer.push_back(get("sgd." + name + ".buffer." + std::to_string(k)).template as<T>());
        assign.push_back([dst = *sgd, s] { *dst = deep_copy(s); });
      } else if (auto* count = std::get_if<std::size_t*>(&ref)) {
        assign.push_back([dst = *count, v = scalar("count." + name)] { *dst = v; });
      } else if (auto* value = std::get_if<double*>(&ref)) {
        const auto v = get("value." + name).template to_vector<double>();
        if (v.size() != 1) DISTILL_THROW(io_error, "CheckpointState::load(): '", source, "' has a non-scalar 'value.", name, "'");
        assign.push_back([dst = *value, x = v[0]] { *dst = x; });
      } else if (auto* series = std::get_if<std::vector<double>*>(&ref)) {
        assign.push_back([dst = *series, v = get("series." + name).template to_vector<double>()] { *dst = v; });
      }
    }
    const std::size_t step = scalar("step");
    for (auto& f : assign) f();
    return step;
  }

 private:
  using Ref = std::variant<Tensor<T>*, std::vector<Tensor<T>>*, nn::Adam::State<T>*, nn::Sgd::State<T>*, std::size_t*,
                           double*, std::vector<double>*>;

  CheckpointState& put(std::string name, Ref ref) {
    DISTILL_CHECK(!name.empty() && name.find('.') == std::string::npos, "CheckpointState::add(): name '", name,
                  "' must be non-empty and without '.'");
    for (const auto& e : entries_)
      DISTILL_CHECK(e.first != name, "CheckpointState::add(): '", name, "' is already registered");
    entries_.emplace_back(std::move(name), ref);
    return *this;
  }

  // Optimizer states hold tensors, which share storage when copied: a restored state must own its own.
  static nn::Adam::State<T> deep_copy(const nn::Adam::State<T>& s) {
    nn::Adam::State<T> c{.step = s.step, .m = {}, .v = {}};
    for (const auto& t : s.m) c.m.push_back(t.clone());
    for (const auto& t : s.v) c.v.push_back(t.clone());
    return c;
  }
  static nn::Sgd::State<T> deep_copy(const nn::Sgd::State<T>& s) {
    nn::Sgd::State<T> c{.step = s.step, .buffer = {}};
    for (const auto& t : s.buffer) c.buffer.push_back(t.clone());
    return c;
  }

  std::string method_;
  std::string options_json_;
  std::vector<std::pair<std::string, Ref>> entries_;
};

}  // namespace distill::frame

#endif  // DISTILL_FRAME_CHECKPOINT_STATE_HPP
