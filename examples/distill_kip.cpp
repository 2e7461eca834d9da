// SPDX-License-Identifier: MIT
// Distills a data set (MNIST by default, or any --data) into a few images per class with Kernel Inducing Points
// (Nguyen, Chen, Lee 2021), and prints the KRR test accuracy before (random real images) and after.
//
// --kernel fc (the default) is the infinite-width FC NTK; the defaults (2500 Adam steps, lr 0.08 with cosine decay,
// depth-3 NTK, reg 1e-6, 5000 targets per step) were tuned on MNIST at 10 images per class with --learn-labels.
// --kernel convnet is RFAD (Loo, Hasani, Amini, Rus 2022): the kernel of the penultimate features of --inits random
// ConvNet-3s of width --net-width, drawn anew every step, usually with --loss ce (Platt-scaled cross-entropy with a
// learned temperature) and a smaller --target-batch: sets that train finite networks.
// --kernel frepo is FRePo (Zhou, Nezhadarya, Ba 2022): the kernel of the features of one ConvNet-3 of a pool of
// --pool-size networks per step, each trained on the set as it is learned and re-initialised after --online-steps
// steps; KRR is then reported with the random-feature kernel of --kernel convnet.
//
//   distill_kip --ipc 10 --learn-labels --out mnist_kip_ipc10
//       -> mnist_kip_ipc10.npz (np.load-able distilled set) and mnist_kip_ipc10.png (one row per class)
//   distill_kip --ipc 1 --learn-labels          distill_kip --data fashion --ipc 50
//   distill_kip --kernel convnet --eval-nets 2   (RFAD, 100 steps; then fresh ConvNet-3s trained on the set and on
//                                                random real images, their test accuracy printed side by side)
//   distill_kip --kernel frepo --eval-nets 2    (FRePo, the same report)
//   distill_kip --label-solve                   (Label Solve on the final support, reported as well)
//   distill_kip --checkpoint run.npz --checkpoint-every 500 ...; later the same command with --resume run.npz
//   evaluate_set mnist_kip_ipc10.npz            (fresh networks trained on the set, tested on real data)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/eval/krr_eval.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"
#include "distill/kernels.hpp"
#include "distill/synthetic/augment.hpp"
#include "distill/synthetic/frepo.hpp"
#include "distill/synthetic/kip.hpp"
#include "distill/synthetic/label_solve.hpp"

namespace dd = distill;
namespace cli = distill::cli;

#if defined(DISTILL_KIP_CUDA)
// --device cuda: defined in distill_kip_cuda.cu (nvcc, distill/cuda/fc_ntk.cuh), built where CMake finds nvcc.
namespace distill::kip_cuda {
int device_count();
Tensor<float> gram(const kernels::FcNtk& k, const Tensor<float>& x1, const Tensor<float>& x2);
Tensor<double> gram(const kernels::FcNtk& k, const Tensor<double>& x1, const Tensor<double>& x2);
kernels::GramVjp<float> gram_vjp(const kernels::FcNtk& k, const Tensor<float>& x1, const Tensor<float>& x2,
                                 const Tensor<float>& g, kernels::VjpWrt wrt);
kernels::GramVjp<double> gram_vjp(const kernels::FcNtk& k, const Tensor<double>& x1, const Tensor<double>& x2,
                                  const Tensor<double>& g, kernels::VjpWrt wrt);
}  // namespace distill::kip_cuda

namespace {
/// The FC kernel with its Gram matrices and VJPs on the GPU (cuda::FcNtk behind host functions): Kip, KRR and Label
/// Solve run unchanged on it.
struct CudaFcNtk {
  dd::kernels::FcNtk kernel;
  template <dd::Backend B>
  dd::Tensor<typename B::Scalar> gram(const dd::Tensor<typename B::Scalar>& x1, const dd::Tensor<typename B::Scalar>& x2,
                                      dd::kernels::GramCache<typename B::Scalar>* = nullptr) const {
    return dd::kip_cuda::gram(kernel, x1, x2);
  }
  template <dd::Backend B>
  dd::kernels::GramVjp<typename B::Scalar> gram_vjp(const dd::Tensor<typename B::Scalar>& x1,
                                                    const dd::Tensor<typename B::Scalar>& x2,
                                                    const dd::Tensor<typename B::Scalar>& g,
                                                    dd::kernels::VjpWrt wrt = dd::kernels::VjpWrt::both,
                                                    const dd::kernels::GramCache<typename B::Scalar>* = nullptr) const {
    return dd::kip_cuda::gram_vjp(kernel, x1, x2, g, wrt);
  }
};
}  // namespace
#endif

namespace {

struct Args {
  std::string out, checkpoint, kernel = "fc";
  std::size_t checkpoint_every = 500, eval_batch = 2000, ls_targets = 10000, ipc = 10, shift = 0;
  std::size_t eval_nets = 0, eval_epochs = 100;
  bool label_solve = false, quiet = false, eval_dc_aug = false;
  std::filesystem::path resume;
};

// The whole job for one backend B: `method` (synthetic::Kip or synthetic::Frepo, whose support options are
// `options`) learns the set; `kernel` scores it and the random real support it starts from by KRR.
template <class B, class K, class Method>
int distill_with(const K& kernel, Method& method, const std::string& method_name, const std::string& kernel_name,
                 const dd::synthetic::KipOptions<float>& options, const Args& a, const cli::CommonOptions& common,
                 const dd::io::DataSplits<float>& data) {
  const auto& train = data.train;
  const auto& test = data.test;
  std::printf("%s (%s backend): %zu images per class, %s, %zu steps, target batch %zu, %s loss%s%s\n",
              method_name.c_str(), common.backend.c_str(), options.images_per_class, kernel_name.c_str(), options.steps,
              options.target_batch_size, options.objective == dd::synthetic::KipObjective::Kind::mse ? "MSE" : "cross-entropy",
              options.learn_labels ? ", learning labels" : "",
              a.shift > 0 ? (", targets shifted by up to " + std::to_string(a.shift) + " px").c_str() : "");

  // Before: the initial support (random real images per class; both methods start from it), scored the same way.
  auto before_options = options;
  before_options.steps = 0;
  before_options.resume_from.clear();
  const auto initial = dd::synthetic::Kip<K, B>{kernel, before_options}.fit(train);
  const dd::eval::KrrEvalOptions eval{.reg = options.reg, .batch_size = a.eval_batch};
  std::printf("KRR test accuracy, random real support: %.2f %%\n",
              100 * dd::eval::krr_accuracy<B>(kernel, initial, test, eval).accuracy);

  const cli::Stopwatch clock;
  dd::callbacks::Checkpoint saver{.path = a.checkpoint, .every = a.checkpoint_every};
  dd::io::DistilledSet<float> result;
  if (a.checkpoint.empty()) result = a.quiet ? method.fit(train) : method.fit(train, dd::callbacks::ProgressBar{});
  else result = a.quiet ? method.fit(train, saver) : method.fit(train, dd::callbacks::ProgressBar{}, saver);
  const double seconds = clock.seconds();
  const auto acc = dd::eval::krr_accuracy<B>(kernel, result, test, eval);
  std::printf("KRR test accuracy, %s support:%*s%.2f %%   (%zu steps in %.1f s, %.1f ms/step)\n", method_name.c_str(),
              int(std::max<std::size_t>(1, 9 - method_name.size())), "", 100 * acc.accuracy, options.steps, seconds,
              options.steps ? 1000 * seconds / double(options.steps) : 0.0);

  if (a.eval_nets > 0) {
    // What a user distils for: fresh ConvNet-3s trained on the set (argmax labels, the DC protocol shortened to
    // eval_epochs), beside the same training on the random real images the set started from.
    const dd::Shape shape = cli::image_shape(train.images);
    const std::string dc_strategy = cli::eval_dc_strategy(a.eval_dc_aug, common.data);
    const auto fast = cli::NetEvaluation{.nets = a.eval_nets, .epochs = a.eval_epochs, .seed = common.seed,
                                         .dc_strategy = dc_strategy}.protocol<float>();
    cli::with_model("convnet", cli::ModelOptions{}, shape, train.num_classes, [&](const auto& net) {
      const cli::Stopwatch eval_clock;
      const auto real = dd::eval::evaluate_set<B>(net, initial, test, {.protocol = fast}).hard;
      const auto distilled = dd::eval::evaluate_set<B>(net, result, test, {.protocol = fast}).hard;
      std::printf("ConvNet-3 test accuracy (%zu fresh nets each, %zu epochs, argmax labels%s): random real support %s, "
                  "distilled %s   (%.1f s)\n", a.eval_nets, a.eval_epochs, dc_strategy == "none" ? "" : ", DC augmentation",
                  cli::format_accuracy(real).c_str(), cli::format_accuracy(distilled).c_str(), eval_clock.seconds());
      return 0;
    });
  }

  if (a.label_solve) {
    // Label Solve on the final support images against ls_targets evenly spaced training images.
    const std::size_t count = std::clamp<std::size_t>(a.ls_targets, 1, train.size());
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < train.size() && idx.size() < count; i += train.size() / count) idx.push_back(i);
    const dd::io::ChannelStandardization<float> norm{result.mean, result.stddev};
    const auto targets = norm.applied_to(train.subset(idx));
    const auto yt = dd::kernels::centred_one_hot<float>(targets.labels, train.num_classes);
    auto ls = result;
    ls.labels = dd::synthetic::label_solve<B>(kernel, result.images, targets.images, yt, {.reg = options.reg});
    std::printf("KRR test accuracy, %s images + Label Solve labels: %.2f %%\n", method_name.c_str(),
                100 * dd::eval::krr_accuracy<B>(kernel, ls, test, eval).accuracy);
    auto init_ls = initial;
    init_ls.labels = dd::synthetic::label_solve<B>(kernel, initial.images, targets.images, yt, {.reg = options.reg});
    std::printf("KRR test accuracy, random real images + Label Solve labels: %.2f %%\n",
                100 * dd::eval::krr_accuracy<B>(kernel, init_ls, test, eval).accuracy);
    ls.method = result.method + "+label_solve";
    init_ls.method = "label_solve";
    dd::io::save_distilled(a.out + "_ls.npz", ls);
    dd::io::save_distilled(a.out + "_real_ls.npz", init_ls);
  }

  result.options_json =
      cli::options_json(common).add("kernel", kernel_name).add(result.method, method.options().to_json()).str();
  // One grid row per class the images started in (learned labels may move an image's argmax elsewhere).
  cli::save_set_and_grid(a.out, result, cli::class_major_rows(result.size(), options.images_per_class));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distill a data set with KIP (Kernel Inducing Points) on the infinite-width FC NTK or, as RFAD, on the "
               "features of random ConvNets"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  std::string init = "real", schedule = "cosine", loss = "mse";
  std::size_t steps = 2500, depth = 3, target_batch = 5000, inits = 2, net_width = 64, pool_size = 10, online_steps = 100;
  bool learn_labels = false, nngp = false;
  double lr = 0.08, reg = 1e-6, label_lr = 0.0, bias_var = 0.0, temperature = 0.1, net_lr = 0.01;
  app.add_option("--ipc", a.ipc, "images per class")->check(CLI::PositiveNumber);
  app.add_option("--steps", steps, "KIP steps (Adam)");
  app.add_option("--kernel", a.kernel,
                 "fc: the infinite-width FC NTK / NNGP; convnet: the features of --inits random ConvNet-3s (RFAD), "
                 "whose own defaults are --loss ce --lr 0.01 --schedule constant --target-batch 500 --steps 100; "
                 "frepo: the features of a pool of ConvNet-3s trained on the set (FRePo), whose own defaults are "
                 "--loss ce --lr 0.01 --schedule constant --target-batch 500 --steps 300 (FRePo's paper also learns the labels: --learn-labels)")
      ->check(CLI::IsMember({"fc", "convnet", "frepo"}));
  app.add_option("--depth", depth, "fc: hidden ReLU layers of the FC kernel");
  app.add_flag("--nngp", nngp, "fc: use the NNGP kernel instead of the NTK");
  app.add_option("--bias-var", bias_var, "fc: σ_b² of the FC kernel");
  app.add_option("--inits", inits, "convnet: random networks averaged in the kernel (drawn anew every step)")
      ->check(CLI::PositiveNumber);
  app.add_option("--net-width", net_width, "convnet, frepo: channels of the ConvNet-3 whose features define the kernel")
      ->check(CLI::PositiveNumber);
  app.add_option("--pool-size", pool_size, "frepo: networks in the pool")->check(CLI::PositiveNumber);
  app.add_option("--online-steps", online_steps, "frepo: SGD steps a pool network takes before it is re-initialised")
      ->check(CLI::PositiveNumber);
  app.add_option("--net-lr", net_lr, "frepo: the pool networks' SGD learning rate (momentum 0.9)");
  app.add_option("--loss", loss, "mse (KIP) or ce (Platt-scaled cross-entropy with a learned temperature, RFAD)")
      ->check(CLI::IsMember({"mse", "ce"}));
  app.add_option("--temperature", temperature, "ce: the initial temperature τ (learned)");
  app.add_flag("--learn-labels", learn_labels, "also learn the support labels");
  app.add_option("--target-batch", target_batch, "class-balanced target batch per step");
  app.add_option("--lr", lr, "Adam learning rate");
  app.add_option("--augment-shift", a.shift, "shift each target image by up to this many pixels (0: no augmentation)");
  app.add_option("--label-lr", label_lr, "Adam learning rate of the labels (0 = --lr)");
  app.add_option("--schedule", schedule, "learning-rate schedule: constant or cosine (decays to 0 over the steps)")
      ->check(CLI::IsMember({"constant", "cosine"}));
  app.add_option("--reg", reg, "ridge: λ = reg · tr(K_ss)/n");
  app.add_option("--init", init, "real or noise")->check(CLI::IsMember({"real", "noise"}));
  app.add_flag("--label-solve", a.label_solve,
               "also report Label Solve (closed-form labels) on the final support and on the random real support; "
               "writes <prefix>_ls.npz and <prefix>_real_ls.npz");
  app.add_option("--ls-targets", a.ls_targets, "training images Label Solve fits (evenly spaced)");
  app.add_option("--eval-batch", a.eval_batch, "test images per KRR evaluation batch");
  app.add_option("--eval-nets", a.eval_nets,
                 "also train this many fresh ConvNet-3s on the random real support and on the distilled set and print "
                 "their test accuracy (0: only KRR)");
  app.add_option("--eval-epochs", a.eval_epochs, "--eval-nets: epochs per net (the DC protocol's other settings)");
  cli::add_eval_dc_aug_flag(app, a.eval_dc_aug);
  app.add_option("--out", a.out, "output prefix: writes <prefix>.npz and <prefix>.png (default <data>_kip_ipc<N>)");
  app.add_option("--checkpoint", a.checkpoint, "save a checkpoint here every --checkpoint-every steps and at the end");
  app.add_option("--checkpoint-every", a.checkpoint_every, "steps between checkpoints");
  app.add_option("--resume", a.resume, "continue from a checkpoint written by --checkpoint (same options)");
  app.add_flag("--quiet", a.quiet, "no progress bar");
  std::string device = "cpu";
  app.add_option("--device", device,
                 "cpu, or cuda: --kernel fc's Gram matrices and their gradients on the GPU (needs a build where CMake "
                 "found nvcc, and a CUDA device)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  CLI11_PARSE(app, argc, argv);
  if (a.kernel == "convnet") {  // RFAD's settings where the command line does not say otherwise
    if (!app.count("--loss")) loss = "ce";
    if (!app.count("--lr")) lr = 0.01;
    if (!app.count("--schedule")) schedule = "constant";
    if (!app.count("--target-batch")) target_batch = 500;
    if (!app.count("--steps")) steps = 100;
  }
  if (a.kernel == "frepo") {  // FrepoOptions' defaults where the command line does not say otherwise
    if (!app.count("--loss")) loss = "ce";
    if (!app.count("--lr")) lr = 0.01;
    if (!app.count("--schedule")) schedule = "constant";
    if (!app.count("--target-batch")) target_batch = 500;
    if (!app.count("--steps")) steps = 300;
  }
  if (a.out.empty())
    a.out = (common.data == "mnist" || common.data == "fashion" ? common.data : "data") + "_kip_ipc" + std::to_string(a.ipc);

  return cli::run_on_backend("distill_kip", common.backend, [&]<class B>() -> int {
    // Everything this run will write is checked before the data are loaded.
    cli::check_output_prefix(a.out, a.label_solve
                                        ? std::initializer_list<std::string_view>{".npz", ".png", "_ls.npz", "_real_ls.npz"}
                                        : std::initializer_list<std::string_view>{".npz", ".png"});
    cli::check_checkpoint_paths(a.checkpoint, a.resume);
    const auto data = cli::load_data(common.data);
    dd::synthetic::KipOptions<float> options{
        .images_per_class = a.ipc, .steps = steps, .target_batch_size = target_batch, .learn_labels = learn_labels,
        .init = init == "real" ? dd::synthetic::KipInit::real : dd::synthetic::KipInit::noise, .reg = reg, .lr = lr,
        .label_lr = label_lr,
        .schedule = schedule == "cosine" ? dd::synthetic::KipSchedule::cosine : dd::synthetic::KipSchedule::constant,
        .objective = loss == "ce" ? dd::synthetic::KipObjective::Kind::cross_entropy : dd::synthetic::KipObjective::Kind::mse,
        .temperature = temperature, .seed = common.seed, .resume_from = a.resume};
    if (a.shift > 0) options.augment = dd::synthetic::RandomShift{.max_shift = a.shift};
    DISTILL_CHECK(device == "cpu" || a.kernel == "fc", "--device cuda runs --kernel fc only, not --kernel ", a.kernel);
    if (a.kernel == "fc") {
      const dd::kernels::FcNtk fc{.depth = depth, .bias_var = bias_var,
                                  .kind = nngp ? dd::kernels::KernelKind::nngp : dd::kernels::KernelKind::ntk};
      if (device == "cuda") {
#if defined(DISTILL_KIP_CUDA)
        DISTILL_CHECK(dd::kip_cuda::device_count() > 0,
                      "--device cuda: no CUDA device is available here (cudaGetDeviceCount reports none)");
        const CudaFcNtk gpu{fc};
        dd::synthetic::Kip<CudaFcNtk, B> kip{gpu, options};
        return distill_with<B>(gpu, kip, "KIP",
                               std::string("FC ") + (nngp ? "NNGP" : "NTK") + " depth " + std::to_string(depth) +
                                   " on the GPU",
                               options, a, common, data);
#else
        DISTILL_THROW(dd::invalid_argument, "--device cuda: this distill_kip was built without CUDA; configure with "
                                            "the CUDA toolkit's nvcc installed (CMake then builds distill::cuda and "
                                            "distill_kip's GPU path), and run it where a CUDA device is present");
#endif
      }
      dd::synthetic::Kip<dd::kernels::FcNtk, B> kip{fc, options};
      return distill_with<B>(fc, kip, "KIP", std::string("FC ") + (nngp ? "NNGP" : "NTK") + " depth " + std::to_string(depth),
                             options, a, common, data);
    }
    const dd::Shape shape = cli::image_shape(data.train.images);
    DISTILL_CHECK(shape[1] == shape[2], "--kernel ", a.kernel, ": needs square images, the data's are ",
                  cli::shape_text(shape));
    const dd::nn::ConvNet convnet{.channels = shape[0], .classes = data.train.num_classes, .width = net_width,
                                  .image_size = shape[1]};
    const dd::kernels::EmpiricalFeatureKernel<dd::nn::ConvNet> features{.model = convnet, .inits = inits,
                                                                        .seed = common.seed};
    const std::string random_features =
        "ConvNet-3 features (width " + std::to_string(net_width) + ", " + std::to_string(inits) + " random nets per step)";
    if (a.kernel == "convnet") {
      dd::synthetic::Kip<decltype(features), B> kip{features, options};
      return distill_with<B>(features, kip, "RFAD", random_features, options, a, common, data);
    }
    dd::synthetic::Frepo<dd::nn::ConvNet, B> frepo{
        convnet, {.kip = options, .pool_size = pool_size, .online_steps = online_steps, .net_lr = net_lr}};
    return distill_with<B>(features, frepo, "FRePo",
                           "ConvNet-3 features (width " + std::to_string(net_width) + ", a pool of " +
                               std::to_string(pool_size) + " trained online for " + std::to_string(online_steps) +
                               " steps each)",
                           options, a, common, data);
  });
}
