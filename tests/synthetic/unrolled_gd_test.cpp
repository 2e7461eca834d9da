// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cmath>

#include "distill/synthetic/unrolled_gd.hpp"
#include "support/backends.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
namespace syn = distill::synthetic;
using distill::Shape;
using distill::Tensor;

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
  std::vector<Tensor<T>> label_logits;
  Tensor<T> log_lr;
  nn::Params<T> theta0;
  Tensor<T> real_x;
  std::vector<std::int64_t> real_y{0, 2, 1, 1, 0, 2};
  std::size_t epochs = 2;

  Problem(M m, Shape image_shape, std::size_t steps, bool learn_labels) : model(m) {
    distill::Rng rng(7);
    for (std::size_t t = 0; t < steps; ++t) {
      Tensor<T> im(image_shape);
      B::random_normal(rng, im.data(), im.size(), T(0), T(1));
      images.push_back(im);
      if (learn_labels) {
        Tensor<T> ll({3, 3});
        B::random_normal(rng, ll.data(), ll.size(), T(0), T(1));
        label_logits.push_back(ll);
      }
    }
    log_lr = Tensor<T>({steps * epochs});
    for (std::size_t i = 0; i < log_lr.size(); ++i) log_lr[i] = T(std::log(0.3 + 0.05 * double(i)));
    theta0 = model.template init<B>(rng);
    Shape rs = image_shape;
    rs[0] = real_y.size();
    real_x = Tensor<T>(rs);
    B::random_normal(rng, real_x.data(), real_x.size(), T(0), T(1));
  }
  syn::Hypergradient<T> hypergradient(syn::Memory memory) const {
    return syn::unrolled_hypergradient<B>(model, images, labels, label_logits, log_lr, epochs, theta0, real_x, real_y, 3,
                                          memory);
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
  for (std::size_t t = 0; t < problem.label_logits.size(); ++t)
    for (std::size_t i = 0; i < problem.label_logits[t].size(); ++i)
      worst = std::max(worst, relative_error(hg.d_label_logits[t][i],
                                             numeric_derivative(problem, problem.label_logits[t], i), 1e-9));
  CHECK(worst < 1e-4);
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

TEMPLATE_TEST_CASE("unrolled_hypergradient: recompute mode gives the full mode's hypergradient",
                   "[synthetic][memory]", DISTILL_TEST_DOUBLE_BACKENDS) {
  Problem<TestType, TinyConvNet> p(TinyConvNet{}, Shape{3, 1, 4, 4}, 3, true);
  const auto full = p.hypergradient(syn::Memory::full);
  const auto lean = p.hypergradient(syn::Memory::recompute);
  CHECK(lean.loss == Approx(full.loss).epsilon(1e-12));
  for (std::size_t t = 0; t < full.d_images.size(); ++t) {
    CHECK(distill::max_abs_diff(full.d_images[t], lean.d_images[t]) < 1e-12);
    CHECK(distill::max_abs_diff(full.d_label_logits[t], lean.d_label_logits[t]) < 1e-12);
  }
  CHECK(distill::max_abs_diff(full.d_log_lr, lean.d_log_lr) < 1e-12);
}

TEMPLATE_TEST_CASE("UnrolledGd::fit: learns images that train the net, step sizes stay positive", "[synthetic]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // Three Gaussian blobs in 12-d; one distilled image per class, fixed init.
  distill::Rng rng(3);
  const std::size_t n = 300;
  Tensor<T> x({n, 1, 3, 4});
  std::vector<std::int64_t> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = std::int64_t(i % 3);
    for (std::size_t j = 0; j < 12; ++j) x[i * 12 + j] = T(rng.normal(j % 3 == i % 3 ? 1.5 : -0.5, 0.7));
  }
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.images_per_class = 1, .steps = 1, .epochs = 2, .initial_lr = 0.5, .outer_steps = 60,
                                              .outer_lr = 0.05, .lr_lr = 0.05, .real_batch = 64, .seed = 1});
  const auto result = ugd.fit(x, y, 3);
  REQUIRE(result.loss_history.size() == 60);
  double early = 0, late = 0;
  for (int i = 0; i < 10; ++i) early += result.loss_history[std::size_t(i)], late += result.loss_history[50 + std::size_t(i)];
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

TEST_CASE("UnrolledGd: bad options and inputs throw with a clear message", "[synthetic]") {
  using B = distill::EigenBackend<float>;
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.steps = 0})), Catch::Contains("steps"));
  CHECK_THROWS_WITH((syn::UnrolledGd<TinyMlp, B>(TinyMlp{}, {.initial_lr = -1})), Catch::Contains("initial_lr"));
  syn::UnrolledGd<TinyMlp, B> ugd(TinyMlp{}, {.real_batch = 100});
  Tensor<float> x({10, 1, 3, 4});
  std::vector<std::int64_t> y(10, 0);
  CHECK_THROWS_WITH(ugd.fit(x, y, 3), Catch::Contains("real_batch"));
  syn::UnrolledGd<TinyMlp, B> ok(TinyMlp{}, {.real_batch = 4});
  y[3] = 7;
  CHECK_THROWS_WITH(ok.fit(x, y, 3), Catch::Contains("label 7"));
  CHECK_THROWS_WITH(ok.fit(x, std::vector<std::int64_t>(9, 0), 3), Catch::Contains("10 images and 9 labels"));
  syn::UnrolledGd<TinyMlp, B> pool(TinyMlp{}, {.theta_mode = syn::ThetaMode::pool, .real_batch = 4});
  CHECK_THROWS_WITH(pool.fit(x, std::vector<std::int64_t>(10, 0), 3), Catch::Contains("set_pool"));
}
