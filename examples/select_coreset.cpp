// SPDX-License-Identifier: MIT
// Selects a coreset of a data set's training split (MNIST by default, or any --data) with one of the coreset
// methods of distill::coreset, saves it as a distilled set (the chosen real images, hard labels, `indices` and, for
// weighted methods, `weights`) with a PNG grid, and optionally trains fresh ConvNet-3s (or --eval-model) on it (the DC
// protocol). With --adaptive R it selects again every R epochs while training those networks instead (nothing saved).
//
//   select_coreset --method k_center_greedy --ipc 10 --out mnist_kcenter_ipc10
//       -> mnist_kcenter_ipc10.npz (np.load-able; evaluate_set reads it) and mnist_kcenter_ipc10.png
//   select_coreset --method herding --fraction 0.01               (600 of MNIST's 60,000, chosen globally)
//   select_coreset --method forgetting --ipc 10 --proxy mlp --proxy-epochs 5
//   select_coreset --method craig --ipc 50 --features embedding --eval-nets 3 --eval-epochs 300
//   evaluate_set mnist_kcenter_ipc10.npz                             (fresh networks trained on the set)
//   select_coreset --method craig --fraction 0.01 --adaptive 5 --eval-nets 3 --eval-epochs 20 --eval-model mlp
//       -> MLPs trained on 600 images re-selected every 5 epochs by CRAIG with the MLP itself as the proxy
//
// Methods that read a proxy network (uncertainty, forgetting, el2n, grand, importance, craig, gradmatch, glister,
// deepfool, cal, and any method with --features embedding) train --proxy-nets networks --proxy for --proxy-epochs
// epochs first, on the whole training split; pixel methods never do.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "coreset_methods.hpp"
#include "distill/coreset.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"

namespace dd = distill;
namespace cli = distill::cli;
namespace cs = distill::coreset;
namespace methods = distill::cli::coreset;

namespace {

struct Args : methods::ProxyArgs {
  std::string method = "k_center_greedy", eval_model = "convnet", out;
  std::size_t ipc = 0, eval_nets = 0, eval_epochs = 300;
  std::size_t adaptive = 0, adaptive_warm = 0;
  double fraction = 0;
  bool quiet = false, eval_dc_aug = false;
};

//! The networks --eval-nets and --adaptive train: ConvNet-3 of width 128 (the DC protocol), LeNet-5, or an MLP with
//! one hidden ReLU layer of 256 (the --proxy mlp).
const cli::ModelOptions eval_model_options{.mlp_width = 256, .mlp_depth = 1};

// --adaptive R: --eval-nets fresh networks, each trained on subsets re-selected every R epochs by the method with
// the network itself as the proxy (coreset::train_adaptive), then tested.
template <class B>
int run_adaptive(const Args& a, const cli::CommonOptions& common) {
  DISTILL_CHECK(a.eval_nets > 0, "--adaptive ", a.adaptive, " trains --eval-nets networks, but --eval-nets is 0; give --eval-nets N");
  DISTILL_CHECK(a.method != "forgetting" || a.adaptive_warm > 0, "--adaptive with --method forgetting counts forgetting "
                "events over the epochs trained so far, so the first selection needs some: give --adaptive-warm N (N >= 1)");
  const auto data = cli::load_data(common.data);
  const auto& train = data.train;
  const dd::Shape shape = cli::image_shape(train.images);
  const cs::Budget budget{.images_per_class = a.ipc, .fraction = a.fraction};
  const cs::AdaptiveOptions ao{.reselect_every = a.adaptive, .warm_epochs = a.adaptive_warm,
                               .record_dynamics = a.method == "forgetting",
                               .features = a.feature_source()};
  const std::string model = cli::describe_model(a.eval_model, eval_model_options, shape, train.num_classes);
  const methods::AnySelector selector = a.selector(a.method, common.seed);
  return cli::with_model(a.eval_model, eval_model_options, shape, train.num_classes, [&](const auto& net) {
    const std::string dc_strategy = cli::eval_dc_strategy(a.eval_dc_aug, common.data);
    std::printf("adaptive %s: %zu fresh %s, %zu warm epoch(s) on all %zu images, then %zu epochs on subsets "
                "re-selected every %zu epochs\n",
                selector.name().c_str(), a.eval_nets, model.c_str(), a.adaptive_warm, train.size(), a.eval_epochs,
                a.adaptive);
    std::fflush(stdout);
    dd::eval::ProtocolResult r;
    std::optional<dd::LabeledData<float>> test;
    double select_seconds = 0, total_seconds = 0;
    bool weighted = false;
    for (std::size_t run = 0; run < a.eval_nets; ++run) {
      const cli::Stopwatch clock;
      dd::eval::TrainOptions<float> to{.epochs = a.eval_epochs, .seed = common.seed + run};
      to.augment = cli::dc_augmentation<float>(dc_strategy);
      const auto res = a.quiet ? cs::train_adaptive<B>(net, train, selector, budget, ao, to)
                               : cs::train_adaptive<B>(net, train, selector, budget, ao, to, dd::callbacks::ProgressBar{});
      if (!test) test = res.normalization.applied_to(data.test);
      const auto e = dd::eval::evaluate<B>(net, res.params, *test);
      r.add_run(e.accuracy, e.loss);
      weighted = weighted || bool(res.rounds.front().selection.weights);
      select_seconds += res.select_seconds();
      total_seconds += clock.seconds();
      std::printf("net %zu: %zu selections of %zu images, selecting %.1f s, training %.1f s (warm %.1f s), test "
                  "accuracy %.2f %%\n",
                  run, res.rounds.size(), res.rounds.front().selection.size(), res.select_seconds(), res.train_seconds(),
                  res.warm.seconds, 100 * e.accuracy);
      std::fflush(stdout);
    }
    std::printf("%s test accuracy (%zu fresh nets, %zu epochs, re-selected every %zu%s%s): %s   (selecting %.1f s of "
                "%.1f s)\n",
                model.c_str(), a.eval_nets, a.eval_epochs, a.adaptive, weighted ? ", weighted loss" : "",
                dc_strategy == "none" ? "" : ", DC augmentation",
                cli::format_accuracy(r).c_str(), select_seconds, total_seconds);
    return 0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"select_coreset: pick a small subset of real training images with a coreset method and save it as a "
               "distilled set"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  const std::string names = methods::method_list();
  app.add_option("--method", a.method, "selection method: " + names);
  auto* ipc = app.add_option("--ipc", a.ipc, "images per class (a per-class budget)")->check(CLI::PositiveNumber);
  auto* frac = app.add_option("--fraction", a.fraction, "fraction of the training set, chosen globally (in (0, 1])");
  ipc->excludes(frac);
  a.add_to(app);
  app.add_option("--out", a.out, "output prefix: writes <prefix>.npz and <prefix>.png (default <data>_<method>_ipc<N>)");
  app.add_option("--eval-nets", a.eval_nets, "then train this many fresh ConvNet-3s on the selection and print their test "
                                             "accuracy (evaluate_set's protocol; 0: do not)");
  app.add_option("--eval-epochs", a.eval_epochs, "--eval-nets: epochs per net (the DC protocol's other settings)");
  cli::add_eval_dc_aug_flag(app, a.eval_dc_aug);
  app.add_option("--eval-model", a.eval_model, "the network --eval-nets and --adaptive train: convnet (ConvNet-3, width 128), "
                                               "lenet, or mlp (one hidden ReLU layer of 256)")
      ->check(CLI::IsMember(cli::model_names));
  app.add_option("--adaptive", a.adaptive, "adaptive selection: instead of selecting once, train --eval-nets fresh "
                                           "--eval-model networks for --eval-epochs epochs on subsets of the budget "
                                           "re-selected every R epochs with the network being trained as the proxy (no "
                                           "separate proxy; pixel methods pick the same subset every time; nothing is "
                                           "saved) and print their test accuracy; 0: select once");
  app.add_option("--adaptive-warm", a.adaptive_warm, "--adaptive: epochs on the whole training set (constant lr) before "
                                                     "the first selection");
  app.add_flag("--quiet", a.quiet, "no progress bars");
  CLI11_PARSE(app, argc, argv);

  return cli::run_guarded("select_coreset", [&]() -> int {
    methods::check_method(a.method);
    DISTILL_CHECK(a.ipc > 0 || a.fraction != 0, "give a budget: --ipc N (images per class) or --fraction F (of the training set)");
    if (a.out.empty()) {
      const std::string base = common.data == "mnist" || common.data == "fashion" ? common.data : "data";
      a.out = base + "_" + a.method + (a.ipc ? "_ipc" + std::to_string(a.ipc) : "_frac" + std::to_string(a.fraction));
    }
    return cli::run_on_backend("select_coreset", common.backend, [&]<class B>() -> int {
      if (a.adaptive > 0) return run_adaptive<B>(a, common);
      cli::check_output_prefix(a.out, {".npz", ".png"});
      const auto data = cli::load_data(common.data);
      const auto& train = data.train;
      const dd::Shape shape = cli::image_shape(train.images);
      const cs::ViewOptions vo = a.view_options(common.seed, !a.quiet);
      const cs::Budget budget{.images_per_class = a.ipc, .fraction = a.fraction};
      const bool proxy = methods::needs_proxy(a.method, a.features);
      if (proxy) a.print(shape, train.num_classes, train.size());
      cs::SelectionView<float> view =
          proxy ? cli::with_model(a.proxy, a.model_options(), shape, train.num_classes,
                                  [&](const auto& net) { return cs::SelectionView<float>(train, net, vo); })
                : cs::SelectionView<float>(train, vo);
      const cli::Stopwatch clock;
      const methods::AnySelector selector = a.selector(a.method, common.seed);
      const cs::Selection s = selector.select(view, budget);
      std::printf("%s: selected %zu of %zu images in %.2f s%s%s\n", selector.name().c_str(), s.size(), train.size(),
                  clock.seconds(), proxy ? " (proxy training included)" : "", s.weights ? ", weighted" : "");
      auto options = cli::options_json(common);
      options.add("method", a.method).add("features", a.features).add("ipc", a.ipc).add("fraction", a.fraction);
      if (proxy) a.add_proxy_json(options);
      a.add_method_json(options, a.method);
      const auto set = cs::to_distilled_set(s, train, selector.name(), options.str());
      dd::io::save_distilled(a.out + ".npz", set);
      const auto picked = train.subset(s.indices);
      dd::io::write_png_grid(a.out + ".png", picked.images,
                             dd::io::GridOptions{.rows_by_label = picked.labels, .upscale = 2});
      std::printf("wrote %s.npz and %s.png\n", a.out.c_str(), a.out.c_str());
      if (a.eval_nets > 0) {
        const std::string dc_strategy = cli::eval_dc_strategy(a.eval_dc_aug, common.data);
        const auto protocol = cli::NetEvaluation{.nets = a.eval_nets, .epochs = a.eval_epochs, .seed = common.seed,
                                                 .dc_strategy = dc_strategy}.protocol<float>();
        cli::with_model(a.eval_model, eval_model_options, shape, train.num_classes, [&](const auto& eval_net) {
          const cli::Stopwatch eval_clock;
          const auto r = dd::eval::evaluate_set<B>(eval_net, set, data.test, {.protocol = protocol}).hard;
          std::printf("%s test accuracy (%zu fresh nets, %zu epochs%s%s): %s   (%.1f s)\n",
                      cli::describe_model(a.eval_model, eval_model_options, shape, train.num_classes).c_str(),
                      a.eval_nets, a.eval_epochs, s.weights ? ", weighted loss" : "",
                      dc_strategy == "none" ? "" : ", DC augmentation", cli::format_accuracy(r).c_str(),
                      eval_clock.seconds());
          return 0;
        });
      }
      return 0;
    });
  });
}
