// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_VIEW_HPP
#define DISTILL_CORESET_VIEW_HPP

/**
 * @file
 * SelectionView: everything a coreset selector consumes, built once per data set and proxy model, each part only
 * when a selector first asks for it (so pixel-only methods never train a proxy):
 *
 *   pixels()            the raw pixels as rows [N, C·H·W] (exact bytes for 8-bit images; detail/rows.hpp)
 *   features()          pixels(), or the proxy's penultimate embedding h = features(θ, x) [N, F] (ViewOptions::features)
 *   probabilities()     softmax(forward(θ, x)) [N, K] of the proxy after proxy_epochs, averaged over proxy_nets
 *   gradient factors    the last-layer gradient of example i's cross-entropy in closed form, for logits = W h + b:
 *                       ∂ℓᵢ/∂[W, b] = (pᵢ − yᵢ) ⊗ [hᵢ, 1], kept as its two factors errors() = P − Y [N, K] and
 *                       inputs() = [H, 1] [N, F + 1] (never the N × K(F+1) matrix, never per-sample autodiff)
 *   dynamics()          per-example correctness of the proxy's prediction at the end of every epoch [E][N],
 *                       recorded by a training callback (forgetting events)
 *   input_jacobian()    the proxy's logits of a batch and their gradients w.r.t. the input, through the tape
 *                       (DeepFool)
 *
 * The proxy (any nn::Model; features() needed for the embedding and the gradients) is trained with eval::train on
 * the data standardised per channel, with the protocol's SGD for proxy_epochs epochs; net r starts from
 * Rng(seed + r) and shuffles with seed + r, so the same seed gives the same view. Or the proxy is given with its
 * trained parameters (use_params(), of_params()): adaptive selection re-selects with the network being trained.
 */

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "distill/callbacks/progress_bar.hpp"
#include "distill/core.hpp"
#include "distill/coreset/detail/rows.hpp"
#include "distill/eval/train.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/nn/concepts.hpp"

namespace distill::coreset {

//! What features() returns.
enum class FeatureSource {
  pixels,     //!< the raw pixels
  embedding,  //!< the proxy network's penultimate embedding (its features())
};

//! Options of a SelectionView (the proxy's training).
struct ViewOptions {
  FeatureSource features = FeatureSource::pixels;
  std::size_t proxy_epochs = 3;   //!< epochs of proxy training (GraNd / EL2N score "early in training")
  std::size_t proxy_nets = 1;     //!< independently trained proxies whose probabilities and scores are averaged
  std::size_t batch_size = 256;   //!< proxy training minibatch
  double lr = 0.01;               //!< proxy SGD learning rate (momentum 0.9, weight decay 5e-4, the protocol's)
  std::uint64_t seed = 0;         //!< proxy r: init Rng(seed + r), minibatch order seed + r
  bool progress = false;          //!< a progress bar on stderr while a proxy trains
  std::size_t eval_batch_size = 512;  //!< forward passes over the data in batches of this many

  //! @throw invalid_argument on a zero count
  void validate(std::string_view where) const {
    DISTILL_CHECK(proxy_epochs > 0, where, ": proxy_epochs is 0, expected at least 1");
    DISTILL_CHECK(proxy_nets > 0, where, ": proxy_nets is 0, expected at least 1");
    DISTILL_CHECK(batch_size > 0 && eval_batch_size > 0, where, ": a batch size is 0");
    DISTILL_CHECK(lr > 0 && std::isfinite(lr), where, ": lr is ", lr, ", expected a positive number");
  }
};

//! What one trained proxy gives the view.
template <std::floating_point T>
struct ProxyRun {
  nn::Params<T> params;                          //!< the trained proxy
  Tensor<T> probabilities;                       //!< [N, K]
  Tensor<T> embedding;                           //!< [N, F] (empty when the model has no features())
  std::vector<std::vector<std::uint8_t>> correct;  //!< [epoch][N]: 1 when the argmax was the label at that epoch's end
};

namespace detail {

//! Logits (and the embedding, when the model has features()) of all of `data`, in batches, without a tape.
template <class B, class M, class T>
void forward_all(const M& model, const nn::Params<T>& params, const Tensor<T>& images, std::size_t batch,
                 Tensor<T>& logits, Tensor<T>* embedding) {
  const auto theta = nn::constants<B>(params);
  const std::size_t n = images.shape(0);
  for (std::size_t b = 0; b < n; b += batch) {
    const std::size_t e = std::min(n, b + batch);
    const ad::Var<B> x(images.rows(b, e));
    const Tensor<T> z = model.template forward<B>(theta, x).value();
    if (b == 0) logits = Tensor<T>(Shape{n, z.shape(1)});
    std::copy(z.data(), z.data() + z.size(), logits.data() + b * z.shape(1));
    if constexpr (nn::HasFeatures<M, B>) {
      if (embedding) {
        const Tensor<T> h = model.template features<B>(theta, x).value();
        const std::size_t f = h.size() / (e - b);
        if (b == 0) *embedding = Tensor<T>(Shape{n, f});
        std::copy(h.data(), h.data() + h.size(), embedding->data() + b * f);
      }
    }
  }
}

//! Row-wise argmax(logits) == label, as bytes.
template <class T>
std::vector<std::uint8_t> correct_of(const Tensor<T>& logits, const std::vector<std::int64_t>& labels) {
  const std::size_t n = logits.shape(0), k = logits.shape(1);
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = logits.data() + i * k;
    out[i] = std::size_t(std::max_element(row, row + k) - row) == std::size_t(labels[i]);
  }
  return out;
}

/// The training callback that records training dynamics: after every epoch, each example's correctness.
template <class B, class M, class T>
struct RecordCorrectness {
  const M* model;
  const nn::Params<T>* params;  //!< trained in place by eval::train: read at each epoch's end
  const LabeledData<T>* data;
  std::size_t batch;
  std::vector<std::vector<std::uint8_t>>* out;
  void on_epoch_end(callbacks::TrainingState&) {
    Tensor<T> logits;
    forward_all<B>(*model, *params, data->images, batch, logits, static_cast<Tensor<T>*>(nullptr));
    out->push_back(correct_of(logits, data->labels));
  }
};

//! Softmax of each row, computed in double.
template <class T>
Tensor<T> softmax_rows(const Tensor<T>& z) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  Tensor<T> p(Shape{n, k});
  for (std::size_t i = 0; i < n; ++i) {
    const T* r = z.data() + i * k;
    const double top = double(*std::max_element(r, r + k));
    double s = 0;
    for (std::size_t c = 0; c < k; ++c) s += std::exp(double(r[c]) - top);
    for (std::size_t c = 0; c < k; ++c) p[i * k + c] = T(std::exp(double(r[c]) - top) / s);
  }
  return p;
}

}  // namespace detail

/**
 * WHAT THIS OBJECT REPRESENTS
 *   A data set plus (optionally) a proxy model, and everything coreset selectors read from them, computed lazily
 *   and kept (see the file comment). Not thread-safe: one selector at a time.
 *
 * requires: data valid (labels in [0, num_classes)), non-empty, finite
 * ensures:  every accessor returns the same bytes for the same data, model and options
 */
template <std::floating_point T = float>
class SelectionView {
 public:
  /**
   * A view without a proxy: pixels() and features() (pixels) only; the other accessors throw.
   * @throw invalid_argument on invalid or empty data or options
   */
  explicit SelectionView(LabeledData<T> data, ViewOptions options = {}) : data_(std::move(data)), opt_(options) {
    check("SelectionView()");
  }

  /**
   * A view with a proxy model, trained on first use.
   * @tparam B  the backend of proxy training (default: DefaultBackend<T>)
   * @param proxy  a nn::Model with the data's input shape and num_classes outputs; features() for embedding
   *               features and gradients
   */
  template <class B = void, class M>
  SelectionView(LabeledData<T> data, const M& proxy, ViewOptions options = {}) : SelectionView(std::move(data), options) {
    using BB = eval::detail::backend_or_default<B, T>;
    DISTILL_REQUIRE_MODEL(M, BB, "distill::coreset::SelectionView");
    set_model<BB>(proxy);
    train_ = [proxy](SelectionView& v, std::size_t net) { return v.template train_proxy<BB>(proxy, net); };
  }

  /**
   * Makes `model` with the given, already trained parameters the view's one proxy, instead of proxies the view
   * trains itself: adaptive selection (adaptive.hpp) re-selects with the network it is training, so every model
   * quantity (probabilities, embedding, gradient factors, input Jacobians) must come from those parameters. What
   * the data alone give (pixels(), standardized()) is kept; the model quantities are forgotten and recomputed from
   * `params` on first use, so a pixel-only selector still costs no forward pass.
   * @param params    a deep copy is kept (training may go on updating the caller's)
   * @param dynamics  the network's per-epoch correctness on these data so far ([epoch][N], what dynamics() returns;
   *                  Forgetting needs it), or empty
   * @throw invalid_argument when proxy_nets is not 1, params is empty or a dynamics row does not have N entries
   */
  template <class B = void, class M>
  void use_params(const M& model, const nn::Params<T>& params, std::vector<std::vector<std::uint8_t>> dynamics = {}) {
    using BB = eval::detail::backend_or_default<B, T>;
    DISTILL_REQUIRE_MODEL(M, BB, "distill::coreset::SelectionView::use_params");
    DISTILL_CHECK(opt_.proxy_nets == 1, "SelectionView::use_params(): proxy_nets is ", opt_.proxy_nets,
                  ", expected 1 (a view of given parameters has one proxy)");
    DISTILL_CHECK(params.size() > 0, "SelectionView::use_params(): params is empty; make them with model.init<B>(rng)");
    for (std::size_t e = 0; e < dynamics.size(); ++e)
      DISTILL_CHECK(dynamics[e].size() == size(), "SelectionView::use_params(): dynamics row ", e, " has ",
                    dynamics[e].size(), " entries for ", size(), " examples");
    set_model<BB>(model);
    train_ = [model, p = params.clone(), d = std::move(dynamics)](SelectionView& v, std::size_t) {
      return v.template run_of<BB>(model, p, d);
    };
    runs_.clear();
    probabilities_.reset();
    embedding_rows_.reset();
  }

  /**
   * A view whose one proxy is `model` with the given trained parameters (use_params()).
   * @throw invalid_argument as the constructor and use_params()
   */
  template <class B = void, class M>
  static SelectionView of_params(LabeledData<T> data, const M& model, const nn::Params<T>& params, ViewOptions options = {},
                                 std::vector<std::vector<std::uint8_t>> dynamics = {}) {
    SelectionView view(std::move(data), options);
    view.template use_params<B>(model, params, std::move(dynamics));
    return view;
  }

  const LabeledData<T>& data() const { return data_; }
  const ViewOptions& options() const { return opt_; }
  std::size_t size() const { return data_.size(); }
  std::size_t num_classes() const { return data_.num_classes; }
  //! True when a proxy model was given.
  bool has_proxy() const { return bool(train_); }
  //! How many proxy networks have been trained so far (0 until a selector asks for a model quantity).
  std::size_t proxies_trained() const { return runs_.size(); }

  //! The raw pixels as streamed rows.
  const detail::RowStore& pixels() {
    if (!pixels_) pixels_ = detail::RowStore(data_.images);
    return *pixels_;
  }

  //! The features selectors measure distances in: pixels() or the proxy's embedding (ViewOptions::features).
  const detail::RowStore& features() {
    if (opt_.features == FeatureSource::pixels) return pixels();
    if (!embedding_rows_) embedding_rows_ = detail::RowStore(embedding(), false);
    return *embedding_rows_;
  }

  //! The data as the proxies see them: standardised per channel by their own statistics.
  const LabeledData<T>& standardized() {
    if (!standardized_) standardized_ = io::ChannelStandardization<T>::of(data_.images).applied_to(data_);
    return *standardized_;
  }

  //! The penultimate embedding [N, F] of proxy 0.
  const Tensor<T>& embedding() {
    const auto& r = proxy(0);
    DISTILL_CHECK(r.embedding.size() > 0, "SelectionView::embedding(): the proxy model has no features(); give a model with "
                                          "features() (e.g. nn::ConvNet) or use FeatureSource::pixels");
    return r.embedding;
  }

  //! The proxies' softmax probabilities [N, K], averaged over proxy_nets.
  const Tensor<T>& probabilities() {
    if (!probabilities_) {
      Tensor<T> p = proxy(0).probabilities.clone();
      for (std::size_t r = 1; r < opt_.proxy_nets; ++r) {
        const auto& q = proxy(r).probabilities;
        for (std::size_t i = 0; i < p.size(); ++i) p[i] += q[i];
      }
      for (auto& v : p) v /= T(opt_.proxy_nets);
      probabilities_ = std::move(p);
    }
    return *probabilities_;
  }

  //! e = p − onehot(y) of proxy `net` [N, K]: the first factor of each example's last-layer gradient.
  Tensor<T> errors(std::size_t net = 0) {
    Tensor<T> e = proxy(net).probabilities.clone();
    const std::size_t k = e.shape(1);
    for (std::size_t i = 0; i < size(); ++i) e[i * k + std::size_t(data_.labels[i])] -= T(1);
    return e;
  }

  //! [h, 1] of proxy `net` [N, F + 1]: the second factor of each example's last-layer gradient.
  Tensor<T> inputs(std::size_t net = 0) {
    const Tensor<T>& h = proxy(net).embedding;
    DISTILL_CHECK(h.size() > 0, "SelectionView::inputs(): last-layer gradients need a proxy model with features()");
    const std::size_t n = size(), f = h.shape(1);
    Tensor<T> out(Shape{n, f + 1});
    for (std::size_t i = 0; i < n; ++i) {
      std::copy(h.data() + i * f, h.data() + (i + 1) * f, out.data() + i * (f + 1));
      out[i * (f + 1) + f] = T(1);
    }
    return out;
  }

  /**
   * Proxy 0's logits z = forward(θ, x) [n, K] of a batch x (in the standardised space of standardized()) and their
   * input gradients through the tape: jac[k] = ∂z_·k/∂x, each [n, ...] like x (DeepFool).
   */
  void input_jacobian(const Tensor<T>& x, Tensor<T>& logits, std::vector<Tensor<T>>& jac) {
    DISTILL_CHECK(has_proxy(), "SelectionView::input_jacobian(): this selector needs a proxy model; build the view as "
                               "SelectionView(data, model, options)");
    jacobian_(*this, x, logits, jac);
  }

  //! Correctness of proxy 0's prediction of each example at the end of each epoch, [epoch][N].
  const std::vector<std::vector<std::uint8_t>>& dynamics() {
    const auto& c = proxy(0).correct;
    DISTILL_CHECK(!c.empty(), "SelectionView::dynamics(): the proxy has no training dynamics (a view of given parameters "
                              "has them only when use_params() is given them; adaptive selection: record_dynamics)");
    return c;
  }

  //! Proxy `net` (trained on first use; net < proxy_nets).
  const ProxyRun<T>& proxy(std::size_t net) {
    DISTILL_CHECK(has_proxy(), "SelectionView: this selector needs a proxy model (probabilities, embeddings, gradients or "
                               "training dynamics); build the view as SelectionView(data, model, options)");
    DISTILL_CHECK(net < opt_.proxy_nets, "SelectionView::proxy(): net ", net, " but proxy_nets is ", opt_.proxy_nets);
    while (runs_.size() <= net) runs_.push_back(train_(*this, runs_.size()));
    return runs_[net];
  }

 private:
  void check(const char* where) const {
    data_.validate(where);
    DISTILL_CHECK(!data_.empty(), where, ": the data are empty");
    DISTILL_CHECK(data_.images.all_finite(), where, ": the images contain NaN or infinity");
    opt_.validate(where);
  }

  //! The proxy's model: whether it has features(), and DeepFool's input Jacobian through its tape.
  template <class BB, class M>
  void set_model(const M& proxy) {
    has_features_ = nn::HasFeatures<M, BB>;
    jacobian_ = [proxy](SelectionView& v, const Tensor<T>& x, Tensor<T>& logits, std::vector<Tensor<T>>& jac) {
      // One forward pass on a tape with x as the variable; then ∂(Σ_i z_ik)/∂x for each class k, which is each row's
      // own ∂z_ik/∂x_i because the examples of a batch do not interact (per-sample normalisation only).
      ad::Tape<BB> tape;
      const auto theta = nn::constants<BB>(v.proxy(0).params);
      const ad::Var<BB> xv = tape.variable(x.clone());
      const ad::Var<BB> z = proxy.template forward<BB>(theta, xv);
      logits = z.value().clone();
      const std::size_t n = z.shape(0), k = z.shape(1);
      jac.clear();
      for (std::size_t c = 0; c < k; ++c) {
        Tensor<T> seed(Shape{n, k});
        for (std::size_t i = 0; i < n; ++i) seed[i * k + c] = T(1);
        jac.push_back(ad::grad(z, std::vector<ad::Var<BB>>{xv}, {}, ad::Var<BB>(seed))[0].value().clone());
      }
    };
  }

  template <class B, class M>
  ProxyRun<T> train_proxy(const M& model, std::size_t net) {
    const LabeledData<T>& d = standardized();
    Rng rng(opt_.seed + net);
    nn::Params<T> params = model.template init<B>(rng);
    ProxyRun<T> run;
    detail::RecordCorrectness<B, M, T> record{&model, &params, &d, opt_.eval_batch_size, &run.correct};
    const eval::TrainOptions<T> to{.epochs = opt_.proxy_epochs, .batch_size = opt_.batch_size, .lr = opt_.lr,
                                   .schedule = eval::Schedule::constant, .seed = opt_.seed + net};
    if (opt_.progress) eval::train<B>(model, params, d, to, record, callbacks::ProgressBar{});
    else eval::train<B>(model, params, d, to, record);
    return run_of<B>(model, std::move(params), std::move(run.correct));
  }

  //! What proxy parameters give on standardized(): probabilities and (with features()) the embedding.
  template <class B, class M>
  ProxyRun<T> run_of(const M& model, nn::Params<T> params, std::vector<std::vector<std::uint8_t>> correct) {
    ProxyRun<T> run;
    Tensor<T> logits;
    detail::forward_all<B>(model, params, standardized().images, opt_.eval_batch_size, logits,
                           has_features_ ? &run.embedding : static_cast<Tensor<T>*>(nullptr));
    run.probabilities = detail::softmax_rows(logits);
    run.params = std::move(params);
    run.correct = std::move(correct);
    return run;
  }

  LabeledData<T> data_;
  ViewOptions opt_;
  bool has_features_ = false;
  std::function<ProxyRun<T>(SelectionView&, std::size_t)> train_;
  std::function<void(SelectionView&, const Tensor<T>&, Tensor<T>&, std::vector<Tensor<T>>&)> jacobian_;
  std::optional<LabeledData<T>> standardized_;
  std::optional<detail::RowStore> pixels_, embedding_rows_;
  std::optional<Tensor<T>> probabilities_;
  std::vector<ProxyRun<T>> runs_;
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_VIEW_HPP
