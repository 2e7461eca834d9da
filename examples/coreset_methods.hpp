// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EXAMPLES_CORESET_METHODS_HPP
#define DISTILL_EXAMPLES_CORESET_METHODS_HPP

/**
 * @file
 * The coreset methods by name, for the command lines that select (select_coreset, coreset_table; examples only):
 * one list of the names (--method, also each selection's NPZ `method`), the selector each name makes, and which of
 * them read a proxy network, so that no command line keeps its own copy of the table.
 */

#include <cstdint>
#include <string>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/coreset.hpp"

namespace distill::cli::coreset {

//! Every method's name, in the order of the list (geometry, uncertainty, error, gradients, boundary, submodular).
inline const std::vector<std::string> method_names{"random",     "herding", "k_center_greedy", "least_confidence",
                                                   "entropy",    "margin",  "forgetting",      "grand",
                                                   "el2n",       "importance", "craig",        "gradmatch",
                                                   "glister",    "deepfool", "cal",    "facility_location", "graph_cut"};

//! "random, herding, ..." (for --help and messages).
inline std::string method_list() {
  std::string names;
  for (const auto& n : method_names) names += (names.empty() ? "" : ", ") + n;
  return names;
}

//! @throw invalid_argument `unknown <option> 'foo'; valid methods: random, herding, ...` for a name not in the list
inline void check_method(const std::string& name, const std::string& option = "--method") {
  bool known = false;
  for (const auto& n : method_names) known = known || n == name;
  DISTILL_CHECK(known, "unknown ", option, " '", name, "'; valid methods: ", method_list());
}

//! Calls f(selector) with the selector named `name` (each is its own type); `name` must be in method_names.
template <class F>
auto with_selector(const std::string& name, std::uint64_t seed, F&& f) {
  namespace cs = distill::coreset;
  using K = cs::UncertaintyKind;
  if (name == "random") return f(cs::Random{.seed = seed});
  if (name == "herding") return f(cs::Herding{});
  if (name == "k_center_greedy") return f(cs::KCenterGreedy{.seed = seed});
  if (name == "least_confidence") return f(cs::Uncertainty{.kind = K::least_confidence, .seed = seed});
  if (name == "entropy") return f(cs::Uncertainty{.kind = K::entropy, .seed = seed});
  if (name == "margin") return f(cs::Uncertainty{.kind = K::margin, .seed = seed});
  if (name == "forgetting") return f(cs::Forgetting{.seed = seed});
  if (name == "grand") return f(cs::Grand{.seed = seed});
  if (name == "el2n") return f(cs::El2n{.seed = seed});
  if (name == "importance") return f(cs::Importance{.seed = seed});
  if (name == "craig") return f(cs::Craig{.seed = seed});
  if (name == "gradmatch") return f(cs::GradMatch{});
  if (name == "glister") return f(cs::Glister{});
  if (name == "cal") return f(cs::Cal{.seed = seed});
  if (name == "deepfool") return f(cs::DeepFool{.seed = seed});
  if (name == "facility_location") return f(cs::FacilityLocation{.seed = seed});
  return f(cs::GraphCut{.seed = seed});
}

//! Whether method `name` with features `features` ("pixels" | "embedding") reads a proxy network.
inline bool needs_proxy(const std::string& method, const std::string& features) {
  return features == "embedding" || !(method == "random" || method == "herding" || method == "k_center_greedy" ||
                                      method == "facility_location" || method == "graph_cut");
}

}  // namespace distill::cli::coreset

#endif  // DISTILL_EXAMPLES_CORESET_METHODS_HPP
