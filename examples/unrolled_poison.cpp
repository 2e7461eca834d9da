// SPDX-License-Identifier: MIT
// The poisoning use of unrolled-GD dataset distillation (Wang, Zhu, Torralba, Efros 2018, Dataset Distillation,
// arXiv:1811.10959, section on malicious data poisoning): distil images such that ONE gradient step on them makes a
// trained LeNet classify class A as class B. θ₀ is drawn from a pool of pretrained nets (trained here with
// different seeds and cached as NPZ); the attack is learned on some of them and measured on held-out nets it never
// saw: class-A test accuracy before and after the step, how much of class A goes to B, and the accuracy on the other
// classes. Saves the distilled-set NPZ and a PNG grid.
//
// The outer objective needs no special support from UnrolledGd: the "real" data of the outer loss are the
// class-A training images relabelled B, mixed with (keep_ratio ×) as many images of the other classes with their
// true labels, so that the step hurts nothing but class A.
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

// What one net does on the test set.
struct Scores {
  double a = 0;        // accuracy on class A
  double a_to_b = 0;   // fraction of class A classified as B
  double others = 0;   // accuracy on every other class
  Scores& operator+=(const Scores& s) { return a += s.a, a_to_b += s.a_to_b, others += s.others, *this; }
  Scores operator/(double n) const { return {a / n, a_to_b / n, others / n}; }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"unrolled_poison: distill images such that one gradient step on them makes trained LeNets classify "
               "class A as class B (Wang et al. 2018, poisoning); measured on held-out pretrained nets"};
  std::string out = "unrolled_poison", cache = "unrolled_cache";
  std::size_t pool_size = 10, attack_nets = 6, pool_epochs = 1;
  std::int64_t class_a = 0, class_b = 8;
  double keep_ratio = 3.0;
  syn::UnrolledGdOptions opt{.images_per_class = 30, .steps = 1, .epochs = 1, .theta_mode = syn::ThetaMode::pool,
                             .initial_lr = 0.02, .outer_steps = 300, .real_batch = 512};
  app.add_option("--class-a", class_a, "the attacked class")->check(CLI::Range(0, 9))->capture_default_str();
  app.add_option("--class-b", class_b, "the class A should be taken for")->check(CLI::Range(0, 9))->capture_default_str();
  app.add_option("--pool", pool_size, "pretrained LeNets in the pool (the first --attack-nets are attacked, the rest held out)")
      ->capture_default_str();
  app.add_option("--attack-nets", attack_nets, "pool nets the attack is learned on")->capture_default_str();
  app.add_option("--pool-epochs", pool_epochs, "training epochs of each pool net (SGD, the eval protocol)")
      ->capture_default_str();
  app.add_option("--cache", cache, "folder for the pool nets (reused when present)")->capture_default_str();
  app.add_option("--ipc", opt.images_per_class, "distilled images per class (one step: 10 × ipc images)")
      ->capture_default_str();
  app.add_option("--outer-steps", opt.outer_steps, "outer (Adam) steps")->capture_default_str();
  app.add_option("--outer-lr", opt.outer_lr, "Adam learning rate for the images")->capture_default_str();
  app.add_option("--lr-lr", opt.lr_lr, "Adam learning rate for the log step size")->capture_default_str();
  app.add_option("--initial-lr", opt.initial_lr, "initial step size")->capture_default_str();
  app.add_option("--decay-every", opt.decay_every, "halve the outer learning rates every N steps (0: never)")
      ->capture_default_str();
  app.add_option("--inits-per-step", opt.inits_per_step, "pool nets averaged per outer step")->capture_default_str();
  app.add_option("--real-batch", opt.real_batch, "minibatch size of the outer (attack) loss")->capture_default_str();
  app.add_option("--keep-ratio", keep_ratio,
                 "outer data: other-class images (true labels) per relabelled class-A image; 0 = attack loss only")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "random seed of the attack")->capture_default_str();
  app.add_option("--out", out, "output prefix: <out>.npz and <out>.png")->capture_default_str();
  std::string data = "mnist";
  cli::add_data_option(app, data);
  CLI11_PARSE(app, argc, argv);

  try {
    // Everything this run writes is checked before any work.
    if (const auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
    cli::check_output_prefix(out, {".npz", ".png"});
    DISTILL_CHECK(class_a != class_b, "--class-a and --class-b must differ (both ", class_a, ")");
    DISTILL_CHECK(attack_nets > 0 && attack_nets < pool_size, "--attack-nets is ", attack_nets,
                  ", expected [1, ", pool_size, ") so that some nets are held out");
    auto [train, test, data_name] = cli::load_data(data);
    DISTILL_CHECK(train.num_classes == 10, "--data ", data, ": ", train.num_classes, " classes, this example needs 10");
    const dd::nn::LeNet model{.channels = train.images.shape(1), .image_size = train.images.shape(2)};
    const auto norm = dd::io::standardize({&train.images, &test.images});
    const auto test_a = test.where([&](std::int64_t y) { return y == class_a; });
    const auto test_others = test.where([&](std::int64_t y) { return y != class_a; });
    auto test_a_as_b = test_a;
    test_a_as_b.labels.assign(test_a.size(), class_b);
    auto scores = [&](const dd::nn::Params<T>& p) {
      return Scores{dd::eval::evaluate<B>(model, p, test_a).accuracy, dd::eval::evaluate<B>(model, p, test_a_as_b).accuracy,
                    dd::eval::evaluate<B>(model, p, test_others).accuracy};
    };

    // The pool: LeNets trained on MNIST with seeds 0, 1, ... (cached).
    std::filesystem::create_directories(cache);
    std::vector<dd::nn::Params<T>> pool;
    for (std::size_t k = 0; k < pool_size; ++k) {
      const auto path = std::filesystem::path(cache) / ("lenet_mnist_e" + std::to_string(pool_epochs) + "_s" +
                                                        std::to_string(k) + ".npz");
      dd::Rng rng(k);
      dd::nn::Params<T> p = model.init<B>(rng);
      if (std::filesystem::exists(path)) {
        auto loaded = dd::nn::load_params<T>(path);
        dd::nn::check_same_layout(loaded, p, "unrolled_poison");
        p = std::move(loaded);
      } else {
        std::cout << "pool net " << k + 1 << "/" << pool_size << ": training (" << pool_epochs << " epoch(s))\n";
        dd::eval::TrainOptions<T> train_opt;
        train_opt.epochs = pool_epochs;
        train_opt.seed = k;
        dd::eval::train<B>(model, p, train, train_opt, dd::callbacks::ProgressBar{});
        dd::nn::save_params(path, p);
      }
      std::cout << "pool net " << k + 1 << "/" << pool_size << ": " << path.string() << ", test accuracy " << std::fixed
                << std::setprecision(2) << 100 * dd::eval::evaluate<B>(model, p, test).accuracy << " %\n";
      pool.push_back(std::move(p));
    }
    const std::vector<dd::nn::Params<T>> seen(pool.begin(), pool.begin() + std::ptrdiff_t(attack_nets));

    // The outer data: class A relabelled B, plus other classes with their true labels.
    std::vector<std::size_t> idx_a, idx_other;
    for (std::size_t i = 0; i < train.size(); ++i) (train.labels[i] == class_a ? idx_a : idx_other).push_back(i);
    dd::Rng data_rng(opt.seed + 0xda7a);
    const auto perm = data_rng.permutation(idx_other.size());
    const auto n_keep = std::min(idx_other.size(), std::size_t(std::llround(keep_ratio * double(idx_a.size()))));
    std::vector<std::size_t> idx = idx_a;
    for (std::size_t k = 0; k < n_keep; ++k) idx.push_back(idx_other[perm[k]]);
    auto objective = train.subset(idx);
    for (std::size_t k = 0; k < idx_a.size(); ++k) objective.labels[k] = class_b;
    opt.real_batch = std::min(opt.real_batch, objective.size());

    std::cout << "unrolled_poison: make class " << class_a << " look like " << class_b << " after one step on "
              << 10 * opt.images_per_class << " distilled images; theta0 from " << attack_nets << " of " << pool_size
              << " pool nets (" << pool_size - attack_nets << " held out); outer data " << idx_a.size() << " images "
              << class_a << "->" << class_b << " + " << n_keep << " others; " << opt.outer_steps << " outer steps\n";
    syn::UnrolledGd<dd::nn::LeNet, B> ugd(model, opt);
    ugd.set_pool(seen);
    const auto start = std::chrono::steady_clock::now();
    const auto result = ugd.fit_steps({objective.images, objective.labels, 10}, dd::callbacks::ProgressBar{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "distilled in " << std::fixed << std::setprecision(1) << seconds << " s (" << std::setprecision(3)
              << seconds / double(opt.outer_steps) << " s per outer step); learned step size " << std::setprecision(4)
              << result.lr(0) << '\n';

    // Every pool net before and after one step on the distilled images.
    char line[200];
    std::cout << "\nMNIST test, one step on the distilled images (class A = " << class_a << ", B = " << class_b << "):\n";
    std::snprintf(line, sizeof line, "  %-10s %-9s  %10s %10s  %10s %10s  %10s\n", "net", "", "A before", "A after",
                  "A->B after", "others bef", "others aft");
    std::cout << line;
    Scores seen_before, seen_after, held_before, held_after;
    for (std::size_t k = 0; k < pool.size(); ++k) {
      const Scores b = scores(pool[k]);
      const Scores a = scores(syn::apply_distilled<B>(model, pool[k], result));
      const bool held = k >= attack_nets;
      (held ? held_before : seen_before) += b;
      (held ? held_after : seen_after) += a;
      std::snprintf(line, sizeof line, "  %-10zu %-9s  %9.2f%% %9.2f%%  %9.2f%% %9.2f%%  %9.2f%%\n", k,
                    held ? "held-out" : "attacked", 100 * b.a, 100 * a.a, 100 * a.a_to_b, 100 * b.others, 100 * a.others);
      std::cout << line;
    }
    auto mean_row = [&](const char* name, const Scores& b, const Scores& a) {
      std::snprintf(line, sizeof line, "  %-20s  %9.2f%% %9.2f%%  %9.2f%% %9.2f%%  %9.2f%%\n", name, 100 * b.a, 100 * a.a,
                    100 * a.a_to_b, 100 * b.others, 100 * a.others);
      std::cout << line;
    };
    const double n_held = double(pool_size - attack_nets), n_seen = double(attack_nets);
    mean_row("mean, attacked nets", seen_before / n_seen, seen_after / n_seen);
    mean_row("mean, held-out nets", held_before / n_held, held_after / n_held);
    std::cout << "held-out nets: class-" << class_a << " accuracy " << std::setprecision(2)
              << 100 * held_before.a / n_held << " % -> " << 100 * held_after.a / n_held << " % after one step on "
              << 10 * opt.images_per_class << " distilled images\n";

    const std::string json = dd::io::JsonObject{}
                                 .add("data", data).add("model", "lenet").add("use", "poisoning").add("class_a", class_a)
                                 .add("class_b", class_b).add("pool", pool_size).add("attack_nets", attack_nets)
                                 .add("pool_epochs", pool_epochs).add("keep_ratio", keep_ratio)
                                 .add("unrolled_gd", opt.to_json()).str();
    const auto set = syn::to_distilled_set(result, norm.mean, norm.stddev, json);
    dd::io::save_distilled(out + ".npz", set);
    dd::io::write_png_grid(out + ".png", set.images,
                           {.rows_by_label = result.stacked_labels(), .scaling = dd::io::Scaling::per_image, .upscale = 2});
    std::cout << "wrote " << out << ".npz and " << out << ".png\n";
  } catch (const std::exception& e) {
    std::cerr << "unrolled_poison: " << e.what() << '\n';
    return 1;
  }
}
