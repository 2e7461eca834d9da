// SPDX-License-Identifier: MIT
// Distills a data set (MNIST by default, or any --data) into a few images per class with distribution matching
// (Zhao, Bilen 2023): every iteration a freshly initialised ConvNet-3 embeds a real batch and the synthetic images
// of each class, both under the same DSA augmentation, and SGD moves the synthetic images so that the two mean
// embeddings meet. Optionally trains fresh ConvNet-3s on the result (with DSA, as the paper evaluates).
//
//   distill_dm --ipc 10 --iterations 2000 --out mnist_dm_ipc10
//       -> mnist_dm_ipc10.npz (np.load-able distilled set) and mnist_dm_ipc10.png (one row per class)
//   distill_dm --data fashion --ipc 50 --eval-nets 5
//   distill_dm --checkpoint run.npz --checkpoint-every 200 ...; later the same command with --resume run.npz
//       (and a larger --iterations to continue a finished run)
//   evaluate_set mnist_dm_ipc10.npz --dsa       (fresh networks trained on the set with DSA, tested on real data)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/dm.hpp"
#include "distill/synthetic/dsa.hpp"

namespace dd = distill;
namespace cli = distill::cli;

namespace {

template <class B>
int distill_with(dd::synthetic::DmOptions options, const cli::ConvNetSetArgs& a, const cli::CommonOptions& common,
                 const dd::io::DataSplits<float>& data) {
  const auto& train = data.train;
  const dd::nn::ConvNet net = a.convnet(train, "distill_dm");
  const std::string strategy =
      options.dsa_strategy == "auto" ? dd::synthetic::default_dsa_strategy(net.channels) : options.dsa_strategy;
  std::printf("DM (%s backend): %zu images per class, %zu iterations, real batch %zu per class, SGD lr %g momentum %g, "
              "DSA '%s', %s init, ConvNet-3 width %zu\n",
              common.backend.c_str(), options.images_per_class, options.iterations, options.batch_real, options.lr,
              options.momentum, strategy.c_str(), a.init.c_str(), a.net_width);

  dd::synthetic::Dm<dd::nn::ConvNet, B> dm{net, options};
  auto result = cli::fit_and_report(dm, train, a.run);

  result.options_json = cli::options_json(common).add("net_width", a.net_width).add("dm", options.to_json()).str();
  cli::save_set_and_grid(a.out, result, cli::class_major_rows(result.size(), options.images_per_class));

  // The paper's evaluation: fresh ConvNet-3s trained on the set with per-image DSA, tested on real data.
  a.evaluate<B>(net, result, data.test, a.evaluation(common.seed, strategy, common.data), "DM set", [&] {
    auto start = options;
    start.iterations = 0;
    start.resume_from.clear();
    return dd::synthetic::Dm<dd::nn::ConvNet, B>{net, start}.fit(train);
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distill a data set with DM (distribution matching of random ConvNet-3 embeddings, with DSA)"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  cli::ConvNetSetArgs a;
  dd::synthetic::DmOptions options{.iterations = 1000};
  app.add_option("--ipc", options.images_per_class, "images per class")->check(CLI::PositiveNumber);
  app.add_option("--iterations", options.iterations, "DM iterations (the paper runs 20000)");
  app.add_option("--batch-real", options.batch_real, "real images per class and iteration")->check(CLI::PositiveNumber);
  app.add_option("--lr", options.lr, "SGD learning rate of the images")->check(CLI::PositiveNumber);
  app.add_option("--momentum", options.momentum, "SGD momentum of the images");
  app.add_option("--dsa-strategy", options.dsa_strategy,
                 "DSA transforms joined by '_' (color, crop, cutout, flip, scale, rotate), 'none', or 'auto' (all six; "
                 "no flip for single-channel data)");
  app.add_option("--embed-batch", options.embed_batch, "real images per forward pass")->check(CLI::PositiveNumber);
  a.add_to(app, "<data>_dm_ipc<N>");
  CLI11_PARSE(app, argc, argv);
  a.default_out(common, "dm", options.images_per_class);
  options.init = a.init == "real" ? dd::synthetic::DmInit::real : dd::synthetic::DmInit::noise;
  options.seed = common.seed;
  options.resume_from = a.resume;

  return cli::run_on_backend("distill_dm", common.backend, [&]<class B>() -> int {
    options.validate("distill_dm");
    a.check_outputs();
    const auto data = cli::load_data(common.data);
    return distill_with<B>(options, a, common, data);
  });
}
