// SPDX-License-Identifier: MIT
// Distills a data set (MNIST by default, or any --data) into a few images per class by matching training
// trajectories (MTT; Cazenavette et al. 2022). First train expert ConvNet-3s on the real data and keep their
// weights after every epoch; then learn images and a step size such that a few SGD steps on the images, from an
// expert's epoch-t weights, land near its epoch-(t+M) weights. Optionally trains fresh ConvNet-3s on the result
// (with DSA, as the paper evaluates).
//
//   distill_mtt --make-experts 3 --train-epochs 5 --experts experts/        -> experts/expert_{0,1,2}.npz
//   distill_mtt --experts experts/ --ipc 1 --syn-steps 20 --expert-epochs 2 --max-start-epoch 2 --iterations 500
//               --out mnist_mtt_ipc1
//       -> mnist_mtt_ipc1.npz (np.load-able distilled set) and mnist_mtt_ipc1.png (one row per class)
//   --memory full keeps the whole unrolled graph (faster, memory grows with activations x steps); the default,
//   bounded, keeps one set of weights per step and recomputes each step's graph on the way back.
//   --checkpoint run.npz --checkpoint-every 100 ...; later the same command with --resume run.npz
//   evaluate_set mnist_mtt_ipc1.npz --dsa       (fresh networks trained on the set with DSA, tested on real data)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/dsa.hpp"
#include "distill/synthetic/expert_trajectories.hpp"
#include "distill/synthetic/mtt.hpp"

namespace dd = distill;
namespace cli = distill::cli;
namespace fs = std::filesystem;

namespace {

struct Args {
  cli::ConvNetSetArgs set;  // --init, --net-width, --eval-*, --out, --checkpoint, --resume, --quiet
  std::string memory = "bounded";
  fs::path experts;
  std::size_t make_experts = 0, expert_images = 0, log_every = 0;
};

// One line every `every` iterations: the mean loss since the last line and the learned step size.
struct LossLog {
  std::size_t every = 0;
  double sum = 0;
  std::size_t count = 0;
  void on_step(dd::callbacks::TrainingState& s) {
    sum += s.loss;
    ++count;
    if (every == 0 || s.step % every != 0) return;
    std::printf("iteration %zu: mean loss %.4f over the last %zu, step size %.4g\n", s.step, sum / double(count), count,
                s.metrics.count("syn_lr") ? s.metrics.at("syn_lr") : 0.0);
    std::fflush(stdout);
    sum = 0;
    count = 0;
  }
};

// Trains experts expert_<i>.npz that are not in the folder yet (so a folder can be extended), each on the data
// standardised with the whole training set's statistics (what Mtt::fit will use).
template <class B>
int make_experts(const dd::synthetic::ExpertOptions& o, const Args& a, const cli::CommonOptions& common,
                 const dd::io::DataSplits<float>& data, const dd::nn::ConvNet& net) {
  const auto prepared = dd::frame::prepare_training_set(data.train, true, 1, "distill_mtt");
  dd::LabeledData<float> train{dd::frame::as_nchw(prepared.data.images), prepared.data.labels, prepared.data.num_classes};
  if (a.expert_images > 0 && a.expert_images < train.size()) {
    // A class-balanced random subset, to fit a small CPU budget.
    dd::Rng rng(common.seed + 977);
    const std::size_t per = std::max<std::size_t>(1, a.expert_images / train.num_classes);
    const auto rows = dd::frame::ClassBalancedSampler(train).per_class(rng, per, "distill_mtt --expert-images");
    dd::LabeledData<float> subset{dd::Tensor<float>(), {}, train.num_classes};
    dd::frame::gather_rows(train.images, rows, subset.images);
    for (std::size_t r : rows) subset.labels.push_back(train.labels[r]);
    train = std::move(subset);
  }
  std::printf("training %zu expert(s) on %zu images: ConvNet-3 width %zu, %zu epochs, SGD lr %g momentum %g, batch %zu, "
              "DSA '%s'\n",
              a.make_experts, train.size(), a.set.net_width, o.epochs, o.lr, o.momentum, o.batch_size,
              o.dsa_strategy == "auto" ? dd::synthetic::default_dsa_strategy(train.images.shape(1)).c_str()
                                       : o.dsa_strategy.c_str());
  std::fflush(stdout);
  for (std::size_t i = 0; i < a.make_experts; ++i) {
    const fs::path file = dd::synthetic::expert_file(a.experts, i);
    if (fs::exists(file)) {
      std::printf("%s exists, kept\n", file.string().c_str());
      continue;
    }
    const cli::Stopwatch clock;
    const std::uint64_t seed = common.seed + 1000 * i;
    const auto e = a.set.run.quiet ? dd::synthetic::train_expert<B>(net, train, prepared.norm, o, seed)
                                   : dd::synthetic::train_expert<B>(net, train, prepared.norm, o, seed,
                                                                    dd::callbacks::ProgressBar{});
    dd::synthetic::save_expert(file, e);
    const auto acc = dd::eval::evaluate<B>(net, e.epochs.back(), prepared.norm.applied_to(data.test));
    std::printf("wrote %s (%zu epochs, %.1f s; test accuracy after the last epoch %.2f %%)\n", file.string().c_str(),
                e.epochs_trained(), clock.seconds(), 100 * acc.accuracy);
    std::fflush(stdout);
  }
  return 0;
}

template <class B>
int distill_with(dd::synthetic::MttOptions options, const Args& a, const cli::CommonOptions& common,
                 const dd::io::DataSplits<float>& data, const dd::nn::ConvNet& net) {
  std::vector<dd::synthetic::ExpertTrajectory<float>> experts;
  for (const auto& f : dd::synthetic::expert_files(a.experts)) experts.push_back(dd::synthetic::load_expert<B>(f, net));
  const dd::Shape shape = cli::image_shape(data.train.images);
  const std::string strategy =
      options.dsa_strategy == "auto" ? dd::synthetic::default_dsa_strategy(shape[0]) : options.dsa_strategy;
  std::printf("MTT (%s backend): %zu images per class, %zu iterations, %zu experts of %zu epochs, %zu synthetic steps "
              "(batch %s), target epoch t + %zu, t < %zu, images lr %g, log step size lr %g, step size from %g, DSA "
              "'%s', %s init, %s memory, ConvNet-3 width %zu\n",
              common.backend.c_str(), options.images_per_class, options.iterations, experts.size(),
              experts[0].epochs_trained(), options.syn_steps,
              options.batch_syn ? std::to_string(options.batch_syn).c_str() : "all", options.expert_epochs,
              options.max_start_epoch, options.lr_images, options.lr_log_lr, options.syn_lr_init, strategy.c_str(),
              a.set.init.c_str(), a.memory.c_str(), a.set.net_width);
  std::fflush(stdout);

  dd::synthetic::Mtt<dd::nn::ConvNet, B> mtt{net, std::move(experts), options};
  LossLog log{.every = a.log_every};
  auto result = cli::fit_and_report(mtt, data.train, a.set.run, "iteration", log);
  std::printf("learned step size %g\n", double(result.extra.at("syn_lr").template as<float>()[0]));

  result.options_json = cli::options_json(common).add("net_width", a.set.net_width).add("mtt", options.to_json()).str();
  cli::save_set_and_grid(a.set.out, result, result.hard_labels());

  if (a.set.eval_nets > 0) a.set.evaluation(common.seed, strategy, common.data).print<B>(net, result, data.test, "MTT set");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distill a data set with MTT (matching training trajectories of expert ConvNet-3s), or train the experts"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  dd::synthetic::MttOptions options{.iterations = 1000};
  dd::synthetic::ExpertOptions expert{.epochs = 10};
  app.add_option("--experts", a.experts, "folder of expert_<i>.npz trajectories (written by --make-experts)")->required();
  app.add_option("--make-experts", a.make_experts,
                 "train this many experts into --experts (those already there are kept) and stop");
  app.add_option("--train-epochs", expert.epochs, "--make-experts: epochs per expert (the paper: 50)")
      ->check(CLI::PositiveNumber);
  app.add_option("--expert-lr", expert.lr, "--make-experts: SGD learning rate (no momentum, no weight decay)")
      ->check(CLI::PositiveNumber);
  app.add_option("--expert-batch", expert.batch_size, "--make-experts: minibatch size")->check(CLI::PositiveNumber);
  app.add_option("--expert-images", a.expert_images,
                 "--make-experts: train on a class-balanced random subset of this many images (0: all)");
  app.add_option("--ipc", options.images_per_class, "images per class")->check(CLI::PositiveNumber);
  app.add_option("--iterations", options.iterations, "MTT iterations (the paper runs 5000)");
  app.add_option("--syn-steps", options.syn_steps, "N: synthetic SGD steps per iteration")->check(CLI::PositiveNumber);
  app.add_option("--expert-epochs", options.expert_epochs, "M: match the expert's epoch t + M")->check(CLI::PositiveNumber);
  app.add_option("--max-start-epoch", options.max_start_epoch, "T+: the start epoch t is drawn from [0, T+)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-syn", options.batch_syn, "synthetic images per step (0: all)");
  app.add_option("--lr-img", options.lr_images, "SGD learning rate of the images")->check(CLI::PositiveNumber);
  app.add_option("--lr-lr", options.lr_log_lr, "SGD learning rate of the log step size")->check(CLI::PositiveNumber);
  app.add_option("--lr-labels", options.lr_labels, "SGD learning rate of the labels (--learn-labels)")
      ->check(CLI::PositiveNumber);
  app.add_option("--syn-lr", options.syn_lr_init, "initial synthetic step size (the experts' lr)")->check(CLI::PositiveNumber);
  app.add_flag("--learn-labels", options.learn_labels, "learn soft label vectors with the images");
  app.add_option("--dsa-strategy", options.dsa_strategy,
                 "DSA transforms joined by '_' (color, crop, cutout, flip, scale, rotate), 'none', or 'auto' (all six; "
                 "no flip for single-channel data); used by the experts and the synthetic steps");
  app.add_option("--memory", a.memory, "bounded (recompute each step on the way back) or full (keep the graph)")
      ->check(CLI::IsMember({"bounded", "full"}));
  a.set.add_to(app, "<data>_mtt_ipc<N>", /*with_eval_init=*/false);
  app.add_option("--log-every", a.log_every, "print the mean loss and the step size every this many iterations");
  CLI11_PARSE(app, argc, argv);
  a.set.default_out(common, "mtt", options.images_per_class);
  options.init = a.set.init == "real" ? dd::synthetic::MttInit::real : dd::synthetic::MttInit::noise;
  options.memory = a.memory == "full" ? dd::synthetic::Memory::full : dd::synthetic::Memory::recompute;
  options.seed = common.seed;
  options.resume_from = a.set.resume;
  expert.dsa_strategy = options.dsa_strategy;

  return cli::run_on_backend("distill_mtt", common.backend, [&]<class B>() -> int {
    // Everything this run will write or read is checked before the data are loaded.
    if (a.make_experts > 0) {
      expert.validate("distill_mtt");
      // The folder the experts go to is made here, as `--make-experts 3 --experts experts/` reads.
      std::error_code made;
      fs::create_directories(a.experts, made);
      if (made) throw std::invalid_argument("--experts: cannot create folder '" + a.experts.string() + "': " + made.message());
      cli::check_output_file("--experts", dd::synthetic::expert_file(a.experts, 0));
    } else {
      options.validate("distill_mtt");
      (void)dd::synthetic::expert_files(a.experts);
      a.set.check_outputs();
    }
    const auto data = cli::load_data(common.data);
    const dd::nn::ConvNet net = a.set.convnet(data.train, "distill_mtt");
    return a.make_experts > 0 ? make_experts<B>(expert, a, common, data, net) : distill_with<B>(options, a, common, data, net);
  });
}
