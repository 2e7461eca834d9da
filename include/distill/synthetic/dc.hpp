// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_DC_HPP
#define DISTILL_SYNTHETIC_DC_HPP

/**
 * @file
 * Dataset condensation with gradient matching (DC): Zhao, Mopuri, Bilen 2021, Dataset Condensation with Gradient
 * Matching, ICLR; arXiv:2006.05929 (Algorithm 1, and the paper code's main.py). With a DSA strategy it is DSA's
 * method (Zhao, Bilen 2021): the same draw augments a class's real and synthetic batch before both gradients.
 *
 *   input: training set, n images per class, a network f_θ (ConvNet-3), the loops (outer K, inner T) for n
 *   standardise the pixels; S ← noise (or n random real images per class)
 *   repeat for `iterations` iterations:
 *     θ ← a fresh random initialisation
 *     for k = 1..K:
 *       for each class c: R_c ← batch_real real images of class c (one DSA draw A_c for R_c and S_c)
 *         D_c = Σ_layers Σ_rows (1 − cos(∇θ CE(f_θ(A_c(R_c)), c), ∇θ CE(f_θ(A_c(S_c)), c)))    (biases skipped)
 *       S ← SGD(S, ∂(Σ_c D_c)/∂S)                       (lr 0.1, momentum 0.5)
 *       unless k = K: θ ← T SGD steps (lr 0.01) on S    (minibatches of batch_train, DSA when it is on)
 *   return S with the standardisation
 *
 * The synthetic gradient is taken with create_graph, so ∂D/∂S differentiates through the network's backward pass
 * (second order); the real gradient is a constant. One class is on a tape at a time.
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
#include "distill/autodiff/ops/shape.hpp"
#include "distill/core.hpp"
#include "distill/frame/outer_loop.hpp"
#include "distill/frame/sampler.hpp"
#include "distill/frame/training_set.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"
#include "distill/nn/losses.hpp"
#include "distill/nn/optimizers.hpp"
#include "distill/nn/params.hpp"
#include "distill/synthetic/class_major.hpp"
#include "distill/synthetic/dsa.hpp"

namespace distill::synthetic {

/// How DC initialises the synthetic images.
enum class DcInit {
  noise,  //!< standard normal noise in the standardised pixel space (the DC code's default)
  real,   //!< class-balanced random training images
};

/// The paper code's (outer_loop, inner_loop) for n images per class (get_loops); {0, 0} where it defines none.
inline std::pair<std::size_t, std::size_t> dc_loops(std::size_t images_per_class) {
  switch (images_per_class) {
    case 1: return {1, 1};
    case 10: return {10, 50};
    case 20: return {20, 25};
    case 30: return {30, 20};
    case 40: return {40, 15};
    case 50: return {50, 10};
    default: return {0, 0};
  }
}

/// Options of Dc; use designated initializers: `{.images_per_class = 1, .iterations = 1000}`.
struct DcOptions {
  std::size_t images_per_class = 1;
  std::size_t iterations = 1000;     //!< outer iterations, each with a fresh network (the paper's default)
  std::size_t outer_loop = 0;        //!< matching steps per iteration; 0 = dc_loops(images_per_class)
  std::size_t inner_loop = 0;        //!< network steps between matching steps; 0 = dc_loops(images_per_class)
  std::size_t batch_real = 256;      //!< real images per class and matching step
  std::size_t batch_train = 256;     //!< minibatch of the network's steps on the synthetic set
  double lr_img = 0.1;               //!< SGD on the images
  double momentum_img = 0.5;
  double lr_net = 0.01;              //!< SGD on the network between matching steps
  /// "none" = DC; a DSA strategy (or "auto": default_dsa_strategy of the data) = DSA, siamese per class.
  std::string dsa_strategy = "none";
  DsaParams dsa_params{};
  DcInit init = DcInit::noise;
  bool standardize = true;
  std::uint64_t seed = 0;
  std::filesystem::path resume_from{};
  frame::OnDivergence on_divergence = frame::OnDivergence::stop;

  //! The (outer, inner) loops in use.
  std::pair<std::size_t, std::size_t> loops() const {
    const auto paper = dc_loops(images_per_class);
    return {outer_loop ? outer_loop : paper.first, inner_loop ? inner_loop : paper.second};
  }

  //! @throw invalid_argument naming the first option that is out of range
  void validate(std::string_view where) const {
    DISTILL_CHECK(images_per_class > 0, where, ": images_per_class is 0, expected at least 1");
    DISTILL_CHECK(loops().first > 0, where, ": the paper defines no loops for ", images_per_class,
                  " images per class (1, 10, 20, 30, 40, 50); set outer_loop and inner_loop");
    DISTILL_CHECK(batch_real > 0, where, ": batch_real is 0, expected at least one real image per class");
    DISTILL_CHECK(batch_train > 0, where, ": batch_train is 0, expected at least 1");
    DISTILL_CHECK(lr_img > 0 && std::isfinite(lr_img), where, ": lr_img is ", lr_img, ", expected a finite lr > 0");
    DISTILL_CHECK(lr_net > 0 && std::isfinite(lr_net), where, ": lr_net is ", lr_net, ", expected a finite lr > 0");
    DISTILL_CHECK(momentum_img >= 0 && momentum_img < 1, where, ": momentum_img is ", momentum_img,
                  ", expected a value in [0, 1)");
    if (dsa_strategy != "auto") (void)parse_dsa_strategy(dsa_strategy);
    dsa_params.validate(where);
  }

  io::JsonObject to_json() const {
    io::JsonObject j;
    const auto [outer, inner] = loops();
    j.add("images_per_class", images_per_class).add("iterations", iterations).add("outer_loop", outer);
    j.add("inner_loop", inner).add("batch_real", batch_real).add("batch_train", batch_train).add("lr_img", lr_img);
    j.add("momentum_img", momentum_img).add("lr_net", lr_net).add("dsa_strategy", dsa_strategy);
    j.add("init", init == DcInit::real ? "real" : "noise").add("standardize", standardize).add("seed", seed);
    return j;
  }
};

/**
 * DC's distance between a synthetic and a real gradient ('ours' in the paper code's match_loss): for every
 * parameter of rank ≥ 2, reshaped to [rows, rest] (a conv's output channels), Σ_rows 1 − ⟨g_s, g_r⟩ /
 * (‖g_s‖‖g_r‖ + 1e-6); parameters of rank 1 (biases, norm scales) are skipped.
 */
template <Backend B>
ad::Var<B> gradient_distance(const std::vector<ad::Var<B>>& synthetic, const std::vector<Tensor<typename B::Scalar>>& real) {
  using T = typename B::Scalar;
  DISTILL_CHECK(synthetic.size() == real.size(), "gradient_distance(): ", synthetic.size(), " synthetic and ",
                real.size(), " real gradients");
  ad::Var<B> total(Tensor<T>::scalar(T(0)));
  for (std::size_t k = 0; k < real.size(); ++k) {
    DISTILL_CHECK(synthetic[k].shape() == real[k].shape(), "gradient_distance(): gradient ", k, " has shapes ",
                  show(synthetic[k].shape()), " and ", show(real[k].shape()));
    if (real[k].rank() < 2) continue;
    const std::size_t rows = real[k].shape(0), rest = real[k].size() / rows;
    const ad::Var<B> gs = ad::reshape(synthetic[k], {rows, rest});
    const ad::Var<B> gr(real[k].reshape({rows, rest}));
    const ad::Var<B> dots = ad::sum(ad::mul(gs, gr), {1});
    const ad::Var<B> norms = ad::mul(ad::safe_sqrt(ad::sum(ad::mul(gs, gs), {1})), ad::sqrt(ad::sum(ad::mul(gr, gr), {1})));
    const ad::Var<B> cos = ad::div(dots, ad::add_scalar(norms, T(1e-6)));
    total = ad::add(total, ad::sum(ad::add_scalar(ad::neg(cos), T(1))));
  }
  return total;
}

/**
 * Gradient matching over a model M (e.g. nn::ConvNet) and a backend B.
 *
 * @code
 * dd::synthetic::Dc dc{dd::nn::ConvNet{.channels = 1, .image_size = 28}, {.images_per_class = 1, .iterations = 1000}};
 * auto small = dc.fit(train);                 // DC;  {.dsa_strategy = "auto"} gives DSA
 * @endcode
 */
template <class M, class B = DefaultBackend<float>>
class Dc {
  DISTILL_REQUIRE_BACKEND(B, "distill::synthetic::Dc");
  DISTILL_REQUIRE_MODEL(M, B, "distill::synthetic::Dc");

 public:
  using T = typename B::Scalar;

  Dc(M model, DcOptions options = {}) : model_(std::move(model)), options_(std::move(options)) { options_.validate("Dc"); }

  const M& model() const { return model_; }
  const DcOptions& options() const { return options_; }

  /// Σ_c D_c and its gradient with respect to the images, for one network θ, real batches and DSA draws.
  struct LossAndGrad {
    double loss = 0;
    Tensor<T> grad;
  };
  /**
   * @param images         [C·ipc, ...], class-major
   * @param real_of_class  real images of each class
   * @param draws          one DSA draw per class (ignored when dsa is empty)
   */
  LossAndGrad loss_and_grad(const nn::Params<T>& theta, const Tensor<T>& images,
                            const std::vector<Tensor<T>>& real_of_class, const Dsa& dsa,
                            const std::vector<DsaDraw>& draws) const {
    const std::size_t classes = real_of_class.size();
    DISTILL_CHECK(classes > 0 && images.rank() == 4 && images.shape(0) % classes == 0 && draws.size() == classes,
                  "Dc::loss_and_grad(): images ", show(images.shape()), " do not split into ", classes, " classes, or ",
                  draws.size(), " DSA draws for ", classes, " classes");
    const std::size_t ipc = images.shape(0) / classes;
    LossAndGrad out{0.0, Tensor<T>(images.shape())};
    for (std::size_t c = 0; c < classes; ++c) {
      // the real gradient: a constant
      std::vector<Tensor<T>> real_grad;
      {
        ad::Tape<B> tape;
        const auto p = nn::variables(tape, theta);
        const ad::Var<B> x = dsa.template apply<B>(ad::Var<B>(real_of_class[c]), draws[c]);
        const auto loss = nn::cross_entropy(model_.template forward<B>(p, x),
                                            std::vector<std::int64_t>(real_of_class[c].shape(0), std::int64_t(c)));
        for (const auto& g : ad::grad(loss, p)) real_grad.push_back(g.value());
      }
      // the synthetic gradient, recorded, so the distance differentiates through it to the images
      ad::Tape<B> tape;
      const auto p = nn::variables(tape, theta);
      const ad::Var<B> s = tape.variable(detail::class_rows(images, c, ipc));
      const auto loss = nn::cross_entropy(model_.template forward<B>(p, dsa.template apply<B>(s, draws[c])),
                                          std::vector<std::int64_t>(ipc, std::int64_t(c)));
      const auto gs = ad::grad(loss, p, {.create_graph = true});
      const ad::Var<B> d = gradient_distance(gs, real_grad);
      detail::set_class_rows(out.grad, c, ad::grad(d, s).value());
      out.loss += double(d.item());
    }
    return out;
  }

  /**
   * Runs DC (or DSA) on `train` and returns the synthetic set: images [C·ipc, C, H, W] in the standardised space,
   * class-major, hard labels.
   * @throw invalid_argument on bad data or options; frame::Diverged on a non-finite loss or gradient; io_error when
   *        resume_from cannot be read or does not match
   */
  template <class... Callbacks>
  io::DistilledSet<T> fit(const LabeledData<T>& train, Callbacks&&... callbacks) {
    const char* where = "Dc::fit()";
    options_.validate(where);
    const std::size_t ipc = options_.images_per_class;
    const auto prepared =
        frame::prepare_training_set(train, options_.standardize, options_.init == DcInit::real ? ipc : 1, where);
    const LabeledData<T> data{frame::as_nchw(prepared.data.images), prepared.data.labels, prepared.data.num_classes};
    const std::size_t classes = data.num_classes, n = ipc * classes;
    const std::size_t h = data.images.shape(2), w = data.images.shape(3);
    DcOptions resolved = options_;
    if (resolved.dsa_strategy == "auto") resolved.dsa_strategy = default_dsa_strategy(data.images.shape(1));
    const Dsa dsa{resolved.dsa_strategy, resolved.dsa_params};
    const auto [outer, inner] = resolved.loops();
    const frame::ClassBalancedSampler sampler(data);

    Tensor<T> xs = detail::initial_class_major(data, sampler, ipc, options_.init == DcInit::real, options_.seed, where);
    const std::vector<std::int64_t> labels = detail::class_major_labels(ipc, classes);

    nn::Sgd sgd{.lr = options_.lr_img, .momentum = options_.momentum_img};
    nn::Sgd::State<T> sgd_state;
    frame::CheckpointState<T> ckpt("dc");
    ckpt.add("images", xs).add("sgd_images", sgd_state);
    ckpt.set_options_json(resolved.to_json().str());

    detail::ClassBatches<T> batches;
    Tensor<T> batch;
    auto step = [&](frame::StepContext& ctx) {
      nn::Params<T> theta = model_.template init<B>(ctx.rng);
      const nn::Sgd net_sgd{.lr = options_.lr_net};
      nn::Sgd::State<T> net_state;
      double total = 0;
      for (std::size_t k = 0; k < outer; ++k) {
        // 1. match: per class a real batch and one siamese draw
        batches.draw(data, sampler, options_.batch_real, dsa, ctx.rng);
        auto lg = loss_and_grad(theta, xs, batches.real, dsa, batches.draws);
        ctx.require_finite("the gradient-matching loss", lg.loss);
        ctx.require_finite("the gradient w.r.t. the images", lg.grad);
        sgd.step(sgd_state, {&xs}, {&lg.grad}, sgd.lr * ctx.lr_factor);
        total += lg.loss;
        if (k + 1 == outer) break;
        // 2. train the network on the synthetic set (a copy: these steps do not reach the images)
        for (std::size_t t = 0; t < inner; ++t) {
          const auto order = ctx.rng.permutation(n);
          for (std::size_t at = 0; at < n; at += options_.batch_train) {
            const std::size_t m = std::min(options_.batch_train, n - at);
            const std::span<const std::size_t> idx(order.data() + at, m);
            frame::gather_rows(xs, idx, batch);
            std::vector<std::int64_t> y(m);
            for (std::size_t i = 0; i < m; ++i) y[i] = labels[idx[i]];
            if (!dsa.empty()) batch = dsa.apply(batch, dsa.draw(ctx.rng, h, w, m));
            ad::Tape<B> tape;
            const auto p = nn::variables(tape, theta);
            const auto loss = nn::cross_entropy(model_.template forward<B>(p, ad::Var<B>(batch)), y);
            std::vector<Tensor<T>> g;
            for (const auto& v : ad::grad(loss, p)) g.push_back(v.value());
            std::vector<Tensor<T>*> params;
            std::vector<const Tensor<T>*> grads;
            for (std::size_t q = 0; q < g.size(); ++q) {
              params.push_back(&theta.tensors[q]);
              grads.push_back(&g[q]);
            }
            net_sgd.step(net_state, params, grads);
          }
        }
      }
      return total / double(classes * outer);  // the paper code's loss_avg
    };
    frame::run_outer_loop(frame::LoopOptions{.phase = "dc", .steps = options_.iterations, .seed = options_.seed,
                                             .resume_from = options_.resume_from,
                                             .on_divergence = options_.on_divergence},
                          ckpt, step, callbacks...);

    return detail::class_major_set(std::move(xs), ipc, prepared, dsa.empty() ? "dc" : "dsa", resolved.to_json().str());
  }

 private:
  M model_;
  DcOptions options_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_DC_HPP
