// SPDX-License-Identifier: MIT
// Tests for include/distill/synthetic/dm.hpp: the class-by-class gradient of the matching loss (with siamese DSA
// draws) against finite differences in double; fit() lowers the matching loss on small data, is reproducible,
// stops and resumes on the same bytes, returns a standardised hard-label set; bad options and data are refused
// with the option named.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "distill/nn/models.hpp"
#include "distill/synthetic/dm.hpp"
#include "support/bars.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;
namespace ds = distill::synthetic;
using Catch::Matchers::Contains;
using dd::Shape;
using dd::Tensor;

TEST_CASE("Dm::loss_and_grad: the gradient w.r.t. the images matches finite differences (with DSA)", "[synthetic][dm][grad]") {
  using B = dd::EigenBackend<double>;
  const std::size_t classes = 2;
  const auto data = bars<double>(6, classes, 1);
  ds::Dm<dd::nn::ConvNet, B> dm{tiny_net(classes, 6), {.images_per_class = 2}};
  dd::Rng rng(3);
  const auto theta = tiny_net(classes, 6).init<B>(rng);
  std::vector<Tensor<double>> real(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    real[c] = Tensor<double>({6, 1, 8, 8});
    std::copy_n(data.images.data() + c * 6 * 64, 6 * 64, real[c].data());
  }
  Tensor<double> images({4, 1, 8, 8});
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = rng.normal();
  const ds::Dsa dsa{"color_scale_rotate_crop"};
  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<ds::DsaDraw> draws{dsa.draw(rng, 8, 8), dsa.draw(rng, 8, 8)};
    const auto lg = dm.loss_and_grad(theta, images, real, dsa, draws);
    REQUIRE(lg.grad.shape() == images.shape());
    // Every 7th coordinate by the 6-point stencil, with a step small enough that it rarely straddles a ReLU kink
    double worst = 0, gmax = 0;
    for (std::size_t k = 0; k < lg.grad.size(); ++k) gmax = std::max(gmax, std::abs(lg.grad[k]));
    const double h = 1e-5;
    for (std::size_t k = 0; k < images.size(); k += 7) {
      auto at = [&](double step) {
        auto moved = images.clone();
        moved[k] += step;
        return dm.loss_and_grad(theta, moved, real, dsa, draws).loss;
      };
      const double numeric = (-at(-3 * h) + 9 * at(-2 * h) - 45 * at(-h) + 45 * at(h) - 9 * at(2 * h) + at(3 * h)) / (60 * h);
      // Pixels that crop or cutout remove have a zero derivative, where the stencil's rounding (~1e-11) is all
      // that is left: the floor of the denominator is a thousandth of the largest derivative.
      worst = std::max(worst, std::abs(numeric - lg.grad[k]) / std::max(std::abs(numeric) + std::abs(lg.grad[k]), 1e-3 * gmax));
    }
    INFO("DSA group " << ds::dsa_name(draws[0].transform) << ", " << ds::dsa_name(draws[1].transform));
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("Dm::fit lowers the matching loss, is reproducible, and resumes on the same bytes", "[synthetic][dm]") {
  const std::size_t classes = 3;
  const auto train = bars<float>(30, classes, 5);
  struct Recorder {
    std::vector<double> losses;
    void on_step(dd::callbacks::TrainingState& s) { losses.push_back(s.loss); }
  };
  SECTION("from noise the loss falls") {
    ds::DmOptions opt{.images_per_class = 2, .iterations = 40, .batch_real = 16, .lr = 1.0, .dsa_strategy = "none",
                      .init = ds::DmInit::noise, .seed = 2};
    Recorder rec;
    const auto out = ds::Dm{tiny_net(classes, 6), opt}.fit(train, rec);
    REQUIRE(rec.losses.size() == 40);
    double first = 0, last = 0;
    for (std::size_t i = 0; i < 5; ++i) first += rec.losses[i], last += rec.losses[39 - i];
    CHECK(last < 0.5 * first);
    CHECK(out.images.shape() == Shape{6, 1, 8, 8});
  }
  SECTION("with DSA and real init: reproducible, resumable, a standardised hard-label set") {
    ds::DmOptions opt{.images_per_class = 2, .iterations = 12, .batch_real = 16, .seed = 7};
    Recorder rec;
    const auto a = ds::Dm{tiny_net(classes, 6), opt}.fit(train, rec);
    CHECK(rec.losses.size() == 12);
    CHECK(a.method == "dm");
    CHECK(a.labels.shape() == Shape{6});
    CHECK(a.labels[0] == 0.0f);
    CHECK(a.labels[5] == 2.0f);
    CHECK(a.mean.size() == 1);
    CHECK_THAT(a.options_json, Contains("color_crop_cutout_scale_rotate"));  // "auto" on one channel: no flip
    a.validate();
    const auto b = ds::Dm{tiny_net(classes, 6), opt}.fit(train);
    CHECK(dd::max_abs_diff(a.images, b.images) == 0.0f);
    TempFile ckpt("distill_dm_test");
    (void)ds::Dm{tiny_net(classes, 6), opt}.fit(train, StopAndSave{ckpt.path, 5});
    auto resumed = opt;
    resumed.resume_from = ckpt.path;
    CHECK(dd::max_abs_diff(ds::Dm{tiny_net(classes, 6), resumed}.fit(train).images, a.images) == 0.0f);
    // The images moved away from the real ones they started as.
    auto still = opt;
    still.iterations = 0;
    CHECK(dd::max_abs_diff(ds::Dm{tiny_net(classes, 6), still}.fit(train).images, a.images) > 1e-3f);
  }
}

TEST_CASE("Dm refuses bad options and data with the argument named", "[synthetic][dm]") {
  const auto net = tiny_net(3, 6);
  CHECK_THROWS_WITH((ds::Dm{net, {.images_per_class = 0}}), Contains("images_per_class is 0"));
  CHECK_THROWS_WITH((ds::Dm{net, {.batch_real = 0}}), Contains("batch_real is 0"));
  CHECK_THROWS_WITH((ds::Dm{net, {.lr = -1}}), Contains("lr is -1"));
  CHECK_THROWS_WITH((ds::Dm{net, {.momentum = 1}}), Contains("momentum is 1"));
  CHECK_THROWS_WITH((ds::Dm{net, {.dsa_strategy = "color_blur"}}), Contains("unknown transform 'blur'"));
  const auto train = bars<float>(3, 3, 1);
  CHECK_THROWS_WITH((ds::Dm{net, {.images_per_class = 4, .iterations = 1}}.fit(train)),
                    Contains("class 0 has 3 examples, fewer than the 4 needed"));
  // Images the network does not take are refused before the first iteration.
  const auto wrong = dd::nn::ConvNet{.channels = 1, .classes = 3, .width = 6, .depth = 2, .image_size = 16};
  CHECK_THROWS_WITH((ds::Dm{wrong, {.images_per_class = 1, .iterations = 1}}.fit(train)), Contains("expected [N, 1, 16, 16]"));
  auto bad_resume = ds::DmOptions{.images_per_class = 1, .iterations = 2, .resume_from = "/nonexistent/dm.npz"};
  CHECK_THROWS_AS((ds::Dm{net, bad_resume}.fit(train)), dd::io_error);
}
