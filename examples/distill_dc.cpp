// SPDX-License-Identifier: MIT
// Distills a data set (MNIST by default, or any --data) into a few images per class with gradient matching (DC,
// Zhao, Mopuri, Bilen 2021), or with --dsa, with differentiable siamese augmentation (DSA, Zhao, Bilen 2021): every
// iteration a freshly initialised ConvNet-3; per class, the gradients of its loss on a real batch and on the
// synthetic images are matched layer by layer (1 − cosine per output unit), and between matching steps the network
// trains on the synthetic set (the paper's outer/inner loops per images per class).
//
//   distill_dc --ipc 1 --iterations 200 --out mnist_dc_ipc1
//   distill_dc --ipc 10 --dsa --eval-nets 5        (DSA; its evaluation trains with DSA too, as the paper does)
//   distill_dc --checkpoint run.npz --checkpoint-every 50 ...; later the same command with --resume run.npz
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/dc.hpp"
#include "distill/synthetic/dsa.hpp"

namespace dd = distill;
namespace cli = distill::cli;

namespace {

struct Args {
  std::string out, init = "noise";
  std::size_t eval_nets = 0, eval_epochs = 300, net_width = 128;
  bool eval_init = false, eval_no_dsa = false;
  cli::FitRun run;
  std::filesystem::path resume;
};

template <class B>
int distill_with(dd::synthetic::DcOptions options, const Args& a, const cli::CommonOptions& common,
                 const dd::io::DataSplits<float>& data) {
  const auto& train = data.train;
  const dd::Shape shape = cli::image_shape(train.images);
  DISTILL_CHECK(shape[1] == shape[2], "distill_dc: ConvNet-3 needs square images, the data's are ", cli::shape_text(shape));
  const dd::nn::ConvNet net{.channels = shape[0], .classes = train.num_classes, .width = a.net_width, .image_size = shape[1]};
  const std::string strategy =
      options.dsa_strategy == "auto" ? dd::synthetic::default_dsa_strategy(shape[0]) : options.dsa_strategy;
  const auto [outer, inner] = options.loops();
  std::printf("%s (%s backend): %zu images per class, %zu iterations of %zu matching steps (%zu network steps between), "
              "real batch %zu per class, image SGD lr %g momentum %g, net lr %g, DSA '%s', %s init, ConvNet-3 width %zu\n",
              strategy == "none" ? "DC" : "DSA", common.backend.c_str(), options.images_per_class, options.iterations,
              outer, inner, options.batch_real, options.lr_img, options.momentum_img, options.lr_net, strategy.c_str(),
              a.init.c_str(), a.net_width);

  dd::synthetic::Dc<dd::nn::ConvNet, B> dc{net, options};
  auto result = cli::fit_and_report(dc, train, a.run);

  result.options_json = cli::options_json(common).add("net_width", a.net_width).add("dc", options.to_json()).str();
  cli::save_set_and_grid(a.out, result, cli::class_major_rows(result.size(), options.images_per_class));

  if (a.eval_nets > 0) {
    // The papers' evaluation: fresh ConvNet-3s trained on the set (with per-image DSA for a DSA set).
    const cli::NetEvaluation evaluation{.nets = a.eval_nets, .epochs = a.eval_epochs, .seed = common.seed,
                                        .dsa_strategy = a.eval_no_dsa ? "none" : strategy};
    evaluation.print<B>(net, result, data.test, "distilled set");
    if (a.eval_init) {
      auto start = options;
      start.iterations = 0;
      start.resume_from.clear();
      evaluation.print<B>(net, dd::synthetic::Dc<dd::nn::ConvNet, B>{net, start}.fit(train), data.test,
                          "the images it started from");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distill a data set with DC (gradient matching) or, with --dsa, DSA (differentiable siamese augmentation)"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  dd::synthetic::DcOptions options{.iterations = 200};
  bool dsa = false;
  app.add_option("--ipc", options.images_per_class, "images per class")->check(CLI::PositiveNumber);
  app.add_option("--iterations", options.iterations, "outer iterations, each with a fresh network (the paper runs 1000)");
  app.add_option("--outer-loop", options.outer_loop, "matching steps per iteration (0: the paper's for --ipc)");
  app.add_option("--inner-loop", options.inner_loop, "network steps between matching steps (0: the paper's for --ipc)");
  app.add_option("--batch-real", options.batch_real, "real images per class and matching step")->check(CLI::PositiveNumber);
  app.add_option("--lr", options.lr_img, "SGD learning rate of the images")->check(CLI::PositiveNumber);
  app.add_option("--lr-net", options.lr_net, "SGD learning rate of the network between matching steps")->check(CLI::PositiveNumber);
  app.add_flag("--dsa", dsa, "DSA: augment each class's real and synthetic batch with one draw (siamese)");
  std::string strategy = "auto";
  app.add_option("--dsa-strategy", strategy,
                 "--dsa: transforms joined by '_' (color, crop, cutout, flip, scale, rotate), or 'auto' (all six; no "
                 "flip for single-channel data)");
  app.add_option("--init", a.init, "noise (DC's default) or real")->check(CLI::IsMember({"real", "noise"}));
  app.add_option("--net-width", a.net_width, "channels of the embedding ConvNet-3 (and of the evaluation nets)")
      ->check(CLI::PositiveNumber);
  app.add_option("--eval-nets", a.eval_nets, "then train this many fresh ConvNet-3s on the set and print their test accuracy");
  app.add_option("--eval-epochs", a.eval_epochs, "--eval-nets: epochs per net (the DC protocol's other settings)");
  app.add_flag("--eval-no-dsa", a.eval_no_dsa, "--eval-nets with --dsa: train without DSA augmentation");
  app.add_flag("--eval-init", a.eval_init, "--eval-nets: also evaluate the images the set started from");
  app.add_option("--out", a.out, "output prefix: writes <prefix>.npz and <prefix>.png (default <data>_dc_ipc<N> or _dsa_ipc<N>)");
  app.add_option("--checkpoint", a.run.checkpoint, "save a checkpoint here every --checkpoint-every iterations and at the end");
  app.add_option("--checkpoint-every", a.run.checkpoint_every, "iterations between checkpoints");
  app.add_option("--resume", a.resume, "continue from a checkpoint written by --checkpoint (same options)");
  app.add_flag("--quiet", a.run.quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);
  options.dsa_strategy = dsa ? strategy : "none";
  if (a.out.empty())
    a.out = (common.data == "mnist" || common.data == "fashion" ? common.data : "data") + (dsa ? "_dsa_ipc" : "_dc_ipc") +
            std::to_string(options.images_per_class);
  options.init = a.init == "real" ? dd::synthetic::DcInit::real : dd::synthetic::DcInit::noise;
  options.seed = common.seed;
  options.resume_from = a.resume;

  return cli::run_on_backend("distill_dc", common.backend, [&]<class B>() -> int {
    options.validate("distill_dc");
    // Everything this run will write is checked before the data are loaded.
    cli::check_output_prefix(a.out, {".npz", ".png"});
    cli::check_checkpoint_paths(a.run.checkpoint, a.resume);
    const auto data = cli::load_data(common.data);
    return distill_with<B>(options, a, common, data);
  });
}
