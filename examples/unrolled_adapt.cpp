// SPDX-License-Identifier: MIT
// The adaptation use of unrolled-GD dataset distillation (Wang, Zhu, Torralba, Efros 2018, Dataset Distillation,
// arXiv:1811.10959, section on adapting pretrained networks): a LeNet is pretrained on a source task (MNIST digits
// 0–4, or Fashion-MNIST) and becomes the fixed θ₀; a few images and step sizes are distilled so that a few
// gradient steps on them adapt θ₀ to the full 10-class MNIST task. Reports the test accuracy of θ₀, of θ₀ after
// the distilled steps, and of θ₀ fine-tuned by the same number of steps on as many random real images (best
// learning rate of a grid), then saves the distilled-set NPZ, a PNG grid and θ₀.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval.hpp"
#include "distill/io.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/unrolled_gd.hpp"

namespace dd = distill;
namespace syn = distill::synthetic;
namespace cli = distill::cli;
using B = dd::EigenBackend<float>;
using T = float;

namespace {

// Test accuracy on all classes, on digits 0–4 and on digits 5–9.
struct Accuracy {
  double all = 0, low = 0, high = 0;
};
Accuracy accuracy(const dd::nn::LeNet& model, const dd::nn::Params<T>& p, const dd::LabeledData<T>& test,
                  const dd::LabeledData<T>& test_low, const dd::LabeledData<T>& test_high) {
  const double low = dd::eval::evaluate<B>(model, p, test_low).accuracy;
  const double high = dd::eval::evaluate<B>(model, p, test_high).accuracy;
  return {(low * double(test_low.size()) + high * double(test_high.size())) / double(test.size()), low, high};
}

void save(const std::string& out, const syn::UnrolledGdResult<T>& r, const dd::io::DistilledSet<T>& set) {
  dd::io::save_distilled(out + ".npz", set);
  dd::io::write_png_grid(out + ".png", set.images,
                         {.rows_by_label = r.stacked_labels(), .scaling = dd::io::Scaling::per_image, .upscale = 2});
}

std::string pct(double a) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << 100 * a << " %";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"unrolled_adapt: distill images that adapt a pretrained LeNet to 10-class MNIST in a few steps "
               "(Wang et al. 2018, adaptation)"};
  std::string source = "mnist04", out = "unrolled_adapt", cache = "unrolled_cache";
  std::size_t pretrain_epochs = 2, draws = 5;
  std::vector<double> lr_grid{0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0};
  syn::UnrolledGdOptions opt{.images_per_class = 10, .steps = 1, .epochs = 3, .theta_mode = syn::ThetaMode::fixed,
                             .initial_lr = 0.1, .outer_steps = 1000, .outer_lr = 0.03, .lr_lr = 0.03, .real_batch = 512};
  app.add_option("--source", source, "pretraining task: mnist04 (MNIST digits 0-4) or fashion (Fashion-MNIST)")
      ->check(CLI::IsMember({"mnist04", "fashion"}))
      ->capture_default_str();
  app.add_option("--pretrain-epochs", pretrain_epochs, "epochs of pretraining θ₀ (SGD, the eval protocol)")
      ->capture_default_str();
  app.add_option("--cache", cache, "folder for the pretrained θ₀ (reused when present)")->capture_default_str();
  app.add_option("--ipc", opt.images_per_class, "distilled images per class per step")->capture_default_str();
  app.add_option("--steps", opt.steps, "inner steps T (a distinct synthetic batch each)")->capture_default_str();
  app.add_option("--epochs", opt.epochs, "passes E over the T steps")->capture_default_str();
  app.add_option("--outer-steps", opt.outer_steps, "outer (Adam) steps")->capture_default_str();
  app.add_option("--outer-lr", opt.outer_lr, "Adam learning rate for the images")->capture_default_str();
  app.add_option("--lr-lr", opt.lr_lr, "Adam learning rate for the log step sizes")->capture_default_str();
  app.add_option("--initial-lr", opt.initial_lr, "initial inner step size")->capture_default_str();
  app.add_option("--decay-every", opt.decay_every, "halve the outer learning rates every N steps (0: never)")
      ->capture_default_str();
  app.add_option("--real-batch", opt.real_batch, "real minibatch size of the outer loss")->capture_default_str();
  app.add_flag("--learn-labels", opt.learn_labels, "learn each image's target vector too (soft-label distillation)");
  app.add_option("--lr-grid", lr_grid, "fine-tuning baseline: learning rates tried (best reported)")
      ->capture_default_str();
  app.add_option("--draws", draws, "fine-tuning baseline: random real sets averaged per learning rate")
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "random seed")->capture_default_str();
  app.add_option("--out", out, "output prefix: <out>.npz, <out>.png and <out>_theta0.npz")->capture_default_str();
  std::string data = "mnist";
  cli::add_data_option(app, data);
  CLI11_PARSE(app, argc, argv);

  try {
    // The target task: 10-class MNIST.
    auto [train, test, data_name] = cli::load_data(data);
    DISTILL_CHECK(train.num_classes == 10, "--data ", data, ": ", train.num_classes, " classes, this example needs 10");
    const dd::nn::LeNet model{.channels = train.images.shape(1), .image_size = train.images.shape(2)};
    const auto norm = dd::io::standardize({&train.images, &test.images});
    const auto test_low = test.where([](std::int64_t y) { return y < 5; });
    const auto test_high = test.where([](std::int64_t y) { return y >= 5; });

    // θ₀: pretrained on the source task, or loaded from the cache.
    std::filesystem::create_directories(cache);
    const auto theta_path = std::filesystem::path(cache) / ("lenet_" + source + "_e" + std::to_string(pretrain_epochs) +
                                                            "_s" + std::to_string(opt.seed) + ".npz");
    dd::Rng init_rng(opt.seed);
    dd::nn::Params<T> theta0 = model.init<B>(init_rng);
    if (std::filesystem::exists(theta_path)) {
      auto loaded = dd::nn::load_params<T>(theta_path);
      dd::nn::check_same_layout(loaded, theta0, "unrolled_adapt");
      theta0 = std::move(loaded);
      std::cout << "theta0: loaded " << theta_path.string() << '\n';
    } else {
      dd::LabeledData<T> src;
      if (source == "mnist04") {
        src = train.where([](std::int64_t y) { return y < 5; });
      } else {
        src = dd::io::load_fashion_mnist<T>("train");
        dd::io::standardize({&src.images});
      }
      std::cout << "theta0: pretraining LeNet on " << source << " (" << src.size() << " images, " << pretrain_epochs
                << " epoch(s))\n";
      dd::eval::TrainOptions<T> train_opt;  // the eval protocol's SGD, for pretrain_epochs
      train_opt.epochs = pretrain_epochs;
      train_opt.seed = opt.seed;
      dd::eval::train<B>(model, theta0, src, train_opt, dd::callbacks::ProgressBar{});
      dd::nn::save_params(theta_path, theta0);
      std::cout << "theta0: saved " << theta_path.string() << '\n';
    }
    const Accuracy before = accuracy(model, theta0, test, test_low, test_high);

    // Distil for the fixed θ₀ on 10-class MNIST.
    const std::size_t n_images = 10 * opt.images_per_class * opt.steps, n_steps = opt.steps * opt.epochs;
    std::cout << "unrolled_adapt: " << source << " -> MNIST; LeNet, " << n_images << " distilled images ("
              << opt.images_per_class << "/class x " << opt.steps << " step(s)) x " << opt.epochs
              << " epoch(s) = " << n_steps << " step(s), " << opt.outer_steps << " outer steps, real batch "
              << opt.real_batch << '\n';
    syn::UnrolledGd<dd::nn::LeNet, B> ugd(model, opt);
    ugd.set_fixed_init(theta0);
    const auto start = std::chrono::steady_clock::now();
    const auto result = ugd.fit_steps({train.images, train.labels, train.num_classes}, dd::callbacks::ProgressBar{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "distilled in " << std::fixed << std::setprecision(1) << seconds << " s (" << std::setprecision(3)
              << seconds / double(opt.outer_steps) << " s per outer step); learned step sizes:";
    for (std::size_t i = 0; i < result.log_lr.size(); ++i) std::cout << ' ' << std::setprecision(4) << result.lr(i);
    std::cout << '\n';
    const Accuracy after = accuracy(model, syn::apply_distilled<B>(model, theta0, result), test, test_low, test_high);

    // Baseline: the same number of steps from θ₀ on as many random real images (same class balance, same
    // per-step batches), one learning rate for every step; the best mean over `draws` sets is reported. The
    // learning rate is chosen on the test set, which favours the baseline.
    std::vector<std::vector<std::size_t>> by_class(10);
    for (std::size_t i = 0; i < train.size(); ++i) by_class[std::size_t(train.labels[i])].push_back(i);
    const std::size_t per_image = train.images.size() / train.size();
    std::vector<syn::UnrolledGdResult<T>> real_sets;
    dd::Rng draw_rng(opt.seed + 0xba5e);
    for (std::size_t d = 0; d < draws; ++d) {
      syn::UnrolledGdResult<T> r;
      r.steps = opt.steps;
      r.epochs = opt.epochs;
      r.classes = 10;
      r.labels = result.labels;
      dd::Shape s = train.images.shape();
      s[0] = r.labels.size();
      for (std::size_t t = 0; t < opt.steps; ++t) {
        dd::Tensor<T> im = dd::Tensor<T>::empty(s);
        for (std::size_t j = 0; j < r.labels.size(); ++j) {
          const auto& pool = by_class[std::size_t(r.labels[j])];
          std::copy_n(train.images.data() + pool[draw_rng.uniform_int(pool.size())] * per_image, per_image,
                      im.data() + j * per_image);
        }
        r.images.push_back(std::move(im));
      }
      real_sets.push_back(std::move(r));
    }
    double best_lr = lr_grid.at(0);
    Accuracy best{-1, 0, 0};
    std::cout << "fine-tuning on " << n_images << " random real images, " << n_steps << " step(s), mean of " << draws
              << " draws:";
    for (double lr : lr_grid) {
      Accuracy mean_acc;
      for (auto& r : real_sets) {
        r.log_lr = dd::Tensor<T>(dd::Shape{n_steps}, T(std::log(lr)));
        const Accuracy a = accuracy(model, syn::apply_distilled<B>(model, theta0, r), test, test_low, test_high);
        mean_acc.all += a.all / double(draws), mean_acc.low += a.low / double(draws), mean_acc.high += a.high / double(draws);
      }
      std::cout << "  lr " << lr << ": " << pct(mean_acc.all) << std::flush;
      if (mean_acc.all > best.all) best = mean_acc, best_lr = lr;
    }
    std::cout << '\n';

    char line[200];
    std::cout << "\nMNIST test accuracy (10 classes), LeNet theta0 pretrained on " << source << ":\n";
    std::snprintf(line, sizeof line, "  %-46s %7s %6s  %8s %8s %8s\n", "", "images", "steps", "all", "0-4", "5-9");
    std::cout << line;
    auto row = [&](const std::string& name, const std::string& images, const std::string& steps, const Accuracy& a) {
      std::snprintf(line, sizeof line, "  %-46s %7s %6s  %7.2f%% %7.2f%% %7.2f%%\n", name.c_str(), images.c_str(),
                    steps.c_str(), 100 * a.all, 100 * a.low, 100 * a.high);
      std::cout << line;
    };
    std::ostringstream base_name;
    base_name << "theta0 + random real images (lr " << best_lr << ", " << draws << " draws)";
    row("theta0 (before)", "-", "0", before);
    row("theta0 + distilled steps (learned lr)", std::to_string(n_images), std::to_string(n_steps), after);
    row(base_name.str(), std::to_string(n_images), std::to_string(n_steps), best);

    const std::string json = dd::io::JsonObject{}
                                 .add("data", data).add("model", "lenet").add("use", "adaptation").add("source", source)
                                 .add("pretrain_epochs", pretrain_epochs).add("unrolled_gd", opt.to_json()).str();
    save(out, result, syn::to_distilled_set(result, norm.mean, norm.stddev, json));
    dd::nn::save_params(out + "_theta0.npz", theta0);
    std::cout << "wrote " << out << ".npz, " << out << ".png and " << out << "_theta0.npz\n";
  } catch (const std::exception& e) {
    std::cerr << "unrolled_adapt: " << e.what() << '\n';
    return 1;
  }
}
