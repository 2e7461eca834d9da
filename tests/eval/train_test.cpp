// SPDX-License-Identifier: MIT
// eval::train / eval::evaluate: learning a separable problem, determinism, soft = hard labels for one-hot
// targets, callbacks (early stop, checkpoint + exact resume), errors, and a [data] MNIST smoke test.
#include <catch2/catch.hpp>
#include <filesystem>

#include "distill/callbacks.hpp"
#include "distill/eval.hpp"
#include "distill/io/datasets.hpp"
#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/skip.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"

namespace nn = distill::nn;
namespace eval = distill::eval;
using distill::LabeledData;
using distill::Shape;
using distill::Tensor;

namespace {
// Three Gaussian blobs in 2-D with centres on a circle of radius `radius` (separable when radius ≫ 0.3).
template <class T>
LabeledData<T> blobs(std::size_t n, std::uint64_t seed, double radius = 2.0) {
  distill::Rng rng(seed);
  LabeledData<T> d{Tensor<T>(Shape{n, 2}), std::vector<std::int64_t>(n), 3};
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = std::int64_t(rng.uniform_int(3));
    const double a = 2.0943951023931953 * double(c);
    d.labels[i] = c;
    d.images.at(i, 0) = T(radius * std::cos(a) + 0.3 * rng.normal());
    d.images.at(i, 1) = T(radius * std::sin(a) + 0.3 * rng.normal());
  }
  return d;
}

template <class T>
bool same_bytes(const nn::Params<T>& a, const nn::Params<T>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!std::equal(a.tensors[i].begin(), a.tensors[i].end(), b.tensors[i].begin())) return false;
  return true;
}
}  // namespace

TEMPLATE_TEST_CASE("train: a small MLP learns three separable blobs", "[eval][train]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const nn::Mlp mlp{.widths = {2, 16, 3}};
  distill::Rng rng(0);
  auto params = mlp.template init<B>(rng);
  const auto train = blobs<T>(512, 1), test = blobs<T>(300, 2);
  const double before = eval::evaluate<B>(mlp, params, test).accuracy;
  // 20 epochs × 16 batches = 320 steps.
  const auto r = eval::train<B>(mlp, params, train, {.epochs = 20, .batch_size = 32, .lr = 0.05, .seed = 3});
  CHECK(r.steps == 320);
  CHECK(r.epochs == 20);
  CHECK(r.epoch_losses.front() > r.epoch_losses.back());
  const auto e = eval::evaluate<B>(mlp, params, test, 64);
  INFO("accuracy before " << before << ", after " << e.accuracy);
  CHECK(e.accuracy > 0.97);
  CHECK(e.loss < 0.2);
  // evaluate agrees with predict + accuracy.
  CHECK(e.accuracy == Approx(nn::accuracy(nn::predict<B>(mlp, params, test.images), test.labels)));
}

TEMPLATE_TEST_CASE("train: same seed gives the same bytes, another seed does not", "[eval][train]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const nn::Mlp mlp{.widths = {2, 8, 3}};
  const auto data = blobs<T>(100, 5);
  auto run = [&](std::uint64_t seed) {
    distill::Rng rng(7);
    auto p = mlp.template init<B>(rng);
    eval::train<B>(mlp, p, data, {.epochs = 3, .batch_size = 16, .nesterov = true, .schedule = eval::Schedule::cosine, .seed = seed});
    return p;
  };
  const auto a = run(1), b = run(1), c = run(2);
  CHECK(same_bytes(a, b));
  CHECK(!same_bytes(a, c));
}

TEMPLATE_TEST_CASE("train: one-hot soft targets train exactly like hard labels", "[eval][train]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const nn::Mlp mlp{.widths = {2, 8, 3}};
  const auto hard = blobs<T>(64, 8);
  const eval::SoftLabeledData<T> soft{hard.images, nn::one_hot<T>(hard.labels, 3)};
  distill::Rng r1(1), r2(1);
  auto p1 = mlp.template init<B>(r1), p2 = mlp.template init<B>(r2);
  eval::train<B>(mlp, p1, hard, {.epochs = 2, .batch_size = 10});
  eval::train<B>(mlp, p2, soft, {.epochs = 2, .batch_size = 10});
  CHECK(same_bytes(p1, p2));
  // MSE objective runs on both, and a distilled set with soft labels is accepted.
  distill::io::DistilledSet<T> set;
  set.images = hard.images.reshape(Shape{64, 1, 1, 2});
  set.labels = soft.targets;
  const nn::Mlp mlp4{.widths = {2, 8, 3}};
  auto p3 = mlp4.template init<B>(r1);
  const auto r = eval::train<B>(mlp4, p3, set, {.epochs = 2, .objective = eval::Objective::mse});
  CHECK(std::isfinite(r.loss));
}

TEST_CASE("train: callbacks see progress, EarlyStop stops, Checkpoint + resume_from continues exactly", "[eval][train]") {
  using B = distill::DefaultBackend<float>;
  const nn::Mlp mlp{.widths = {2, 8, 3}};
  const auto data = blobs<float>(64, 9);
  struct Counter {
    std::size_t steps = 0, epochs = 0, begins = 0, ends = 0;
    double last_lr = 0;
    void on_begin(distill::callbacks::TrainingState&) { ++begins; }
    void on_step(distill::callbacks::TrainingState& s) { ++steps, last_lr = s.value("lr"); }
    void on_epoch_end(distill::callbacks::TrainingState&) { ++epochs; }
    void on_end(distill::callbacks::TrainingState&) { ++ends; }
  } counter;
  distill::Rng rng(1);
  auto p = mlp.init<B>(rng);
  eval::train(mlp, p, data, {.epochs = 4, .batch_size = 16, .lr = 0.1}, counter);
  CHECK(counter.steps == 16);
  CHECK(counter.epochs == 4);
  CHECK(counter.begins == 1);
  CHECK(counter.ends == 1);
  CHECK(counter.last_lr == Approx(0.01));  // ÷10 at half

  // EarlyStop on a metric that cannot improve stops after `patience` epochs.
  auto p2 = mlp.init<B>(rng);
  distill::callbacks::EarlyStop stop{.patience = 2, .min_delta = 1e9};
  const auto r = eval::train(mlp, p2, data, {.epochs = 50, .batch_size = 16}, stop);
  CHECK(r.stopped_early);
  CHECK(r.epochs == 3);

  // 4 epochs straight == 2 epochs + checkpoint + resume to 4 (parameters and momentum restored).
  const auto path = std::filesystem::temp_directory_path() / "distill_train_ckpt.npz";
  distill::Rng ra(5), rb(5);
  auto full = mlp.init<B>(ra), half = mlp.init<B>(rb);
  const eval::TrainOptions<float> opt{.epochs = 4, .batch_size = 16, .seed = 2};
  eval::train(mlp, full, data, opt);
  auto first = opt;
  first.epochs = 2;
  first.schedule = eval::Schedule::constant;  // the first half of a step schedule over 4 epochs runs at lr
  eval::train(mlp, half, data, first, distill::callbacks::Checkpoint{.path = path, .every = 0});
  auto resumed = mlp.init<B>(rb);  // fresh values: everything must come from the checkpoint
  auto second = opt;
  second.resume_from = path;
  const auto rr = eval::train(mlp, resumed, data, second);
  CHECK(rr.steps == 16);
  CHECK(rr.epoch_losses.size() == 2);
  CHECK(same_bytes(full, resumed));
  std::filesystem::remove(path);

  // Stopped by a callback in the middle of an epoch (step 6 of 16, 4 steps per epoch), saved, resumed: the same
  // bytes as the uninterrupted run, and the same loss for the epoch that was cut in two.
  const TempFile mid("distill_train_mid");
  distill::Rng rc(5), rd(5);
  auto stopped = mlp.init<B>(rc);
  StopAndSave stop_at_6{mid.path, 6};
  const auto part = eval::train(mlp, stopped, data, opt, stop_at_6);
  CHECK(part.steps == 6);
  CHECK(part.stopped_early);
  auto continued = mlp.init<B>(rd);
  auto rest = opt;
  rest.resume_from = mid.path;
  const auto second_part = eval::train(mlp, continued, data, rest);
  CHECK(second_part.steps == 16);
  CHECK(same_bytes(full, continued));
  const auto straight = [&] {
    distill::Rng re(5);
    auto p = mlp.init<B>(re);
    return eval::train(mlp, p, data, opt);
  }();
  REQUIRE(second_part.epoch_losses.size() == 3);  // epochs 2, 3 and 4 completed in the resumed call
  CHECK(second_part.epoch_losses[0] == straight.epoch_losses[1]);
}

TEST_CASE("train / evaluate: bad input is rejected with a message", "[eval][train]") {
  using B = distill::DefaultBackend<float>;
  const nn::Mlp mlp{.widths = {2, 8, 3}};
  distill::Rng rng(1);
  auto p = mlp.init<B>(rng);
  auto data = blobs<float>(16, 1);
  CHECK_THROWS_WITH(eval::train(mlp, p, data, {.batch_size = 0}), Catch::Contains("batch_size is 0"));
  CHECK_THROWS_WITH(eval::train(mlp, p, data, {.lr = -1}), Catch::Contains("lr is -1"));
  auto wrong_classes = data;
  wrong_classes.num_classes = 5;
  CHECK_THROWS_WITH(eval::train(mlp, p, wrong_classes, {.epochs = 1}), Catch::Contains("5 classes"));
  auto bad_label = data;
  bad_label.labels[3] = 7;
  CHECK_THROWS_WITH(eval::evaluate(mlp, p, bad_label), Catch::Contains("label 3 is 7"));
  CHECK_THROWS_WITH(eval::train(mlp, p, data, {.lr = 1e30}), Catch::Contains("NaN"));
  CHECK_THROWS_AS(eval::train(mlp, p, data, {.resume_from = "/nonexistent/ckpt.npz"}), distill::io_error);
}

TEST_CASE("train: an MLP on MNIST passes 85% after a few hundred steps", "[eval][train][data]") {
  using B = distill::DefaultBackend<float>;
  LabeledData<float> train_set, test_set;
  try {
    train_set = distill::io::load_mnist<float>("train").head(12800);
    test_set = distill::io::load_mnist<float>("test").head(1000);
  } catch (const distill::io_error& e) {
    DISTILL_SKIP("MNIST not found (run scripts/setup.sh): " << e.what());
  }
  const nn::Mlp mlp{.widths = {784, 128, 10}};
  distill::Rng rng(0);
  auto p = mlp.init<B>(rng);
  // 2 epochs of 100 batches of 128 = 200 steps.
  eval::train(mlp, p, train_set, {.epochs = 2, .batch_size = 128, .lr = 0.05, .schedule = eval::Schedule::constant});
  const double acc = eval::evaluate(mlp, p, test_set).accuracy;
  INFO("MNIST test accuracy after 200 steps: " << acc);
  CHECK(acc > 0.85);
}

TEST_CASE("train: a set's per-example weights: all 1 give the unweighted bytes, 2 counts an example twice", "[eval][train]") {
  using B = distill::EigenBackend<double>;
  const nn::Mlp mlp{.widths = {2, 8, 3}};
  auto data = blobs<double>(12, 5);
  data.images = data.images.reshape({12, 1, 1, 2});
  const auto set = distill::io::DistilledSet<double>::from_labeled_data(data, "test");
  const eval::TrainOptions<double> opt{.epochs = 6, .batch_size = 64, .lr = 0.05, .seed = 1};  // one full batch per step
  auto fresh = [&] {
    distill::Rng rng(7);
    return mlp.template init<B>(rng);
  };
  auto plain = fresh(), ones = fresh(), twice = fresh(), duplicated = fresh();
  eval::train<B>(mlp, plain, set, opt);

  auto ones_set = set;
  ones_set.extra["weights"] = distill::io::NpyArray::from_values(std::vector<double>(12, 1.0));
  eval::train<B>(mlp, ones, ones_set, opt);
  CHECK(same_bytes(plain, ones));

  auto weighted = set;
  std::vector<double> w(12, 1.0);
  w[3] = 2.0;
  weighted.extra["weights"] = distill::io::NpyArray::from_values(w);
  eval::train<B>(mlp, twice, weighted, opt);
  std::vector<std::size_t> idx(12);
  for (std::size_t i = 0; i < 12; ++i) idx[i] = i;
  idx.push_back(3);
  eval::train<B>(mlp, duplicated, distill::io::DistilledSet<double>::from_labeled_data(data.subset(idx), "test"), opt);
  CHECK_FALSE(same_bytes(plain, twice));
  for (std::size_t k = 0; k < twice.size(); ++k)
    for (std::size_t i = 0; i < twice.tensors[k].size(); ++i)
      CHECK(twice.tensors[k][i] == Approx(duplicated.tensors[k][i]).margin(1e-12));

  auto bad = set;
  bad.extra["weights"] = distill::io::NpyArray::from_values(std::vector<double>(11, 1.0));
  CHECK_THROWS_WITH(eval::train<B>(mlp, plain, bad, opt), Catch::Contains("11 weights for 12 examples"));
  bad.extra["weights"] = distill::io::NpyArray::from_values(std::vector<double>(12, -1.0));
  CHECK_THROWS_WITH(eval::train<B>(mlp, plain, bad, opt), Catch::Contains("expected a finite number >= 0"));
}
