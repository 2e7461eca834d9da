// SPDX-License-Identifier: MIT
// Distills a data set (MNIST by default, or any --data) into a few images per class with Kernel Inducing Points
// (Nguyen, Chen, Lee 2021) on the infinite-width FC NTK, and prints the KRR test accuracy before (random real
// images) and after. The defaults (2500 Adam steps, lr 0.08 with cosine decay, depth-3 NTK, reg 1e-6, 5000
// targets per step) were tuned on MNIST at 10 images per class with --learn-labels (97.25 % KRR after 1500 steps).
//
//   distill_kip --ipc 10 --learn-labels --out mnist_kip_ipc10
//       -> mnist_kip_ipc10.npz (np.load-able distilled set) and mnist_kip_ipc10.png (one row per class)
//   distill_kip --ipc 1 --learn-labels          distill_kip --data fashion --ipc 50
//   distill_kip --label-solve                   (Label Solve on the final support, reported as well)
//   distill_kip --checkpoint run.npz --checkpoint-every 500 ...; later the same command with --resume run.npz
//   evaluate_set mnist_kip_ipc10.npz            (fresh networks trained on the set, tested on real data)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval/krr_eval.hpp"
#include "distill/io.hpp"
#include "distill/kernels.hpp"
#include "distill/synthetic/augment.hpp"
#include "distill/synthetic/kip.hpp"
#include "distill/synthetic/label_solve.hpp"

namespace dd = distill;
namespace cli = distill::cli;

int main(int argc, char** argv) {
  CLI::App app{"Distill a data set with KIP (Kernel Inducing Points) on the infinite-width FC NTK"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  std::string out, init = "real", schedule = "cosine", checkpoint;
  std::size_t ipc = 10, steps = 2500, depth = 3, target_batch = 5000, eval_batch = 2000, ls_targets = 10000, shift = 0;
  std::size_t checkpoint_every = 500;
  bool learn_labels = false, label_solve = false, nngp = false, quiet = false;
  double lr = 0.08, reg = 1e-6, label_lr = 0.0, bias_var = 0.0;
  std::filesystem::path resume;
  app.add_option("--ipc", ipc, "images per class")->check(CLI::PositiveNumber);
  app.add_option("--steps", steps, "KIP steps (Adam)");
  app.add_option("--depth", depth, "hidden ReLU layers of the FC kernel");
  app.add_flag("--nngp", nngp, "use the NNGP kernel instead of the NTK");
  app.add_option("--bias-var", bias_var, "σ_b² of the FC kernel");
  app.add_flag("--learn-labels", learn_labels, "also learn the support labels");
  app.add_option("--target-batch", target_batch, "class-balanced target batch per step");
  app.add_option("--lr", lr, "Adam learning rate");
  app.add_option("--augment-shift", shift, "shift each target image by up to this many pixels (0: no augmentation)");
  app.add_option("--label-lr", label_lr, "Adam learning rate of the labels (0 = --lr)");
  app.add_option("--schedule", schedule, "learning-rate schedule: constant or cosine (decays to 0 over the steps)")
      ->check(CLI::IsMember({"constant", "cosine"}));
  app.add_option("--reg", reg, "ridge: λ = reg · tr(K_ss)/n");
  app.add_option("--init", init, "real or noise")->check(CLI::IsMember({"real", "noise"}));
  app.add_flag("--label-solve", label_solve,
               "also report Label Solve (closed-form labels) on the final support and on the random real support; "
               "writes <prefix>_ls.npz and <prefix>_real_ls.npz");
  app.add_option("--ls-targets", ls_targets, "training images Label Solve fits (evenly spaced)");
  app.add_option("--out", out, "output prefix: writes <prefix>.npz and <prefix>.png (default <data>_kip_ipc<N>)");
  app.add_option("--checkpoint", checkpoint, "save a checkpoint here every --checkpoint-every steps and at the end");
  app.add_option("--checkpoint-every", checkpoint_every, "steps between checkpoints");
  app.add_option("--resume", resume, "continue from a checkpoint written by --checkpoint (same options)");
  app.add_flag("--quiet", quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);
  if (out.empty()) out = (common.data == "mnist" || common.data == "fashion" ? common.data : "data") + "_kip_ipc" + std::to_string(ipc);

  return cli::run_on_backend("distill_kip", common.backend, [&]<class B>() -> int {
    // Everything this run will write is checked before the data are loaded.
    cli::check_output_prefix(out, label_solve ? std::initializer_list<std::string_view>{".npz", ".png", "_ls.npz", "_real_ls.npz"}
                                              : std::initializer_list<std::string_view>{".npz", ".png"});
    cli::check_checkpoint_paths(checkpoint, resume);
    const auto data = cli::load_data(common.data);
    const auto& train = data.train;
    const auto& test = data.test;
    const dd::kernels::FcNtk kernel{.depth = depth, .bias_var = bias_var,
                                    .kind = nngp ? dd::kernels::KernelKind::nngp : dd::kernels::KernelKind::ntk};
    dd::synthetic::KipOptions<float> options{.images_per_class = ipc, .steps = steps, .target_batch_size = target_batch,
                                             .learn_labels = learn_labels,
                                             .init = init == "real" ? dd::synthetic::KipInit::real : dd::synthetic::KipInit::noise,
                                             .reg = reg, .lr = lr, .label_lr = label_lr,
                                             .schedule = schedule == "cosine" ? dd::synthetic::KipSchedule::cosine
                                                                              : dd::synthetic::KipSchedule::constant,
                                             .seed = common.seed, .resume_from = resume};
    if (shift > 0) options.augment = dd::synthetic::RandomShift{.max_shift = shift};
    std::printf("KIP (%s backend): %zu images per class, FC %s depth %zu, %zu steps, target batch %zu%s%s\n",
                common.backend.c_str(), ipc, nngp ? "NNGP" : "NTK", depth, steps, target_batch,
                learn_labels ? ", learning labels" : "",
                shift > 0 ? (", targets shifted by up to " + std::to_string(shift) + " px").c_str() : "");

    // Before: the initial support (random real images per class), scored the same way.
    auto before_options = options;
    before_options.steps = 0;
    before_options.resume_from.clear();
    const auto initial = dd::synthetic::Kip<dd::kernels::FcNtk, B>{kernel, before_options}.fit(train);
    const dd::eval::KrrEvalOptions eval{.reg = reg, .batch_size = eval_batch};
    const auto acc0 = dd::eval::krr_accuracy<B>(kernel, initial, test, eval);
    std::printf("KRR test accuracy, random real support: %.2f %%\n", 100 * acc0.accuracy);

    const cli::Stopwatch clock;
    dd::synthetic::Kip<dd::kernels::FcNtk, B> kip{kernel, options};
    dd::callbacks::Checkpoint saver{.path = checkpoint, .every = checkpoint_every};
    dd::io::DistilledSet<float> result;
    if (checkpoint.empty()) result = quiet ? kip.fit(train) : kip.fit(train, dd::callbacks::ProgressBar{});
    else result = quiet ? kip.fit(train, saver) : kip.fit(train, dd::callbacks::ProgressBar{}, saver);
    const double seconds = clock.seconds();
    const auto acc = dd::eval::krr_accuracy<B>(kernel, result, test, eval);
    std::printf("KRR test accuracy, KIP support:         %.2f %%   (%zu steps in %.1f s, %.1f ms/step)\n",
                100 * acc.accuracy, steps, seconds, steps ? 1000 * seconds / double(steps) : 0.0);
    result.options_json = cli::options_json(common).add("kernel", nngp ? "fc_nngp" : "fc_ntk").add("depth", depth)
                              .add("bias_var", bias_var).add("kip", options.to_json()).str();

    if (label_solve) {
      // Label Solve on the final support images against ls_targets evenly spaced training images.
      const std::size_t count = std::clamp<std::size_t>(ls_targets, 1, train.size());
      std::vector<std::size_t> idx;
      for (std::size_t i = 0; i < train.size() && idx.size() < count; i += train.size() / count) idx.push_back(i);
      const dd::io::ChannelStandardization<float> norm{result.mean, result.stddev};
      const auto targets = norm.applied_to(train.subset(idx));
      const auto yt = dd::kernels::centred_one_hot<float>(targets.labels, train.num_classes);
      auto ls = result;
      ls.labels = dd::synthetic::label_solve<B>(kernel, result.images, targets.images, yt, {.reg = reg});
      std::printf("KRR test accuracy, KIP images + Label Solve labels: %.2f %%\n",
                  100 * dd::eval::krr_accuracy<B>(kernel, ls, test, eval).accuracy);
      auto init_ls = initial;
      init_ls.labels = dd::synthetic::label_solve<B>(kernel, initial.images, targets.images, yt, {.reg = reg});
      std::printf("KRR test accuracy, random real images + Label Solve labels: %.2f %%\n",
                  100 * dd::eval::krr_accuracy<B>(kernel, init_ls, test, eval).accuracy);
      ls.method = "kip+label_solve";
      init_ls.method = "label_solve";
      dd::io::save_distilled(out + "_ls.npz", ls);
      dd::io::save_distilled(out + "_real_ls.npz", init_ls);
    }

    dd::io::save_distilled(out + ".npz", result);
    // One row per class the images started in (learned labels may move an image's argmax elsewhere).
    std::vector<std::int64_t> rows(result.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = std::int64_t(i / ipc);
    dd::io::GridOptions grid{.rows_by_label = rows, .scaling = dd::io::Scaling::per_image, .upscale = 2};
    dd::io::write_png_grid(out + ".png", result.images, grid);
    std::printf("wrote %s.npz and %s.png\n", out.c_str(), out.c_str());
    return 0;
  });
}
