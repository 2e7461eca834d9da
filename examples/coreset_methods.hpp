// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EXAMPLES_CORESET_METHODS_HPP
#define DISTILL_EXAMPLES_CORESET_METHODS_HPP

/**
 * @file
 * The coreset methods by name, for the command lines that select (select_coreset, coreset_table; examples only):
 * one list of the names (--method, also each selection's NPZ `method`), the selector each name makes (as one type,
 * AnySelector), which of them read a proxy network, and the proxy options both take (ProxyArgs), so that no command
 * line keeps its own copy.
 */

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli.hpp"
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

/**
 * Any selector behind one type (it is a Selector: name() and select<float>()), so that the code around a selection
 * (proxy views, saving, fresh-network evaluation, coreset::train_adaptive's training loop) compiles once instead of
 * once per method: instantiated for each of the 17 selector types, select_coreset's backends × models × methods
 * made it the longest build of the project.
 */
class AnySelector {
 public:
  template <distill::coreset::Selector S>
  explicit AnySelector(S s)
      : name_(s.name()),
        select_([s = std::move(s)](distill::coreset::SelectionView<float>& view, const distill::coreset::Budget& budget) {
          return s.template select<float>(view, budget);
        }) {}

  std::string name() const { return name_; }

  template <class T>
  distill::coreset::Selection select(distill::coreset::SelectionView<T>& view, const distill::coreset::Budget& budget) const {
    static_assert(std::is_same_v<T, float>, "AnySelector selects from float views (the command lines' scalar)");
    return select_(view, budget);
  }

 private:
  std::string name_;
  std::function<distill::coreset::Selection(distill::coreset::SelectionView<float>&, const distill::coreset::Budget&)> select_;
};
DISTILL_REQUIRE_SELECTOR(AnySelector, "AnySelector");

//! The selector named `name`; `name` must be in method_names. `never_learned` is Forgetting's and `first_centre`
//! KCenterGreedy's (the others ignore them).
inline AnySelector make_selector(const std::string& name, std::uint64_t seed,
                                 distill::coreset::NeverLearned never_learned = distill::coreset::NeverLearned::first,
                                 distill::coreset::FirstCentre first_centre = distill::coreset::FirstCentre::nearest_mean) {
  namespace cs = distill::coreset;
  using K = cs::UncertaintyKind;
  if (name == "random") return AnySelector(cs::Random{.seed = seed});
  if (name == "herding") return AnySelector(cs::Herding{});
  if (name == "k_center_greedy") return AnySelector(cs::KCenterGreedy{.seed = seed, .first = first_centre});
  if (name == "least_confidence") return AnySelector(cs::Uncertainty{.kind = K::least_confidence, .seed = seed});
  if (name == "entropy") return AnySelector(cs::Uncertainty{.kind = K::entropy, .seed = seed});
  if (name == "margin") return AnySelector(cs::Uncertainty{.kind = K::margin, .seed = seed});
  if (name == "forgetting") return AnySelector(cs::Forgetting{.seed = seed, .never_learned = never_learned});
  if (name == "grand") return AnySelector(cs::Grand{.seed = seed});
  if (name == "el2n") return AnySelector(cs::El2n{.seed = seed});
  if (name == "importance") return AnySelector(cs::Importance{.seed = seed});
  if (name == "craig") return AnySelector(cs::Craig{.seed = seed});
  if (name == "gradmatch") return AnySelector(cs::GradMatch{});
  if (name == "glister") return AnySelector(cs::Glister{});
  if (name == "cal") return AnySelector(cs::Cal{.seed = seed});
  if (name == "deepfool") return AnySelector(cs::DeepFool{.seed = seed});
  if (name == "facility_location") return AnySelector(cs::FacilityLocation{.seed = seed});
  return AnySelector(cs::GraphCut{.seed = seed});
}

//! Whether method `name` with features `features` ("pixels" | "embedding") reads a proxy network.
inline bool needs_proxy(const std::string& method, const std::string& features) {
  return features == "embedding" || !(method == "random" || method == "herding" || method == "k_center_greedy" ||
                                      method == "facility_location" || method == "graph_cut");
}

/**
 * What the selecting command lines take about the proxy network and the features (--features, --proxy,
 * --proxy-width, --proxy-epochs, --proxy-nets; and the options of single methods: how forgetting ranks what the
 * proxy never learned, --never-learned, and where k-center greedy starts, --first-centre), and what they make of
 * it: the view's options, the proxy's model options, its one-line description, the selector of a method and its
 * entries in a selection's options JSON.
 */
struct ProxyArgs {
  std::string features = "pixels", proxy = "convnet", never_learned = "first", first_centre = "mean";
  std::size_t proxy_width = 32, proxy_epochs = 3, proxy_nets = 1;

  void add_to(CLI::App& app) {
    app.add_option("--features", features, "what geometric methods measure distances on: pixels, or embedding (the "
                                           "proxy's penultimate features)")
        ->check(CLI::IsMember({"pixels", "embedding"}));
    app.add_option("--proxy", proxy, "proxy network: convnet (ConvNet-3 of width --proxy-width), lenet, or mlp (one "
                                     "hidden ReLU layer of 256)")
        ->check(CLI::IsMember(model_names));
    app.add_option("--proxy-width", proxy_width, "convnet proxy: channels per block")->check(CLI::PositiveNumber);
    app.add_option("--proxy-epochs", proxy_epochs, "epochs of proxy training on the whole training split")
        ->check(CLI::PositiveNumber);
    app.add_option("--proxy-nets", proxy_nets, "proxies averaged (GraNd / EL2N / probabilities)")->check(CLI::PositiveNumber);
    app.add_option("--never-learned", never_learned, "forgetting: examples the proxy never classified correctly go "
                                                     "first (Toneva et al.) or count their zero events (zero, DeepCore)")
        ->check(CLI::IsMember({"first", "zero"}));
    app.add_option("--first-centre", first_centre, "k_center_greedy: each class's (or the pool's) first centre is "
                                                   "the point nearest its mean (mean, deterministic) or a seeded "
                                                   "random one (random: --draws give different selections)")
        ->check(CLI::IsMember({"mean", "random"}));
  }

  //! The selector of method `name` (make_selector) with these options.
  AnySelector selector(const std::string& name, std::uint64_t seed) const {
    namespace cs = distill::coreset;
    return make_selector(name, seed, never_learned == "zero" ? cs::NeverLearned::zero : cs::NeverLearned::first,
                         first_centre == "random" ? cs::FirstCentre::random : cs::FirstCentre::nearest_mean);
  }

  distill::coreset::FeatureSource feature_source() const {
    return features == "embedding" ? distill::coreset::FeatureSource::embedding : distill::coreset::FeatureSource::pixels;
  }
  distill::coreset::ViewOptions view_options(std::uint64_t seed, bool progress) const {
    return {.features = feature_source(), .proxy_epochs = proxy_epochs, .proxy_nets = proxy_nets, .seed = seed,
            .progress = progress};
  }
  //! A ConvNet-3 of proxy_width, LeNet, or an MLP with one hidden layer of 256.
  ModelOptions model_options() const { return {.width = proxy_width, .mlp_width = 256, .mlp_depth = 1}; }

  //! "proxy: MLP 784-256-10, 1 net(s) x 5 epochs on 60000 images".
  void print(const Shape& image_shape, std::size_t classes, std::size_t images) const {
    std::printf("proxy: %s, %zu net(s) x %zu epochs on %zu images\n",
                describe_model(proxy, model_options(), image_shape, classes).c_str(), proxy_nets, proxy_epochs, images);
    std::fflush(stdout);
  }
  //! The proxy's entries of a selection's options JSON, for a method that read it.
  void add_proxy_json(io::JsonObject& options) const {
    options.add("proxy", model_json(proxy, model_options())).add("proxy_epochs", proxy_epochs).add("proxy_nets", proxy_nets);
  }
  //! The entries of method `method`'s own options, if it has any (forgetting's rank of the never-learned,
  //! k-center greedy's first centre).
  void add_method_json(io::JsonObject& options, const std::string& method) const {
    if (method == "forgetting") options.add("never_learned", never_learned);
    if (method == "k_center_greedy") options.add("first_centre", first_centre);
  }
};

}  // namespace distill::cli::coreset

#endif  // DISTILL_EXAMPLES_CORESET_METHODS_HPP
