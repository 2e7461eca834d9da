// SPDX-License-Identifier: MIT
// Dataset distillation by unrolled gradient descent (Wang, Zhu, Torralba, Efros 2018) on MNIST, Fashion-MNIST or
// any --data set: learn a few images and step sizes that train LeNet in a few steps, then report test accuracy
// (fixed init: the init the images were learned for; random init: unseen inits), and save the distilled-set NPZ
// and a PNG grid. With --validation N the run holds out N training images, scores the set on them every
// --eval-every steps and keeps the best one (model selection that never looks at the test set).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval.hpp"
#include "distill/io.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/unrolled_gd.hpp"

namespace dd = distill;
namespace cli = distill::cli;
namespace syn = distill::synthetic;
using T = float;

namespace {

//! Test accuracy after the distilled steps from theta0, or nothing when the steps diverge from that init.
template <class B, class M>
std::optional<double> distilled_accuracy(const M& model, const dd::nn::Params<T>& theta0,
                                         const syn::UnrolledGdResult<T>& set, const dd::LabeledData<T>& data) {
  try {
    return dd::eval::evaluate<B>(model, syn::apply_distilled<B>(model, theta0, set), data).accuracy;
  } catch (const dd::numerical_error&) {
    return std::nullopt;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"distill_unrolled: dataset distillation by unrolled gradient descent (Wang et al. 2018)"};
  cli::CommonOptions common;
  common.backend = "eigen";
  cli::setup_app(app, common);
  std::string theta = "fixed", memory = "full", out = "mnist_unrolled", init = "noise", inner = "sgd", checkpoint;
  syn::UnrolledGdOptions opt{.images_per_class = 1, .steps = 1, .epochs = 3, .outer_steps = 1000, .real_batch = 1024};
  std::size_t eval_inits = 20, eval_every = 0, checkpoint_every = 500, validation = 0;
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
  app.add_option("--eval-every", eval_every, "print the test accuracy every N outer steps (0: only at the end)");
  app.add_option("--validation", validation,
                 "hold out N training images; every --eval-every steps score the set on them and keep the best");
  app.add_option("--checkpoint", checkpoint, "save a checkpoint here every --checkpoint-every steps and at the end");
  app.add_option("--checkpoint-every", checkpoint_every, "outer steps between checkpoints");
  app.add_option("--resume", opt.resume_from, "continue from a checkpoint written by --checkpoint");
  app.add_option("--out", out, "output prefix: <out>.npz and <out>.png");
  CLI11_PARSE(app, argc, argv);
  opt.theta_mode = theta == "fixed" ? syn::ThetaMode::fixed : syn::ThetaMode::random;
  opt.memory = memory == "full" ? syn::Memory::full : syn::Memory::recompute;
  opt.inner.rule = syn::InnerOptimizer::rule_named(inner);
  opt.init = init == "noise" ? syn::ImageInit::noise : syn::ImageInit::real;
  opt.seed = common.seed;

  return cli::run_on_backend("distill_unrolled", common.backend, [&]<class B>() -> int {
    DISTILL_CHECK(validation == 0 || eval_every > 0, "--validation needs --eval-every (how often to score the set)");
    opt.validate("distill_unrolled");
    cli::check_output_prefix(out, {".npz", ".png"});
    cli::check_checkpoint_paths(checkpoint, opt.resume_from);
    auto data = cli::load_data(common.data);
    auto& train = data.train;
    dd::LabeledData<T> held_out;  // --validation: a seeded random split of the training set
    if (validation > 0) {
      DISTILL_CHECK(validation < train.size(), "--validation ", validation, " leaves no training images (the set has ",
                    train.size(), ")");
      dd::Rng split_rng = dd::frame::stream_rng(common.seed, dd::frame::Stream::eval, 1);
      const auto order = split_rng.permutation(train.size());
      held_out = train.subset(std::span(order).first(validation));
      train = train.subset(std::span(order).subspan(validation));
    }
    // fit() standardises the training images per channel; the test and held-out images get the same map.
    const auto norm = dd::io::ChannelStandardization<T>::of(train.images);
    const auto test = norm.applied_to(data.test);
    if (validation > 0) held_out = norm.applied_to(held_out);
    const dd::nn::LeNet model{.channels = train.images.shape(1), .classes = train.num_classes,
                              .image_size = train.images.shape(2)};
    std::printf("LeNet, %zu image(s)/class x %zu step(s) x %zu epoch(s), theta0 %s, inner %s, init %s, memory %s, %s backend\n",
                opt.images_per_class, opt.steps, opt.epochs, theta.c_str(), inner.c_str(), init.c_str(), memory.c_str(),
                common.backend.c_str());

    syn::UnrolledGd<dd::nn::LeNet, B> ugd(model, opt);
    // A set's score on `data`. fixed: the init the images are learned for; random: `inits` inits never seen in
    // distillation. An init the steps diverge from scores 0.
    auto score = [&](const syn::UnrolledGdResult<T>& set, const dd::LabeledData<T>& on, std::size_t inits,
                     std::size_t* diverged = nullptr) {
      std::vector<double> accs;
      if (opt.theta_mode == syn::ThetaMode::fixed) {
        accs.push_back(distilled_accuracy<B>(model, *ugd.fixed_init(), set, on).value_or(0.0));
      } else {
        dd::Rng rng = dd::frame::stream_rng(common.seed, dd::frame::Stream::eval);
        for (std::size_t i = 0; i < inits; ++i) {
          const auto a = distilled_accuracy<B>(model, model.template init<B>(rng), set, on);
          accs.push_back(a.value_or(0.0));
          if (diverged && !a) ++*diverged;
        }
      }
      return accs;
    };
    auto mean_of = [](const std::vector<double>& v) {
      double m = 0;
      for (double a : v) m += a / double(v.size());
      return m;
    };
    std::optional<syn::UnrolledGdResult<T>> best;  // --validation: the best set so far
    double best_val = -1;
    std::size_t best_step = 0;
    if (eval_every > 0) {
      ugd.set_monitor(eval_every, [&](const syn::UnrolledGdResult<T>& set, dd::callbacks::TrainingState& state) {
        if (validation == 0) {
          state.metrics["test_acc"] = mean_of(score(set, test, 4));
          return;
        }
        const double v = mean_of(score(set, held_out, 4));
        state.metrics["val_acc"] = v;
        if (v > best_val) best_val = v, best_step = state.step, best = set.clone();  // a plain copy would alias `set`
      });
    }
    const cli::Stopwatch clock;
    dd::callbacks::Checkpoint saver{.path = checkpoint, .every = checkpoint_every};
    dd::io::DistilledSet<T> set = checkpoint.empty() ? ugd.fit(train, dd::callbacks::ProgressBar{})
                                                     : ugd.fit(train, dd::callbacks::ProgressBar{}, saver);
    const double seconds = clock.seconds();
    std::printf("distilled in %.1f s (%.3f s per outer step)\n", seconds, seconds / double(opt.outer_steps));
    auto result = syn::from_distilled_set(set);
    std::printf("learned step sizes:");
    const std::size_t per_step = result.step_sizes_per_step();
    for (std::size_t i = 0; i < result.log_lr.shape(0); ++i) {
      if (per_step > 1) std::printf("\n  step %zu:", i);
      for (std::size_t k = 0; k < per_step; ++k) std::printf(" %.4g", double(result.lr(i, k)));
    }
    std::printf("\n");

    // Test accuracy of a set: on its fixed init, or over eval_inits inits never seen in distillation.
    auto report = [&](const syn::UnrolledGdResult<T>& steps, const std::string& which) {
      if (opt.theta_mode == syn::ThetaMode::fixed) {
        const double before = dd::eval::evaluate<B>(model, *ugd.fixed_init(), test).accuracy;
        const auto after = distilled_accuracy<B>(model, *ugd.fixed_init(), steps, test);
        std::printf("%stest accuracy, fixed init: before %.2f %%, after %zu distilled steps ", which.c_str(), 100 * before,
                    opt.steps * opt.epochs);
        if (after) std::printf("%.2f %%\n", 100 * *after);
        else std::printf("diverged\n");
        return;
      }
      std::size_t diverged = 0;
      const auto accs = score(steps, test, eval_inits, &diverged);
      const double m = mean_of(accs);
      double v = 0;
      for (double a : accs) v += (a - m) * (a - m) / double(accs.size());
      std::printf("%stest accuracy over %zu unseen random inits: %.2f ± %.2f %%", which.c_str(), eval_inits, 100 * m,
                  100 * std::sqrt(v));
      if (diverged) std::printf(" (%zu of them diverged, counted as 0 %%)", diverged);
      std::printf("\n");
    };
    const std::string options_json =
        cli::options_json(common).add("model", "lenet").add("validation", validation).add("unrolled_gd", opt.to_json()).str();
    if (!best) {
      report(result, "");
      set.options_json = options_json;
    } else {  // the last set, then the one the held-out images chose: that one is saved
      report(result, "last set (outer step " + std::to_string(opt.outer_steps) + "): ");
      std::printf("best on the %zu held-out training images: %.2f %% at outer step %zu\n", validation, 100 * best_val,
                  best_step);
      report(*best, "that set (saved): ");
      set = syn::to_distilled_set(*best, norm, options_json);
      result = *best;
    }
    cli::save_set_and_grid(out, set, result.stacked_labels());
    return 0;
  });
}
