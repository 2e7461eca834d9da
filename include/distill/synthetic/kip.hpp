// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_KIP_HPP
#define DISTILL_SYNTHETIC_KIP_HPP

/**
 * @file
 * Kernel Inducing Points (KIP): Nguyen, Chen, Lee 2021, Dataset Meta-Learning from Kernel Ridge-Regression,
 * ICLR; arXiv:2011.00050.
 *
 * KIP learns a small support set (X_s, y_s) such that kernel ridge regression on it predicts a large target
 * batch well:
 *
 *     L(X_s, y_s) = ½ · mean ‖y_t − K_ts (K_ss + λI)⁻¹ y_s‖²,     λ = reg · tr(K_ss)/n,
 *
 * with K an infinite-width kernel (FcNtk) and y centred one-hot labels (onehot − 1/C). The mean is over the
 * m·C entries of the target batch (neural-tangents' KIP loss), so the loss does not grow with the batch.
 *
 * Gradient, by hand (no tape; α, β, r are [·, C] matrices):
 *     α = (K_ss + λI)⁻¹ y_s,   r = (K_ts α − y_t)/(mC)
 *     ∂L/∂K_ts = r αᵀ
 *     β = (K_ss + λI)⁻¹ K_tsᵀ r,        ∂L/∂y_s = β
 *     ∂L/∂K_ss = −sym(β αᵀ) − (reg/n) tr(β αᵀ) I          (the second term: λ depends on tr K_ss)
 *     ∂L/∂X_s  = kernel VJPs of K_ts (support side) and of K_ss (both sides)
 * The n×n part (K_ss, its Cholesky, α, β) runs in double: it is tiny, and with λ = 1e-6 of the mean diagonal a
 * float K_ss would be dominated by its own rounding error. The m×n part (K_ts and its VJP) runs in T.
 */

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <numbers>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "distill/callbacks/invoke.hpp"
#include "distill/callbacks/state.hpp"
#include "distill/core.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/npz.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/cholesky.hpp"
#include "distill/kernels/krr.hpp"
#include "distill/kernels/streamed_vjp.hpp"
#include "distill/nn/optimizers.hpp"

namespace distill::synthetic {

// ---- the loss and its gradient ------------------------------------------------------------------------------

/// What kip_loss_and_grad returns.
template <std::floating_point T>
struct KipLossGrad {
  double loss = 0;        //!< ½ · mean over the m·C entries of (K_ts α − y_t)²
  Tensor<T> d_support;    //!< ∂L/∂X_s, shape of X_s
  Tensor<T> d_labels;     //!< ∂L/∂y_s, [n, C]
  double accuracy = 0;    //!< fraction of target rows whose prediction's argmax is the target's argmax
};

namespace detail {

/// What the m×n part of a KIP step yields: the target-batch sums and the support-side VJP of K_ts.
template <std::floating_point T>
struct KipTargetPass {
  double sq = 0;            //!< Σ (pred − y_t)² over the m·C entries
  std::size_t correct = 0;  //!< rows whose argmax prediction is the target's argmax
  Tensor<double> u;         //!< K_tsᵀ r  [n, C]
  Tensor<T> d_support;      //!< ∂L/∂X_s through K_ts (the support side), shape of X_s
};

/// The per-row part of the target pass, shared by both versions: for target rows [row0, row0 + rows) with kernel
/// rows k (float or double, [rows, n]) in double, pred = k α, r = (pred − y_t)/(mC); adds to sq, correct and
/// u += kᵀ r, and leaves r in `r` ([rows, C]).
template <class BD, std::floating_point T>
void kip_residual_rows(const double* k, std::size_t row0, std::size_t rows, std::size_t n, const Tensor<double>& alpha,
                       const Tensor<T>& yt, std::size_t m, double* pred, double* r, double* u, double& sq,
                       std::size_t& correct) {
  const std::size_t c = alpha.shape(1);
  BD::gemm(Gemm<double>{.m = rows, .n = c, .k = n, .a = k, .lda = n, .b = alpha.data(), .ldb = c, .c = pred, .ldc = c});
  const double scale = 1.0 / double(m * c);
  for (std::size_t i = 0; i < rows; ++i) {
    const T* y = yt.data() + (row0 + i) * c;
    const double* p = pred + i * c;
    std::size_t best_p = 0, best_t = 0;
    for (std::size_t q = 0; q < c; ++q) {
      const double e = p[q] - double(y[q]);
      sq += e * e;
      r[i * c + q] = e * scale;
      if (p[q] > p[best_p]) best_p = q;
      if (y[q] > y[best_t]) best_t = q;
    }
    correct += best_p == best_t;
  }
  BD::gemm(Gemm<double>{.trans_a = true, .m = n, .n = c, .k = rows, .a = k, .lda = n, .b = r, .ldb = c, .beta = 1.0,
                        .c = u, .ldc = c});
}

/// Dot-product kernels: streamed over blocks of target rows (kernels/streamed_vjp.hpp), so K_ts and ∂L/∂K_ts are
/// never formed and each block of X_t is read once, in cache, by both GEMMs.
template <class B, class K>
KipTargetPass<typename B::Scalar> kip_target_pass_streamed(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                          const Tensor<typename B::Scalar>& xt,
                                                          const Tensor<typename B::Scalar>& yt,
                                                          const Tensor<double>& alpha) {
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = alpha.shape(1);
  const Tensor<T> alpha_t = alpha.template cast<T>();
  struct Slot {
    double sq = 0;
    std::size_t correct = 0;
    std::vector<double> u, k, pred, r;
    std::vector<T> r_t;
  };
  std::vector<Slot> slots(kernels::stream_slots<B>());
  auto row_grad = [&](std::size_t slot, std::size_t row0, std::size_t rows, T* kg) {
    Slot& s = slots[slot];
    s.u.resize(n * c, 0.0);
    s.k.resize(rows * n);
    s.pred.resize(rows * c);
    s.r.resize(rows * c);
    s.r_t.resize(rows * c);
    for (std::size_t e = 0; e < rows * n; ++e) s.k[e] = double(kg[e]);
    kip_residual_rows<BD>(s.k.data(), row0, rows, n, alpha, yt, m, s.pred.data(), s.r.data(), s.u.data(), s.sq,
                          s.correct);
    // ∂L/∂K_ts rows = r αᵀ, in T (each entry a sum of C products: no cancellation to fear)
    for (std::size_t e = 0; e < rows * c; ++e) s.r_t[e] = T(s.r[e]);
    B::gemm(Gemm<T>{.trans_b = true, .m = rows, .n = n, .k = c, .a = s.r_t.data(), .lda = c, .b = alpha_t.data(),
                    .ldb = c, .c = kg, .ldc = n});
  };
  KipTargetPass<T> out;
  out.d_support = kernels::streamed_vjp_x2<B>(kernel, xt, xs, row_grad);
  out.u = Tensor<double>({n, c}, 0.0);
  for (const Slot& s : slots) {  // in slot order: the same sums for the same thread count
    out.sq += s.sq;
    out.correct += s.correct;
    for (std::size_t e = 0; e < s.u.size(); ++e) out.u[e] += s.u[e];
  }
  return out;
}

/// Any other kernel: K_ts and ∂L/∂K_ts as full m×n matrices, then the kernel's own VJP.
template <class B, class K>
KipTargetPass<typename B::Scalar> kip_target_pass_dense(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                        const Tensor<typename B::Scalar>& xt,
                                                        const Tensor<typename B::Scalar>& yt,
                                                        const Tensor<double>& alpha) {
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = alpha.shape(1);
  const Tensor<T> kts = kernel.template gram<B>(xt, xs);  // [m, n]
  const Tensor<double> kts_d = kts.template cast<double>();
  KipTargetPass<T> out;
  out.u = Tensor<double>({n, c}, 0.0);
  Tensor<double> pred({m, c}), r({m, c});
  kip_residual_rows<BD>(kts_d.data(), 0, m, n, alpha, yt, m, pred.data(), r.data(), out.u.data(), out.sq, out.correct);
  Tensor<T> g_ts = Tensor<T>::empty({m, n});
  const Tensor<T> r_t = r.template cast<T>(), alpha_t = alpha.template cast<T>();
  B::gemm(Gemm<T>{.trans_b = true, .m = m, .n = n, .k = c, .a = r_t.data(), .lda = c, .b = alpha_t.data(), .ldb = c,
                  .c = g_ts.data(), .ldc = n});
  out.d_support = kernel.template gram_vjp<B>(xt, xs, g_ts, kernels::VjpWrt::second).dx2;
  return out;
}

}  // namespace detail

/**
 * The KIP loss and its exact gradient with respect to the support images and labels.
 *
 * Dot-product kernels (FcNtk, Rbf, Linear) run the m×n part streamed over blocks of target rows; other kernels
 * through gram() and gram_vjp(). Both compute the same sums.
 *
 * @param xs   support images [n, ...]
 * @param ys   support labels [n, C] (centred one-hot or learned)
 * @param xt   target images [m, ...] (same features as xs)
 * @param yt   target labels [m, C]
 * @param reg  relative ridge: λ = reg · tr(K_ss)/n
 * @throw invalid_argument on mismatched shapes; numerical_error when K_ss + λI is not positive definite
 */
template <Backend B, class K>
KipLossGrad<typename B::Scalar> kip_loss_and_grad(const K& kernel, const Tensor<typename B::Scalar>& xs,
                                                  const Tensor<typename B::Scalar>& ys,
                                                  const Tensor<typename B::Scalar>& xt,
                                                  const Tensor<typename B::Scalar>& yt, double reg) {
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  static_assert(kernels::Kernel<K, B> && kernels::Kernel<K, BD>,
                "distill::kip_loss_and_grad: the kernel must provide gram<B>(x1, x2) and gram_vjp<B>(x1, x2, g) for "
                "float and double backends; see distill/kernels/concepts.hpp");
  DISTILL_CHECK(xs.rank() >= 2 && ys.rank() == 2 && ys.shape(0) == xs.shape(0), "kip_loss_and_grad(): support images ",
                show(xs.shape()), " and labels ", show(ys.shape()), " do not match, expected [n, ...] and [n, C]");
  DISTILL_CHECK(xt.rank() >= 2 && yt.rank() == 2 && yt.shape(0) == xt.shape(0) && yt.shape(1) == ys.shape(1),
                "kip_loss_and_grad(): target images ", show(xt.shape()), " and labels ", show(yt.shape()),
                " do not match each other or the support labels ", show(ys.shape()));
  const std::size_t n = xs.shape(0), m = xt.shape(0), c = ys.shape(1);
  DISTILL_CHECK(n > 0 && m > 0, "kip_loss_and_grad(): empty support (", n, ") or target batch (", m, ")");
  DISTILL_CHECK(xs.size() / n == xt.size() / m, "kip_loss_and_grad(): support images ", show(xs.shape()),
                " and target images ", show(xt.shape()), " have different features per row");

  // K_ss and everything n×n in double (it also validates the kernel's options).
  const Tensor<double> xs_d = xs.template cast<double>();
  kernels::GramCache<double> cache_ss;
  const Tensor<double> kss = kernel.template gram<BD>(xs_d, xs_d, &cache_ss);  // [n, n]
  const auto chol = kernels::RidgeCholesky::factor<BD>(kss, reg, "kip_loss_and_grad()");
  const Tensor<double> alpha = chol.solve(ys.template cast<double>());  // [n, C]

  // The m×n part: predictions, residuals, loss, u = K_tsᵀ r and the support-side VJP of K_ts.
  detail::KipTargetPass<T> tp;
  if constexpr (kernels::StreamableKernel<K, T>) tp = detail::kip_target_pass_streamed<B>(kernel, xs, xt, yt, alpha);
  else tp = detail::kip_target_pass_dense<B>(kernel, xs, xt, yt, alpha);
  KipLossGrad<T> out;
  out.loss = 0.5 * tp.sq / double(m * c);
  out.accuracy = double(tp.correct) / double(m);

  // β = (K_ss + λI)⁻¹ K_tsᵀ r = ∂L/∂y_s
  const Tensor<double> beta = chol.solve(tp.u);
  out.d_labels = beta.template cast<T>();
  // ∂L/∂K_ss = −sym(β αᵀ) − (reg/n)·tr(β αᵀ)·I
  double tr = 0;
  for (std::size_t i = 0; i < n * c; ++i) tr += beta[i] * alpha[i];
  Tensor<double> g_ss({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < c; ++k) s += beta[i * c + k] * alpha[j * c + k] + alpha[i * c + k] * beta[j * c + k];
      g_ss[i * n + j] = -0.5 * s - (i == j ? reg / double(n) * tr : 0.0);
    }

  // Back through K_ss on both sides (the same X_s). The two sides give the same gradient, since ∂L/∂K_ss is
  // symmetric and the kernel is symmetric in its arguments, so one side is computed and doubled (it saves a GEMM;
  // the cache saves recomputing the dot products).
  const auto v_ss = kernel.template gram_vjp<BD>(xs_d, xs_d, g_ss, kernels::VjpWrt::first, &cache_ss);
  out.d_support = Tensor<T>::empty(xs.shape());
  for (std::size_t i = 0; i < xs.size(); ++i) out.d_support[i] = T(double(tp.d_support[i]) + 2.0 * v_ss.dx1[i]);
  return out;
}

// ---- the method ---------------------------------------------------------------------------------------------

/// How KIP initialises the support images.
enum class KipInit {
  real,   //!< class-balanced random training images (the paper's default)
  noise,  //!< standard normal noise in the standardised pixel space
};

/// The learning-rate schedule of KIP's Adam over the steps (images and labels alike).
enum class KipSchedule {
  constant,  //!< lr throughout (the paper)
  cosine,    //!< lr · ½(1 + cos(π · step / steps)): large early steps, small ones to settle the final support
};

/// Options of Kip; use designated initializers: `{.images_per_class = 10, .steps = 1000}`.
template <std::floating_point T = float>
struct KipOptions {
  std::size_t images_per_class = 10;
  std::size_t steps = 1000;
  std::size_t target_batch_size = 5000;  //!< class-balanced target batch, resampled every step
  bool learn_labels = false;             //!< also learn the support labels y_s
  KipInit init = KipInit::real;
  double reg = 1e-6;                     //!< λ = reg · tr(K_ss)/n
  double lr = 0.01;                      //!< Adam learning rate (images and labels)
  double label_lr = 0.0;                 //!< Adam learning rate for the labels; 0 = same as lr
  KipSchedule schedule = KipSchedule::constant;
  bool standardize = true;               //!< train on per-channel standardised pixels (recorded in the result)
  std::uint64_t seed = 0;
  std::filesystem::path resume_from{};   //!< a checkpoint written through TrainingState::save_checkpoint
  /// Optional augmentation of each step's target batch ([m, C, H, W], standardised), e.g. flips or crops. The
  /// support is never augmented, so the gradient stays exact.
  std::function<void(Tensor<T>&, Rng&)> augment{};
};

/**
 * Kernel Inducing Points over a kernel K (e.g. kernels::FcNtk) and a backend B.
 *
 * @code
 * dd::synthetic::Kip kip{dd::kernels::FcNtk{.depth = 3}, {.images_per_class = 10, .steps = 1000}};
 * dd::io::DistilledSet<float> small = kip.fit(train, dd::callbacks::ProgressBar{});
 * @endcode
 *
 * fit() follows the algorithm box of the paper:
 *   1. standardise pixels (per-channel mean/std of the training set);
 *   2. initialise X_s with ipc random images per class (or noise), y_s with centred one-hot labels;
 *   3. each step: draw a class-balanced target batch (X_t, y_t); compute the KIP loss and its gradient;
 *      one Adam step on X_s (and y_s when learn_labels);
 *   4. return the support as a DistilledSet (images in the standardised space, with the mean/std).
 */
template <class K, Backend B = DefaultBackend<float>>
class Kip {
 public:
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  static_assert(kernels::Kernel<K, B> && kernels::Kernel<K, BD>,
                "distill::Kip: the kernel must provide gram<B>(x1, x2) and gram_vjp<B>(x1, x2, g); see "
                "distill/kernels/concepts.hpp");

  Kip(K kernel, KipOptions<T> options = {}) : kernel_(std::move(kernel)), options_(std::move(options)) {}

  const K& kernel() const { return kernel_; }
  const KipOptions<T>& options() const { return options_; }

  /**
   * Runs KIP on `train` and returns the learned support set.
   * @param train      images [N, C, H, W] (or [N, H, W], [N, features]) and labels
   * @param callbacks  any callbacks (ProgressBar, EarlyStop, Checkpoint, ...); each hook is optional
   * @return images [ipc·C, C, H, W] in the standardised space; labels: hard [N] when labels are fixed, the
   *         learned [N, C] label vectors when learn_labels
   * @throw invalid_argument on empty data, a class with fewer than images_per_class examples (real init) or no
   *        examples, NaN pixels, or bad options; numerical_error when K_ss + λI stops being positive definite;
   *        io_error when resume_from cannot be read or does not match
   */
  template <class... Callbacks>
  io::DistilledSet<T> fit(const LabeledData<T>& train, Callbacks&&... callbacks) {
    const char* where = "Kip::fit()";
    validate(train, where);
    const std::size_t classes = train.num_classes, ipc = options_.images_per_class, n = ipc * classes;
    const Shape image_shape = nchw_shape(train.images);
    const std::size_t channels = image_shape[1], d = train.images.size() / train.size();
    by_class_.assign(classes, {});
    pool_.assign(classes, {});
    for (std::size_t i = 0; i < train.size(); ++i) by_class_[std::size_t(train.labels[i])].push_back(i);

    // 1. standardisation
    mean_ = Tensor<T>({channels}, T(0));
    std_ = Tensor<T>({channels}, T(1));
    if (options_.standardize) channel_stats(train.images, channels, mean_, std_);

    // 2. initial support
    Rng rng(options_.seed);
    Tensor<T> xs = Tensor<T>::empty({n, d});
    Tensor<T> ys({n, classes});
    for (std::size_t cls = 0; cls < classes; ++cls) {
      for (std::size_t k = 0; k < ipc; ++k) {
        const std::size_t row = cls * ipc + k;
        if (options_.init == KipInit::noise)
          for (std::size_t f = 0; f < d; ++f) xs[row * d + f] = T(rng.normal());
        for (std::size_t k2 = 0; k2 < classes; ++k2) ys[row * classes + k2] = centred(k2 == cls, classes);
      }
      if (options_.init == KipInit::real) draw_real(train, xs, cls, ipc, d, channels, rng);
    }

    nn::Adam adam{.lr = options_.lr};
    nn::Adam adam_labels{.lr = options_.label_lr > 0 ? options_.label_lr : options_.lr};
    nn::Adam::State<T> state_x, state_y;
    std::size_t start = 0;
    if (!options_.resume_from.empty()) start = load_checkpoint(options_.resume_from, xs, ys, state_x, state_y);

    callbacks::TrainingState state{.step = start, .total_steps = options_.steps, .phase = "kip"};
    state.save_checkpoint = [&](const std::filesystem::path& path) {
      save_checkpoint(path, state.step, xs, ys, state_x, state_y);
    };
    const auto t0 = std::chrono::steady_clock::now();
    bool stop = callbacks::invoke_on_begin(state, callbacks...);

    // 3. the KIP loop
    Tensor<T> xt = Tensor<T>::empty({0, d}), yt;
    for (std::size_t step = start; step < options_.steps && !stop; ++step) {
      Rng step_rng(options_.seed * 0x9E3779B97F4A7C15ull + step + 1);  // a pure function of (seed, step): resumable
      sample_targets(train, step_rng, d, channels, image_shape, xt, yt);
      auto lg = kip_loss_and_grad<B>(kernel_, xs.reshape({n, d}), ys, xt, yt, options_.reg);
      DISTILL_CHECK(std::isfinite(lg.loss), where, ": the loss became ", lg.loss, " at step ", step,
                    "; try a smaller lr (now ", options_.lr, ") or a larger reg (now ", options_.reg, ")");
      const double f = lr_factor(step);
      adam.step(state_x, {&xs}, {&lg.d_support}, adam.lr * f);
      if (options_.learn_labels) adam_labels.step(state_y, {&ys}, {&lg.d_labels}, adam_labels.lr * f);

      state.step = step + 1;
      state.loss = lg.loss;
      state.metrics["batch_acc"] = lg.accuracy;
      state.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      stop = callbacks::invoke_on_step(state, callbacks...);
    }
    callbacks::invoke_on_end(state, callbacks...);

    // 4. the result
    io::DistilledSet<T> out;
    Shape shape = image_shape;
    shape[0] = n;
    out.images = xs.reshape(shape);
    if (options_.learn_labels) {
      out.labels = ys;
    } else {
      out.labels = Tensor<T>({n});
      for (std::size_t i = 0; i < n; ++i) out.labels[i] = T(i / ipc);
    }
    out.mean = mean_;
    out.stddev = std_;
    out.num_classes = classes;
    out.method = "kip";
    out.options_json = options_json();
    return out;
  }

  //! The centred one-hot value: 1 − 1/C for the class, −1/C elsewhere.
  static T centred(bool hot, std::size_t classes) { return T((hot ? 1.0 : 0.0) - 1.0 / double(classes)); }

 private:
  // The schedule's multiplier of lr at `step` (a pure function of the step, so resuming keeps it).
  double lr_factor(std::size_t step) const {
    if (options_.schedule == KipSchedule::constant || options_.steps == 0) return 1.0;
    return 0.5 * (1.0 + std::cos(std::numbers::pi * double(step) / double(options_.steps)));
  }

  void validate(const LabeledData<T>& train, const char* where) const {
    train.validate(where);
    DISTILL_CHECK(!train.empty(), where, ": the training set is empty");
    DISTILL_CHECK(options_.images_per_class > 0, where, ": images_per_class is 0, expected at least 1");
    DISTILL_CHECK(options_.target_batch_size >= train.num_classes, where, ": target_batch_size is ",
                  options_.target_batch_size, ", expected at least one image per class (", train.num_classes, ")");
    DISTILL_CHECK(options_.lr > 0 && options_.reg >= 0, where, ": lr is ", options_.lr, " and reg ", options_.reg,
                  ", expected lr > 0 and reg >= 0");
    DISTILL_CHECK(train.images.all_finite(), where, ": training images contain NaN or infinity");
    const auto counts = train.class_counts();
    for (std::size_t c = 0; c < counts.size(); ++c) {
      DISTILL_CHECK(counts[c] > 0, where, ": class ", c, " has no examples, expected every class to be present");
      DISTILL_CHECK(options_.init != KipInit::real || counts[c] >= options_.images_per_class, where, ": class ", c,
                    " has ", counts[c], " examples but images_per_class is ", options_.images_per_class);
    }
  }

  static Shape nchw_shape(const Tensor<T>& images) {
    const Shape& s = images.shape();
    if (s.size() == 4) return s;
    if (s.size() == 3) return {s[0], 1, s[1], s[2]};
    return {s[0], 1, 1, images.size() / std::max<std::size_t>(s[0], 1)};
  }

  static void channel_stats(const Tensor<T>& images, std::size_t channels, Tensor<T>& mean, Tensor<T>& stddev) {
    const std::size_t n = images.shape(0), per = images.size() / std::max<std::size_t>(n * channels, 1);
    for (std::size_t ch = 0; ch < channels; ++ch) {
      double s = 0, s2 = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const T* p = images.data() + (i * channels + ch) * per;
        for (std::size_t k = 0; k < per; ++k) s += double(p[k]), s2 += double(p[k]) * double(p[k]);
      }
      const double cnt = double(n * per), mu = s / cnt, var = std::max(s2 / cnt - mu * mu, 0.0);
      mean[ch] = T(mu);
      stddev[ch] = T(var > 0 ? std::sqrt(var) : 1.0);
    }
  }

  void copy_standardised(const Tensor<T>& images, std::size_t src, std::size_t d, std::size_t channels, T* dst) const {
    const T* p = images.data() + src * d;
    const std::size_t per = d / channels;
    for (std::size_t ch = 0; ch < channels; ++ch) {
      const T mu = mean_[ch], inv = T(1) / std_[ch];
      for (std::size_t k = 0; k < per; ++k) dst[ch * per + k] = (p[ch * per + k] - mu) * inv;
    }
  }

  // ipc distinct random images of class `cls` (partial Fisher–Yates on a copy of the class's indices).
  void draw_real(const LabeledData<T>& train, Tensor<T>& xs, std::size_t cls, std::size_t ipc, std::size_t d,
                        std::size_t channels, Rng& rng) const {
    std::vector<std::size_t> pool = by_class_[cls];
    for (std::size_t k = 0; k < ipc; ++k) {
      std::swap(pool[k], pool[k + rng.uniform_int(pool.size() - k)]);
      copy_standardised(train.images, pool[k], d, channels, xs.data() + (cls * ipc + k) * d);
    }
  }

  // A class-balanced batch: target_batch_size/C images per class (the remainder spread over the first classes),
  // drawn without replacement within each class by a partial Fisher–Yates shuffle.
  void sample_targets(const LabeledData<T>& train, Rng& rng, std::size_t d, std::size_t channels, const Shape& image_shape,
                      Tensor<T>& xt, Tensor<T>& yt) {
    const std::size_t classes = train.num_classes, m = options_.target_batch_size;
    if (xt.shape(0) != m) {
      xt = Tensor<T>::empty({m, d});
      yt = Tensor<T>({m, classes});
    }
    // Draw the rows first (serial: the order of the draws is the stream), then copy them in parallel: the
    // standardised copy of 5000 MNIST rows is 15.7 MB, a few ms of a step on one core.
    picks_.clear();
    std::size_t row = 0;
    for (std::size_t cls = 0; cls < classes; ++cls) {
      auto& pool = pool_[cls];
      pool = by_class_[cls];  // the draw depends only on (seed, step), not on earlier steps
      const std::size_t want = std::min(pool.size(), m / classes + (cls < m % classes ? 1 : 0));
      for (std::size_t k = 0; k < want; ++k, ++row) {
        std::swap(pool[k], pool[k + rng.uniform_int(pool.size() - k)]);
        picks_.push_back(pool[k]);
        for (std::size_t c2 = 0; c2 < classes; ++c2) yt[row * classes + c2] = centred(c2 == cls, classes);
      }
    }
    const long rows = static_cast<long>(row);
#pragma omp parallel for schedule(static) if (rows * long(d) >= (1L << 18))
    for (long r = 0; r < rows; ++r)
      copy_standardised(train.images, picks_[std::size_t(r)], d, channels, xt.data() + std::size_t(r) * d);
    if (row != m) {  // a class smaller than its share: use a smaller batch this step
      xt = xt.rows(0, row).clone();
      yt = yt.rows(0, row).clone();
    }
    if (options_.augment) {
      Shape s = image_shape;
      s[0] = xt.shape(0);
      Tensor<T> view = xt.reshape(s);
      options_.augment(view, rng);
    }
  }

  void save_checkpoint(const std::filesystem::path& path, std::size_t step, const Tensor<T>& xs, const Tensor<T>& ys,
                       const nn::Adam::State<T>& sx, const nn::Adam::State<T>& sy) const {
    io::NpzWriter w(path);
    auto i64 = [](std::size_t v) { return io::NpyArray::from_values(std::vector<std::int64_t>{std::int64_t(v)}, Shape{}); };
    w.add("step", i64(step));
    w.add("support", xs);
    w.add("labels", ys);
    w.add("adam_x_step", i64(sx.step));
    w.add("adam_y_step", i64(sy.step));
    if (!sx.m.empty()) w.add("adam_x_m", sx.m[0]), w.add("adam_x_v", sx.v[0]);
    if (!sy.m.empty()) w.add("adam_y_m", sy.m[0]), w.add("adam_y_v", sy.v[0]);
    w.add_string("options_json", options_json());
    w.finish();
  }

  std::size_t load_checkpoint(const std::filesystem::path& path, Tensor<T>& xs, Tensor<T>& ys, nn::Adam::State<T>& sx,
                              nn::Adam::State<T>& sy) const {
    const auto arrays = io::load_npz(path);
    auto get = [&](const char* key) -> const io::NpyArray& {
      const auto it = arrays.find(key);
      if (it == arrays.end())
        DISTILL_THROW(io_error, "Kip::fit(): checkpoint '", path.string(), "' has no '", key, "' (not a KIP checkpoint?)");
      return it->second;
    };
    auto tensor = [&](const char* key, const Tensor<T>& like) {
      Tensor<T> t = get(key).template as<T>();
      if (t.size() != like.size())
        DISTILL_THROW(io_error, "Kip::fit(): checkpoint '", path.string(), "' has '", key, "' of shape ", show(t.shape()),
                      " but this run needs ", show(like.shape()), " (same images_per_class and data?)");
      return t.reshape(like.shape());
    };
    xs = tensor("support", xs);
    ys = tensor("labels", ys);
    auto scalar = [&](const char* key) { return std::size_t(get(key).template to_vector<std::int64_t>().at(0)); };
    sx.step = scalar("adam_x_step");
    sy.step = scalar("adam_y_step");
    if (arrays.count("adam_x_m")) sx.m = {tensor("adam_x_m", xs)}, sx.v = {tensor("adam_x_v", xs)};
    if (arrays.count("adam_y_m")) sy.m = {tensor("adam_y_m", ys)}, sy.v = {tensor("adam_y_v", ys)};
    return scalar("step");
  }

  std::string options_json() const {
    std::ostringstream o;
    o.precision(17);
    o << "{\"images_per_class\": " << options_.images_per_class << ", \"steps\": " << options_.steps
      << ", \"target_batch_size\": " << options_.target_batch_size
      << ", \"learn_labels\": " << (options_.learn_labels ? "true" : "false")
      << ", \"init\": \"" << (options_.init == KipInit::real ? "real" : "noise") << "\", \"reg\": " << options_.reg
      << ", \"lr\": " << options_.lr << ", \"label_lr\": " << options_.label_lr
      << ", \"schedule\": \"" << (options_.schedule == KipSchedule::cosine ? "cosine" : "constant") << "\""
      << ", \"standardize\": " << (options_.standardize ? "true" : "false") << ", \"seed\": " << options_.seed << "}";
    return o.str();
  }

  K kernel_;
  KipOptions<T> options_;
  std::vector<std::vector<std::size_t>> by_class_, pool_;
  std::vector<std::size_t> picks_;  //!< this step's target rows, in batch order
  Tensor<T> mean_, std_;
};

}  // namespace distill::synthetic

#endif  // DISTILL_SYNTHETIC_KIP_HPP
