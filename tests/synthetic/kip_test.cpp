// SPDX-License-Identifier: MIT
// KIP: the hand-derived loss gradient against finite differences (images and labels, in double, both
// backends); fit() lowers the loss on a small synthetic problem, is reproducible, resumes from a checkpoint,
// and rejects bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "distill/kernels.hpp"
#include "distill/synthetic/kip.hpp"
#include "support/backends.hpp"
#include "support/blobs.hpp"
#include "support/stop_and_save.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace dk = distill::kernels;
namespace ds = distill::synthetic;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("kip_loss_and_grad: gradient w.r.t. support images and labels matches finite differences",
                   "[synthetic][kip][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const auto xs = normal_tensor<double>({6, 5}, 1), ys = normal_tensor<double>({6, 3}, 2);
  const auto xt = normal_tensor<double>({9, 5}, 3), yt = normal_tensor<double>({9, 3}, 4);
  // A large reg makes the tr(K_ss) dependence of λ visible in the gradient.
  for (const double reg : {1e-3, 0.3}) {
    for (const dk::FcNtk k : {dk::FcNtk{.depth = 2}, dk::FcNtk{.depth = 1, .bias_var = 0.1, .kind = dk::KernelKind::nngp}}) {
      const auto lg = ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, reg);
      CHECK(max_grad_error([&](const Tensor<double>& x) { return ds::kip_loss_and_grad<B>(k, x, ys, xt, yt, reg).loss; },
                           xs, lg.d_support) < Tolerances<double>::grad);
      CHECK(max_grad_error([&](const Tensor<double>& y) { return ds::kip_loss_and_grad<B>(k, xs, y, xt, yt, reg).loss; },
                           ys, lg.d_labels) < Tolerances<double>::grad);
    }
  }
  // The loss is ½·mean of the squared residual of KRR's predictions.
  const auto model = dk::krr_fit<B>(dk::FcNtk{}, xs, ys, {.reg = 1e-3});
  const auto pred = dk::krr_predict<B>(dk::FcNtk{}, model, xt);
  double sq = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) sq += (pred[i] - yt[i]) * (pred[i] - yt[i]);
  CHECK(ds::kip_loss_and_grad<B>(dk::FcNtk{}, xs, ys, xt, yt, 1e-3).loss == Approx(0.5 * sq / double(pred.size())));
}

TEMPLATE_TEST_CASE("kip_loss_and_grad: the Platt-scaled cross-entropy and its gradients (images, labels, log τ) "
                   "match finite differences, streamed and dense agree", "[synthetic][kip][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const auto xs = normal_tensor<double>({6, 5}, 1), ys = normal_tensor<double>({6, 3}, 2);
  const auto xt = normal_tensor<double>({9, 5}, 3), yt = normal_tensor<double>({9, 3}, 4);
  const dk::FcNtk k{.depth = 2};
  for (const double tau : {0.05, 0.7}) {
    const ds::KipObjective ce{.kind = ds::KipObjective::Kind::cross_entropy, .temperature = tau};
    const auto lg = ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-3, ce);
    CHECK(max_grad_error([&](const Tensor<double>& x) { return ds::kip_loss_and_grad<B>(k, x, ys, xt, yt, 1e-3, ce).loss; },
                         xs, lg.d_support) < Tolerances<double>::grad);
    CHECK(max_grad_error([&](const Tensor<double>& y) { return ds::kip_loss_and_grad<B>(k, xs, y, xt, yt, 1e-3, ce).loss; },
                         ys, lg.d_labels) < Tolerances<double>::grad);
    const Tensor<double> log_tau({1}, std::log(tau));
    const Tensor<double> d_log_tau({1}, lg.d_log_temperature);
    CHECK(max_grad_error(
              [&](const Tensor<double>& lt) {
                const ds::KipObjective o{.kind = ce.kind, .temperature = std::exp(lt[0])};
                return ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-3, o).loss;
              },
              log_tau, d_log_tau) < Tolerances<double>::grad);
    // The value: mean over rows of −log softmax(P/τ) at the target's argmax, P the KRR predictions.
    const auto model = dk::krr_fit<B>(k, xs, ys, {.reg = 1e-3});
    const auto pred = dk::krr_predict<B>(k, model, xt);
    double loss = 0;
    for (std::size_t i = 0; i < 9; ++i) {
      std::size_t t = 0;
      double z = 0;
      for (std::size_t q = 0; q < 3; ++q) {
        if (yt[i * 3 + q] > yt[i * 3 + t]) t = q;
        z += std::exp(pred[i * 3 + q] / tau);
      }
      loss += (std::log(z) - pred[i * 3 + t] / tau) / 9;
    }
    CHECK(lg.loss == Approx(loss).epsilon(1e-9));
  }
  CHECK_THROWS_WITH(ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-3,
                                             {.kind = ds::KipObjective::Kind::cross_entropy, .temperature = 0}),
                    Catch::Contains("temperature is 0"));
}

TEST_CASE("Kip::fit lowers the loss, is reproducible, and resumes from a checkpoint", "[synthetic][kip]") {
  const auto train = image_blobs(60, 3, 5);
  struct Recorder {
    std::vector<double> losses;
    void on_step(distill::callbacks::TrainingState& s) { losses.push_back(s.loss); }
  };
  ds::KipOptions<float> opt{.images_per_class = 2, .steps = 30, .target_batch_size = 60, .lr = 0.05, .seed = 7};
  Recorder rec;
  ds::Kip kip{dk::FcNtk{.depth = 2}, opt};
  const auto a = kip.fit(train, rec);
  REQUIRE(rec.losses.size() == 30);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += rec.losses[std::size_t(i)], last += rec.losses[rec.losses.size() - 1 - std::size_t(i)];
  CHECK(last < first);
  CHECK(a.images.shape() == Shape{6, 1, 3, 4});
  CHECK(a.labels.shape() == Shape{6});
  CHECK(a.method == "kip");
  CHECK(a.mean.size() == 1);
  a.validate();

  // Same seed, same result.
  const auto b = ds::Kip{dk::FcNtk{.depth = 2}, opt}.fit(train);
  CHECK(distill::max_abs_diff(a.images, b.images) == 0.0f);

  // Stop after 12 steps with a checkpoint, resume, and land on the same images.
  const auto path = std::filesystem::temp_directory_path() / "distill_kip_test_ckpt.npz";
  (void)ds::Kip{dk::FcNtk{.depth = 2}, opt}.fit(train, StopAndSave{path, 12});
  auto resumed_opt = opt;
  resumed_opt.resume_from = path;
  const auto c = ds::Kip{dk::FcNtk{.depth = 2}, resumed_opt}.fit(train);
  CHECK(distill::max_abs_diff(a.images, c.images) == 0.0f);  // byte-identical
  std::filesystem::remove(path);

  // Learned labels come back as [N, C] soft labels.
  auto ll = opt;
  ll.learn_labels = true;
  ll.steps = 5;
  const auto d = ds::Kip{dk::FcNtk{.depth = 2}, ll}.fit(train);
  CHECK(d.labels.shape() == Shape{6, 3});
}

TEST_CASE("Kip::fit with a cosine schedule: full steps first, smaller later, and it resumes exactly", "[synthetic][kip]") {
  const auto train = image_blobs(60, 3, 9);
  ds::KipOptions<float> constant{.images_per_class = 2, .steps = 1, .target_batch_size = 60, .lr = 0.05, .seed = 3};
  auto cosine = constant;
  cosine.schedule = ds::KipSchedule::cosine;
  // Step 0 runs at the full lr, so one step of each is the same step...
  CHECK(distill::max_abs_diff(ds::Kip{dk::FcNtk{}, constant}.fit(train).images,
                              ds::Kip{dk::FcNtk{}, cosine}.fit(train).images) == 0.0f);
  // ...and later steps are smaller: over 20 steps cosine moves the support less than the constant rate does.
  constant.steps = cosine.steps = 20;
  const auto start = ds::Kip{dk::FcNtk{}, [&] { auto o = constant; o.steps = 0; return o; }()}.fit(train);
  const auto c = ds::Kip{dk::FcNtk{}, constant}.fit(train), k = ds::Kip{dk::FcNtk{}, cosine}.fit(train);
  CHECK(distill::max_abs_diff(k.images, start.images) < distill::max_abs_diff(c.images, start.images));
  CHECK(k.options_json.find("\"schedule\": \"cosine\"") != std::string::npos);

  // The factor is a function of the step number, so stop + resume lands on the uninterrupted result.
  const auto path = std::filesystem::temp_directory_path() / "distill_kip_cosine_ckpt.npz";
  (void)ds::Kip{dk::FcNtk{}, cosine}.fit(train, StopAndSave{path, 7});
  auto resumed = cosine;
  resumed.resume_from = path;
  CHECK(distill::max_abs_diff(ds::Kip{dk::FcNtk{}, resumed}.fit(train).images, k.images) == 0.0f);
  std::filesystem::remove(path);
}

TEST_CASE("Kip::fit rejects bad input", "[synthetic][kip]") {
  auto train = image_blobs(3, 3, 6);
  CHECK_THROWS_AS((ds::Kip{dk::FcNtk{}, {.images_per_class = 4}}.fit(train)), distill::invalid_argument);
  CHECK_NOTHROW((ds::Kip{dk::FcNtk{}, {.images_per_class = 4, .steps = 1, .target_batch_size = 9,
                                       .init = ds::KipInit::noise}}.fit(train)));
  CHECK_THROWS_AS((ds::Kip{dk::FcNtk{}, {.images_per_class = 1, .target_batch_size = 2}}.fit(train)),
                  distill::invalid_argument);
  train.images[5] = std::nanf("");
  CHECK_THROWS_AS((ds::Kip{dk::FcNtk{}, {.images_per_class = 1}}.fit(train)), distill::invalid_argument);
  auto one_class_missing = image_blobs(3, 3, 7);
  one_class_missing.num_classes = 4;
  CHECK_THROWS_AS((ds::Kip{dk::FcNtk{}, {.images_per_class = 1}}.fit(one_class_missing)), distill::invalid_argument);
  auto resume = ds::KipOptions<float>{.images_per_class = 1, .resume_from = "/nonexistent/ckpt.npz"};
  CHECK_THROWS_AS((ds::Kip{dk::FcNtk{}, resume}.fit(image_blobs(3, 3, 8))), distill::io_error);
}

namespace {
// FcNtk behind an interface without KernelTraits: kip_loss_and_grad takes its dense path (full K_ts, gram_vjp).
struct OpaqueNtk {
  dk::FcNtk k;
  template <distill::Backend B>
  Tensor<typename B::Scalar> gram(const Tensor<typename B::Scalar>& a, const Tensor<typename B::Scalar>& b,
                                  dk::GramCache<typename B::Scalar>* cache = nullptr) const {
    return k.template gram<B>(a, b, cache);
  }
  template <distill::Backend B>
  dk::GramVjp<typename B::Scalar> gram_vjp(const Tensor<typename B::Scalar>& a, const Tensor<typename B::Scalar>& b,
                                           const Tensor<typename B::Scalar>& g, dk::VjpWrt wrt = dk::VjpWrt::both,
                                           const dk::GramCache<typename B::Scalar>* cache = nullptr) const {
    return k.template gram_vjp<B>(a, b, g, wrt, cache);
  }
};
}  // namespace

TEMPLATE_TEST_CASE("kip_loss_and_grad: the streamed target pass equals the dense one", "[synthetic][kip]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  static_assert(dk::StreamableKernel<dk::FcNtk, T> && !dk::StreamableKernel<OpaqueNtk, T>);
  const double tol = std::is_same_v<T, double> ? 1e-11 : 2e-4;
  // 600 targets: three blocks of default_stream_block_rows, the last one ragged.
  const std::size_t n = 12, m = 600, d = 20, c = 4;
  const auto xs = normal_tensor<T>({n, d}, 1), xt = normal_tensor<T>({m, d}, 3);
  const auto ys = normal_tensor<T>({n, c}, 2, 0.5), yt = normal_tensor<T>({m, c}, 4, 0.5);
  const dk::FcNtk k{.depth = 2, .bias_var = 0.05};
  const auto s = ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-3);
  const auto dn = ds::kip_loss_and_grad<B>(OpaqueNtk{k}, xs, ys, xt, yt, 1e-3);
  CHECK(relative_error(s.loss, dn.loss) < tol);
  CHECK(s.accuracy == dn.accuracy);
  auto max_rel = [](const Tensor<T>& a, const Tensor<T>& b) {
    double err = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      err = std::max(err, std::abs(double(a[i]) - double(b[i])));
      scale = std::max(scale, std::abs(double(b[i])));
    }
    return err / scale;
  };
  REQUIRE(s.d_support.shape() == xs.shape());
  CHECK(max_rel(s.d_support, dn.d_support) < tol);
  CHECK(max_rel(s.d_labels, dn.d_labels) < tol);
}

TEST_CASE("Kip::fit with the cross-entropy objective lowers the loss, learns τ and resumes exactly", "[synthetic][kip]") {
  const auto train = image_blobs(60, 3, 5);
  struct Recorder {
    std::vector<double> losses, taus;
    void on_step(distill::callbacks::TrainingState& s) { losses.push_back(s.loss), taus.push_back(s.value("temperature")); }
  } rec;
  ds::KipOptions<float> opt{.images_per_class = 2, .steps = 30, .target_batch_size = 60, .lr = 0.05,
                            .objective = ds::KipObjective::Kind::cross_entropy, .seed = 7};
  const auto a = ds::Kip{dk::FcNtk{.depth = 2}, opt}.fit(train, rec);
  CHECK(rec.losses.back() < rec.losses.front());
  CHECK(rec.taus.back() != 0.1f);
  CHECK(a.options_json.find("\"objective\": \"cross_entropy\"") != std::string::npos);
  const auto path = std::filesystem::temp_directory_path() / "distill_kip_ce_ckpt.npz";
  (void)ds::Kip{dk::FcNtk{.depth = 2}, opt}.fit(train, StopAndSave{path, 11});
  auto resumed = opt;
  resumed.resume_from = path;
  const auto b = ds::Kip{dk::FcNtk{.depth = 2}, resumed}.fit(train);
  CHECK(distill::max_abs_diff(a.images, b.images) == 0.0f);  // τ and its Adam state came back too
  CHECK(a.options_json == b.options_json);
  std::filesystem::remove(path);
}

TEST_CASE("Kip::fit: a diverging run stops naming the step and the quantity", "[synthetic][kip]") {
  const auto train = image_blobs(60, 3, 5);
  // An absurd rate: after the first step the support is ~1e38, its products with the targets overflow in float, and
  // the next loss is not finite. The guard stops before any update, so no non-finite support is ever kept.
  ds::KipOptions<float> opt{.images_per_class = 2, .steps = 10, .target_batch_size = 30, .lr = 1e38, .seed = 1};
  CHECK_THROWS_AS((ds::Kip{dk::FcNtk{}, opt}.fit(train)), distill::frame::Diverged);
  try {
    (void)ds::Kip{dk::FcNtk{}, opt}.fit(train);
  } catch (const std::exception& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("kip: ") == 0);
    CHECK(std::string(e.what()).find("at step ") != std::string::npos);
  }
}
