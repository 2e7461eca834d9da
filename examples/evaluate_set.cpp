// SPDX-License-Identifier: MIT
// Evaluates distilled sets the way the field does (Zhao, Mopuri, Bilen 2021, Dataset Condensation with Gradient
// Matching, ICLR; arXiv:2006.05929): for each set and each network, train --runs fresh networks on the set (SGD lr
// 0.01, momentum 0.9, weight decay 5e-4, batch 256, lr ÷ 10 at half of 300 epochs) and test them on the --data test
// split mapped into the set's normalised space; report mean ± std test accuracy for
//   hard labels:   the argmax of the set's labels, cross-entropy (the number papers report);
//   stored labels: the set's own labels, MSE on them (KIP's learned labels are regression targets) or, with
//                  --stored-objective ce, cross-entropy against softmax(labels / --temperature).
// A set with hard labels has one protocol only: it is trained once and the table says so. Several --model give a
// cross-architecture table. The protocol itself is eval::evaluate_set (include/distill/eval/protocol.hpp).
//
//   evaluate_set mnist_kip_ipc10.npz                                   ConvNet-3, 5 runs, 300 epochs
//   evaluate_set a.npz b.npz --model convnet,lenet,mlp --runs 3        cross-architecture table
//   evaluate_set a.npz --stored-objective ce --temperature 0.1 --json a_eval.json
//   evaluate_set cifar_set.npz --data /data/cifar-10-batches-bin
//   evaluate_set mnist_dm_ipc10.npz --dsa                             with DSA augmentation (DSA, DM, MTT papers)
//   evaluate_set mnist_dc_ipc10.npz --dc-aug                          with the DC code's crop / scale / rotate (DC paper)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cli.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/synthetic/dsa.hpp"

namespace dd = distill;
namespace cli = distill::cli;

int main(int argc, char** argv) {
  CLI::App app{"evaluate_set: train fresh networks on distilled sets (the DC evaluation protocol) and report their test "
               "accuracy with hard (argmax) labels and with the labels the set stores"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  std::vector<std::string> paths, models{"convnet"};
  cli::ModelOptions model_options;
  dd::eval::SetEvaluationOptions<float> opt;
  std::string stored = "mse", json_path;
  app.add_option("sets", paths, "distilled-set NPZ files (io::save_distilled: distill_kip, distill_unrolled, ...)")->required();
  cli::add_models_option(app, models);
  cli::add_model_options(app, model_options);
  cli::add_protocol_options(app, opt.protocol);
  app.add_option("--stored-objective", stored,
                 "objective on the set's stored labels: mse (regress onto them) or ce (cross-entropy against "
                 "softmax(labels / --temperature)); sets with hard labels use cross-entropy once")
      ->check(CLI::IsMember({"mse", "ce"}));
  app.add_option("--temperature", opt.temperature, "--stored-objective ce: targets are softmax(labels / temperature)")
      ->check(CLI::PositiveNumber);
  bool dsa = false;
  std::string dsa_strategy = "auto";
  app.add_flag("--dsa", dsa, "augment every training minibatch with per-image DSA (how the DSA, DM and MTT papers evaluate)");
  app.add_option("--dsa-strategy", dsa_strategy, "--dsa: transforms joined by '_', or auto (no flip for one-channel data)");
  bool dc_aug = false;
  std::string dc_strategy = "auto";
  auto* dc_flag = app.add_flag("--dc-aug", dc_aug,
                               "augment every training image with one of the DC code's crop / scale / rotate, as the DC "
                               "paper trains its MNIST networks (see --dc-aug-strategy)");
  dc_flag->excludes("--dsa");
  app.add_option("--dc-aug-strategy", dc_strategy,
                 "--dc-aug: transforms from crop, scale, rotate, noise joined by '_', or auto (the DC code's choice: "
                 "crop_scale_rotate for MNIST, none for other data)");
  app.add_option("--json", json_path, "also write the table as JSON to this file (written atomically)");
  CLI11_PARSE(app, argc, argv);
  opt.protocol.seed = common.seed;
  opt.stored = stored == "mse" ? dd::eval::StoredObjective::mse : dd::eval::StoredObjective::cross_entropy;

  return cli::run_on_backend("evaluate_set", common.backend, [&]<class B>() -> int {
    // Everything that can be wrong is checked before the first network trains.
    if (!json_path.empty()) cli::check_output_file("--json", json_path);
    for (std::size_t i = 0; i < models.size(); ++i)
      DISTILL_CHECK(std::find(models.begin(), models.begin() + std::ptrdiff_t(i), models[i]) == models.begin() + std::ptrdiff_t(i),
                    "--model ", models[i], " is given twice");
    std::vector<dd::io::DistilledSet<float>> sets;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      DISTILL_CHECK(std::find(paths.begin(), paths.begin() + std::ptrdiff_t(i), paths[i]) == paths.begin() + std::ptrdiff_t(i),
                    "set ", paths[i], " is given twice");
      sets.push_back(dd::io::load_distilled<float>(paths[i]));
    }
    const auto test = cli::load_data_split(common.data, "test");
    const auto shape = cli::image_shape(test.images);
    if (dsa) {
      dsa_strategy = dsa_strategy == "auto" ? dd::synthetic::default_dsa_strategy(shape[0]) : dsa_strategy;
      opt.protocol.augment = dd::synthetic::Dsa{dsa_strategy}.augmentation<float>();
    }
    if (dc_aug) {
      dc_strategy = dc_strategy == "auto" ? dd::eval::default_dc_strategy(common.data) : dc_strategy;
      opt.protocol.augment = cli::dc_augmentation<float>(dc_strategy);
    }
    for (std::size_t i = 0; i < sets.size(); ++i) {
      const auto& s = sets[i];
      dd::eval::check_set_matches(s, test, paths[i]);
      for (const auto& m : models) cli::with_model(m, model_options, shape, test.num_classes, [](const auto&) { return 0; });
      std::printf("set %s: %zu images of %s, %s labels%s%s\n", paths[i].c_str(), s.size(),
                  cli::shape_text(cli::image_shape(s.images)).c_str(), s.has_soft_labels() ? "soft (stored)" : "hard",
                  s.method.empty() ? "" : ", method ", s.method.c_str());
    }
    const std::string stored_title =
        opt.stored == dd::eval::StoredObjective::mse ? "stored labels (MSE)" : "stored labels (CE, T " + [&] {
          char t[32];
          std::snprintf(t, sizeof t, "%g", opt.temperature);
          return std::string(t);
        }() + ")";
    std::printf("protocol: %s; %s backend\n", cli::describe_protocol(opt.protocol).c_str(), std::string(B::name).c_str());
    if (dsa) std::printf("augmentation: DSA '%s', per image\n", dsa_strategy.c_str());
    if (dc_aug) std::printf("augmentation: DC '%s', one transform per image\n", dc_strategy.c_str());
    for (const auto& m : models) std::printf("model %s: %s\n", m.c_str(), cli::describe_model(m, model_options, shape, test.num_classes).c_str());
    std::printf("\n");

    std::size_t set_width = 3;
    for (const auto& p : paths) set_width = std::max(set_width, p.size());
    const cli::Table table{{{"set", set_width},
                            {"model", 7},
                            {"hard labels (CE)", 16, cli::Table::right},
                            {stored_title, 20, cli::Table::right},
                            {"seconds", 8, cli::Table::right}}};
    table.print_header();
    dd::io::JsonObject results;
    bool any_hard = false;
    for (std::size_t i = 0; i < sets.size(); ++i) {
      const auto& s = sets[i];
      dd::io::JsonObject set_json;
      set_json.add("images", s.size()).add("labels", s.has_soft_labels() ? "soft" : "hard").add("method", s.method);
      for (const auto& m : models) {
        const cli::Stopwatch clock;
        const auto r = cli::with_model(m, model_options, shape, test.num_classes, [&](const auto& net) {
          return dd::eval::evaluate_set<B>(net, s, test, opt);
        });
        const double seconds = clock.seconds();
        any_hard = any_hard || r.stored_is_hard;
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.1f", seconds);
        table.print_row({paths[i], m, cli::format_accuracy(r.hard),
                         r.stored_is_hard ? "= hard (hard labels)" : cli::format_accuracy(r.stored), secs});
        auto row = dd::io::JsonObject{}.add("hard", cli::result_json(r.hard));
        if (!r.stored_is_hard) row.add("stored", cli::result_json(r.stored));
        row.add("stored_is_hard", r.stored_is_hard).add("seconds", seconds);
        set_json.add(m, row);
      }
      results.add(paths[i], set_json);
    }
    if (any_hard)
      std::printf("(a set with hard labels has one protocol: its stored labels are the hard labels, trained once)\n");

    if (!json_path.empty()) {
      auto j = cli::options_json(common);
      j.add("protocol", cli::protocol_json(opt.protocol)).add("stored_objective", stored);
      if (dsa) j.add("dsa", dsa_strategy);
      if (dc_aug) j.add("dc_aug", dc_strategy);
      if (opt.stored == dd::eval::StoredObjective::cross_entropy) j.add("temperature", opt.temperature);
      dd::io::JsonObject model_json;
      for (const auto& m : models) model_json.add(m, cli::model_json(m, model_options));
      j.add("models", model_json).add("backend", common.backend).add("results", results);
      cli::write_text_file(json_path, j.str() + "\n");
      std::printf("wrote %s\n", json_path.c_str());
    }
    return 0;
  });
}
