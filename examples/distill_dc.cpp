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

template <class B>
int distill_with(dd::synthetic::DcOptions options, const cli::ConvNetSetArgs& a, const cli::CommonOptions& common,
                 const dd::io::DataSplits<float>& data) {
  const auto& train = data.train;
  const dd::nn::ConvNet net = a.convnet(train, "distill_dc");
  const std::string strategy =
      options.dsa_strategy == "auto" ? dd::synthetic::default_dsa_strategy(net.channels) : options.dsa_strategy;
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

  // The papers' evaluation: fresh ConvNet-3s trained on the set (with per-image DSA for a DSA set).
  a.evaluate<B>(net, result, data.test, a.evaluation(common.seed, strategy, common.data), "distilled set", [&] {
    auto start = options;
    start.iterations = 0;
    start.resume_from.clear();
    return dd::synthetic::Dc<dd::nn::ConvNet, B>{net, start}.fit(train);
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distill a data set with DC (gradient matching) or, with --dsa, DSA (differentiable siamese augmentation)"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  cli::ConvNetSetArgs a;
  a.init = "noise";  // DC's default
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
  a.add_to(app, "<data>_dc_ipc<N>, or <data>_dsa_ipc<N> with --dsa");
  CLI11_PARSE(app, argc, argv);
  options.dsa_strategy = dsa ? strategy : "none";
  a.default_out(common, dsa ? "dsa" : "dc", options.images_per_class);
  options.init = a.init == "real" ? dd::synthetic::DcInit::real : dd::synthetic::DcInit::noise;
  options.seed = common.seed;
  options.resume_from = a.resume;

  return cli::run_on_backend("distill_dc", common.backend, [&]<class B>() -> int {
    options.validate("distill_dc");
    a.check_outputs();
    const auto data = cli::load_data(common.data);
    return distill_with<B>(options, a, common, data);
  });
}
