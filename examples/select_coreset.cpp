// SPDX-License-Identifier: MIT
// Selects a coreset of a data set's training split (MNIST by default, or any --data) with one of the coreset
// methods of distill::coreset, saves it as a distilled set (the chosen real images, hard labels, `indices` and, for
// weighted methods, `weights`) with a PNG grid, and optionally trains fresh ConvNet-3s on it (the DC protocol).
//
//   select_coreset --method k_center_greedy --ipc 10 --out mnist_kcenter_ipc10
//       -> mnist_kcenter_ipc10.npz (np.load-able; evaluate_set reads it) and mnist_kcenter_ipc10.png
//   select_coreset --method herding --fraction 0.01               (600 of MNIST's 60,000, chosen globally)
//   select_coreset --method forgetting --ipc 10 --proxy mlp --proxy-epochs 5
//   select_coreset --method craig --ipc 50 --features embedding --eval-nets 3 --eval-epochs 300
//   evaluate_set mnist_kcenter_ipc10.npz                             (fresh networks trained on the set)
//
// Methods that read a proxy network (uncertainty, forgetting, el2n, grand, importance, craig, gradmatch, glister,
// deepfool, cal, and any method with --features embedding) train --proxy-nets networks --proxy for --proxy-epochs
// epochs first, on the whole training split; pixel methods never do.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "distill/coreset.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"

namespace dd = distill;
namespace cli = distill::cli;
namespace cs = distill::coreset;

namespace {

const std::vector<std::string> method_names{"random",     "herding", "k_center_greedy", "least_confidence",
                                            "entropy",    "margin",  "forgetting",      "grand",
                                            "el2n",       "importance", "craig",        "gradmatch",
                                            "glister",    "deepfool", "cal",    "facility_location", "graph_cut"};

struct Args {
  std::string method = "k_center_greedy", features = "pixels", proxy = "convnet", out;
  std::size_t ipc = 0, proxy_epochs = 3, proxy_nets = 1, proxy_width = 32, eval_nets = 0, eval_epochs = 300;
  double fraction = 0;
  bool quiet = false;
};

// Calls f(selector) with the selector named `name` (each is its own type).
template <class F>
auto with_selector(const std::string& name, std::uint64_t seed, F&& f) {
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

bool needs_proxy(const std::string& method, const std::string& features) {
  return features == "embedding" || !(method == "random" || method == "herding" || method == "k_center_greedy" ||
                                      method == "facility_location" || method == "graph_cut");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"select_coreset: pick a small subset of real training images with a coreset method and save it as a "
               "distilled set"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  std::string names;
  for (const auto& n : method_names) names += (names.empty() ? "" : ", ") + n;
  app.add_option("--method", a.method, "selection method: " + names);
  auto* ipc = app.add_option("--ipc", a.ipc, "images per class (a per-class budget)")->check(CLI::PositiveNumber);
  auto* frac = app.add_option("--fraction", a.fraction, "fraction of the training set, chosen globally (in (0, 1])");
  ipc->excludes(frac);
  app.add_option("--features", a.features, "what geometric methods measure distances on: pixels, or embedding (the proxy's "
                                           "penultimate features)")
      ->check(CLI::IsMember({"pixels", "embedding"}));
  app.add_option("--proxy", a.proxy, "proxy network: convnet (ConvNet-3 of width --proxy-width), lenet, or mlp (one hidden ReLU "
                                     "layer of 256)")
      ->check(CLI::IsMember(cli::model_names));
  app.add_option("--proxy-width", a.proxy_width, "convnet proxy: channels per block")->check(CLI::PositiveNumber);
  app.add_option("--proxy-epochs", a.proxy_epochs, "epochs of proxy training on the whole training split")->check(CLI::PositiveNumber);
  app.add_option("--proxy-nets", a.proxy_nets, "proxies averaged (GraNd / EL2N / probabilities)")->check(CLI::PositiveNumber);
  app.add_option("--out", a.out, "output prefix: writes <prefix>.npz and <prefix>.png (default <data>_<method>_ipc<N>)");
  app.add_option("--eval-nets", a.eval_nets, "then train this many fresh ConvNet-3s on the selection and print their test "
                                             "accuracy (evaluate_set's protocol; 0: do not)");
  app.add_option("--eval-epochs", a.eval_epochs, "--eval-nets: epochs per net (the DC protocol's other settings)");
  app.add_flag("--quiet", a.quiet, "no progress bars");
  CLI11_PARSE(app, argc, argv);

  return cli::run_guarded("select_coreset", [&]() -> int {
    bool known = false;
    for (const auto& n : method_names) known = known || n == a.method;
    DISTILL_CHECK(known, "unknown --method '", a.method, "'; valid methods: ", names);
    DISTILL_CHECK(a.ipc > 0 || a.fraction != 0, "give a budget: --ipc N (images per class) or --fraction F (of the training set)");
    if (a.out.empty()) {
      const std::string base = common.data == "mnist" || common.data == "fashion" ? common.data : "data";
      a.out = base + "_" + a.method + (a.ipc ? "_ipc" + std::to_string(a.ipc) : "_frac" + std::to_string(a.fraction));
    }
    return cli::run_on_backend("select_coreset", common.backend, [&]<class B>() -> int {
      cli::check_output_prefix(a.out, {".npz", ".png"});
      const auto data = cli::load_data(common.data);
      const auto& train = data.train;
      const dd::Shape shape = cli::image_shape(train.images);
      const cs::ViewOptions vo{.features = a.features == "embedding" ? cs::FeatureSource::embedding : cs::FeatureSource::pixels,
                               .proxy_epochs = a.proxy_epochs, .proxy_nets = a.proxy_nets, .seed = common.seed,
                               .progress = !a.quiet};
      const cs::Budget budget{.images_per_class = a.ipc, .fraction = a.fraction};
      cli::ModelOptions proxy_options{.width = a.proxy_width, .mlp_width = 256, .mlp_depth = 1};
      const bool proxy = needs_proxy(a.method, a.features);
      return cli::with_model(a.proxy, proxy_options, shape, train.num_classes, [&](const auto& net) {
        if (proxy)
          std::printf("proxy: %s, %zu net(s) x %zu epochs on %zu images\n",
                      cli::describe_model(a.proxy, proxy_options, shape, train.num_classes).c_str(), a.proxy_nets,
                      a.proxy_epochs, train.size());
        std::fflush(stdout);
        cs::SelectionView<float> view = proxy ? cs::SelectionView<float>(train, net, vo) : cs::SelectionView<float>(train, vo);
        const cli::Stopwatch clock;
        return with_selector(a.method, common.seed, [&](const auto& selector) {
          DISTILL_REQUIRE_SELECTOR(std::decay_t<decltype(selector)>, "select_coreset");
          const cs::Selection s = selector.select(view, budget);
          std::printf("%s: selected %zu of %zu images in %.2f s%s%s\n", selector.name().c_str(), s.size(), train.size(),
                      clock.seconds(), proxy ? " (proxy training included)" : "", s.weights ? ", weighted" : "");
          auto options = cli::options_json(common);
          options.add("method", a.method).add("features", a.features).add("ipc", a.ipc).add("fraction", a.fraction);
          if (proxy) options.add("proxy", cli::model_json(a.proxy, proxy_options)).add("proxy_epochs", a.proxy_epochs).add("proxy_nets", a.proxy_nets);
          const auto set = cs::to_distilled_set(s, train, selector.name(), options.str());
          dd::io::save_distilled(a.out + ".npz", set);
          const auto picked = train.subset(s.indices);
          dd::io::write_png_grid(a.out + ".png", picked.images,
                                 dd::io::GridOptions{.rows_by_label = picked.labels, .upscale = 2});
          std::printf("wrote %s.npz and %s.png\n", a.out.c_str(), a.out.c_str());
          if (a.eval_nets > 0) {
            const dd::eval::ProtocolOptions<float> protocol{.runs = a.eval_nets, .epochs = a.eval_epochs, .seed = common.seed};
            cli::with_model("convnet", cli::ModelOptions{}, shape, train.num_classes, [&](const auto& convnet) {
              const cli::Stopwatch eval_clock;
              const auto r = dd::eval::evaluate_set<B>(convnet, set, data.test, {.protocol = protocol}).hard;
              std::printf("ConvNet-3 test accuracy (%zu fresh nets, %zu epochs%s): %s   (%.1f s)\n", a.eval_nets,
                          a.eval_epochs, s.weights ? ", weighted loss" : "", cli::format_accuracy(r).c_str(),
                          eval_clock.seconds());
              return 0;
            });
          }
          return 0;
        });
      });
    });
  });
}
