// SPDX-License-Identifier: MIT
// Dataset distillation by unrolled gradient descent (Wang, Zhu, Torralba, Efros 2018) on MNIST or
// Fashion-MNIST: learn a few images and step sizes that train LeNet in a few steps, then report test
// accuracy (fixed init: the init the images were learned for; random init: unseen inits), and save the
// distilled-set NPZ and a PNG grid. With --validation N the run holds out N training images, scores the set on
// them every --eval-every steps and keeps the best one (model selection that never looks at the test set).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "distill/callbacks.hpp"
#include "distill/eval.hpp"
#include "distill/io.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/unrolled_gd.hpp"

namespace dd = distill;
using T = float;

namespace {

template <class B, class M>
double accuracy(const M& model, const dd::nn::Params<T>& params, const dd::LabeledData<T>& test) {
  return dd::eval::evaluate<B>(model, params, test).accuracy;
}

//! Test accuracy after the distilled steps from theta0, or nothing when the steps diverge from that init.
template <class B, class M>
std::optional<double> distilled_accuracy(const M& model, const dd::nn::Params<T>& theta0,
                                         const dd::synthetic::UnrolledGdResult<T>& set, const dd::LabeledData<T>& data) {
  try {
    return accuracy<B>(model, dd::synthetic::apply_distilled<B>(model, theta0, set), data);
  } catch (const dd::numerical_error&) {
    return std::nullopt;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"distill_unrolled: dataset distillation by unrolled gradient descent (Wang et al. 2018)"};
  std::string dataset = "mnist", theta = "fixed", memory = "full", out = "mnist_unrolled";
  dd::synthetic::UnrolledGdOptions opt{.images_per_class = 1, .steps = 1, .epochs = 3, .outer_steps = 1000,
                                       .real_batch = 1024};
  std::size_t eval_inits = 20, eval_every = 0, checkpoint_every = 500, validation = 0;
  std::string init = "noise", checkpoint;
  app.add_option("--dataset", dataset, "mnist or fashion")->check(CLI::IsMember({"mnist", "fashion"}));
  app.add_option("--ipc", opt.images_per_class, "synthetic images per class per step");
  app.add_option("--steps", opt.steps, "inner steps T (a distinct synthetic batch each)");
  app.add_option("--epochs", opt.epochs, "passes E over the T steps");
  app.add_option("--theta", theta, "initial weights: fixed (one init) or random (fresh inits)")
      ->check(CLI::IsMember({"fixed", "random"}));
  app.add_option("--inits-per-step", opt.inits_per_step, "random mode: inits averaged per outer step");
  app.add_option("--outer-steps", opt.outer_steps, "outer (Adam) steps");
  app.add_option("--outer-lr", opt.outer_lr, "Adam learning rate for the images");
  app.add_option("--lr-lr", opt.lr_lr, "Adam learning rate for the log step sizes");
  app.add_option("--outer-beta1", opt.outer_beta1, "Adam beta1 of the outer optimizer");
  app.add_option("--initial-lr", opt.initial_lr, "initial inner step size");
  std::string inner = "sgd";
  app.add_option("--inner", inner,
                 "the unrolled update: sgd (the paper), momentum (heavy ball) or adam (buffers from zero at every init)")
      ->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  app.add_option("--inner-momentum", opt.inner.momentum, "the momentum rule's mu in the inner update, in [0, 1)");
  app.add_option("--inner-eps", opt.inner.eps, "adam's epsilon in the inner update");
  app.add_option("--inner-beta1", opt.inner.beta1, "adam's first-moment decay in the inner update, in [0, 1)");
  app.add_option("--inner-beta2", opt.inner.beta2, "adam's second-moment decay in the inner update, in [0, 1)");
  app.add_flag("--step-size-per-tensor", opt.step_size_per_tensor,
               "learn a step size per inner step and parameter tensor (each layer's weights and biases), not one per step");
  app.add_option("--decay-every", opt.decay_every, "halve the outer learning rates every N steps (0: never)");
  app.add_option("--real-batch", opt.real_batch, "real minibatch size of the outer loss");
  app.add_option("--init", init, "synthetic image init: noise or real")->check(CLI::IsMember({"noise", "real"}));
  app.add_flag("--learn-labels", opt.learn_labels, "learn each image's target vector too (soft-label distillation)");
  app.add_option("--label-lr", opt.label_lr, "Adam learning rate of the learned labels (0: --outer-lr)");
  app.add_option("--memory", memory, "full (keep the unrolled graph) or recompute (keep only weights)")
      ->check(CLI::IsMember({"full", "recompute"}));
  app.add_option("--eval-inits", eval_inits, "random mode: unseen inits to evaluate on");
  app.add_option("--seed", opt.seed, "random seed");
  app.add_option("--eval-every", eval_every, "print the test accuracy every N outer steps (0: only at the end)");
  app.add_option("--validation", validation,
                 "hold out N training images; every --eval-every steps score the set on them and keep the best");
  app.add_option("--checkpoint", checkpoint, "save a checkpoint here every --checkpoint-every steps and at the end");
  app.add_option("--checkpoint-every", checkpoint_every, "outer steps between checkpoints");
  app.add_option("--resume", opt.resume_from, "continue from a checkpoint written by --checkpoint");
  app.add_option("--out", out, "output prefix: <out>.npz and <out>.png");
  std::string backend = "eigen";
  app.add_option("--backend", backend, "tensor backend: eigen, or xtensor (its GEMM is xtensor-blas / OpenBLAS)")
      ->check(CLI::IsMember({"eigen", "xtensor"}))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  opt.theta_mode = theta == "fixed" ? dd::synthetic::ThetaMode::fixed : dd::synthetic::ThetaMode::random;
  opt.memory = memory == "full" ? dd::synthetic::Memory::full : dd::synthetic::Memory::recompute;
  opt.inner.rule = dd::synthetic::InnerOptimizer::rule_named(inner);
  opt.init = init == "noise" ? dd::synthetic::ImageInit::noise : dd::synthetic::ImageInit::real;
  if (validation > 0 && eval_every == 0) {
    std::cerr << "distill_unrolled: --validation needs --eval-every (how often to score the set)\n";
    return 1;
  }

  // The whole job, for one backend B.
  auto job = [&]<class B>() -> int {
  try {
    auto train = dd::io::load_dataset<T>(dataset, "train");
    auto test = dd::io::load_dataset<T>(dataset, "test");
    const auto norm = dd::io::standardize({&train.images, &test.images});  // saved with the set
    dd::LabeledData<T> held_out;  // --validation: a seeded random split of the training set
    if (validation > 0) {
      if (validation >= train.size()) {
        std::cerr << "distill_unrolled: --validation " << validation << " leaves no training images (the set has "
                  << train.size() << ")\n";
        return 1;
      }
      dd::Rng split_rng(opt.seed + 0x5a11d);
      const auto order = split_rng.permutation(train.size());
      held_out = train.subset(std::span(order).first(validation));
      train = train.subset(std::span(order).subspan(validation));
    }
    std::cout << "distill_unrolled: " << dataset << " train " << train.size() << ", test " << test.size() << "; LeNet, "
              << opt.images_per_class << " image(s)/class x " << opt.steps << " step(s) x " << opt.epochs
              << " epoch(s), theta0 " << theta << ", inner " << inner << ", init " << init << ", memory " << memory << ", "
              << backend << " backend\n";

    const dd::nn::LeNet model{};
    dd::synthetic::UnrolledGd<dd::nn::LeNet, B> ugd(model, opt);
    // The monitor's score of a set on `data`. fixed: the init the images are learned for; random: 4 inits never
    // seen in distillation (a quick look). An init the steps diverge from scores 0.
    auto score = [&](const dd::synthetic::UnrolledGdResult<T>& set, const dd::LabeledData<T>& data) {
      if (opt.theta_mode == dd::synthetic::ThetaMode::fixed)
        return distilled_accuracy<B>(model, *ugd.fixed_init(), set, data).value_or(0.0);
      dd::Rng rng(opt.seed + 0x5eed);
      double sum = 0;
      for (int i = 0; i < 4; ++i) sum += distilled_accuracy<B>(model, model.template init<B>(rng), set, data).value_or(0.0);
      return sum / 4;
    };
    std::optional<dd::synthetic::UnrolledGdResult<T>> best;  // --validation: the best set so far
    double best_val = -1;
    std::size_t best_step = 0;
    if (eval_every > 0) {
      ugd.set_monitor(eval_every, [&](const dd::synthetic::UnrolledGdResult<T>& set, dd::callbacks::TrainingState& state) {
        if (validation == 0) {
          state.metrics["test_acc"] = score(set, test);
          return;
        }
        const double v = score(set, held_out);
        state.metrics["val_acc"] = v;
        if (v > best_val) best_val = v, best_step = state.step, best = set.clone();  // a plain copy would alias `set`
      });
    }
    const auto start = std::chrono::steady_clock::now();
    dd::synthetic::UnrolledGdResult<T> result;
    if (checkpoint.empty()) {
      result = ugd.fit(train.images, train.labels, train.num_classes, dd::callbacks::ProgressBar{});
    } else {
      result = ugd.fit(train.images, train.labels, train.num_classes, dd::callbacks::ProgressBar{},
                       dd::callbacks::Checkpoint{.path = checkpoint, .every = checkpoint_every});
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "distilled in " << std::fixed << std::setprecision(1) << seconds << " s ("
              << std::setprecision(3) << seconds / double(opt.outer_steps) << " s per outer step)\n";
    std::cout << "learned step sizes:";
    const std::size_t per_step = result.step_sizes_per_step();
    for (std::size_t i = 0; i < result.log_lr.shape(0); ++i) {
      std::cout << (per_step > 1 ? "\n  step " + std::to_string(i) + ":" : "");
      for (std::size_t k = 0; k < per_step; ++k) std::cout << ' ' << std::setprecision(4) << result.lr(i, k);
    }
    std::cout << '\n';

    // Test accuracy of a set: on its fixed init, or over eval_inits inits never seen in distillation.
    auto report = [&](const dd::synthetic::UnrolledGdResult<T>& set, const std::string& which) {
      if (opt.theta_mode == dd::synthetic::ThetaMode::fixed) {
        const auto& theta0 = *ugd.fixed_init();
        const double before = accuracy<B>(model, theta0, test);
        const auto after = distilled_accuracy<B>(model, theta0, set, test);
        std::cout << std::setprecision(2) << which << "test accuracy, fixed init: before " << 100 * before << " %, after "
                  << opt.steps * opt.epochs << " distilled steps ";
        if (after) std::cout << 100 * *after << " %\n";
        else std::cout << "diverged\n";
        return;
      }
      dd::Rng rng(opt.seed + 0x5eed);  // inits never seen during distillation
      std::vector<double> accs;
      std::size_t diverged = 0;
      for (std::size_t i = 0; i < eval_inits; ++i) {
        const auto a = distilled_accuracy<B>(model, model.template init<B>(rng), set, test);
        accs.push_back(a.value_or(0.0));  // a diverged init counts as 0 %
        diverged += !a;
      }
      double m = 0, v = 0;
      for (double a : accs) m += a / double(accs.size());
      for (double a : accs) v += (a - m) * (a - m) / double(accs.size());
      std::cout << std::setprecision(2) << which << "test accuracy over " << eval_inits << " unseen random inits: "
                << 100 * m << " ± " << 100 * std::sqrt(v) << " %";
      if (diverged) std::cout << " (" << diverged << " of them diverged, counted as 0 %)";
      std::cout << '\n';
    };
    if (!best) {
      report(result, "");
    } else {  // the last set, then the one the held-out images chose: that one is saved
      report(result, "last set (outer step " + std::to_string(opt.outer_steps) + "): ");
      std::cout << std::setprecision(2) << "best on the " << validation << " held-out training images: " << 100 * best_val
                << " % at outer step " << best_step << '\n';
      result = *std::move(best);
      report(result, "that set (saved): ");
    }

    // Everything it takes to rerun the distillation, and to replay the steps (the update rule goes with the step sizes).
    std::ostringstream json;
    const auto flag = [](bool b) { return b ? "true" : "false"; };
    json << "{\"model\": \"lenet\", \"dataset\": \"" << dataset << "\", \"images_per_class\": " << opt.images_per_class
         << ", \"steps\": " << opt.steps << ", \"epochs\": " << opt.epochs << ", \"theta\": \"" << theta
         << "\", \"outer_steps\": " << opt.outer_steps << ", \"learn_labels\": " << flag(opt.learn_labels)
         << ", \"step_size_per_tensor\": " << flag(opt.step_size_per_tensor) << ",\n        \"inner\": ";
    if (opt.inner.rule == dd::synthetic::InnerOptimizer::Rule::sgd)
      json << "\"sgd\"";
    else if (opt.inner.rule == dd::synthetic::InnerOptimizer::Rule::momentum)
      json << "{\"rule\": \"momentum\", \"momentum\": " << opt.inner.momentum << "}";
    else
      json << "{\"rule\": \"adam\", \"beta1\": " << opt.inner.beta1 << ", \"beta2\": " << opt.inner.beta2
           << ", \"eps\": " << opt.inner.eps << "}";
    json << ", \"seed\": " << opt.seed << ", \"init\": \"" << init << "\", \"initial_lr\": " << opt.initial_lr
         << ", \"outer_lr\": " << opt.outer_lr << ", \"lr_lr\": " << opt.lr_lr << ", \"label_lr\": " << opt.label_lr
         << ", \"outer_beta1\": " << opt.outer_beta1 << ", \"decay_every\": " << opt.decay_every
         << ", \"real_batch\": " << opt.real_batch << ", \"inits_per_step\": " << opt.inits_per_step
         << ", \"validation\": " << validation << "}";
    const std::string options_json = json.str();
    const auto set = dd::synthetic::to_distilled_set(result, norm.mean, norm.stddev, options_json);
    dd::io::save_distilled(out + ".npz", set);
    dd::io::write_png_grid(out + ".png", set.images,
                           {.rows_by_label = result.stacked_labels(), .scaling = dd::io::Scaling::per_image, .upscale = 2});
    std::cout << "wrote " << out << ".npz and " << out << ".png\n";
  } catch (const std::exception& e) {
    std::cerr << "distill_unrolled: " << e.what() << '\n';
    return 1;
  }
  return 0;
  };
#if DISTILL_HAS_XTENSOR
  if (backend == "xtensor") return job.template operator()<dd::XtensorBackend<float>>();
#else
  if (backend == "xtensor") {
    std::cerr << "distill_unrolled: this build has no xtensor backend (xtensor, xtensor-blas and BLAS not found)\n";
    return 1;
  }
#endif
  return job.template operator()<dd::EigenBackend<float>>();
}
