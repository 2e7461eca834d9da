// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EXAMPLES_CLI_HPP
#define DISTILL_EXAMPLES_CLI_HPP

/**
 * @file
 * What every command line in examples/ shares, so that none of them spells it out again (examples only; not part
 * of the installed library):
 *
 *   CLI::App app{"..."};
 *   cli::CommonOptions common;                        // --data, --backend, --seed
 *   cli::setup_app(app, common);                      // first: every later option's --help shows its default
 *   cli::ModelOptions model;  std::string name = "convnet";
 *   cli::add_model_option(app, name);  cli::add_model_options(app, model);
 *   app.add_option("--out", out, "...");
 *   CLI11_PARSE(app, argc, argv);
 *   return cli::run_on_backend("prog", common.backend, [&]<class B>() -> int {
 *     cli::check_output_prefix(out, {".npz", ".png"});       // fail before the work, never after it
 *     const auto data = cli::load_data(common.data);         // prints one line about the data
 *     return cli::with_model(name, model, cli::image_shape(data.train.images), data.train.num_classes,
 *                            [&](const auto& net) { ...; return 0; });
 *   });
 *
 * Contents: app setup (setup_app, add_*_option), backend dispatch (run_on_backend, run_guarded), data
 * (load_data, load_data_split, describe; io::ChannelStandardization maps a split into a set's space), output
 * checks (check_output_prefix, check_output_file, check_checkpoint_paths, write_text_file), models from the
 * data's shape (with_model, describe_model, model_json), the options JSON (options_json) and progress
 * (format_accuracy, print_result, result_json, Table, Stopwatch); running a method (fit_and_report with its progress bar,
 * checkpoints and timing line; save_set_and_grid; NetEvaluation, the matching methods' fresh-network evaluation;
 * ConvNetSetArgs, the options and steps the ConvNet-3 synthesizers' command lines share).
 */

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "distill/callbacks.hpp"
#include "distill/core.hpp"
#include "distill/eval/dc_augment.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io/datasets.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/detail/atomic_file.hpp"
#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/png.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/dsa.hpp"

namespace distill::cli {

// ---- app setup ---------------------------------------------------------------------------------------------------

//! The --backend default: "xtensor" where this build has that backend (OpenBLAS GEMM), else "eigen".
#if DISTILL_HAS_XTENSOR
inline constexpr const char* default_backend = "xtensor";
#else
inline constexpr const char* default_backend = "eigen";
#endif

//! The help of --data: the forms a data spec takes (io::load_data).
inline constexpr const char* data_help =
    "data set: mnist | fashion | an IDX folder ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]) | a CIFAR-10 "
    "binary folder (data_batch_*.bin, test_batch.bin) | train.npz (images, labels[, test_images, test_labels]) | "
    "train.npz,test.npz";

//! The options every command line takes. setup_app() binds them; `parts` says which it added.
struct CommonOptions {
  std::string data = "mnist";             //!< --data: a data spec for io::load_data
  std::string backend = default_backend;  //!< --backend: eigen or xtensor
  std::uint64_t seed = 0;                 //!< --seed
  //! Which of the three setup_app() added (options_json() records only those).
  struct Parts {
    bool data = true, backend = true, seed = true;
  } parts{};
};

//! --data SPEC (io::load_data's forms; default: the variable's value).
inline CLI::Option* add_data_option(CLI::App& app, std::string& spec) {
  return app.add_option("--data", spec, data_help)->capture_default_str();
}

//! --backend eigen|xtensor (default: the variable's value; CommonOptions starts at default_backend).
inline CLI::Option* add_backend_option(CLI::App& app, std::string& backend) {
  return app.add_option("--backend", backend, "tensor backend: eigen, or xtensor (its GEMM is xtensor-blas / OpenBLAS)")
      ->check(CLI::IsMember({"eigen", "xtensor"}))
      ->capture_default_str();
}

//! --seed N.
inline CLI::Option* add_seed_option(CLI::App& app, std::uint64_t& seed, const std::string& help = "random seed") {
  return app.add_option("--seed", seed, help)->capture_default_str();
}

/**
 * Configures `app` so that every option added from now on shows its default in --help, and adds the common
 * options (--data, --backend, --seed) bound to `common`. Call it right after making the app, before any other
 * add_option (CLI11 applies option_defaults() to options added later only).
 * @param parts  which common options to add (e.g. `{.seed = false}` for a command line without randomness)
 */
inline void setup_app(CLI::App& app, CommonOptions& common, CommonOptions::Parts parts = {}) {
  app.option_defaults()->always_capture_default();
  common.parts = parts;
  if (parts.data) add_data_option(app, common.data);
  if (parts.backend) add_backend_option(app, common.backend);
  if (parts.seed) add_seed_option(app, common.seed);
}

/**
 * The protocol's options as flags (eval::ProtocolOptions; defaults = the DC protocol): --runs, --epochs,
 * --batch, --lr, --momentum, --weight-decay, --nesterov, --schedule, --step-at, --step-gamma, --eval-batch.
 * The seed is --seed (copy CommonOptions::seed into `opt.seed` after parsing).
 */
template <std::floating_point T>
void add_protocol_options(CLI::App& app, eval::ProtocolOptions<T>& opt) {
  app.add_option("--runs", opt.runs, "fresh networks per set and model (run i uses seed + i)")->check(CLI::PositiveNumber);
  app.add_option("--epochs", opt.epochs, "training epochs per run");
  app.add_option("--batch", opt.batch_size, "minibatch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", opt.lr, "SGD learning rate")->check(CLI::PositiveNumber);
  app.add_option("--momentum", opt.momentum, "SGD momentum, in [0, 1)")
      ->check(CLI::Validator(
          [](std::string& s) {
            const double v = std::strtod(s.c_str(), nullptr);
            return v >= 0 && v < 1 ? std::string() : "momentum " + s + " is outside [0, 1)";
          },
          "in [0, 1)"));
  app.add_option("--weight-decay", opt.weight_decay, "SGD weight decay")->check(CLI::NonNegativeNumber);
  app.add_flag("--nesterov", opt.nesterov, "Nesterov momentum");
  app.add_option_function<std::string>(
         "--schedule",
         [&opt](const std::string& s) {
           opt.schedule = s == "cosine" ? eval::Schedule::cosine : s == "constant" ? eval::Schedule::constant : eval::Schedule::step;
         },
         "learning-rate schedule: step (x --step-gamma at --step-at of the epochs), cosine or constant")
      ->check(CLI::IsMember({"step", "cosine", "constant"}))
      ->default_str(opt.schedule == eval::Schedule::cosine ? "cosine" : opt.schedule == eval::Schedule::constant ? "constant" : "step");
  app.add_option("--step-at", opt.step_at, "step schedule: the milestone, as a fraction of the epochs")->check(CLI::Range(0.0, 1.0));
  app.add_option("--step-gamma", opt.step_gamma, "step schedule: the factor applied at the milestone");
  app.add_option("--eval-batch", opt.eval_batch_size, "test-set batch size")->check(CLI::PositiveNumber);
}

//! The protocol in words: "5 runs x 300 epochs, SGD lr 0.01 momentum 0.9 weight decay 0.0005, batch 256, lr x0.1 at 50 %".
template <std::floating_point T>
std::string describe_protocol(const eval::ProtocolOptions<T>& o) {
  char buf[320];
  const char* sched = o.schedule == eval::Schedule::cosine ? "cosine lr" : o.schedule == eval::Schedule::constant ? "constant lr" : "";
  std::string schedule = sched;
  if (o.schedule == eval::Schedule::step) {
    char s[80];
    std::snprintf(s, sizeof s, "lr x%g at %g %% of the epochs", o.step_gamma, 100 * o.step_at);
    schedule = s;
  }
  std::snprintf(buf, sizeof buf, "%zu run%s x %zu epochs, SGD lr %g momentum %g%s weight decay %g, batch %zu, %s, seed %llu",
                o.runs, o.runs == 1 ? "" : "s", o.epochs, o.lr, o.momentum, o.nesterov ? " (Nesterov)" : "", o.weight_decay,
                o.batch_size, schedule.c_str(), static_cast<unsigned long long>(o.seed));
  return buf;
}

//! The protocol's options as JSON (every field but `augment`).
template <std::floating_point T>
io::JsonObject protocol_json(const eval::ProtocolOptions<T>& o) {
  io::JsonObject j;
  j.add("runs", o.runs).add("epochs", o.epochs).add("batch_size", o.batch_size).add("lr", o.lr).add("momentum", o.momentum);
  j.add("weight_decay", o.weight_decay).add("nesterov", o.nesterov);
  j.add("schedule", o.schedule == eval::Schedule::cosine ? "cosine" : o.schedule == eval::Schedule::constant ? "constant" : "step");
  j.add("step_at", o.step_at).add("step_gamma", o.step_gamma).add("seed", o.seed);
  return j;
}

// ---- backend dispatch --------------------------------------------------------------------------------------------

/**
 * Runs `f()` and turns an exception into `<program>: <what>` on stderr and exit status 1.
 * @return f()'s return value, or 1 when it threw
 */
template <class F>
int run_guarded(std::string_view program, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%.*s: %s\n", int(program.size()), program.data(), e.what());
    return 1;
  }
}

/**
 * Runs the generic lambda `job` (`[&]<class B>() -> int { ... }`) with B = EigenBackend<float> ("eigen") or
 * XtensorBackend<float> ("xtensor"), inside run_guarded().
 * @return job's return value; 1 after printing `<program>: <what>` when it threw, when the backend is unknown, or
 *         when this build has no xtensor backend and "xtensor" was asked for
 */
template <class Job>
int run_on_backend(std::string_view program, std::string_view backend, Job&& job) {
  return run_guarded(program, [&]() -> int {
    if (backend == "xtensor") {
#if DISTILL_HAS_XTENSOR
      return job.template operator()<XtensorBackend<float>>();
#else
      DISTILL_THROW(invalid_argument, "--backend xtensor: this build has no xtensor backend (xtensor, xtensor-blas and BLAS "
                                      "were not found); use --backend eigen");
#endif
    }
    if (backend == "eigen") return job.template operator()<EigenBackend<float>>();
    DISTILL_THROW(invalid_argument, "--backend ", backend, ": unknown backend, expected eigen or xtensor");
  });
}

// ---- data --------------------------------------------------------------------------------------------------------

//! The [C, H, W] of a batch of images [N, C, H, W]. @throw invalid_argument for another rank.
template <std::floating_point T>
Shape image_shape(const Tensor<T>& images) {
  DISTILL_CHECK(images.rank() == 4, "cli::image_shape(): images have shape ", show(images.shape()), ", expected [N, C, H, W]");
  return {images.shape(1), images.shape(2), images.shape(3)};
}

//! "1x28x28".
inline std::string shape_text(const Shape& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(s[i]);
  }
  return out;
}

//! "60000 images of 1x28x28, 10 classes".
template <std::floating_point T>
std::string describe(const LabeledData<T>& d) {
  const Shape s = d.images.rank() == 4 ? image_shape(d.images) : Shape{};
  return std::to_string(d.size()) + " images" + (s.empty() ? "" : " of " + shape_text(s)) + ", " +
         std::to_string(d.num_classes) + " classes";
}

/**
 * io::load_data(spec), then one line on stdout: `data: mnist, 60000 train / 10000 test images of 1x28x28, 10 classes`.
 * @throw as io::load_data (io_error naming the spec and the accepted forms)
 */
template <std::floating_point T = float>
io::DataSplits<T> load_data(std::string_view spec) {
  auto d = io::load_data<T>(spec);
  std::printf("data: %s, %zu train / %zu test images of %s, %zu classes\n", d.name.c_str(), d.train.size(), d.test.size(),
              shape_text(image_shape(d.train.images)).c_str(), d.train.num_classes);
  std::fflush(stdout);
  return d;
}

/**
 * io::load_data_split(spec, split), then one line: `data: mnist test split, 10000 images of 1x28x28, 10 classes`.
 * @throw invalid_argument when the split is empty (an NPZ spec without a test split); as io::load_data_split
 */
template <std::floating_point T = float>
LabeledData<T> load_data_split(std::string_view spec, std::string_view split) {
  auto d = io::load_data_split<T>(spec, split);
  DISTILL_CHECK(!d.empty(), "--data ", spec, ": the data have no ", split, " split (for an NPZ file, add test_images and ",
                "test_labels, or pass 'train.npz,test.npz')");
  std::printf("data: %.*s %.*s split, %s\n", int(spec.size()), spec.data(), int(split.size()), split.data(), describe(d).c_str());
  std::fflush(stdout);
  return d;
}

// ---- fail before the work ----------------------------------------------------------------------------------------

namespace detail {
//! "'path'".
inline std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

//! The folder a file goes to ("." for a bare name).
inline std::filesystem::path folder_of(const std::filesystem::path& file) {
  return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

/**
 * Throws unless `file` can be written: its folder exists, is a folder and takes a new file (a probe file is created
 * and removed), and `file` is not itself a folder. An existing file is fine (it will be replaced).
 * `shown` is what the user typed (the option's value), for the message "<option> <shown>: ...".
 */
inline void check_writable(std::string_view option, std::string_view shown, const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  const std::string head = std::string(option) + " " + std::string(shown) + ": ";
  DISTILL_CHECK(!file.empty() && file.has_filename(), head, "expected a file name");
  const fs::path dir = folder_of(file);
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  DISTILL_CHECK(fs::exists(st), head, "folder ", q(dir), " does not exist");
  DISTILL_CHECK(fs::is_directory(st), head, q(dir), " is not a folder");
  DISTILL_CHECK(!fs::is_directory(file, ec), head, q(file), " is a folder, expected a file name");
  static std::atomic<unsigned long> counter{0};
  const fs::path probe = dir / (".distill_probe." + std::to_string(io::detail::current_pid()) + "." +
                                std::to_string(counter.fetch_add(1)));
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) DISTILL_THROW(invalid_argument, head, "cannot create a file in folder ", q(dir), " (", std::strerror(errno), ")");
  std::fclose(f);
  fs::remove(probe, ec);
}
}  // namespace detail

/**
 * Throws unless `file` can be written (see check_output_prefix). Call it before loading data or training.
 * @param option  the flag, for the message ("--json")
 * @throw invalid_argument like `--json /missing/dir/t.json: folder '/missing/dir' does not exist`
 */
inline void check_output_file(std::string_view option, const std::filesystem::path& file) {
  detail::check_writable(option, file.string(), file);
}

/**
 * Throws unless every `<prefix><ext>` can be written: the folder exists, is writable (a probe file is created there
 * and removed) and the name is not a folder; an existing output file is fine (it is replaced). Call it before
 * loading data or training, so that a run never fails at its very end on a bad --out.
 * @param option  the flag, for the message (default "--out")
 * @throw invalid_argument like `--out /missing/dir/x: folder '/missing/dir' does not exist`
 */
inline void check_output_prefix(const std::string& prefix, std::initializer_list<std::string_view> extensions,
                                std::string_view option = "--out") {
  for (const auto ext : extensions) detail::check_writable(option, prefix, std::filesystem::path(prefix + std::string(ext)));
}

/**
 * Checks a resumable run's paths before it starts: the checkpoint's folder takes a file (check_output_file), and
 * the resume file exists, is a regular file and can be opened for reading. An empty path is not checked.
 * @throw invalid_argument like `--resume run.ckpt: file does not exist`
 */
inline void check_checkpoint_paths(const std::filesystem::path& checkpoint, const std::filesystem::path& resume,
                                   std::string_view checkpoint_option = "--checkpoint", std::string_view resume_option = "--resume") {
  namespace fs = std::filesystem;
  if (!checkpoint.empty()) check_output_file(checkpoint_option, checkpoint);
  if (resume.empty()) return;
  const std::string head = std::string(resume_option) + " " + resume.string() + ": ";
  std::error_code ec;
  const auto st = fs::status(resume, ec);
  DISTILL_CHECK(fs::exists(st), head, "file does not exist");
  DISTILL_CHECK(fs::is_regular_file(st), head, "not a regular file");
  std::ifstream in(resume, std::ios::binary);
  DISTILL_CHECK(in.good(), head, "cannot be opened for reading (", std::strerror(errno), ")");
}

/**
 * Writes `text` to `path` atomically (a temporary file in the same folder, renamed into place; io's AtomicFile).
 * @throw io_error when it cannot be written
 */
inline void write_text_file(const std::filesystem::path& path, std::string_view text) {
  io::detail::atomic_write(path, "cli::write_text_file()", [&](io::detail::AtomicFile& f) { f.write(text.data(), text.size()); });
}

// ---- models from the data's shape --------------------------------------------------------------------------------

//! The architecture knobs of --model (each command line may start them at its own defaults).
struct ModelOptions {
  std::size_t width = 128;       //!< ConvNet: channels of every block (--width)
  std::size_t depth = 3;         //!< ConvNet: blocks (--depth; ConvNet-3)
  std::size_t mlp_width = 1024;  //!< MLP: hidden width (--mlp-width)
  std::size_t mlp_depth = 3;     //!< MLP: hidden ReLU layers (--mlp-depth)
};

//! The names --model takes.
inline const std::vector<std::string> model_names{"convnet", "lenet", "mlp"};

//! --model convnet|lenet|mlp (one).
inline CLI::Option* add_model_option(CLI::App& app, std::string& name) {
  return app.add_option("--model", name, "network: convnet (ConvNet-3 of DC/DSA/DM), lenet (LeNet-5) or mlp")
      ->check(CLI::IsMember(model_names))
      ->capture_default_str();
}

//! --model a,b,... (several: a cross-architecture table).
inline CLI::Option* add_models_option(CLI::App& app, std::vector<std::string>& names) {
  return app.add_option("--model", names, "networks, comma-separated: convnet (ConvNet-3 of DC/DSA/DM), lenet (LeNet-5), mlp")
      ->delimiter(',')
      ->check(CLI::IsMember(model_names))
      ->capture_default_str();
}

//! --width, --depth (ConvNet), --mlp-width, --mlp-depth (MLP).
inline void add_model_options(CLI::App& app, ModelOptions& o) {
  app.add_option("--width", o.width, "convnet: channels per block")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--depth", o.depth, "convnet: conv-norm-relu-pool blocks")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--mlp-width", o.mlp_width, "mlp: hidden width")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--mlp-depth", o.mlp_depth, "mlp: hidden ReLU layers")->capture_default_str();
}

/**
 * Builds the network `name` for images of `image_shape` [C, H, W] and `classes` classes, and calls
 * `f(const Model&)` with it (the models are different types, hence the visitor):
 *   mlp:     nn::Mlp, widths {C·H·W, mlp_width × mlp_depth, classes}
 *   lenet:   nn::LeNet{channels C, classes, image_size H} (square images)
 *   convnet: nn::ConvNet{channels C, classes, width, depth, image_size H} (square images)
 * @return f's return value
 * @throw invalid_argument for an unknown name, a shape that is not [C, H, W], or non-square images for lenet / convnet
 */
template <class F>
auto with_model(std::string_view name, const ModelOptions& o, const Shape& image_shape, std::size_t classes, F&& f)
    -> std::invoke_result_t<F&, const nn::ConvNet&> {
  DISTILL_CHECK(image_shape.size() == 3, "--model ", name, ": image shape ", show(image_shape), ", expected [C, H, W]");
  DISTILL_CHECK(classes > 0, "--model ", name, ": 0 classes");
  const std::size_t c = image_shape[0], h = image_shape[1], w = image_shape[2];
  if (name == "mlp") {
    std::vector<std::size_t> widths{c * h * w};
    for (std::size_t i = 0; i < o.mlp_depth; ++i) widths.push_back(o.mlp_width);
    widths.push_back(classes);
    return f(nn::Mlp{.widths = widths});
  }
  DISTILL_CHECK(name == "lenet" || name == "convnet", "--model ", name, ": unknown network, expected convnet, lenet or mlp");
  DISTILL_CHECK(h == w, "--model ", name, ": needs square images, the data's are ", shape_text(image_shape), " (C x H x W)");
  if (name == "lenet") return f(nn::LeNet{.channels = c, .classes = classes, .image_size = h});
  return f(nn::ConvNet{.channels = c, .classes = classes, .width = o.width, .depth = o.depth, .image_size = h});
}

//! "ConvNet-3 (width 128)", "LeNet-5", "MLP 784-1024-1024-1024-10" (the MLP needs the shape and classes).
inline std::string describe_model(std::string_view name, const ModelOptions& o, const Shape& image_shape = {}, std::size_t classes = 0) {
  if (name == "convnet") return "ConvNet-" + std::to_string(o.depth) + " (width " + std::to_string(o.width) + ")";
  if (name == "lenet") return "LeNet-5";
  std::string s = "MLP ";
  std::size_t in = 1;
  for (auto d : image_shape) in *= d;
  s += image_shape.empty() ? "in" : std::to_string(in);
  for (std::size_t i = 0; i < o.mlp_depth; ++i) {
    s += '-';
    s += std::to_string(o.mlp_width);
  }
  s += '-';
  s += classes ? std::to_string(classes) : std::string("classes");
  return s;
}

//! {"model": "convnet", "width": 128, "depth": 3} (only the knobs of that model).
inline io::JsonObject model_json(std::string_view name, const ModelOptions& o) {
  io::JsonObject j;
  j.add("model", name);
  if (name == "convnet") j.add("width", o.width).add("depth", o.depth);
  if (name == "mlp") j.add("mlp_width", o.mlp_width).add("mlp_depth", o.mlp_depth);
  return j;
}

// ---- options JSON ------------------------------------------------------------------------------------------------

/**
 * The command line's common options as the start of a set's options_json: {"data": "mnist", "seed": 0} (those
 * setup_app() added). The CLI adds its method's options and stores `.str()`:
 *   set.options_json = cli::options_json(common).add("images_per_class", ipc).add("steps", steps).str();
 */
inline io::JsonObject options_json(const CommonOptions& c) {
  io::JsonObject j;
  if (c.parts.data) j.add("data", c.data);
  if (c.parts.seed) j.add("seed", c.seed);
  return j;
}

// ---- progress ----------------------------------------------------------------------------------------------------

//! Wall-clock seconds since construction (or the last restart()).
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

//! "97.12 ± 0.23 %".
inline std::string format_accuracy(const eval::ProtocolResult& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f ± %.2f %%", 100 * r.mean, 100 * r.stddev);
  return buf;
}

//! "97.10 97.31 96.95" (each run's test accuracy, in %).
inline std::string format_runs(const eval::ProtocolResult& r) {
  std::string s;
  char buf[32];
  for (double a : r.accuracies) {
    std::snprintf(buf, sizeof buf, "%s%.2f", s.empty() ? "" : " ", 100 * a);
    s += buf;
  }
  return s;
}

//! Prints `<label>: 97.12 ± 0.23 % (runs: 97.10 97.31 96.95)` and flushes.
inline void print_result(std::string_view label, const eval::ProtocolResult& r) {
  std::printf("%.*s: %s (runs: %s)\n", int(label.size()), label.data(), format_accuracy(r).c_str(), format_runs(r).c_str());
  std::fflush(stdout);
}

//! {"mean": 0.97, "std": 0.002, "accuracies": [...], "test_losses": [...]}.
inline io::JsonObject result_json(const eval::ProtocolResult& r) {
  return io::JsonObject{}.add("mean", r.mean).add("std", r.stddev).add("accuracies", r.accuracies).add("test_losses", r.test_losses);
}

/**
 * A plain-text table printed a row at a time (so rows appear as they finish), with columns padded by display
 * width (UTF-8 aware, so "±" counts as one).
 *
 *   cli::Table t{{{"set", 24}, {"model", 8}, {"accuracy", 18, cli::Table::right}}};
 *   t.print_header();  t.print_row({"a.npz", "convnet", "97.12 ± 0.23 %"});
 */
class Table {
 public:
  enum Align { left, right };
  struct Column {
    std::string title;
    std::size_t width = 10;
    Align align = left;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  //! The titles, then a rule.
  void print_header() const {
    std::vector<std::string> titles;
    for (const auto& c : columns_) titles.push_back(c.title);
    print_row(titles);
    std::size_t total = 0;
    for (const auto& c : columns_) total += std::max(c.width, display_width(c.title)) + 2;
    std::printf("%s\n", std::string(total > 2 ? total - 2 : 0, '-').c_str());
    std::fflush(stdout);
  }

  //! One row; a cell wider than its column pushes the rest right.
  void print_row(const std::vector<std::string>& cells) const {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const Column c = i < columns_.size() ? columns_[i] : Column{};
      const std::size_t w = std::max(c.width, display_width(c.title)), n = display_width(cells[i]);
      const std::string pad(n < w ? w - n : 0, ' ');
      line += c.align == right ? pad + cells[i] : cells[i] + (i + 1 < cells.size() ? pad : "");
      if (i + 1 < cells.size()) line += "  ";
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

  //! Characters as a terminal shows them: UTF-8 code points.
  static std::size_t display_width(std::string_view s) {
    return std::size_t(std::count_if(s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
  }

 private:
  std::vector<Column> columns_;
};

// ---- running a method ----------------------------------------------------------------------------------------------

//! The first and last step of a fit (on_begin sees the step a checkpoint resumes from).
struct StepCounter {
  std::size_t first = 0, last = 0;
  void on_begin(callbacks::TrainingState& s) { first = last = s.step; }
  void on_end(callbacks::TrainingState& s) { last = s.step; }
};

//! How a command line runs a method: a progress bar unless quiet, a checkpoint every `every` steps when path is set.
struct FitRun {
  std::string checkpoint;
  std::size_t checkpoint_every = 500;
  bool quiet = false;
};

/**
 * method.fit(train, extra..., callbacks) with the progress bar and checkpoints `run` asks for, then one line
 * "<unit>s a to b in s (s/<unit>)" that counts only the steps this run did (a resumed run starts at its checkpoint).
 */
template <class Method, class Data, class... Extra>
auto fit_and_report(Method& method, const Data& train, const FitRun& run, const char* unit = "iteration",
                    Extra&... extra) {
  const Stopwatch clock;
  callbacks::Checkpoint saver{.path = run.checkpoint, .every = run.checkpoint_every};
  StepCounter steps;
  auto result = run.checkpoint.empty()
                    ? (run.quiet ? method.fit(train, steps, extra...)
                                 : method.fit(train, steps, extra..., callbacks::ProgressBar{}))
                    : (run.quiet ? method.fit(train, steps, extra..., saver)
                                 : method.fit(train, steps, extra..., callbacks::ProgressBar{}, saver));
  const double seconds = clock.seconds();
  const std::size_t done = steps.last - steps.first;
  std::printf("%ss %zu to %zu in %.1f s (%.3f s/%s)\n", unit, steps.first, steps.last, seconds,
              done ? seconds / double(done) : 0.0, unit);
  return result;
}

//! Writes <prefix>.npz (the set) and <prefix>.png (one grid row per value of `rows`, one entry per image) and says so.
template <std::floating_point T>
void save_set_and_grid(const std::string& prefix, const io::DistilledSet<T>& set, const std::vector<std::int64_t>& rows) {
  io::save_distilled(prefix + ".npz", set);
  io::write_png_grid(prefix + ".png", set.images,
                     io::GridOptions{.rows_by_label = rows, .scaling = io::Scaling::per_image, .upscale = 2});
  std::printf("wrote %s.npz and %s.png\n", prefix.c_str(), prefix.c_str());
}

//! Row i of a class-major set of n images per class belongs to class i / n (the grid's row of each image).
inline std::vector<std::int64_t> class_major_rows(std::size_t size, std::size_t n) {
  std::vector<std::int64_t> rows(size);
  for (std::size_t i = 0; i < size; ++i) rows[i] = std::int64_t(i / n);
  return rows;
}

//! --eval-dc-aug, the flag of every command with --eval-nets.
inline void add_eval_dc_aug_flag(CLI::App& app, bool& on) {
  app.add_flag("--eval-dc-aug", on,
               "--eval-nets: where no DSA applies, train with the DC code's augmentation for the data set "
               "(crop_scale_rotate for MNIST, none for other data), as the DC paper evaluates");
}

//! The DC augmentation strategy --eval-dc-aug gives the data set --data names ("none" when it is off).
inline std::string eval_dc_strategy(bool on, std::string_view data) { return on ? eval::default_dc_strategy(data) : "none"; }

//! The training augmentation of a DC strategy (eval::ProtocolOptions::augment); none for "none".
template <std::floating_point T>
std::function<Tensor<T>(const Tensor<T>&, Rng&)> dc_augmentation(const std::string& strategy) {
  if (strategy == "none") return nullptr;
  return eval::DcAugment{strategy}.augmentation<T>();
}

/**
 * The matching methods' evaluation (DC, DSA, DM): fresh networks, with per-image DSA unless its strategy is "none",
 * else with the DC code's augmentation unless that strategy is "none".
 */
struct NetEvaluation {
  std::size_t nets = 0, epochs = 300;
  std::uint64_t seed = 0;
  std::string dsa_strategy = "none";
  std::string dc_strategy = "none";

  //! "5 fresh ConvNet-3s, 300 epochs, DSA".
  std::string describe(std::string_view model = "ConvNet-3") const {
    return std::to_string(nets) + " fresh " + std::string(model) + "s, " + std::to_string(epochs) + " epochs" +
           (dsa_strategy != "none" ? ", DSA" : dc_strategy != "none" ? ", DC augmentation" : "");
  }
  template <std::floating_point T>
  eval::ProtocolOptions<T> protocol() const {
    eval::ProtocolOptions<T> p{.runs = nets, .epochs = epochs, .seed = seed};
    if (dsa_strategy != "none") p.augment = synthetic::Dsa{dsa_strategy}.augmentation<T>();
    else p.augment = dc_augmentation<T>(dc_strategy);
    return p;
  }
  /**
   * Trains `nets` fresh copies of `net` on `set`, tests them on `test`, and prints
   * "test accuracy (<describe>): <label> 97.12 ± 0.23 %   (s)".
   */
  template <class B, class Net, std::floating_point T>
  eval::ProtocolResult print(const Net& net, const io::DistilledSet<T>& set, const LabeledData<T>& test,
                             std::string_view label) const {
    const Stopwatch clock;
    const auto acc = eval::evaluate_set<B>(net, set, test, {.protocol = protocol<T>()}).hard;
    std::printf("test accuracy (%s): %.*s %s   (%.1f s)\n", describe().c_str(), int(label.size()), label.data(),
                format_accuracy(acc).c_str(), clock.seconds());
    std::fflush(stdout);
    return acc;
  }
};

/**
 * What the command lines of the ConvNet-3 synthesizers share (distill_dc, distill_dm, distill_mtt): how the images
 * start, the network's width, the output prefix, checkpoints and resuming, and the fresh-network evaluation of the
 * result. Each declares its own method options, then calls add_to().
 */
struct ConvNetSetArgs {
  std::string out, init = "real";
  std::size_t eval_nets = 0, eval_epochs = 300, net_width = 128;
  bool eval_init = false, eval_no_dsa = false, eval_dc_aug = false;
  FitRun run;
  std::filesystem::path resume;

  /**
   * Declares --init, --net-width, --eval-nets, --eval-epochs, --eval-no-dsa, --eval-init (unless `with_eval_init` is
   * false), --out (`out_default` says its default), --checkpoint, --checkpoint-every, --resume and --quiet.
   */
  void add_to(CLI::App& app, const std::string& out_default, bool with_eval_init = true) {
    app.add_option("--init", init, "how the images start: real (random real images of their class) or noise")
        ->check(CLI::IsMember({"real", "noise"}));
    app.add_option("--net-width", net_width, "channels of the ConvNet-3 (the method's networks and the evaluation nets)")
        ->check(CLI::PositiveNumber);
    app.add_option("--eval-nets", eval_nets, "then train this many fresh ConvNet-3s on the set and print their test accuracy");
    app.add_option("--eval-epochs", eval_epochs, "--eval-nets: epochs per net (the DC protocol's other settings)");
    app.add_flag("--eval-no-dsa", eval_no_dsa, "--eval-nets: train without the DSA augmentation a DSA set is evaluated with");
    add_eval_dc_aug_flag(app, eval_dc_aug);
    if (with_eval_init)
      app.add_flag("--eval-init", eval_init, "--eval-nets: also evaluate the images the set started from");
    app.add_option("--out", out, "output prefix: writes <prefix>.npz and <prefix>.png (default " + out_default + ")");
    app.add_option("--checkpoint", run.checkpoint, "save a checkpoint here every --checkpoint-every iterations and at the end");
    app.add_option("--checkpoint-every", run.checkpoint_every, "iterations between checkpoints");
    app.add_option("--resume", resume, "continue from a checkpoint written by --checkpoint (same options)");
    app.add_flag("--quiet", run.quiet, "no progress bars");
  }

  //! --out's default when none was given: <data>_<tag>_ipc<N> ("data" for a --data path).
  void default_out(const CommonOptions& common, std::string_view tag, std::size_t images_per_class) {
    if (!out.empty()) return;
    out = (common.data == "mnist" || common.data == "fashion" ? common.data : "data") + "_" + std::string(tag) + "_ipc" +
          std::to_string(images_per_class);
  }

  //! Everything the run will write, checked before the data are loaded: the set's two files and the checkpoint.
  void check_outputs() const {
    check_output_prefix(out, {".npz", ".png"});
    check_checkpoint_paths(run.checkpoint, resume);
  }

  //! The ConvNet-3 of --net-width for the data's images, which must be square.
  nn::ConvNet convnet(const LabeledData<float>& train, std::string_view program) const {
    const Shape shape = image_shape(train.images);
    DISTILL_CHECK(shape[1] == shape[2], program, ": ConvNet-3 needs square images, the data's are ", shape_text(shape));
    return nn::ConvNet{.channels = shape[0], .classes = train.num_classes, .width = net_width, .image_size = shape[1]};
  }

  /**
   * The evaluation --eval-nets asks for: with per-image DSA of `strategy` ("none": without) unless --eval-no-dsa;
   * without DSA and with --eval-dc-aug, with the DC code's augmentation for the data set `data`.
   */
  NetEvaluation evaluation(std::uint64_t seed, const std::string& strategy, std::string_view data) const {
    const std::string dsa = eval_no_dsa ? "none" : strategy;
    return NetEvaluation{.nets = eval_nets, .epochs = eval_epochs, .seed = seed, .dsa_strategy = dsa,
                         .dc_strategy = eval_dc_strategy(eval_dc_aug && dsa == "none", data)};
  }

  /**
   * --eval-nets: fresh copies of `net` trained on `set` and tested on the test split, printed as `label`; with
   * --eval-init also on start() (the images the set started from, which the method gives for 0 iterations).
   */
  template <class B, class Net, class Start>
  void evaluate(const Net& net, const io::DistilledSet<float>& set, const LabeledData<float>& test, const NetEvaluation& e,
                std::string_view label, Start&& start) const {
    if (eval_nets == 0) return;
    e.print<B>(net, set, test, label);
    if (eval_init) e.print<B>(net, start(), test, "the images it started from");
  }
};

}  // namespace distill::cli

#endif  // DISTILL_EXAMPLES_CLI_HPP
