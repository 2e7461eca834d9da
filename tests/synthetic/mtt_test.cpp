// SPDX-License-Identifier: MIT
// Tests for include/distill/synthetic/mtt.hpp and synthetic/expert_trajectories.hpp: the gradient of the normalised
// parameter distance w.r.t. the images, log α and the labels against finite differences in double through the
// unrolled synthetic steps (with and without DSA), the full and the bounded-memory hypergradient agree; experts are
// trained, saved and loaded back with their shapes checked; fit() lowers the loss, resumes on the same bytes; bad
// options, experts and files are refused with the problem named; a short MNIST run (skipped without the data).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "distill/io/datasets.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/mtt.hpp"
#include "support/bars.hpp"
#include "support/skip.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"

namespace dd = distill;
namespace ds = distill::synthetic;
using Catch::Matchers::Contains;
using dd::Shape;
using dd::Tensor;

namespace {

// Experts trained on the standardised bars, as Mtt::fit will see them.
template <class B>
std::vector<ds::ExpertTrajectory<typename B::Scalar>> experts_on(const dd::LabeledData<typename B::Scalar>& train,
                                                                 const dd::nn::ConvNet& net, std::size_t count,
                                                                 std::size_t epochs) {
  const auto prepared = dd::frame::prepare_training_set(train, true, 1, "test");
  std::vector<ds::ExpertTrajectory<typename B::Scalar>> out;
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(ds::train_expert<B>(net, prepared.data, prepared.norm,
                                      {.epochs = epochs, .batch_size = 16, .lr = 0.05, .dsa_strategy = "none"}, 10 + i));
  return out;
}

struct Recorder {
  std::vector<double> losses;
  void on_step(dd::callbacks::TrainingState& s) { losses.push_back(s.loss); }
};

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t count) {
  double s = 0;
  for (std::size_t i = from; i < from + count; ++i) s += v[i];
  return s / double(count);
}

}  // namespace

TEST_CASE("Mtt::loss_and_grad matches finite differences in images, log α and labels, full = recompute",
          "[synthetic][mtt][grad]") {
  using B = dd::EigenBackend<double>;
  const std::size_t classes = 2, n = 4;
  const auto net = tiny_net(classes);
  dd::Rng rng(3);
  const auto start = net.init<B>(rng);
  auto target = start.clone();  // θ*_{t+M}: the start moved a little
  for (auto& t : target.tensors)
    for (std::size_t i = 0; i < t.size(); ++i) t[i] += 0.05 * rng.normal();
  Tensor<double> images({n, 1, 8, 8});
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = rng.normal();
  Tensor<double> targets({n, classes});
  for (std::size_t i = 0; i < n; ++i) targets[i * classes + i % classes] = 1.0;
  const double log_lr = std::log(0.05);

  for (const char* strategy : {"none", "color_scale_rotate_crop"}) {
    const ds::Dsa dsa{strategy};
    const ds::Mtt<dd::nn::ConvNet, B> mtt{net, {ds::ExpertTrajectory<double>{{start, target}, {}, {}, ""}},
                                          {.syn_steps = 3, .expert_epochs = 1, .max_start_epoch = 1, .batch_syn = 3,
                                           .dsa_strategy = strategy}};
    const auto steps = mtt.draw_steps(rng, n, 8, 8, dsa);
    REQUIRE(steps.batches.size() == 3);
    CHECK(steps.batches[0].size() == 3);
    CHECK(steps.draws.size() == (dsa.empty() ? 0u : 3u));
    const auto full = mtt.loss_and_grad(images, targets, log_lr, start, target, steps, dsa, ds::Memory::full);
    const auto bounded = mtt.loss_and_grad(images, targets, log_lr, start, target, steps, dsa, ds::Memory::recompute);
    INFO("DSA strategy " << strategy);
    CHECK(full.loss > 0);
    CHECK(std::abs(full.loss - bounded.loss) < 1e-12 * full.loss);
    CHECK(dd::max_abs_diff(full.d_images, bounded.d_images) < 1e-10);
    CHECK(dd::max_abs_diff(full.d_labels, bounded.d_labels) < 1e-10);
    CHECK(std::abs(full.d_log_lr - bounded.d_log_lr) < 1e-10);

    auto loss_at = [&](const Tensor<double>& x, const Tensor<double>& y, double lr) {
      return mtt.loss_and_grad(x, y, lr, start, target, steps, dsa, ds::Memory::recompute).loss;
    };
    const double h = 1e-5;
    auto stencil = [&](auto&& f) {
      return (-f(-3 * h) + 9 * f(-2 * h) - 45 * f(-h) + 45 * f(h) - 9 * f(2 * h) + f(3 * h)) / (60 * h);
    };
    double gmax = 0, worst = 0;
    for (std::size_t k = 0; k < full.d_images.size(); ++k) gmax = std::max(gmax, std::abs(full.d_images[k]));
    for (std::size_t k = 0; k < images.size(); k += 9) {
      const double numeric = stencil([&](double s) {
        auto moved = images.clone();
        moved[k] += s;
        return loss_at(moved, targets, log_lr);
      });
      worst = std::max(worst, std::abs(numeric - full.d_images[k]) /
                                  std::max(std::abs(numeric) + std::abs(full.d_images[k]), 1e-3 * gmax));
    }
    CHECK(worst < 1e-5);
    const double numeric_lr = stencil([&](double s) { return loss_at(images, targets, log_lr + s); });
    CHECK(std::abs(numeric_lr - full.d_log_lr) < 1e-6 * std::max(1.0, std::abs(numeric_lr)));
    for (std::size_t k = 0; k < targets.size(); k += 3) {
      const double numeric = stencil([&](double s) {
        auto moved = targets.clone();
        moved[k] += s;
        return loss_at(images, moved, log_lr);
      });
      CHECK(std::abs(numeric - full.d_labels[k]) < 1e-6 * std::max(1.0, std::abs(numeric)));
    }
  }
}

TEST_CASE("Expert trajectories: one parameter set per epoch, saved and loaded back, shapes checked", "[synthetic][mtt]") {
  using B = dd::EigenBackend<float>;
  const auto train = bars<float>(12, 3, 2);
  const auto net = tiny_net(3);
  const auto experts = experts_on<B>(train, net, 1, 3);
  const auto& e = experts[0];
  REQUIRE(e.epochs.size() == 4);
  CHECK(e.epochs_trained() == 3);
  CHECK(dd::max_abs_diff(e.epochs[0].tensors[0], e.epochs[1].tensors[0]) > 0.0f);  // it trained
  CHECK(e.mean.size() == 1);
  CHECK_THAT(e.options_json, Contains("\"lr\""));

  struct Folder {  // a fresh folder, removed at the end
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("distill_mtt_experts_" + std::to_string(std::random_device{}()));
    Folder() { std::filesystem::create_directories(path); }
    ~Folder() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  const auto file = ds::expert_file(dir.path, 0);
  ds::save_expert(file, e);
  const auto back = ds::load_expert<B>(file, net);
  REQUIRE(back.epochs.size() == 4);
  for (std::size_t ep = 0; ep < 4; ++ep)
    for (std::size_t k = 0; k < e.epochs[ep].size(); ++k)
      CHECK(dd::max_abs_diff(back.epochs[ep].tensors[k], e.epochs[ep].tensors[k]) == 0.0f);
  CHECK(back.epochs[2].names == e.epochs[2].names);
  CHECK(dd::max_abs_diff(back.stddev, e.stddev) == 0.0f);
  REQUIRE(ds::expert_files(dir.path).size() == 1);

  // The wrong model, a file that is not an expert, a missing file, an empty folder: each named.
  CHECK_THROWS_WITH(ds::load_expert<B>(file, tiny_net(3, 5)), Contains("has shape") && Contains(file.string()));
  CHECK_THROWS_WITH(ds::load_expert<B>(file, dd::nn::ConvNet{.channels = 1, .classes = 3, .width = 4, .depth = 3,
                                                             .image_size = 8}),
                    Contains("parameter tensors, the model has"));
  TempFile params("distill_mtt_params");
  dd::nn::save_params(params.path, e.epochs[0]);
  CHECK_THROWS_WITH(ds::load_expert<B>(params.path, net), Contains("is not an expert trajectory"));
  CHECK_THROWS_AS(ds::load_expert<B>(dir.path / "none.npz", net), dd::io_error);
  CHECK_THROWS_WITH(ds::expert_files(dir.path / "nowhere"), Contains("is not a folder"));
}

TEST_CASE("Mtt::fit lowers the trajectory loss, resumes on the same bytes, learns α", "[synthetic][mtt]") {
  using B = dd::EigenBackend<float>;
  const std::size_t classes = 3;
  const auto train = bars<float>(20, classes, 5);
  const auto net = tiny_net(classes);
  const auto experts = experts_on<B>(train, net, 2, 3);
  SECTION("one segment, no augmentation: the loss falls") {
    Recorder rec;
    const ds::MttOptions opt{.images_per_class = 2, .iterations = 40, .syn_steps = 4, .expert_epochs = 2,
                             .max_start_epoch = 1, .lr_images = 100, .lr_log_lr = 0.05, .dsa_strategy = "none", .seed = 1};
    const auto out = ds::Mtt<dd::nn::ConvNet, B>{net, {experts[0]}, opt}.fit(train, rec);
    REQUIRE(rec.losses.size() == 40);
    INFO("first " << rec.losses[0] << ", last " << rec.losses[39]);
    CHECK(mean_of(rec.losses, 35, 5) < 0.8 * mean_of(rec.losses, 0, 5));
    CHECK(out.images.shape() == Shape{6, 1, 8, 8});
    CHECK(out.method == "mtt");
    REQUIRE(out.extra.count("syn_lr") == 1);
    const float alpha = out.extra.at("syn_lr").as<float>()[0];
    CHECK(alpha > 0.0f);
    CHECK(alpha != 0.01f);  // α was learned
    out.validate();
  }
  SECTION("DSA, minibatches, learned labels: reproducible and resumable on the same bytes") {
    for (const auto memory : {ds::Memory::recompute, ds::Memory::full}) {
      const ds::MttOptions opt{.images_per_class = 2, .iterations = 8, .syn_steps = 3, .expert_epochs = 1,
                               .batch_syn = 4, .learn_labels = true, .memory = memory, .seed = 7};
      const auto a = ds::Mtt<dd::nn::ConvNet, B>{net, experts, opt}.fit(train);
      CHECK(a.labels.shape() == Shape{6, 3});
      CHECK_THAT(a.options_json, Contains("color_crop_cutout_scale_rotate"));  // "auto" on one channel: no flip
      TempFile ckpt("distill_mtt_test");
      (void)ds::Mtt<dd::nn::ConvNet, B>{net, experts, opt}.fit(train, StopAndSave{ckpt.path, 3});
      auto resumed = opt;
      resumed.resume_from = ckpt.path;
      const auto b = ds::Mtt<dd::nn::ConvNet, B>{net, experts, resumed}.fit(train);
      CHECK(dd::max_abs_diff(a.images, b.images) == 0.0f);
      CHECK(dd::max_abs_diff(a.labels, b.labels) == 0.0f);
      CHECK(a.extra.at("syn_lr").as<float>()[0] == b.extra.at("syn_lr").as<float>()[0]);
    }
  }
}

TEST_CASE("Mtt refuses bad options, short experts and mismatched data with the problem named", "[synthetic][mtt]") {
  using B = dd::EigenBackend<float>;
  const auto net = tiny_net(3);
  const auto train = bars<float>(6, 3, 1);
  const auto experts = experts_on<B>(train, net, 1, 2);
  using Mtt = ds::Mtt<dd::nn::ConvNet, B>;
  CHECK_THROWS_WITH((Mtt{net, experts, {.images_per_class = 0}}), Contains("images_per_class is 0"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.syn_steps = 0}}), Contains("syn_steps is 0"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.expert_epochs = 0}}), Contains("expert_epochs is 0"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.max_start_epoch = 0}}), Contains("max_start_epoch is 0"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.lr_images = -1}}), Contains("lr_images is -1"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.lr_log_lr = 0}}), Contains("lr_log_lr is 0"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.syn_lr_init = 0}}), Contains("syn_lr_init is 0"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.momentum = 1}}), Contains("momentum is 1"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.dsa_strategy = "color_blur"}}), Contains("unknown transform 'blur'"));
  CHECK_THROWS_WITH((Mtt{net, {}, {}}), Contains("experts is empty"));
  CHECK_THROWS_WITH((Mtt{net, experts, {.expert_epochs = 2, .max_start_epoch = 2}}),
                    Contains("expert 0 has 2 epochs, fewer than the max_start_epoch − 1 + expert_epochs = 3"));
  CHECK_THROWS_WITH((ds::ExpertOptions{.epochs = 0}.validate("train_expert()")), Contains("epochs is 0"));
  // Data the experts did not see (other pixel statistics), too few images of a class, images the model does not take.
  auto brighter = train;
  brighter.images = train.images.clone();
  for (auto& v : brighter.images) v += 1.0f;
  const ds::MttOptions ok{.images_per_class = 1, .iterations = 1, .expert_epochs = 1, .max_start_epoch = 1};
  CHECK_THROWS_WITH((Mtt{net, experts, ok}.fit(brighter)), Contains("expert 0 was trained on pixels standardised"));
  auto many = ok;
  many.images_per_class = 7;
  CHECK_THROWS_WITH((Mtt{net, experts, many}.fit(train)), Contains("class 0 has 6 examples, fewer than the 7 needed"));
  auto bad_resume = ok;
  bad_resume.resume_from = "/nonexistent/mtt.npz";
  CHECK_THROWS_AS((Mtt{net, experts, bad_resume}.fit(train)), dd::io_error);
}

TEST_CASE("Mtt on MNIST: experts of a small ConvNet, a short run lowers the loss", "[synthetic][mtt][data]") {
  using B = dd::EigenBackend<float>;
  dd::LabeledData<float> train;
  try {
    train = dd::io::load_mnist<float>("train").head(1000);
  } catch (const dd::io_error& e) {
    DISTILL_SKIP("MNIST not found (run scripts/setup.sh): " << e.what());
  }
  const dd::nn::ConvNet net{.width = 8};
  const auto prepared = dd::frame::prepare_training_set(train, true, 1, "test");
  const dd::LabeledData<float> standardised{dd::frame::as_nchw(prepared.data.images), prepared.data.labels, 10};
  const auto expert =
      ds::train_expert<B>(net, standardised, prepared.norm, {.epochs = 2, .batch_size = 100, .dsa_strategy = "none"}, 1);
  Recorder rec;
  const auto set = ds::Mtt<dd::nn::ConvNet, B>{net, {expert}, {.images_per_class = 1, .iterations = 20, .syn_steps = 5,
                                                               .expert_epochs = 1, .max_start_epoch = 1,
                                                               .dsa_strategy = "none"}}
                       .fit(train, rec);
  CHECK(set.images.shape() == Shape{10, 1, 28, 28});
  CHECK(set.images.all_finite());
  CHECK(mean_of(rec.losses, 15, 5) < mean_of(rec.losses, 0, 5));
}
