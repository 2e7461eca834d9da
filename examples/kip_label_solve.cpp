// SPDX-License-Identifier: MIT
// Label Solve (Nguyen, Chen, Lee 2021, section 3) on saved support sets: loads distilled-set NPZ files (from
// distill_kip, or any set with a recorded normalisation), solves the closed-form labels against a number of
// training images, and prints the KRR test accuracy with the set's own labels and with the solved ones.
//
//   kip_label_solve mnist_kip_ipc10.npz                        all 60000 training images as LS targets
//   kip_label_solve a.npz --targets 10000 --dataset fashion    writes a_ls10000.npz
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "distill/eval/krr_eval.hpp"
#include "distill/io.hpp"
#include "distill/kernels.hpp"
#include "distill/synthetic/label_solve.hpp"

namespace dd = distill;
using B = dd::DefaultBackend<float>;

int main(int argc, char** argv) {
  CLI::App app{"Label Solve on saved support sets, scored by KRR on the infinite-width FC NTK / NNGP"};
  std::vector<std::string> sets;
  std::string dataset = "mnist";
  std::size_t depth = 3, targets = 60000;
  bool nngp = false;
  double reg = 1e-6, bias_var = 0.0;
  app.add_option("sets", sets, "distilled-set NPZ files")->required();
  app.add_option("--dataset", dataset, "mnist or fashion")->check(CLI::IsMember({"mnist", "fashion"}))->capture_default_str();
  app.add_option("--targets", targets, "training images Label Solve fits (evenly spaced; capped at the training size)")
      ->capture_default_str();
  app.add_option("--depth", depth, "hidden ReLU layers of the FC kernel")->capture_default_str();
  app.add_flag("--nngp", nngp, "use the NNGP kernel instead of the NTK");
  app.add_option("--bias-var", bias_var, "σ_b² of the FC kernel")->capture_default_str();
  app.add_option("--reg", reg, "ridge: λ = reg · tr(K_ss)/n")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const auto load = [&](const char* split) {
      return dd::io::load_dataset<float>(dataset, split);
    };
    const auto train = load("train"), test = load("test");
    const dd::kernels::FcNtk kernel{.depth = depth, .bias_var = bias_var,
                                    .kind = nngp ? dd::kernels::KernelKind::nngp : dd::kernels::KernelKind::ntk};
    const dd::eval::KrrEvalOptions eval{.reg = reg};
    const std::size_t count = std::clamp<std::size_t>(targets, 1, train.size());
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < train.size() && idx.size() < count; i += train.size() / count) idx.push_back(i);
    const auto subset = train.subset(idx);
    const auto yt = dd::kernels::centred_one_hot<float>(subset.labels, train.num_classes);
    for (const auto& path : sets) {
      const auto set = dd::io::load_distilled<float>(path);
      // The targets in the set's space: (x − mean) / std per channel.
      auto xt = subset.images.clone();
      const std::size_t channels = set.images.shape(1), per = xt.size() / (xt.shape(0) * channels);
      if (set.mean.size() == channels)
        for (std::size_t i = 0; i < xt.size(); ++i) {
          const std::size_t ch = (i / per) % channels;
          xt[i] = (xt[i] - set.mean[ch]) / set.stddev[ch];
        }
      const auto t0 = std::chrono::steady_clock::now();
      auto ls = set;
      ls.labels = dd::synthetic::label_solve<B>(kernel, set.images, xt.reshape(dd::Shape{xt.shape(0), xt.size() / xt.shape(0)}),
                                                yt, {.reg = reg});
      ls.num_classes = train.num_classes;
      ls.method = set.method + "+label_solve";
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double before = dd::eval::krr_accuracy<B>(kernel, set, test, eval).accuracy;
      const double after = dd::eval::krr_accuracy<B>(kernel, ls, test, eval).accuracy;
      std::string out = path.substr(0, path.size() - (path.ends_with(".npz") ? 4 : 0)) + "_ls" + std::to_string(count) + ".npz";
      dd::io::save_distilled(out, ls);
      std::printf("%s (%zu images): KRR test accuracy %.2f %% with its labels, %.2f %% with Label Solve on %zu targets "
                  "(%.1f s); wrote %s\n", path.c_str(), set.size(), 100 * before, 100 * after, count, s, out.c_str());
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kip_label_solve: %s\n", e.what());
    return 1;
  }
  return 0;
}
