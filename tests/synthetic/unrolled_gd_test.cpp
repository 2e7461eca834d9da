// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "distill/synthetic/unrolled_gd.hpp"
#include "support/backends.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
namespace syn = distill::synthetic;
using distill::Shape;
using distill::Tensor;
namespace io = distill::io;

namespace {

// Smooth test models (tanh, not relu), so finite differences never straddle a kink.
struct TinyMlp {
  std::size_t in = 12, hidden = 5, classes = 3;
  template <distill::Backend B>
  nn::Params<typename B::Scalar> init(distill::Rng& rng) const {
    using T = typename B::Scalar;
    nn::Params<T> p;
    p.names = {"w1", "b1", "w2"};
    p.tensors = {Tensor<T>({in, hidden}), Tensor<T>({hidden}), Tensor<T>({hidden, classes})};
    for (auto& t : p.tensors) B::random_normal(rng, t.data(), t.size(), T(0), T(0.5));
    return p;
  }
  template <distill::Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& p, const ad::Var<B>& x) const {
    const auto h = ad::tanh(ad::add(ad::matmul(ad::flatten(x), p[0]), p[1]));
    return ad::matmul(h, p[2]);
  }
};

struct TinyConvNet {
  std::size_t classes = 3;
  template <distill::Backend B>
  nn::Params<typename B::Scalar> init(distill::Rng& rng) const {
    using T = typename B::Scalar;
    nn::Params<T> p;
    p.names = {"conv.w", "conv.b", "fc.w"};
    p.tensors = {Tensor<T>({2, 1, 3, 3}), Tensor<T>({2}), Tensor<T>({2 * 2 * 2, classes})};
    for (auto& t : p.tensors) B::random_normal(rng, t.data(), t.size(), T(0), T(0.5));
    return p;
  }
  template <distill::Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& p, const ad::Var<B>& x) const {
    const auto h = ad::avg_pool2d(ad::tanh(ad::conv2d(x, p[0], p[1], {.stride = 1, .padding = 1})), 2);
    return ad::matmul(ad::flatten(h), p[2]);
  }
};

template <class B, class M>
struct Problem {
  using T = typename B::Scalar;
  M model;
  std::vector<Tensor<T>> images;
  std::vector<std::int64_t> labels{0, 1, 2};
  std::vector<Tensor<T>> soft_labels;
  Tensor<T> log_lr;
  nn::Params<T> theta0;
  Tensor<T> real_x;
  std::vector<std::int64_t> real_y{0, 2, 1, 1, 0, 2};
  std::size_t epochs = 2;
  syn::InnerOptimizer inner = {};

  //! per_tensor: log_lr is [E·T, P], a different step size for each parameter tensor at each step.
  Problem(M m, Shape image_shape, std::size_t steps, bool learn_labels, bool per_tensor = false) : model(m) {
    distill::Rng rng(7);
    for (std::size_t t = 0; t < steps; ++t) {
      Tensor<T> im(image_shape);
      B::random_normal(rng, im.data(), im.size(), T(0), T(1));
      images.push_back(im);
      if (learn_labels) {
        Tensor<T> ll({3, 3});
        B::random_normal(rng, ll.data(), ll.size(), T(0), T(1));
        soft_labels.push_back(ll);
      }
    }
    theta0 = model.template init<B>(rng);
    log_lr = per_tensor ? Tensor<T>({steps * epochs, theta0.tensors.size()}) : Tensor<T>({steps * epochs});
    for (std::size_t i = 0; i < log_lr.size(); ++i) log_lr[i] = T(std::log(0.3 + 0.05 * double(i)));
    Shape rs = image_shape;
    rs[0] = real_y.size();
    real_x = Tensor<T>(rs);
    B::random_normal(rng, real_x.data(), real_x.size(), T(0), T(1));
  }
  syn::Hypergradient<T> hypergradient(syn::Memory memory) const {
    syn::UnrolledGdResult<T> set;  // shares the tensors: perturbing images[t] moves the set
    set.images = images, set.labels = labels, set.soft_labels = soft_labels, set.log_lr = log_lr;
    set.steps = images.size(), set.epochs = epochs, set.classes = 3, set.inner = inner;
    return syn::unrolled_hypergradient<B>(model, {.set = set, .theta0 = theta0, .real_x = real_x, .real_y = real_y,
                                                  .memory = memory});
  }
};

// Central 6-point finite difference of the outer loss along one coordinate of `x` (a tensor of the problem).
template <class P>
double numeric_derivative(P& problem, Tensor<double>& x, std::size_t i) {
  const double x0 = x[i], h = std::pow(2.2e-16, 1.0 / 7.0) * std::max(1.0, std::abs(x0));
  auto at = [&](double k) {
    x[i] = x0 + k * h;
    const double v = problem.hypergradient(syn::Memory::full).loss;
    x[i] = x0;
    return v;
  };
  return (-at(-3) + 9 * at(-2) - 45 * at(-1) + 45 * at(1) - 9 * at(2) + at(3)) / (60 * h);
}

template <class P>
void check_against_finite_differences(P& problem) {
  const auto hg = problem.hypergradient(syn::Memory::full);
  double worst = 0;
  for (std::size_t t = 0; t < problem.images.size(); ++t)
    for (std::size_t i = 0; i < problem.images[t].size(); i += 3) {
      const double num = numeric_derivative(problem, problem.images[t], i);
      worst = std::max(worst, relative_error(hg.d_images[t][i], num, 1e-9));
    }
  for (std::size_t i = 0; i < problem.log_lr.size(); ++i)
    worst = std::max(worst, relative_error(hg.d_log_lr[i], numeric_derivative(problem, problem.log_lr, i), 1e-9));
  for (std::size_t t = 0; t < problem.soft_labels.size(); ++t)
    for (std::size_t i = 0; i < problem.soft_labels[t].size(); ++i)
      worst = std::max(worst, relative_error(hg.d_soft_labels[t][i],
                                             numeric_derivative(problem, problem.soft_labels[t], i), 1e-9));
  CHECK(worst < 1e-4);
}

//! The recompute mode's hypergradient equals the full mode's (loss, rates, images, labels); returns the full one.
template <class P>
auto check_recompute_agrees(const P& problem) {
  const auto full = problem.hypergradient(syn::Memory::full);
  const auto lean = problem.hypergradient(syn::Memory::recompute);
  CHECK(lean.loss == Approx(full.loss).epsilon(1e-12));
  REQUIRE(full.d_log_lr.shape() == lean.d_log_lr.shape());
  CHECK(distill::max_abs_diff(full.d_log_lr, lean.d_log_lr) < 1e-12);
  REQUIRE(full.d_images.size() == lean.d_images.size());
  REQUIRE(full.d_soft_labels.size() == lean.d_soft_labels.size());
  for (std::size_t t = 0; t < full.d_images.size(); ++t)
    CHECK(distill::max_abs_diff(full.d_images[t], lean.d_images[t]) < 1e-12);
  for (std::size_t t = 0; t < full.d_soft_labels.size(); ++t)
    CHECK(distill::max_abs_diff(full.d_soft_labels[t], lean.d_soft_labels[t]) < 1e-12);
  return full;
}

//! n images [n, 1, 3, 4] of three Gaussian blobs (class i % 3 is high, `high`, on every third pixel), and labels.
template <class T>
std::pair<Tensor<T>, std::vector<std::int64_t>> blobs(std::size_t n, double high, std::uint64_t seed) {
  distill::Rng rng(seed);
  Tensor<T> x({n, 1, 3, 4});
  std::vector<std::int64_t> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = std::int64_t(i % 3);
    for (std::size_t j = 0; j < 12; ++j) x[i * 12 + j] = T(rng.normal(j % 3 == i % 3 ? high : -0.5, 0.7));
  }
  return {x, y};
}

}  // namespace

TEMPLATE_TEST_CASE("unrolled_hypergradient: exact through 3 steps x 2 epochs (MLP) vs finite differences",
                   "[synthetic][grad][second-order]", DISTILL_TEST_DOUBLE_BACKENDS) {
  Problem<TestType, TinyMlp> p(TinyMlp{}, Shape{3, 1, 3, 4}, 3, false);
  check_against_finite_differences(p);
}

TEMPLATE_TEST_CASE("unrolled_hypergradient: exact with learned labels and a conv net vs finite differences",
                   "[synthetic][grad][second-order]", DISTILL_TEST_DOUBLE_BACKENDS) {
  Problem<TestType, TinyConvNet> p(TinyConvNet{}, Shape{3, 1, 4, 4}, 3, true);
  check_against_finite_differences(p);
}

TEMPLATE_TEST_CASE("unrolled_hypergradient: exact with a step size per parameter tensor vs finite differences, "
                   "recompute mode agrees", "[synthetic][grad][second-order][memory]", DISTILL_TEST_DOUBLE_BACKENDS) {
  Problem<TestType, TinyConvNet> p(TinyConvNet{}, Shape{3, 1, 4, 4}, 3, false, true);
  REQUIRE(p.log_lr.shape() == Shape{6, 3});
  check_against_finite_differences(p);
  const auto full = check_recompute_agrees(p);
  REQUIRE(full.d_log_lr.shape() == Shape{6, 3});
  // Each tensor's rate has its own derivative: they are not one number copied P times.
  CHECK(full.d_log_lr.at(0, 0) != Approx(full.d_log_lr.at(0, 2)));
  // A rate row of the wrong width names both counts.
  p.log_lr = Tensor<double>({6, 2});
  CHECK_THROWS_WITH(p.hypergradient(syn::Memory::full),
                    Catch::Contains("2 step sizes per step") && Catch::Contains("3 parameter tensors"));
}

TEMPLATE_TEST_CASE("unrolled_hypergradient: exact through inner Adam steps vs finite differences, recompute agrees",
                   "[synthetic][grad][second-order][memory]", DISTILL_TEST_DOUBLE_BACKENDS) {
  // Learned labels and per-tensor rates too, so every path through the moments is exercised. ε = 0.05 keeps the
  // normalised update far from its kink-like regime at g → 0, where a finite difference would need a tiny step.
  Problem<TestType, TinyConvNet> p(TinyConvNet{}, Shape{3, 1, 4, 4}, 3, true, true);
  p.inner = {.rule = syn::InnerOptimizer::Rule::adam, .beta1 = 0.8, .beta2 = 0.95, .eps = 0.05};
  for (std::size_t i = 0; i < p.log_lr.size(); ++i) p.log_lr[i] = std::log(0.05 + 0.01 * double(i % 5));
  check_against_finite_differences(p);
  const auto full = check_recompute_agrees(p);
  // The moments matter: the same rates through SGD give another loss.
  auto sgd = p;
  sgd.inner = {};
  CHECK(sgd.hypergradient(syn::Memory::full).loss != Approx(full.loss));
  p.inner.beta2 = 1.0;
  CHECK_THROWS_WITH(p.hypergradient(syn::Memory::full), Catch::Contains("inner adam") && Catch::Contains("beta2"));
}

TEMPLATE_TEST_CASE("unrolled_hypergradient: exact through inner momentum steps vs finite differences, recompute "
                   "agrees", "[synthetic][grad][second-order][memory]", DISTILL_TEST_DOUBLE_BACKENDS) {
  Problem<TestType, TinyConvNet> p(TinyConvNet{}, Shape{3, 1, 4, 4}, 3, true, true);
  p.inner = {.rule = syn::InnerOptimizer::Rule::momentum, .momentum = 0.8};
  check_against_finite_differences(p);
  const auto full = check_recompute_agrees(p);
  // The buffer matters: the same rates through plain SGD give another loss; μ = 0 is plain SGD exactly.
  auto sgd = p;
  sgd.inner = {};
  const auto plain = sgd.hypergradient(syn::Memory::full);
  CHECK(plain.loss != Approx(full.loss));
  auto zero = p;
  zero.inner.momentum = 0;
  const auto mu0 = zero.hypergradient(syn::Memory::recompute);
  CHECK(mu0.loss == Approx(plain.loss).epsilon(1e-12));
  CHECK(distill::max_abs_diff(mu0.d_log_lr, plain.d_log_lr) < 1e-12);
  p.inner.momentum = 1.0;
  CHECK_THROWS_WITH(p.hypergradient(syn::Memory::full), Catch::Contains("inner momentum") && Catch::Contains("[0, 1)"));
}

TEMPLATE_TEST_CASE("unrolled_hypergradient: recompute mode gives the full mode's hypergradient",
                   "[synthetic][memory]", DISTILL_TEST_DOUBLE_BACKENDS) {
  Problem<TestType, TinyConvNet> conv(TinyConvNet{}, Shape{3, 1, 4, 4}, 3, true);
  const auto full = check_recompute_agrees(conv);
  CHECK(full.d_soft_labels.size() == 3);
  Problem<TestType, TinyMlp> mlp(TinyMlp{}, Shape{3, 1, 3, 4}, 3, false);
  check_recompute_agrees(mlp);
}

TEMPLATE_TEST_CASE("UnrolledGd::fit: learns images that train the net, step sizes stay positive", "[synthetic]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // Three Gaussian blobs in 12-d; one distilled image per class, fixed init.
  const std::size_t n = 300;
  const auto data = blobs<T>(n, 1.5, 3);
  const Tensor<T>& x = data.first;
  const std::vector<std::int64_t>& y = data.second;
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.images_per_class = 1, .steps = 1, .epochs = 2, .initial_lr = 0.5, .outer_steps = 200,
                                              .outer_lr = 0.05, .lr_lr = 0.05, .real_batch = 64, .seed = 1});
  const auto result = ugd.fit_steps({x, y, 3});
  REQUIRE(result.loss_history.size() == 200);
  double early = 0, late = 0;
  for (int i = 0; i < 10; ++i) early += result.loss_history[std::size_t(i)], late += result.loss_history[190 + std::size_t(i)];
  CHECK(late < 0.6 * early);
  for (std::size_t i = 0; i < result.log_lr.size(); ++i) CHECK(result.lr(i) > 0);
  // Applying the distilled steps to the fixed init classifies the real data far better than the init does.
  auto accuracy = [&](const nn::Params<T>& params) {
    std::vector<ad::Var<B>> vars;
    for (const auto& t : params.tensors) vars.emplace_back(t);
    const auto logits = TinyMlp{}.forward<B>(vars, ad::Var<B>(x)).value();
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < 3; ++k)
        if (logits.at(i, k) > logits.at(i, best)) best = k;
      correct += best == std::size_t(y[i]);
    }
    return double(correct) / double(n);
  };
  const double before = accuracy(*ugd.fixed_init());
  const double after = accuracy(syn::apply_distilled<B>(TinyMlp{}, *ugd.fixed_init(), result));
  CHECK(after > 0.75);
  CHECK(after > before + 0.3);
}

namespace {

/// A hand-made 3-step × 2-epoch set on 3-class blobs with the given inner rule, replayed by apply_distilled from a
/// random TinyMlp init, and the same six steps taken by `optimizer` (an nn:: optimizer at the set's step sizes).
/// Checks that both end at the same weights and that the weights moved.
template <class B, class Optimizer>
void check_replay_matches(const syn::InnerOptimizer& inner, const Optimizer& optimizer, double tol) {
  using T = typename B::Scalar;
  const auto data = blobs<T>(30, 1.5, 5);
  syn::UnrolledGdResult<T> set;
  set.steps = 3, set.epochs = 2, set.classes = 3;
  set.labels = {0, 1, 2};
  set.inner = inner;
  for (std::size_t t = 0; t < 3; ++t) {  // step t trains on blobs 3t .. 3t + 2 (classes 0, 1, 2)
    Tensor<T> im({3, 1, 3, 4});
    std::copy_n(data.first.data() + t * 36, 36, im.data());
    set.images.push_back(im);
  }
  set.log_lr = Tensor<T>({6});
  for (std::size_t i = 0; i < 6; ++i) set.log_lr[i] = T(std::log(0.02 * double(i + 1)));
  distill::Rng rng(4);
  const auto theta0 = TinyMlp{}.init<B>(rng);
  const auto replayed = syn::apply_distilled<B>(TinyMlp{}, theta0, set);

  nn::Params<T> theta = theta0.clone();
  typename Optimizer::template State<T> state;
  for (std::size_t i = 0; i < 6; ++i) {
    ad::Tape<B> tape;
    std::vector<ad::Var<B>> vars;
    for (const auto& p : theta.tensors) vars.push_back(tape.variable(p));
    const auto logits = TinyMlp{}.forward<B>(vars, ad::Var<B>(set.images[i % 3]));
    const auto g = ad::grad(nn::cross_entropy(logits, ad::Var<B>(nn::one_hot<T>(set.labels, 3))), vars);
    std::vector<Tensor<T>*> params;
    std::vector<Tensor<T>> grads;
    for (std::size_t k = 0; k < 3; ++k) params.push_back(&theta.tensors[k]), grads.push_back(g[k].value());
    std::vector<const Tensor<T>*> grad_ptrs;
    for (const auto& gk : grads) grad_ptrs.push_back(&gk);
    optimizer.step(state, params, grad_ptrs, double(set.lr(i)));
  }
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(distill::max_abs_diff(replayed.tensors[k], theta.tensors[k]) < tol);
    CHECK(distill::max_abs_diff(replayed.tensors[k], theta0.tensors[k]) > 0.01);  // it did move
  }
}

}  // namespace

TEMPLATE_TEST_CASE("apply_distilled: inner Adam replays the steps as nn::Adam trains on the same batches",
                   "[synthetic]", DISTILL_TEST_BACKENDS) {
  using T = typename TestType::Scalar;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-9;  // √(v̂ + ε²) against √v̂ + ε, rounding
  check_replay_matches<TestType>({.rule = syn::InnerOptimizer::Rule::adam, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-12},
                                 nn::Adam{.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-12}, tol);
}

TEMPLATE_TEST_CASE("apply_distilled: inner momentum replays the steps as nn::Sgd with momentum trains on the same "
                   "batches", "[synthetic]", DISTILL_TEST_BACKENDS) {
  using T = typename TestType::Scalar;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  check_replay_matches<TestType>({.rule = syn::InnerOptimizer::Rule::momentum, .momentum = 0.7}, nn::Sgd{.momentum = 0.7},
                                 tol);
}

TEMPLATE_TEST_CASE("UnrolledGd::fit: step_size_per_tensor learns a positive rate per step and tensor, which "
                   "apply_distilled uses", "[synthetic]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const auto data = blobs<T>(300, 1.5, 3);
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.images_per_class = 1, .steps = 2, .epochs = 2, .theta_mode = syn::ThetaMode::random,
                                              .initial_lr = 0.3, .step_size_per_tensor = true, .outer_steps = 60, .outer_lr = 0.05, .lr_lr = 0.05, .real_batch = 64,
                                              .seed = 2});
  const auto result = ugd.fit_steps({data.first, data.second, 3});
  REQUIRE(result.log_lr.shape() == Shape{4, 3});  // E·T rows, one column per tensor of TinyMlp
  REQUIRE(result.step_sizes_per_step() == 3);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t k = 0; k < 3; ++k) CHECK(result.lr(i, k) > 0);
  CHECK(result.lr(0, 0) != Approx(result.lr(0, 2)));  // learned apart from the common start
  double early = 0, late = 0;
  for (int i = 0; i < 10; ++i) early += result.loss_history[std::size_t(i)], late += result.loss_history[50 + std::size_t(i)];
  CHECK(late < early);

  // apply_distilled takes θ_k's own rate: with tensor 1's rate ~0 (e^-60) and the others as learned, tensor 1 stays
  // where it was, and the others move exactly as with those same rates given per step to a one-rate set.
  distill::Rng rng(9);
  const auto theta0 = TinyMlp{}.init<B>(rng);
  auto frozen = result.clone();
  for (std::size_t i = 0; i < 4; ++i) frozen.log_lr[i * 3 + 1] = T(-60);
  const auto moved = syn::apply_distilled<B>(TinyMlp{}, theta0, frozen);
  CHECK(distill::max_abs_diff(moved.tensors[1], theta0.tensors[1]) < 1e-6);
  CHECK(distill::max_abs_diff(moved.tensors[0], theta0.tensors[0]) > 1e-3);
  auto shared = result.clone();
  shared.log_lr = Tensor<T>({4});
  for (std::size_t i = 0; i < 4; ++i) {
    shared.log_lr[i] = result.log_lr[i * 3 + 2];
    for (std::size_t k = 0; k < 3; ++k) frozen.log_lr[i * 3 + k] = result.log_lr[i * 3 + 2];
  }
  const auto one_rate = syn::apply_distilled<B>(TinyMlp{}, theta0, shared);
  const auto same_rates = syn::apply_distilled<B>(TinyMlp{}, theta0, frozen);
  for (std::size_t k = 0; k < 3; ++k)
    CHECK(distill::max_abs_diff(one_rate.tensors[k], same_rates.tensors[k]) < 1e-6);

  // Saved as [E·T, P] step sizes.
  const auto set = syn::to_distilled_set(result, T(0), T(1));
  REQUIRE(set.step_sizes->shape() == Shape{4, 3});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t k = 0; k < 3; ++k)
      CHECK(double((*set.step_sizes).at(i, k)) == Approx(double(result.lr(i, k))).epsilon(1e-6));

  // A θ₀ with another number of tensors is refused by name.
  nn::Params<T> two;
  two.tensors = {theta0.tensors[0], theta0.tensors[1]};
  CHECK_THROWS_WITH(syn::apply_distilled<B>(TinyMlp{}, two, result),
                    Catch::Contains("3 step sizes per step") && Catch::Contains("2 parameter tensors"));
}

TEST_CASE("UnrolledGd::fit: same seed same bytes, stop, checkpoint and resume continue exactly, monitor", "[synthetic]") {
  using B = distill::EigenBackend<double>;
  const auto data = blobs<double>(90, 1.0, 5);
  const Tensor<double>& x = data.first;
  const std::vector<std::int64_t>& y = data.second;
  // Random θ₀ and learned labels, so the per-step draws, both Adam states and the learned labels must all survive.
  const syn::UnrolledGdOptions opt{.images_per_class = 1, .steps = 2, .epochs = 2, .theta_mode = syn::ThetaMode::random,
                                   .inits_per_step = 2, .initial_lr = 0.3, .learn_labels = true, .outer_steps = 20,
                                   .outer_lr = 0.05, .real_batch = 20, .seed = 11};
  const auto full = syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, opt).fit_steps({x, y, 3});
  const auto again = syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, opt).fit_steps({x, y, 3});
  for (std::size_t t = 0; t < 2; ++t) CHECK(distill::max_abs_diff(full.images[t], again.images[t]) == 0.0);

  const TempFile ckpt("distill_unrolled_gd_test");
  const auto stopped = syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, opt).fit_steps({x, y, 3}, StopAndSave{ckpt.path, 7});
  REQUIRE(stopped.loss_history.size() == 7);
  auto resumed_opt = opt;
  resumed_opt.resume_from = ckpt.path;
  syn::UnrolledGd<TinyMlp, B> resumed_ugd(TinyMlp{}, resumed_opt);
  std::vector<std::size_t> monitored;
  resumed_ugd.set_monitor(5, [&](const syn::UnrolledGdResult<double>& r, distill::callbacks::TrainingState& s) {
    monitored.push_back(s.step);
    s.metrics["steps_seen"] = double(r.loss_history.size());
  });
  const auto resumed = resumed_ugd.fit_steps({x, y, 3});
  CHECK(monitored == std::vector<std::size_t>{10, 15, 20});
  REQUIRE(resumed.loss_history.size() == 20);
  for (std::size_t i = 0; i < 20; ++i) CHECK(resumed.loss_history[i] == full.loss_history[i]);
  for (std::size_t t = 0; t < 2; ++t) {
    CHECK(distill::max_abs_diff(full.images[t], resumed.images[t]) == 0.0);
    CHECK(distill::max_abs_diff(full.soft_labels[t], resumed.soft_labels[t]) == 0.0);
  }
  CHECK(distill::max_abs_diff(full.log_lr, resumed.log_lr) == 0.0);

  // A checkpoint of another configuration is refused with a message naming the mismatch.
  auto other = resumed_opt;
  other.steps = 3;
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, other).fit_steps({x, y, 3})), Catch::Contains("has 2 tensors 'images' but this run has 3"));
  other = opt;
  other.resume_from = "/nonexistent/unrolled_ckpt.npz";
  CHECK_THROWS_AS((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, other).fit_steps({x, y, 3})), distill::io_error);
}

TEST_CASE("UnrolledGd: bad options and inputs throw with a clear message", "[synthetic]") {
  using B = distill::EigenBackend<float>;
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.steps = 0})), Catch::Contains("steps"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.initial_lr = -1})), Catch::Contains("initial_lr"));
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.real_batch = 100});
  Tensor<float> x({10, 1, 3, 4});
  std::vector<std::int64_t> y(10, 0);
  CHECK_THROWS_WITH(ugd.fit_steps({x, y, 3}), Catch::Contains("real_batch"));
  syn::UnrolledGd<TinyMlp, B> ok(TinyMlp{}, {.real_batch = 4});
  y[3] = 7;
  CHECK_THROWS_WITH(ok.fit_steps({x, y, 3}), Catch::Contains("label 3 is 7"));
  CHECK_THROWS_WITH(ok.fit_steps({x, std::vector<std::int64_t>(9, 0), 3}), Catch::Contains("10 rows but there are 9 labels"));
  syn::UnrolledGd<TinyMlp, B> pool(TinyMlp{}, {.theta_mode = syn::ThetaMode::pool, .real_batch = 4});
  CHECK_THROWS_WITH(pool.fit_steps({x, std::vector<std::int64_t>(10, 0), 3}), Catch::Contains("set_pool"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.initial_lr = INFINITY})), Catch::Contains("finite"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.divergence_patience = 0})),
                    Catch::Contains("divergence_patience"));
  // Inner Adam: ε must be positive (√(v̂ + ε²) at g = 0 would be 0), the decays in [0, 1).
  using Rule = syn::InnerOptimizer::Rule;
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::adam, .eps = 0}})),
                    Catch::Contains("UnrolledGd") && Catch::Contains("eps > 0") && Catch::Contains("0.9, 0.999, 0)"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::adam, .eps = -1e-8}})),
                    Catch::Contains("eps > 0"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::adam, .beta1 = 1}})),
                    Catch::Contains("beta1, beta2 in [0, 1)") && Catch::Contains("(got 1, 0.999"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::adam, .beta2 = -0.5}})),
                    Catch::Contains("-0.5"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::adam, .eps = NAN}})),
                    Catch::Contains("eps > 0"));
  // SGD ignores Adam's constants, so they are not checked there.
  CHECK_NOTHROW(syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::sgd, .eps = 0}}));
  // Momentum: μ in [0, 1) (NaN too is refused); only momentum checks μ, and momentum does not check Adam's ε.
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::momentum, .momentum = -0.1}})),
                    Catch::Contains("inner momentum needs momentum in [0, 1)") && Catch::Contains("(got -0.1)"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::momentum, .momentum = NAN}})),
                    Catch::Contains("inner momentum"));
  CHECK_NOTHROW(syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::momentum, .eps = 0, .momentum = 0}}));
  CHECK_NOTHROW(syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.inner = {.rule = Rule::adam, .momentum = 2}}));
  // Names round-trip; an unknown one names itself and the choices.
  for (Rule r : {Rule::sgd, Rule::momentum, Rule::adam})
    CHECK(syn::InnerOptimizer::rule_named(syn::InnerOptimizer::rule_name(r)) == r);
  CHECK(std::string(syn::InnerOptimizer::rule_name(Rule::momentum)) == "momentum");
  CHECK_THROWS_AS(syn::InnerOptimizer::rule_named("nesterov"), distill::invalid_argument);
  CHECK_THROWS_WITH(syn::InnerOptimizer::rule_named("Adam"),
                    Catch::Contains("unknown rule 'Adam'") && Catch::Contains("sgd, momentum or adam"));
  // The same check guards the free functions: a hand-made set with a bad inner rule is refused before any step.
  distill::Rng rng(1);
  const auto theta0 = TinyMlp{}.init<B>(rng);
  syn::UnrolledGdResult<float> set;
  set.steps = 1;
  set.epochs = 1;
  set.classes = 3;
  set.images = {Tensor<float>({3, 1, 3, 4})};
  set.labels = {0, 1, 2};
  set.log_lr = Tensor<float>({1});
  CHECK_NOTHROW(syn::apply_distilled<B>(TinyMlp{}, theta0, set));
  set.inner = {.rule = Rule::adam, .eps = 0};
  CHECK_THROWS_WITH(syn::apply_distilled<B>(TinyMlp{}, theta0, set),
                    Catch::Contains("apply_distilled()") && Catch::Contains("eps > 0"));
  const std::vector<std::int64_t> real_y(10, 0);
  CHECK_THROWS_WITH(syn::unrolled_hypergradient<B>(TinyMlp{}, {.set = set, .theta0 = theta0, .real_x = x, .real_y = real_y}),
                    Catch::Contains("unrolled_hypergradient()") && Catch::Contains("eps > 0"));
}

namespace {

// TinyMlp whose logits are scaled by exp(p[3]); init() makes that scale overflow (p[3] = 1000) for a share of the
// inits, as a θ₀ the learned steps cannot train from would, deterministically.
struct FragileMlp {
  double fragile_share = 0.5;
  template <distill::Backend B>
  nn::Params<typename B::Scalar> init(distill::Rng& rng) const {
    using T = typename B::Scalar;
    nn::Params<T> p = TinyMlp{}.init<B>(rng);
    p.names.push_back("log_scale");
    p.tensors.push_back(Tensor<T>({1}, T(rng.uniform() < fragile_share ? 1000 : 0)));
    return p;
  }
  template <distill::Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& p, const ad::Var<B>& x) const {
    return ad::mul(ad::exp(p[3]), TinyMlp{}.forward<B>({p[0], p[1], p[2]}, x));
  }
};

}  // namespace

TEST_CASE("unrolled_hypergradient: a diverging unrolled training throws numerical_error, in both memory modes",
          "[synthetic]") {
  using B = distill::EigenBackend<double>;
  for (const auto memory : {syn::Memory::full, syn::Memory::recompute}) {
    Problem<B, TinyMlp> problem(TinyMlp{}, Shape{3, 1, 3, 4}, 2, false);
    problem.log_lr[1] = 800;  // η = e^800 = ∞ in the second step: the weights overflow
    CHECK_THROWS_AS(problem.hypergradient(memory), distill::numerical_error);
    CHECK_THROWS_WITH(problem.hypergradient(memory), Catch::Contains("diverged"));
  }
  // apply_distilled on a set whose steps diverge says so instead of returning non-finite weights.
  syn::UnrolledGdResult<double> set;
  Problem<B, TinyMlp> problem(TinyMlp{}, Shape{3, 1, 3, 4}, 1, false);
  set.images = problem.images;
  set.labels = problem.labels;
  set.steps = 1, set.epochs = 2, set.classes = 3;
  set.log_lr = Tensor<double>({2}, 800.0);
  CHECK_THROWS_AS(syn::apply_distilled<B>(TinyMlp{}, problem.theta0, set), distill::numerical_error);
}

TEST_CASE("UnrolledGdResult::clone: a deep copy that a running fit does not change", "[synthetic]") {
  using B = distill::EigenBackend<double>;
  const auto data = blobs<double>(90, 1.0, 5);
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.images_per_class = 1, .steps = 1, .epochs = 2, .initial_lr = 0.3,
                                              .learn_labels = true, .outer_steps = 10, .outer_lr = 0.05,
                                              .real_batch = 30, .seed = 2});
  std::optional<syn::UnrolledGdResult<double>> at_five, alias;
  ugd.set_monitor(5, [&](const syn::UnrolledGdResult<double>& set, distill::callbacks::TrainingState& state) {
    if (state.step == 5) at_five = set.clone(), alias = set;
  });
  const auto last = ugd.fit_steps({data.first, data.second, 3});
  REQUIRE(at_five);
  CHECK_FALSE(at_five->images[0].same_storage(last.images[0]));
  CHECK(alias->images[0].same_storage(last.images[0]));  // why clone() exists
  CHECK(distill::max_abs_diff(at_five->images[0], last.images[0]) > 0);
  CHECK(distill::max_abs_diff(at_five->soft_labels[0], last.soft_labels[0]) > 0);
  CHECK(distill::max_abs_diff(at_five->log_lr, last.log_lr) > 0);
}

TEST_CASE("UnrolledGd::fit: label_lr sets the learned labels' own Adam rate", "[synthetic]") {
  using B = distill::EigenBackend<double>;
  const auto data = blobs<double>(90, 1.0, 5);
  auto label_change = [&](double label_lr) {
    syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.images_per_class = 1, .steps = 1, .epochs = 2, .initial_lr = 0.3,
                                                .learn_labels = true, .outer_steps = 20, .outer_lr = 0.05,
                                                .label_lr = label_lr, .real_batch = 30, .seed = 2});
    const auto r = ugd.fit_steps({data.first, data.second, 3});
    return distill::max_abs_diff(r.soft_labels[0], nn::one_hot<double>(r.labels, 3));
  };
  const double same_as_images = label_change(0.0), tenth = label_change(0.005);
  CHECK(same_as_images > 0.05);
  // Adam moves each entry by about its rate per step, so a tenth of the rate moves the labels about a tenth as far.
  CHECK(tenth == Approx(same_as_images / 10).epsilon(0.3));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.label_lr = -1})), Catch::Contains("label_lr"));
}

TEST_CASE("UnrolledGd::fit: a θ₀ that diverges is skipped and counted, divergence on every θ₀ throws", "[synthetic]") {
  using B = distill::EigenBackend<double>;
  const auto data = blobs<double>(90, 1.0, 5);
  const syn::UnrolledGdOptions opt{.images_per_class = 1, .steps = 1, .epochs = 2, .theta_mode = syn::ThetaMode::random,
                                   .inits_per_step = 2, .initial_lr = 0.3, .learn_labels = true, .outer_steps = 30,
                                   .outer_lr = 0.05, .real_batch = 30, .seed = 3};
  syn::UnrolledGd<FragileMlp, B> ugd(FragileMlp{}, opt);
  double diverged = 0;
  ugd.set_monitor(1, [&](const syn::UnrolledGdResult<double>&, distill::callbacks::TrainingState& state) {
    diverged = state.value("diverged");
  });
  const auto result = ugd.fit_steps({data.first, data.second, 3});
  // About half of the 60 draws diverged, and the run went on: the learned set stays finite, and the steps that
  // had a finite draw recorded a finite loss (a step with none records NaN and makes no update).
  CHECK(diverged > 10);
  CHECK(diverged < 50);
  REQUIRE(result.loss_history.size() == 30);
  std::size_t finite_steps = 0;
  for (const double l : result.loss_history) finite_steps += std::isfinite(l);
  CHECK(finite_steps >= 30 - std::size_t(diverged) / 2);
  CHECK(finite_steps < 30);  // 30 steps × 2 draws at 1/2 each: a step with both draws fragile is all but certain
  for (const auto& im : result.images) CHECK(im.all_finite());
  for (const auto& l : result.soft_labels) CHECK(l.all_finite());
  CHECK(result.log_lr.all_finite());

  // The count survives a checkpoint: stopped at step 15 and resumed, the run ends with the same count.
  const TempFile ckpt("distill_unrolled_gd_diverged");
  syn::UnrolledGd<FragileMlp, B>(FragileMlp{}, opt).fit_steps({data.first, data.second, 3}, StopAndSave{ckpt.path, 15});
  auto resumed_opt = opt;
  resumed_opt.resume_from = ckpt.path;
  syn::UnrolledGd<FragileMlp, B> resumed(FragileMlp{}, resumed_opt);
  double diverged_resumed = -1;
  resumed.set_monitor(1, [&](const syn::UnrolledGdResult<double>&, distill::callbacks::TrainingState& state) {
    diverged_resumed = state.value("diverged");
  });
  const auto resumed_result = resumed.fit_steps({data.first, data.second, 3});
  CHECK(diverged_resumed == diverged);
  CHECK(distill::max_abs_diff(resumed_result.images[0], result.images[0]) == 0.0);

  // Every θ₀ fragile: after divergence_patience steps without a finite draw, fit() stops with the reason.
  auto always = opt;
  always.divergence_patience = 4;
  syn::UnrolledGd<FragileMlp, B> doomed(FragileMlp{.fragile_share = 1.0}, always);
  CHECK_THROWS_AS(doomed.fit_steps({data.first, data.second, 3}), distill::numerical_error);
  CHECK_THROWS_WITH(doomed.fit_steps({data.first, data.second, 3}),
                    Catch::Contains("4 outer steps in a row") && Catch::Contains("initial_lr"));
}

namespace {

// A hand-made result: 2 steps x 3 epochs of 3 images [2, 1, 2] (C = 2), labels 0 1 2; every pixel encodes
// (step, image, pixel) as 100·t + 10·j + p, so the stacking order can be read back.
template <class T>
syn::UnrolledGdResult<T> hand_made_result(bool learned_labels) {
  syn::UnrolledGdResult<T> r;
  r.steps = 2;
  r.epochs = 3;
  r.classes = 3;
  r.labels = {0, 1, 2};
  for (std::size_t t = 0; t < r.steps; ++t) {
    Tensor<T> im({3, 2, 1, 2});
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t p = 0; p < 4; ++p) im[j * 4 + p] = T(100 * t + 10 * j + p);
    r.images.push_back(im);
    if (learned_labels) {
      Tensor<T> ll({3, 3});
      for (std::size_t i = 0; i < ll.size(); ++i)  // different in each step
        ll[i] = T((0.3 * double(i) + (i % 4 == 0 ? 2.0 : 0.0)) * (1.0 + 0.5 * double(t)));
      r.soft_labels.push_back(ll);
    }
  }
  r.log_lr = Tensor<T>({r.steps * r.epochs});
  for (std::size_t i = 0; i < r.log_lr.size(); ++i) r.log_lr[i] = T(std::log(0.01 * double(i + 1)));
  return r;
}


}  // namespace

TEMPLATE_TEST_CASE("to_distilled_set: steps stacked in order, hard labels, step sizes, normalisation", "[synthetic][io]",
                   float, double) {
  using T = TestType;
  const auto r = hand_made_result<T>(false);
  REQUIRE(r.stacked_labels() == std::vector<std::int64_t>{0, 1, 2, 0, 1, 2});
  const auto set = syn::to_distilled_set(r, T(0.25), T(2), "{\"k\": 1}");
  set.validate();
  REQUIRE(set.images.shape() == Shape{6, 2, 1, 2});
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t p = 0; p < 4; ++p) CHECK(set.images[(t * 3 + j) * 4 + p] == T(100 * t + 10 * j + p));
  REQUIRE_FALSE(set.images.same_storage(r.images[0]));
  REQUIRE_FALSE(set.has_soft_labels());
  REQUIRE(set.labels.shape() == Shape{6});
  REQUIRE(set.hard_labels() == r.stacked_labels());
  REQUIRE(set.step_sizes.has_value());
  REQUIRE(set.step_sizes->shape() == Shape{6});  // E·T, in application order
  for (std::size_t i = 0; i < 6; ++i) CHECK(double((*set.step_sizes)[i]) == Approx(0.01 * double(i + 1)).epsilon(1e-6));
  REQUIRE(set.mean.shape() == Shape{2});  // one entry per channel
  REQUIRE(set.stddev.shape() == Shape{2});
  CHECK(set.mean[1] == T(0.25));
  CHECK(set.stddev[0] == T(2));
  CHECK(set.num_classes == 3);
  CHECK(set.method == "unrolled_gd");
  CHECK(set.options_json == "{\"k\": 1}");
}

TEMPLATE_TEST_CASE("to_distilled_set: learned labels are saved as the learned target vectors, per step", "[synthetic][io]",
                   float, double) {
  using T = TestType;
  const auto r = hand_made_result<T>(true);
  const auto set = syn::to_distilled_set(r, T(0), T(1));
  set.validate();
  REQUIRE(set.has_soft_labels());
  REQUIRE(set.labels.shape() == Shape{6, 3});
  CHECK(set.options_json == "{}");
  // The targets the inner steps trained on (detail::step_targets) are the learned vectors themselves: no
  // normalisation, so a label's scale (a per-image step size) and its negative entries survive the save.
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t c = 0; c < 3; ++c) CHECK(set.labels.at(t * 3 + j, c) == r.soft_labels[t].at(j, c));
  // The learned labels differ between the two steps, so the rows of step 1 are not a copy of step 0's.
  CHECK(set.labels.at(0, 0) != set.labels.at(3, 0));
  auto negative = r;
  negative.soft_labels[1][4] = T(-2.5);
  CHECK(syn::to_distilled_set(negative, T(0), T(1)).labels.at(4, 1) == T(-2.5));
}

TEMPLATE_TEST_CASE("to_distilled_set: a round trip through io::save_distilled / load_distilled", "[synthetic][io]", float,
                   double) {
  using T = TestType;
  for (const bool learned : {false, true}) {
    const auto set = syn::to_distilled_set(hand_made_result<T>(learned), 0.1307, 0.3081, "{\"steps\": 2}");
    const TempFile file("distill_unrolled_gd_test");
    io::save_distilled(file.path, set);
    const auto back = io::load_distilled<T>(file.path);
    CHECK(back.images.shape() == set.images.shape());
    CHECK(distill::max_abs_diff(back.images, set.images) == 0);
    CHECK(back.labels.shape() == set.labels.shape());
    CHECK(distill::max_abs_diff(back.labels, set.labels) == 0);
    REQUIRE(back.step_sizes.has_value());
    CHECK(distill::max_abs_diff(*back.step_sizes, *set.step_sizes) == 0);
    CHECK(distill::max_abs_diff(back.mean, set.mean) == 0);
    CHECK(distill::max_abs_diff(back.stddev, set.stddev) == 0);
    CHECK(back.num_classes == 3);
    CHECK(back.method == "unrolled_gd");
    CHECK(back.options_json == "{\"steps\": 2}");
  }
}

TEMPLATE_TEST_CASE("to_distilled_set: a fitted result, hard and learned labels", "[synthetic][io]", float) {
  using B = distill::EigenBackend<TestType>;
  using T = TestType;
  distill::Rng rng(5);
  Tensor<T> x({30, 1, 3, 4});
  B::random_normal(rng, x.data(), x.size(), T(0), T(1));
  std::vector<std::int64_t> y(30);
  for (std::size_t i = 0; i < 30; ++i) y[i] = std::int64_t(i % 3);
  for (const bool learn : {false, true}) {
    syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.images_per_class = 2, .steps = 3, .epochs = 2, .learn_labels = learn,
                                                .outer_steps = 2, .real_batch = 8});
    const auto r = ugd.fit_steps({x, y, 3});
    const auto set = syn::to_distilled_set(r, T(0), T(1));
    set.validate();
    CHECK(set.images.shape() == Shape{18, 1, 3, 4});  // 3 steps × (3 classes × 2)
    CHECK(set.has_soft_labels() == learn);
    CHECK(set.labels.shape(0) == 18);
    CHECK(set.step_sizes->size() == 6);
    CHECK(std::equal(r.images[2].begin(), r.images[2].end(), set.images.begin() + 2 * r.images[2].size()));  // step 2 last
  }
}

TEST_CASE("to_distilled_set: an inconsistent result or a bad stddev throws with a clear message", "[synthetic][io]") {
  using T = float;
  auto r = hand_made_result<T>(true);
  CHECK_NOTHROW(syn::to_distilled_set(r, T(0), T(1)));
  SECTION("stddev") {
    CHECK_THROWS_AS(syn::to_distilled_set(r, T(0), T(0)), distill::invalid_argument);
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(0)), Catch::Contains("to_distilled_set()") && Catch::Contains("stddev is 0"));
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), std::nanf("")), Catch::Contains("stddev"));
  }
  SECTION("no steps") {
    r.images.clear();
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("0 image batches and steps = 2"));
  }
  SECTION("label count") {
    r.labels.pop_back();
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("but there are 2 labels"));
  }
  SECTION("steps of different shapes") {
    r.images[1] = Tensor<T>({3, 2, 2, 2});
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("step 1 has images of shape [3, 2, 2, 2]"));
  }
  SECTION("learned labels") {
    r.soft_labels.pop_back();
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("soft_labels has 1 entries"));
    r.soft_labels = {Tensor<T>({3, 3}), Tensor<T>({3, 4})};
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("soft_labels[1] has shape [3, 4]"));
  }
  SECTION("step sizes") {
    r.log_lr = Tensor<T>({5});
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("log_lr has 5 rows") && Catch::Contains("2 × 3"));
  }
  SECTION("classes") {
    r.classes = 0;
    CHECK_THROWS_WITH(syn::to_distilled_set(r, T(0), T(1)), Catch::Contains("classes = 0"));
  }
}

TEST_CASE("UnrolledGd::fit: a standardised distilled set that from_distilled_set turns back into the steps", "[synthetic][io]") {
  using B = distill::EigenBackend<double>;
  const auto data = blobs<double>(90, 1.0, 5);
  const distill::LabeledData<double> train{data.first, data.second, 3};
  const syn::UnrolledGdOptions opt{.images_per_class = 2, .steps = 2, .epochs = 2, .initial_lr = 0.3,
                                   .inner = {.rule = syn::InnerOptimizer::Rule::momentum, .momentum = 0.5},
                                   .outer_steps = 5, .real_batch = 20, .seed = 3};
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, opt);
  const auto set = ugd.fit(train);
  CHECK(set.method == "unrolled_gd");
  CHECK(set.images.shape() == Shape{12, 1, 3, 4});
  CHECK(set.mean.size() == 1);
  CHECK(set.stddev[0] != 1.0);  // standardised
  CHECK(set.options_json.find("\"rule\": \"momentum\"") != std::string::npos);
  // Through a file and back: the extras survive, and the steps are what fit_steps learns on the standardised data.
  const TempFile file("distill_unrolled_set");
  distill::io::save_distilled(file.path, set);
  const auto steps = syn::from_distilled_set(distill::io::load_distilled<double>(file.path));
  CHECK(steps.steps == 2);
  CHECK(steps.epochs == 2);
  CHECK(steps.inner.rule == syn::InnerOptimizer::Rule::momentum);
  CHECK(steps.inner.momentum == 0.5);
  auto no_std = opt;
  no_std.standardize = false;
  const auto direct = syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, no_std).fit_steps(ugd.standardization().applied_to(train));
  for (std::size_t t = 0; t < 2; ++t) CHECK(distill::max_abs_diff(steps.images[t], direct.images[t]) < 1e-12);
  for (std::size_t i = 0; i < direct.log_lr.size(); ++i) CHECK(steps.log_lr[i] == Approx(direct.log_lr[i]));
  // The replay of the recovered steps is the replay of the learned ones.
  distill::Rng rng(2);
  const auto theta0 = TinyMlp{}.init<B>(rng);
  const auto a = syn::apply_distilled<B>(TinyMlp{}, theta0, steps), b = syn::apply_distilled<B>(TinyMlp{}, theta0, direct);
  for (std::size_t k = 0; k < a.tensors.size(); ++k) CHECK(distill::max_abs_diff(a.tensors[k], b.tensors[k]) < 1e-9);
  // A set not made by unrolled GD is refused.
  auto plain = set;
  plain.extra.clear();
  CHECK_THROWS_WITH(syn::from_distilled_set(plain), Catch::Contains("not made by unrolled GD"));
}
