// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_NN_PARAMS_HPP
#define DISTILL_NN_PARAMS_HPP

/**
 * @file
 * Params<T>: a model's parameters as explicit values (named tensors in a fixed order), the bridge to the tape
 * (variables / constants) and NPZ save / load so that a trained net can be reused by later methods or by
 * NumPy / PyTorch (`np.load(path)["0.weight"]`).
 */

#include <concepts>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "distill/autodiff/tape.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/npz.hpp"

namespace distill::nn {

/**
 * WHAT THIS OBJECT REPRESENTS
 *   The parameters of a functional model: tensors[i] is the parameter called names[i] (PyTorch state_dict
 *   spelling, "0.weight", "conv1.bias"). The order is the order in which the model's forward() consumes
 *   them, so `forward(variables(tape, p), x)` pairs each tensor with its use.
 *
 *   Like Tensor, copying Params shares the storage; clone() is a deep copy.
 */
template <std::floating_point T>
struct Params {
  std::vector<std::string> names;
  std::vector<Tensor<T>> tensors;

  //! Number of parameter tensors.
  std::size_t size() const { return tensors.size(); }
  //! Total number of scalars over all tensors.
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& t : tensors) n += t.size();
    return n;
  }
  //! A deep copy (the tensors get their own storage).
  Params clone() const {
    Params p{names, {}};
    p.tensors.reserve(tensors.size());
    for (const auto& t : tensors) p.tensors.push_back(t.clone());
    return p;
  }
  //! The same parameters in another precision (a deep copy: float weights for a double backend, say).
  template <std::floating_point U>
  Params<U> cast() const {
    Params<U> p{names, {}};
    p.tensors.reserve(tensors.size());
    for (const auto& t : tensors) p.tensors.push_back(t.template cast<U>());
    return p;
  }
  //! Appends one named tensor.
  void add(std::string name, Tensor<T> t) {
    names.push_back(std::move(name));
    tensors.push_back(std::move(t));
  }
  //! The tensor called `name`. @throw invalid_argument when there is none.
  const Tensor<T>& operator[](const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return tensors[i];
    DISTILL_THROW(invalid_argument, "Params::operator[](): no parameter called \"", name, "\"");
  }
  //! True when every value is finite.
  bool all_finite() const {
    for (const auto& t : tensors)
      if (!t.all_finite()) return false;
    return true;
  }
};

/**
 * Puts every parameter on `tape` as a variable (gradients flow to them): the first line of a training step.
 * @return one Var per tensor, in order (sharing storage with `params`)
 */
template <Backend B>
std::vector<ad::Var<B>> variables(ad::Tape<B>& tape, const Params<typename B::Scalar>& params) {
  std::vector<ad::Var<B>> vars;
  vars.reserve(params.size());
  for (const auto& t : params.tensors) vars.push_back(tape.variable(t));
  return vars;
}

//! Every parameter as a constant Var (evaluation: nothing is recorded).
template <Backend B>
std::vector<ad::Var<B>> constants(const Params<typename B::Scalar>& params) {
  std::vector<ad::Var<B>> vars;
  vars.reserve(params.size());
  for (const auto& t : params.tensors) vars.emplace_back(t);
  return vars;
}

//! The values of a list of Vars as Params with the given names (e.g. θ₁ after an unrolled step).
template <Backend B>
Params<typename B::Scalar> values_of(const std::vector<ad::Var<B>>& vars, const std::vector<std::string>& names) {
  DISTILL_CHECK(vars.size() == names.size(), "values_of(): ", vars.size(), " Vars but ", names.size(), " names");
  Params<typename B::Scalar> p{names, {}};
  for (const auto& v : vars) p.tensors.push_back(v.value());
  return p;
}

namespace detail {
inline constexpr const char* params_order_key = "__names__";
}

/**
 * Saves parameters as an `.npz` archive keyed by name (float32 or float64 like T), atomically. The order is
 * kept in an extra entry "__names__" (one newline-separated string), so load_params returns the same order.
 * @throw invalid_argument on an empty, duplicate or reserved name, or a name containing a newline;
 *        io_error when the file cannot be written.
 */
template <std::floating_point T>
void save_params(const std::filesystem::path& path, const Params<T>& params) {
  DISTILL_CHECK(params.names.size() == params.tensors.size(), "save_params(): ", params.names.size(), " names for ",
                params.tensors.size(), " tensors");
  std::string order;
  io::NpzWriter w(path);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string& n = params.names[i];
    DISTILL_CHECK(!n.empty() && n != detail::params_order_key && n.find('\n') == std::string::npos,
                  "save_params(): parameter ", i, " has the name \"", n, "\", expected a non-empty name without newlines");
    w.add(n, io::NpyArray::from_tensor(params.tensors[i]));  // the writer rejects duplicate keys
    order += (i ? "\n" : "") + n;
  }
  if (!order.empty()) w.add(detail::params_order_key, io::NpyArray::from_string(order));
  w.finish();
}

/**
 * Loads parameters saved by save_params (or any `.npz` of float arrays: then in key order), converted to T.
 * @throw io_error when the file is unreadable or corrupt; invalid_argument when an entry is not numeric or
 *        "__names__" names an entry that is missing.
 */
template <std::floating_point T = float>
Params<T> load_params(const std::filesystem::path& path) {
  const auto arrays = io::load_npz(path);
  std::vector<std::string> names;
  if (const auto it = arrays.find(detail::params_order_key); it != arrays.end()) {
    const std::string order = it->second.as_string();
    std::size_t start = 0;
    while (start <= order.size() && !order.empty()) {
      const auto end = order.find('\n', start);
      names.push_back(order.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  } else {
    for (const auto& kv : arrays) names.push_back(kv.first);
  }
  Params<T> p;
  for (const auto& n : names) {
    const auto it = arrays.find(n);
    DISTILL_CHECK(it != arrays.end(), "load_params(): ", path.string(), " lists parameter \"", n,
                  "\" in __names__ but has no such entry");
    p.add(n, it->second.template as<T>());
  }
  return p;
}

/**
 * Checks that `p` has the names and shapes of `like` (a fresh init of the intended model), so a file saved
 * from another architecture is refused with a message instead of failing deep inside forward().
 * @throw invalid_argument on the first difference.
 */
template <std::floating_point T>
void check_same_layout(const Params<T>& p, const Params<T>& like, const char* where = "check_same_layout()") {
  DISTILL_CHECK(p.size() == like.size(), where, ": got ", p.size(), " parameter tensors, the model has ", like.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    DISTILL_CHECK(p.tensors[i].shape() == like.tensors[i].shape(), where, ": parameter ", i, " (\"", p.names[i],
                  "\") has shape ", show(p.tensors[i].shape()), ", the model expects ", show(like.tensors[i].shape()),
                  " (\"", like.names[i], "\")");
  }
}

}  // namespace distill::nn

#endif  // DISTILL_NN_PARAMS_HPP
