// SPDX-License-Identifier: MIT
// FRePo: fit() lowers the loss on a small synthetic problem, is reproducible, resumes byte for byte from a
// checkpoint (the pool's networks, their SGD states and ages included, re-initialisations on both sides of the
// stop), uses every network of the pool, rejects bad options, and runs on MNIST (skipped without the data).
// The gradient itself is KIP's through NetworkFeatureKernel, checked in kernels/empirical_test.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "distill/io/datasets.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/frepo.hpp"
#include "support/blobs.hpp"
#include "support/skip.hpp"
#include "support/stop_and_save.hpp"

namespace ds = distill::synthetic;
namespace nn = distill::nn;
using distill::Shape;
using distill::Tensor;

namespace frepo_test {
namespace {

struct Recorder {
  std::vector<double> losses;
  void on_step(distill::callbacks::TrainingState& s) { losses.push_back(s.loss); }
};

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t count) {
  double s = 0;
  for (std::size_t i = from; i < from + count; ++i) s += v[i];
  return s / double(count);
}

const nn::Mlp kMlp{.widths = {12, 32, 3}};
}  // namespace

TEST_CASE("Frepo::fit lowers the loss, is reproducible, and resumes byte for byte with its pool", "[synthetic][frepo]") {
  const auto train = image_blobs(60, 3, 5);
  // 3 networks re-initialised every 5 steps: several re-initialisations before and after the stop at step 13.
  const ds::FrepoOptions<float> opt{
      .kip = {.images_per_class = 2, .steps = 40, .target_batch_size = 60, .learn_labels = true, .lr = 0.03, .seed = 7},
      .pool_size = 3, .online_steps = 5, .net_lr = 0.05};
  Recorder rec;
  const auto a = ds::Frepo{kMlp, opt}.fit(train, rec);
  REQUIRE(rec.losses.size() == 40);
  CHECK(mean_of(rec.losses, 30, 10) < mean_of(rec.losses, 0, 10));
  CHECK(a.images.shape() == Shape{6, 1, 3, 4});
  CHECK(a.labels.shape() == Shape{6, 3});  // learned labels
  CHECK(a.method == "frepo");
  CHECK(a.options_json.find("\"pool_size\"") != std::string::npos);
  a.validate();

  const auto b = ds::Frepo{kMlp, opt}.fit(train);
  CHECK(distill::max_abs_diff(a.images, b.images) == 0.0f);
  CHECK(distill::max_abs_diff(a.labels, b.labels) == 0.0f);

  const auto path = std::filesystem::temp_directory_path() / "distill_frepo_test_ckpt.npz";
  (void)ds::Frepo{kMlp, opt}.fit(train, StopAndSave{path, 13});
  auto resumed = opt;
  resumed.kip.resume_from = path;
  const auto c = ds::Frepo{kMlp, resumed}.fit(train);
  CHECK(distill::max_abs_diff(a.images, c.images) == 0.0f);  // byte-identical: the pool came back too
  CHECK(distill::max_abs_diff(a.labels, c.labels) == 0.0f);
  std::filesystem::remove(path);

  // The pool matters: without the online training (a pool of fresh networks that never learn), the set differs.
  auto frozen = opt;
  frozen.online_steps = 1;  // every network is re-initialised before it takes a second step
  const auto d = ds::Frepo{kMlp, frozen}.fit(train);
  CHECK(distill::max_abs_diff(a.images, d.images) > 1e-4f);

  // Fixed labels come back hard.
  auto fixed = opt;
  fixed.kip.learn_labels = false;
  fixed.kip.steps = 3;
  CHECK(ds::Frepo{kMlp, fixed}.fit(train).labels.shape() == Shape{6});
}

TEST_CASE("Frepo rejects bad options naming them", "[synthetic][frepo]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH((ds::Frepo{kMlp, {.pool_size = 0}}), Contains("pool_size is 0"));
  CHECK_THROWS_WITH((ds::Frepo{kMlp, {.online_steps = 0}}), Contains("online_steps is 0"));
  CHECK_THROWS_WITH((ds::Frepo{kMlp, {.net_lr = -1}}), Contains("net_lr is -1"));
  CHECK_THROWS_WITH((ds::Frepo{kMlp, {.net_momentum = 1}}), Contains("net_momentum is 1"));
  CHECK_THROWS_WITH((ds::Frepo{kMlp, {.kip = {.images_per_class = 0}}}), Contains("images_per_class is 0"));
  CHECK_THROWS_AS((ds::Frepo{kMlp, {.pool_size = 0}}), distill::invalid_argument);
  // A class with fewer images than images_per_class (real init).
  const auto train = image_blobs(3, 3, 1);
  CHECK_THROWS_AS((ds::Frepo{kMlp, {.kip = {.images_per_class = 5, .steps = 1, .target_batch_size = 9}}}.fit(train)),
                  distill::invalid_argument);
}

TEST_CASE("Frepo on MNIST: a short run with a small ConvNet lowers the loss", "[synthetic][frepo][data]") {
  distill::LabeledData<float> train;
  try {
    train = distill::io::load_mnist<float>("train").head(3000);
  } catch (const distill::io_error& e) {
    DISTILL_SKIP("MNIST not found (run scripts/setup.sh): " << e.what());
  }
  const nn::ConvNet net{.width = 8};
  Recorder rec;
  const auto set = ds::Frepo{net, {.kip = {.images_per_class = 1, .steps = 30, .target_batch_size = 100}, .pool_size = 4,
                                   .online_steps = 10}}
                       .fit(train, rec);
  CHECK(set.images.shape() == Shape{10, 1, 28, 28});
  CHECK(set.images.all_finite());
  CHECK(mean_of(rec.losses, 20, 10) < mean_of(rec.losses, 0, 10));
}

}  // namespace frepo_test
