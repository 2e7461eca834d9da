// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_DM_HPP
#define DISTILL_SYNTHETIC_DM_HPP

/**
 * @file
 * Distribution matching (DM): Zhao, Bilen 2023, Dataset Condensation with Distribution Matching, WACV;
 * arXiv:2110.04181 (Algorithm 1, and the paper code's main_DM.py).
 *
 *   input: training set, n images per class, an embedding network ψ_θ (ConvNet-3's features)
 *   standardise the pixels (per channel); S ← n random real images per class
 *   repeat for `iterations` iterations:
 *     θ ← a fresh random initialisation of ψ
 *     for each class c:
 *       R_c ← batch_real random real images of class c;  one DSA draw A_c (the same for R_c and S_c: siamese)
 *       L_c = ‖ mean_{x ∈ R_c} ψ_θ(A_c(x)) − mean_{s ∈ S_c} ψ_θ(A_c(s)) ‖²
 *     S ← SGD(S, ∂(Σ_c L_c)/∂S)    (lr 1, momentum 0.5 as the paper's code)
 *   return S with the standardisation
 *
 * Nothing is learned but the images, so the network's parameters are constants: the real side is a plain forward
 * pass (no tape), and only the n synthetic images of one class are on a tape at a time. Each class's loss depends
 * on its own images only, so the gradient is assembled class by class and the tape never holds more than one
 * class's graph.
 */

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "distill/autodiff/grad.hpp"
#include "distill/autodiff/ops/reduce.hpp"
#include "distill/core.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/nn/params.hpp"
#include "distill/synthetic/class_major.hpp"
#include "distill/synthetic/dsa.hpp"

namespace distill::synthetic {

/// How DM initialises the synthetic images.
enum class DmInit {
  real,   //!< class-balanced random training images (the paper's default)
  noise,  //!< standard normal noise in the standardised pixel space
};

/// Options of Dm; use designated initializers: `{.images_per_class = 10, .iterations = 20000}`.
struct DmOptions {
  std::size_t images_per_class = 10;
  std::size_t iterations = 20000;   //!< the paper's default
  std::size_t batch_real = 256;     //!< real images per class and iteration (all of a smaller class)
  double lr = 1.0;                  //!< SGD on the images
  double momentum = 0.5;
  /// DSA strategy applied siamese to each class's real and synthetic batch: "auto" = the paper's strategy for the
  /// data (default_dsa_strategy: no flip for single-channel images), "none" = no augmentation, or e.g.
  /// "color_crop_cutout_flip_scale_rotate".
  std::string dsa_strategy = "auto";
  DsaParams dsa_params{};
  DmInit init = DmInit::real;
  std::size_t embed_batch = 256;    //!< real images per forward pass (bounds the activations' memory)
  bool standardize = true;          //!< work on per-channel standardised pixels (recorded in the result)
  std::uint64_t seed = 0;
  std::filesystem::path resume_from{};  //!< a checkpoint written through TrainingState::save_checkpoint
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;

  //! @throw invalid_argument naming the first option that is out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(images_per_class > 0, where, ": images_per_class is 0, expected at least 1");
    DISTILL_CHECK(batch_real > 0, where, ": batch_real is 0, expected at least one real image per class");
    DISTILL_CHECK(embed_batch > 0, where, ": embed_batch is 0, expected at least 1");
    DISTILL_CHECK(lr > 0 && std::isfinite(lr), where, ": lr is ", lr, ", expected a finite lr > 0");
    DISTILL_CHECK(momentum >= 0 && momentum < 1, where, ": momentum is ", momentum, ", expected a value in [0, 1)");
    if (dsa_strategy != "auto") (void)parse_dsa_strategy(dsa_strategy);
    dsa_params.validate(where);
  }

  //! The options as JSON (saved with the set and the checkpoints).
  io::JsonObject to_json() const {
    io::JsonObject j;
    j.add("images_per_class", images_per_class).add("iterations", iterations).add("batch_real", batch_real);
    j.add("lr", lr).add("momentum", momentum).add("dsa_strategy", dsa_strategy);
    j.add("init", init == DmInit::real ? "real" : "noise").add("standardize", standardize).add("seed", seed);
    return j;
  }
};

/**
 * Distribution matching over an embedding model M (a Model with features(), e.g. nn::ConvNet) and a backend B.
 *
 * @code
 * dd::synthetic::Dm dm{dd::nn::ConvNet{.channels = 1, .image_size = 28}, {.images_per_class = 10, .iterations = 2000}};
 * dd::io::DistilledSet<float> small = dm.fit(train, dd::callbacks::ProgressBar{});
 * @endcode
 */
template <class M, class B = DefaultBackend<float>>
class Dm {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::Dm");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::Dm");
  static_assert(!Backend<B> || nn::HasFeatures<M, B>,
                "distill::synthetic::Dm: M must provide `features<B>(params, x)` (the embedding DM matches); see "
                "nn/concepts.hpp");

 public:
  using T = typename B::Scalar;

  Dm(M model, DmOptions options = {}) : model_(std::move(model)), options_(std::move(options)) { options_.validate("Dm"); }

  const M& model() const { return model_; }
  const DmOptions& options() const { return options_; }

  /**
   * The matching loss Σ_c L_c (see the file comment) of `images` [C·ipc, ...] (class-major, standardised) and
   * its gradient, for one network θ and one set of real batches and DSA draws — one iteration's work.
   * @param real_of_class  the real images of each class (standardised), [b_c, C, H, W]
   * @param draws          one DSA draw per class (siamese)
   */
  struct LossAndGrad {
    double loss = 0;   //!< Σ_c L_c
    Tensor<T> grad;    //!< ∂loss/∂images
  };
  LossAndGrad loss_and_grad(const nn::Params<T>& theta, const Tensor<T>& images,
                            const std::vector<Tensor<T>>& real_of_class, const Dsa& dsa,
                            const std::vector<DsaDraw>& draws) const {
    const std::size_t classes = real_of_class.size();
    DISTILL_CHECK(classes > 0 && images.rank() == 4 && images.shape(0) % classes == 0 && draws.size() == classes,
                  "Dm::loss_and_grad(): images ", show(images.shape()), " do not split into ", classes,
                  " classes, or ", draws.size(), " DSA draws for ", classes, " classes");
    const std::size_t ipc = images.shape(0) / classes;
    const auto params = nn::constants<B>(theta);
    LossAndGrad out{0.0, Tensor<T>(images.shape())};
    for (std::size_t c = 0; c < classes; ++c) {
      // The real side: a forward pass without a tape, averaged over the batch.
      const Tensor<T> target = mean_embedding(params, dsa.apply(real_of_class[c], draws[c]));
      // The synthetic side: this class's images on a tape of their own.
      ad::Tape<B> tape;
      const ad::Var<B> s = tape.variable(detail::class_rows(images, c, ipc));
      const ad::Var<B> f = model_.template features<B>(params, dsa.template apply<B>(s, draws[c]));
      const ad::Var<B> diff = ad::sub(ad::mean(f, {0}), ad::Var<B>(target));
      const ad::Var<B> loss = ad::sum(ad::mul(diff, diff));
      detail::set_class_rows(out.grad, c, ad::grad(loss, s).value());
      out.loss += double(loss.item());
    }
    return out;
  }

  /**
   * Runs DM on `train` and returns the synthetic set.
   * @param train      images [N, C, H, W] (or [N, H, W]) and labels
   * @param callbacks  any callbacks (ProgressBar, EarlyStop, Checkpoint, ...); each hook is optional
   * @return images [C·ipc, C, H, W] in the standardised space, class-major; hard labels [C·ipc]
   * @throw invalid_argument on empty data, a class with fewer than images_per_class examples (real init) or none,
   *        NaN pixels, images the model does not take, or bad options; frame::Diverged when the loss or the
   *        gradient becomes non-finite; io_error when resume_from cannot be read or does not match
   */
  template <class... Callbacks>
  io::DistilledSet<T> fit(const LabeledData<T>& train, Callbacks&&... callbacks) {
    const char* where = "Dm::fit()";
    options_.validate(where);
    const std::size_t ipc = options_.images_per_class;
    // 1. standardise; every class present (with ipc images for real init)
    const auto prepared =
        frame::prepare_training_set(train, options_.standardize, options_.init == DmInit::real ? ipc : 1, where);
    const LabeledData<T> data{frame::as_nchw(prepared.data.images), prepared.data.labels, prepared.data.num_classes};
    const std::size_t classes = data.num_classes;
    DmOptions resolved = options_;
    if (resolved.dsa_strategy == "auto") resolved.dsa_strategy = default_dsa_strategy(data.images.shape(1));
    const Dsa dsa{resolved.dsa_strategy, resolved.dsa_params};
    const frame::ClassBalancedSampler sampler(data);

    // 2. the initial images: ipc random real images per class (or noise)
    Tensor<T> xs = detail::initial_class_major(data, sampler, ipc, options_.init == DmInit::real, options_.seed, where);
    {  // the model must take these images: fail here, with its own message, not inside the first step
      Rng probe = frame::stream_rng(options_.seed, frame::Stream::init, 1);
      const auto theta = model_.template init<B>(probe);
      Shape one = xs.shape();
      one[0] = 1;
      (void)model_.template features<B>(nn::constants<B>(theta), ad::Var<B>(Tensor<T>(one)));
    }

    nn::Sgd sgd{.lr = options_.lr, .momentum = options_.momentum};
    nn::Sgd::State<T> sgd_state;
    frame::CheckpointState<T> ckpt("dm");
    ckpt.add("images", xs).add("sgd_images", sgd_state);
    ckpt.set_options_json(resolved.to_json().str());

    // 3. each iteration: a fresh network; per class a real batch and one siamese DSA draw; one SGD step
    detail::ClassBatches<T> batches;
    auto step = [&](frame::StepContext& ctx) {
      const nn::Params<T> theta = model_.template init<B>(ctx.rng);
      batches.draw(data, sampler, options_.batch_real, dsa, ctx.rng);
      auto lg = loss_and_grad(theta, xs, batches.real, dsa, batches.draws);
      ctx.require_finite("the DM loss", lg.loss);
      ctx.require_finite("the gradient w.r.t. the images", lg.grad);
      sgd.step(sgd_state, {&xs}, {&lg.grad}, sgd.lr * ctx.lr_factor);
      return lg.loss / double(classes);  // the paper code's loss_avg: per class
    };
    frame::run_outer_loop(frame::LoopOptions{.phase = "dm", .steps = options_.iterations, .seed = options_.seed,
                                             .resume_from = options_.resume_from,
                                             .on_divergence = options_.on_divergence},
                          ckpt, step, callbacks...);

    // 4. the result, in the standardised space
    return detail::class_major_set(std::move(xs), ipc, prepared, "dm", resolved.to_json().str());
  }

 private:
  // The mean of the features of x over its rows, computed embed_batch rows at a time without a tape.
  Tensor<T> mean_embedding(const std::vector<ad::Var<B>>& params, const Tensor<T>& x) const {
    const std::size_t rows = x.shape(0), per = x.size() / std::max<std::size_t>(rows, 1);
    DISTILL_CHECK(rows > 0, "Dm: a class has no real images");
    Tensor<T> sum;
    for (std::size_t at = 0; at < rows; at += options_.embed_batch) {
      const std::size_t m = std::min(options_.embed_batch, rows - at);
      Shape s = x.shape();
      s[0] = m;
      const Tensor<T> chunk = Tensor<T>::view(const_cast<T*>(x.data()) + at * per, s);
      const Tensor<T> f = model_.template features<B>(params, ad::Var<B>(chunk)).value();
      const std::size_t width = f.size() / m;
      if (sum.size() == 0) sum = Tensor<T>({width});
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t k = 0; k < width; ++k) sum[k] += f[i * width + k];
    }
    for (std::size_t k = 0; k < sum.size(); ++k) sum[k] /= T(rows);
    return sum;
  }

  M model_;
  DmOptions options_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_DM_HPP
