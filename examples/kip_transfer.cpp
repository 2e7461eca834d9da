// SPDX-License-Identifier: MIT
// Finite-net transfer of KIP / Label Solve sets (Nguyen, Chen, Lee 2021, section 5): loads distilled-set NPZ files
// written by distill_kip, trains fresh finite networks (an MLP and ConvNet-3) on each through the evaluation
// protocol (eval::train_from_scratch) and prints the mean ± std test accuracy over the runs.
//
//   kip_transfer mnist_kip_ipc10.npz                              MLP + ConvNet-3, MSE on the learned labels, 3 runs
//   kip_transfer a.npz b.npz --models convnet --objective ce --runs 5 --dataset fashion
//
// Objectives: `mse` regresses the logits onto the set's labels as they are (KIP's learned labels are regression
// targets; hard labels become one-hot). `ce` is cross-entropy against softmax(labels / temperature) (hard labels:
// plain cross-entropy), so a small temperature approaches the argmax of the learned labels.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"
#include "distill/nn/models.hpp"

namespace dd = distill;
using B = dd::DefaultBackend<float>;

namespace {
// softmax(labels / temperature) per row: a probability vector for cross-entropy.
dd::Tensor<float> soft_targets(const dd::Tensor<float>& labels, double temperature) {
  const std::size_t n = labels.shape(0), c = labels.shape(1);
  dd::Tensor<float> out({n, c});
  for (std::size_t i = 0; i < n; ++i) {
    const float* y = labels.data() + i * c;
    const double top = *std::max_element(y, y + c);
    double z = 0;
    for (std::size_t k = 0; k < c; ++k) z += std::exp((y[k] - top) / temperature);
    for (std::size_t k = 0; k < c; ++k) out[i * c + k] = float(std::exp((y[k] - top) / temperature) / z);
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train finite MLP / ConvNet-3 networks on KIP or Label Solve sets (NPZ from distill_kip)"};
  std::vector<std::string> sets, models{"mlp", "convnet"}, objectives{"mse"};
  std::string dataset = "mnist";
  std::size_t runs = 3, epochs = 300, batch = 256, mlp_width = 1024, mlp_depth = 3, conv_width = 128;
  double lr = 0.01, temperature = 0.1, weight_decay = 5e-4;
  std::uint64_t seed = 0;
  app.add_option("sets", sets, "distilled-set NPZ files (distill_kip --out)")->required();
  app.add_option("--dataset", dataset, "test data: mnist or fashion")->check(CLI::IsMember({"mnist", "fashion"}))->capture_default_str();
  app.add_option("--models", models, "mlp and/or convnet")->delimiter(',')->check(CLI::IsMember({"mlp", "convnet"}))->capture_default_str();
  app.add_option("--objective", objectives, "mse and/or ce")->delimiter(',')->check(CLI::IsMember({"mse", "ce"}))->capture_default_str();
  app.add_option("--runs", runs, "fresh networks per set and model")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs per run (lr ÷ 10 at half)")->capture_default_str();
  app.add_option("--batch", batch, "minibatch size")->capture_default_str();
  app.add_option("--lr", lr, "SGD learning rate (momentum 0.9)")->capture_default_str();
  app.add_option("--weight-decay", weight_decay, "SGD weight decay")->capture_default_str();
  app.add_option("--temperature", temperature, "ce: targets are softmax(labels / temperature)")->capture_default_str();
  app.add_option("--mlp-width", mlp_width, "hidden width of the MLP")->capture_default_str();
  app.add_option("--mlp-depth", mlp_depth, "hidden ReLU layers of the MLP")->capture_default_str();
  app.add_option("--conv-width", conv_width, "channels of ConvNet-3")->capture_default_str();
  app.add_option("--seed", seed, "run i uses seed + i")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const auto test = dd::io::load_dataset<float>(dataset, "test");
    for (const auto& path : sets) {
      const auto set = dd::io::load_distilled<float>(path);
      const std::size_t classes = set.classes(), d = set.images.size() / set.size();
      std::printf("%s: %zu images of %zux%zux%zu, %s labels\n", path.c_str(), set.size(), set.images.shape(1),
                  set.images.shape(2), set.images.shape(3), set.has_soft_labels() ? "learned (soft)" : "hard");
      for (const auto& objective : objectives) {
        auto train_set = set;
        if (objective == "ce" && set.has_soft_labels()) train_set.labels = soft_targets(set.labels, temperature);
        const dd::eval::ProtocolOptions<float> opt{
            .runs = runs, .epochs = epochs, .batch_size = batch, .lr = lr, .weight_decay = weight_decay,
            .objective = objective == "mse" ? dd::eval::Objective::mse : dd::eval::Objective::cross_entropy, .seed = seed};
        for (const auto& name : models) {
          const auto t0 = std::chrono::steady_clock::now();
          dd::eval::ProtocolResult r;
          if (name == "mlp") {
            std::vector<std::size_t> widths{d};
            for (std::size_t i = 0; i < mlp_depth; ++i) widths.push_back(mlp_width);
            widths.push_back(classes);
            r = dd::eval::train_from_scratch<B>(dd::nn::Mlp{.widths = widths}, train_set, test, opt);
          } else {
            const dd::nn::ConvNet net{.channels = set.images.shape(1), .classes = classes, .width = conv_width,
                                      .image_size = set.images.shape(2)};
            r = dd::eval::train_from_scratch<B>(net, train_set, test, opt);
          }
          const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          std::printf("  transfer %-7s %-3s: %.2f ± %.2f %%  (runs:", name.c_str(), objective.c_str(), 100 * r.mean,
                      100 * r.stddev);
          for (double a : r.accuracies) std::printf(" %.2f", 100 * a);
          std::printf("; %zu epochs, %.1f s)\n", epochs, s);
          std::fflush(stdout);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kip_transfer: %s\n", e.what());
    return 1;
  }
  return 0;
}
