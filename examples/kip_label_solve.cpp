// SPDX-License-Identifier: MIT
// Label Solve (Nguyen, Chen, Lee 2021, section 3) on saved support sets: loads distilled-set NPZ files (from
// distill_kip, or any set with a recorded normalisation), solves the closed-form labels against a number of
// training images, and prints the KRR test accuracy with the set's own labels and with the solved ones.
//
//   kip_label_solve mnist_kip_ipc10.npz                        all 60000 training images as LS targets
//   kip_label_solve a.npz --targets 10000 --data fashion       writes a_ls10000.npz
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "distill/eval/krr_eval.hpp"
#include "distill/io.hpp"
#include "distill/kernels.hpp"
#include "distill/synthetic/label_solve.hpp"

namespace dd = distill;
namespace cli = distill::cli;

int main(int argc, char** argv) {
  CLI::App app{"Label Solve on saved support sets, scored by KRR on the infinite-width FC NTK / NNGP"};
  cli::CommonOptions common;
  common.backend = "eigen";  // this example's backend before the shared header; kept
  cli::setup_app(app, common, {.seed = false});  // nothing random here
  std::vector<std::string> paths;
  std::size_t depth = 3, targets = 60000;
  bool nngp = false;
  double reg = 1e-6, bias_var = 0.0;
  app.add_option("sets", paths, "distilled-set NPZ files")->required();
  app.add_option("--targets", targets, "training images Label Solve fits (evenly spaced; capped at the training size)")
      ->check(CLI::PositiveNumber);
  app.add_option("--depth", depth, "hidden ReLU layers of the FC kernel");
  app.add_flag("--nngp", nngp, "use the NNGP kernel instead of the NTK");
  app.add_option("--bias-var", bias_var, "σ_b² of the FC kernel");
  app.add_option("--reg", reg, "ridge: λ = reg · tr(K_ss)/n");
  CLI11_PARSE(app, argc, argv);

  return cli::run_on_backend("kip_label_solve", common.backend, [&]<class B>() -> int {
    // The sets (small) and the output folders first: a bad file or folder fails before the data are read.
    const auto stem_of = [](const std::string& path) { return path.substr(0, path.size() - (path.ends_with(".npz") ? 4 : 0)); };
    std::vector<dd::io::DistilledSet<float>> sets;
    for (const auto& path : paths) {
      sets.push_back(dd::io::load_distilled<float>(path));
      cli::check_output_file("set " + path + ": output", stem_of(path) + "_ls" + std::to_string(targets) + ".npz");
    }
    const auto data = cli::load_data(common.data);
    const auto& train = data.train;
    for (std::size_t i = 0; i < sets.size(); ++i) dd::eval::check_set_matches(sets[i], data.test, paths[i]);
    const dd::kernels::FcNtk kernel{.depth = depth, .bias_var = bias_var,
                                    .kind = nngp ? dd::kernels::KernelKind::nngp : dd::kernels::KernelKind::ntk};
    const dd::eval::KrrEvalOptions eval{.reg = reg};
    const std::size_t count = std::clamp<std::size_t>(targets, 1, train.size());
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < train.size() && idx.size() < count; i += train.size() / count) idx.push_back(i);
    const auto subset = train.subset(idx);
    const auto yt = dd::kernels::centred_one_hot<float>(subset.labels, train.num_classes);
    for (std::size_t i = 0; i < sets.size(); ++i) {
      const auto& path = paths[i];
      const auto& set = sets[i];
      // The targets in the set's space: (x − mean) / std per channel.
      const auto xt = distill::io::ChannelStandardization<float>{set.mean, set.stddev}.applied_to(subset).images;
      const cli::Stopwatch clock;
      auto ls = set;
      ls.labels = dd::synthetic::label_solve<B>(kernel, set.images, xt.reshape(dd::Shape{xt.shape(0), xt.size() / xt.shape(0)}),
                                                yt, {.reg = reg});
      ls.num_classes = train.num_classes;
      ls.method = set.method + "+label_solve";
      ls.options_json = cli::options_json(common)
                            .add("label_solve", dd::io::JsonObject{}
                                                    .add("targets", count)
                                                    .add("kernel", nngp ? "nngp" : "ntk")
                                                    .add("depth", depth)
                                                    .add("bias_var", bias_var)
                                                    .add("reg", reg))
                            .add("source", path)
                            .add("source_method", set.method)
                            .add("source_options_json", set.options_json)
                            .str();
      const double s = clock.seconds();
      const double before = dd::eval::krr_accuracy<B>(kernel, set, data.test, eval).accuracy;
      const double after = dd::eval::krr_accuracy<B>(kernel, ls, data.test, eval).accuracy;
      const std::string out = stem_of(path) + "_ls" + std::to_string(count) + ".npz";
      dd::io::save_distilled(out, ls);
      std::printf("%s (%zu images): KRR test accuracy %.2f %% with its labels, %.2f %% with Label Solve on %zu targets "
                  "(%.1f s); wrote %s\n", path.c_str(), set.size(), 100 * before, 100 * after, count, s, out.c_str());
      std::fflush(stdout);
    }
    return 0;
  });
}
