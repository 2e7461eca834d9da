// SPDX-License-Identifier: MIT
// Trains an MLP, LeNet or ConvNet-3 on MNIST or Fashion-MNIST and prints the test accuracy per epoch.
//
//   train_mnist --model lenet --dataset mnist --epochs 20                 (issue target: ≥ 99.0 %)
//   train_mnist --model mlp --dataset mnist --epochs 20                   (≥ 98.0 %)
//   train_mnist --model convnet --dataset fashion --epochs 20             (≥ 91 %)
//   ... --backend xtensor                                                  (the same on the other backend)
//
// Training is the library's protocol (SGD, momentum 0.9, weight decay 5e-4, lr ÷ 10 at half the epochs) with a
// larger learning rate for full data sets; every knob is a flag.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "distill/callbacks.hpp"
#include "distill/eval.hpp"
#include "distill/io/datasets.hpp"
#include "distill/nn.hpp"

namespace nn = distill::nn;
namespace eval = distill::eval;

struct Args {
  std::string model = "lenet", dataset = "mnist", backend = "eigen";
  std::size_t epochs = 20, batch = 128, train_limit = 0;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  std::uint64_t seed = 0;
  bool progress = true;
  std::string save;
};

// One epoch at a time so that the test accuracy is printed as training goes.
template <class B, class M>
int run(const M& model, const Args& a, const distill::LabeledData<float>& train, const distill::LabeledData<float>& test) {
  distill::Rng rng(a.seed);
  auto params = model.template init<B>(rng);
  std::printf("%s on %s (%zu train / %zu test), %zu parameters, backend %s\n", a.model.c_str(), a.dataset.c_str(), train.size(),
              test.size(), params.count(), std::string(B::name).c_str());
  double acc = 0;
  for (std::size_t e = 0; e < a.epochs; ++e) {
    // The step schedule over the whole run, applied per epoch: lr ÷ 10 from the middle on.
    const double lr = e >= a.epochs / 2 && a.epochs > 1 ? a.lr * 0.1 : a.lr;
    const auto t0 = std::chrono::steady_clock::now();
    eval::TrainOptions<float> opt{.epochs = 1, .batch_size = a.batch, .lr = lr, .momentum = a.momentum,
                                  .weight_decay = a.weight_decay, .schedule = eval::Schedule::constant, .seed = a.seed + e};
    eval::TrainResult r;
    if (a.progress) r = eval::train<B>(model, params, train, opt, distill::callbacks::ProgressBar{});
    else r = eval::train<B>(model, params, train, opt);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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

template <class B>
int dispatch_model(const Args& a, const distill::LabeledData<float>& train, const distill::LabeledData<float>& test) {
  if (a.model == "mlp") return run<B>(nn::Mlp{.widths = {784, 512, 512, 10}}, a, train, test);
  if (a.model == "lenet") return run<B>(nn::LeNet{}, a, train, test);
  return run<B>(nn::ConvNet{}, a, train, test);
}

int main(int argc, char** argv) {
  CLI::App app{"Train a network on MNIST / Fashion-MNIST and print its test accuracy"};
  Args a;
  app.add_option("--model", a.model, "mlp | lenet | convnet")->check(CLI::IsMember({"mlp", "lenet", "convnet"}));
  app.add_option("--dataset", a.dataset, "mnist | fashion")->check(CLI::IsMember({"mnist", "fashion"}));
  app.add_option("--backend", a.backend, "eigen | xtensor")->check(CLI::IsMember({"eigen", "xtensor"}));
  app.add_option("--epochs", a.epochs, "epochs");
  app.add_option("--batch", a.batch, "minibatch size");
  app.add_option("--lr", a.lr, "initial learning rate (÷10 at half the epochs)");
  app.add_option("--momentum", a.momentum, "SGD momentum");
  app.add_option("--weight-decay", a.weight_decay, "weight decay");
  app.add_option("--seed", a.seed, "seed of init and minibatch order");
  app.add_option("--train-limit", a.train_limit, "use only the first N training images (0 = all)");
  app.add_option("--save", a.save, "save the trained parameters to this .npz");
  app.add_flag("!--no-progress", a.progress, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  try {
    auto train = distill::io::load_dataset<float>(a.dataset, "train");
    const auto test = distill::io::load_dataset<float>(a.dataset, "test");
    if (a.train_limit) train = train.head(a.train_limit);
    if (a.backend == "xtensor") {
#if DISTILL_HAS_XTENSOR
      return dispatch_model<distill::XtensorBackend<float>>(a, train, test);
#else
      std::fprintf(stderr, "this build has no xtensor backend\n");
      return 2;
#endif
    }
    return dispatch_model<distill::EigenBackend<float>>(a, train, test);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_mnist: %s\n", e.what());
    return 1;
  }
}
