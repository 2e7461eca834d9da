// SPDX-License-Identifier: MIT
// Trains an MLP, LeNet or ConvNet-3 on MNIST, Fashion-MNIST or any --data set and prints the test accuracy per epoch.
//
//   train_mnist --model lenet --data mnist --epochs 20                    (issue target: ≥ 99.0 %)
//   train_mnist --model mlp --data mnist --epochs 20                      (≥ 98.0 %)
//   train_mnist --model convnet --data fashion --epochs 20                (≥ 91 %)
//   ... --backend xtensor                                                  (the same on the other backend)
//
// Training is the library's protocol (SGD, momentum 0.9, weight decay 5e-4, lr ÷ 10 at half the epochs) with a
// larger learning rate for full data sets; every knob is a flag. The network is built for the data's image shape
// and class count (cli::with_model); images are in [0, 1], not standardised.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval.hpp"
#include "distill/nn.hpp"

namespace nn = distill::nn;
namespace eval = distill::eval;
namespace cli = distill::cli;

struct Args {
  std::string model = "lenet";
  std::size_t epochs = 20, batch = 128, train_limit = 0;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  bool progress = true;
  std::string save;
};

// One epoch at a time so that the test accuracy is printed as training goes.
template <class B, class M>
int run(const M& model, const Args& a, const cli::CommonOptions& common, const distill::LabeledData<float>& train,
        const distill::LabeledData<float>& test) {
  distill::Rng rng(common.seed);
  auto params = model.template init<B>(rng);
  std::printf("%s on %s (%zu train / %zu test), %zu parameters, backend %s\n", a.model.c_str(), common.data.c_str(),
              train.size(), test.size(), params.count(), std::string(B::name).c_str());
  double acc = 0;
  for (std::size_t e = 0; e < a.epochs; ++e) {
    // The step schedule over the whole run, applied per epoch: lr ÷ 10 from the middle on.
    const double lr = e >= a.epochs / 2 && a.epochs > 1 ? a.lr * 0.1 : a.lr;
    const cli::Stopwatch clock;
    eval::TrainOptions<float> opt{.epochs = 1, .batch_size = a.batch, .lr = lr, .momentum = a.momentum,
                                  .weight_decay = a.weight_decay, .schedule = eval::Schedule::constant, .seed = common.seed + e};
    eval::TrainResult r;
    if (a.progress) r = eval::train<B>(model, params, train, opt, distill::callbacks::ProgressBar{});
    else r = eval::train<B>(model, params, train, opt);
    const double secs = clock.seconds();
    const auto ev = eval::evaluate<B>(model, params, test);
    acc = ev.accuracy;
    std::printf("epoch %2zu/%zu  lr %.4g  train loss %.4f  test loss %.4f  test accuracy %.2f%%  (%.1f s)\n", e + 1, a.epochs,
                lr, r.loss, ev.loss, 100 * acc, secs);
    std::fflush(stdout);
  }
  std::printf("final test accuracy: %.2f%%\n", 100 * acc);
  if (!a.save.empty()) nn::save_params(a.save, params);
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"Train a network on MNIST / Fashion-MNIST (or any --data set) and print its test accuracy"};
  cli::CommonOptions common;
  common.backend = "eigen";  // this example's default before the shared header; kept
  cli::setup_app(app, common);
  Args a;
  // The MLP this example always used: 784 -> 512 -> 512 -> 10 (hidden layers of 512, two of them).
  cli::ModelOptions model_options{.mlp_width = 512, .mlp_depth = 2};
  cli::add_model_option(app, a.model);
  cli::add_model_options(app, model_options);
  app.add_option("--epochs", a.epochs, "epochs");
  app.add_option("--batch", a.batch, "minibatch size");
  app.add_option("--lr", a.lr, "initial learning rate (÷10 at half the epochs)");
  app.add_option("--momentum", a.momentum, "SGD momentum");
  app.add_option("--weight-decay", a.weight_decay, "weight decay");
  app.add_option("--train-limit", a.train_limit, "use only the first N training images (0 = all)");
  app.add_option("--save", a.save, "save the trained parameters to this .npz");
  app.add_flag("!--no-progress", a.progress, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  return cli::run_on_backend("train_mnist", common.backend, [&]<class B>() -> int {
    if (!a.save.empty()) cli::check_output_file("--save", a.save);
    auto data = cli::load_data(common.data);
    if (a.train_limit) data.train = data.train.head(a.train_limit);
    return cli::with_model(a.model, model_options, cli::image_shape(data.train.images), data.train.num_classes,
                           [&](const auto& model) { return run<B>(model, a, common, data.train, data.test); });
  });
}
