// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_EXPERT_TRAJECTORIES_HPP
#define DISTILL_SYNTHETIC_EXPERT_TRAJECTORIES_HPP

/**
 * @file
 * Expert trajectories for trajectory matching (MTT, synthetic/mtt.hpp; Cazenavette et al. 2022, the paper code's
 * buffer.py): a network trained on the real data, with its parameters kept after every epoch,
 *   θ*_0 (the initialisation), θ*_1, …, θ*_E.
 * train_expert() trains one with eval::train (plain SGD at a constant rate, per-image DSA on every batch, as
 * buffer.py: lr 0.01, no momentum, no weight decay — the synthetic steps MTT learns are plain SGD too), on the
 * standardised pixels the synthetic images will live in. The standardisation travels with the trajectory, so a
 * set distilled from it is checked against the data it was trained on.
 *
 * The file (an NPZ, written atomically): "kind" = "expert_trajectory"; "param.<name>" [E+1, shape...] for each
 * parameter tensor (epoch e's tensor is row e); "__names__" their order (newline-separated); "mean", "stddev" [C];
 * "options" (JSON text). load_expert() checks every shape against the model that will use it and names the file
 * and the problem.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distill/core.hpp"
#include "distill/eval/train.hpp"
#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/npz.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/params.hpp"
#include "distill/synthetic/dsa.hpp"

namespace distill::synthetic {

/// One expert: its parameters at the start and after every epoch, and the pixel standardisation it trained on.
template <std::floating_point T>
struct ExpertTrajectory {
  std::vector<nn::Params<T>> epochs;  //!< epochs[e] = θ*_e: [0] the initialisation, [E] after the last epoch
  Tensor<T> mean, stddev;             //!< [C] the standardisation of the pixels it was trained on
  std::string options_json;           //!< how it was trained (ExpertOptions, seed)

  //! E, the number of epochs trained (0 for an empty trajectory).
  std::size_t epochs_trained() const { return epochs.empty() ? 0 : epochs.size() - 1; }
};

/// How an expert is trained; designated initializers: `{.epochs = 50}`.
struct ExpertOptions {
  std::size_t epochs = 50;         //!< the paper code's train_epochs
  std::size_t batch_size = 256;
  double lr = 0.01;                //!< lr_teacher
  double momentum = 0;             //!< buffer.py's mom
  double weight_decay = 0;         //!< buffer.py's l2
  /// Per-image DSA on every batch: "auto" = the paper's strategy for the data (no flip for one channel), "none" =
  /// none, or a strategy string.
  std::string dsa_strategy = "auto";
  DsaParams dsa_params{};

  //! @throw invalid_argument naming the first option out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(epochs > 0, where, ": epochs is 0, expected at least 1 (a trajectory needs θ*_0 and θ*_1)");
    DISTILL_CHECK(batch_size > 0, where, ": batch_size is 0, expected at least 1");
    DISTILL_CHECK(lr > 0 && std::isfinite(lr), where, ": lr is ", lr, ", expected a finite lr > 0");
    DISTILL_CHECK(momentum >= 0 && momentum < 1, where, ": momentum is ", momentum, ", expected a value in [0, 1)");
    DISTILL_CHECK(weight_decay >= 0, where, ": weight_decay is ", weight_decay, ", expected >= 0");
    if (dsa_strategy != "auto") (void)parse_dsa_strategy(dsa_strategy);
    dsa_params.validate(where);
  }

  io::JsonObject to_json() const {
    io::JsonObject j;
    j.add("epochs", epochs).add("batch_size", batch_size).add("lr", lr).add("momentum", momentum);
    j.add("weight_decay", weight_decay).add("dsa_strategy", dsa_strategy);
    return j;
  }
};

/**
 * Trains one expert from a fresh `model.init` (drawn from `seed`) on `train` and keeps its parameters after every
 * epoch.
 * @param train  the training set in the space the distilled images will live in ([N, C, H, W], standardised by
 *               `norm`)
 * @param norm   the standardisation applied to `train` (recorded with the trajectory)
 * @param cbs    callbacks for eval::train (ProgressBar, ...)
 * @throw invalid_argument on bad options or data; frame::Diverged when training diverges
 */
template <class B, class M, class... Callbacks>
ExpertTrajectory<typename B::Scalar> train_expert(const M& model, const LabeledData<typename B::Scalar>& train,
                                                  const io::ChannelStandardization<typename B::Scalar>& norm,
                                                  const ExpertOptions& o, std::uint64_t seed, Callbacks&&... cbs) {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::train_expert");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::train_expert");
  using T = typename B::Scalar;
  o.validate("train_expert()");
  DISTILL_CHECK(train.images.rank() == 4, "train_expert(): images have shape ", show(train.images.shape()),
                ", expected [N, C, H, W]");
  ExpertOptions resolved = o;
  if (resolved.dsa_strategy == "auto") resolved.dsa_strategy = default_dsa_strategy(train.images.shape(1));
  Rng init_rng(seed);
  nn::Params<T> params = model.template init<B>(init_rng);
  ExpertTrajectory<T> out;
  out.mean = norm.mean.clone();
  out.stddev = norm.stddev.clone();
  out.options_json = resolved.to_json().add("seed", seed).str();
  out.epochs.push_back(params.clone());
  // θ*_e after every epoch: eval::train updates `params` in place.
  struct KeepEpochs {
    const nn::Params<T>& params;
    std::vector<nn::Params<T>>& epochs;
    void on_epoch_end(callbacks::TrainingState&) { epochs.push_back(params.clone()); }
  } keep{params, out.epochs};
  eval::TrainOptions<T> to{.epochs = o.epochs, .batch_size = o.batch_size, .lr = o.lr, .momentum = o.momentum,
                           .weight_decay = o.weight_decay, .schedule = eval::Schedule::constant, .seed = seed + 1};
  const Dsa dsa{resolved.dsa_strategy, resolved.dsa_params};
  if (!dsa.empty()) to.augment = dsa.augmentation<T>();
  (void)eval::train<B>(model, params, train, to, keep, cbs...);
  return out;
}

/**
 * Saves a trajectory (the file of the file comment), atomically.
 * @throw invalid_argument on an empty trajectory or epochs whose parameters differ in names or shapes;
 *        io_error when the file cannot be written
 */
template <std::floating_point T>
void save_expert(const std::filesystem::path& path, const ExpertTrajectory<T>& e) {
  DISTILL_CHECK(e.epochs.size() >= 2, "save_expert(): the trajectory has ", e.epochs.size(),
                " parameter sets, expected θ*_0 and at least one epoch");
  const nn::Params<T>& first = e.epochs.front();
  for (const auto& p : e.epochs) nn::check_same_layout(p, first, "save_expert()");
  std::map<std::string, io::NpyArray> arrays;
  std::string order;
  for (std::size_t k = 0; k < first.size(); ++k) {
    const std::string& name = first.names[k];
    DISTILL_CHECK(!name.empty() && name.find('\n') == std::string::npos, "save_expert(): parameter ", k,
                  " has the name \"", name, "\", expected a non-empty name without newlines");
    Shape shape{e.epochs.size()};
    for (std::size_t d : first.tensors[k].shape()) shape.push_back(d);
    Tensor<T> stacked = Tensor<T>::empty(shape);
    const std::size_t per = first.tensors[k].size();
    for (std::size_t ep = 0; ep < e.epochs.size(); ++ep)
      std::copy_n(e.epochs[ep].tensors[k].data(), per, stacked.data() + ep * per);
    arrays.emplace("param." + name, io::NpyArray::from_tensor(stacked));
    order += (k ? "\n" : "") + name;
  }
  arrays.emplace("__names__", io::NpyArray::from_string(order));
  arrays.emplace("kind", io::NpyArray::from_string("expert_trajectory"));
  arrays.emplace("mean", io::NpyArray::from_tensor(e.mean));
  arrays.emplace("stddev", io::NpyArray::from_tensor(e.stddev));
  arrays.emplace("options", io::NpyArray::from_string(e.options_json.empty() ? "{}" : e.options_json));
  io::save_npz(path, arrays);
}

/**
 * Loads a trajectory written by save_expert for `model`: every parameter of a fresh `model.init` must be there,
 * with the same E + 1 epochs and the model's shape, and nothing else.
 * @throw io_error naming the file and the problem: unreadable or corrupt, not an expert trajectory, a parameter
 *        missing, extra or of the wrong shape, fewer than two epochs, no or a bad standardisation
 */
template <class B, class M>
ExpertTrajectory<typename B::Scalar> load_expert(const std::filesystem::path& path, const M& model) {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::load_expert");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::load_expert");
  using T = typename B::Scalar;
  const std::string file = "load_expert(): '" + path.string() + "'";
  const auto arrays = io::load_npz(path);
  auto text = [&](const char* key) -> std::string {
    const auto it = arrays.find(key);
    if (it == arrays.end() || it->second.dtype != io::DType::unicode) return {};
    return it->second.as_string();
  };
  if (text("kind") != "expert_trajectory")
    DISTILL_THROW(io_error, file, " is not an expert trajectory (no \"kind\" entry \"expert_trajectory\"; make one with "
                              "save_expert or distill_mtt --make-experts)");
  Rng probe(0);
  const nn::Params<T> like = model.template init<B>(probe);
  std::size_t count = 0;
  for (const auto& [key, a] : arrays) count += key.rfind("param.", 0) == 0;
  if (count != like.size()) DISTILL_THROW(io_error, file, " holds ", count, " parameter tensors, the model has ",
                   like.size(), " (a trajectory of another architecture?)");
  ExpertTrajectory<T> out;
  for (std::size_t k = 0; k < like.size(); ++k) {
    const std::string& name = like.names[k];
    const auto it = arrays.find("param." + name);
    if (it == arrays.end()) DISTILL_THROW(io_error, file, " has no parameter \"", name,
                     "\" of the model (a trajectory of another architecture?)");
    const io::NpyArray& a = it->second;
    const Shape& want = like.tensors[k].shape();
    const bool ok = a.dtype != io::DType::unicode && a.shape.size() == want.size() + 1 && a.shape[0] >= 2 &&
                    std::equal(want.begin(), want.end(), a.shape.begin() + 1) &&
                    (out.epochs.empty() || a.shape[0] == out.epochs.size());
    if (!ok) {
      std::string dims = out.epochs.empty() ? "E + 1 >= 2" : std::to_string(out.epochs.size());
      for (std::size_t d : want) dims += ", " + std::to_string(d);
      DISTILL_THROW(io_error, file, ": parameter \"", name, "\" has shape ", show(a.shape), ", expected [", dims,
                    "] (the model's shape after the epochs of the trajectory)");
    }
    if (out.epochs.empty()) out.epochs.assign(a.shape[0], nn::Params<T>{});
    const Tensor<T> stacked = a.template as<T>();
    if (!stacked.all_finite()) DISTILL_THROW(io_error, file, ": parameter \"", name, "\" holds NaN or infinity");
    for (std::size_t e = 0; e < out.epochs.size(); ++e) out.epochs[e].add(name, stacked.rows(e, e + 1).reshape(want).clone());
  }
  for (const char* key : {"mean", "stddev"}) {
    const auto it = arrays.find(key);
    if (it == arrays.end() || it->second.dtype == io::DType::unicode || it->second.shape.size() != 1)
      DISTILL_THROW(io_error, file, " has no \"", key, "\" [C] (the standardisation the expert trained on)");
    (std::string_view(key) == "mean" ? out.mean : out.stddev) = it->second.template as<T>();
  }
  if (out.mean.size() != out.stddev.size()) DISTILL_THROW(io_error, file, ": mean has ", out.mean.size(),
                   " channels but stddev ", out.stddev.size());
  out.options_json = text("options");
  return out;
}

/// The expert files of a folder: every "expert_*.npz", in name order (expert_0.npz, expert_1.npz, …).
/// @throw io_error when `dir` is not a folder or holds none
inline std::vector<std::filesystem::path> expert_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) DISTILL_THROW(io_error, "expert_files(): '", dir.string(),
                   "' is not a folder (expected a folder written by distill_mtt --make-experts)");
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("expert_", 0) == 0 && entry.path().extension() == ".npz")
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) DISTILL_THROW(io_error, "expert_files(): '", dir.string(), "' holds no expert_*.npz");
  return out;
}

/// Expert file i of a folder: "<dir>/expert_<i>.npz".
inline std::filesystem::path expert_file(const std::filesystem::path& dir, std::size_t i) {
  return dir / ("expert_" + std::to_string(i) + ".npz");
}

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_EXPERT_TRAJECTORIES_HPP
