// SPDX-License-Identifier: MIT
// Tests for include/distill/synthetic/dc.hpp: DC's layer-wise gradient distance (value and gradient), the
// second-order gradient of the matching loss w.r.t. the images against finite differences on a tiny net (double),
// fit() lowers the matching loss, resumes on the same bytes, and DSA turns DC into DSA; bad options are named.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/nn/models.hpp"
#include "distill/synthetic/dc.hpp"
#include "support/bars.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;
namespace ds = distill::synthetic;
using Catch::Matchers::Contains;
using dd::Shape;
using dd::Tensor;

TEST_CASE("gradient_distance: 1 - cosine per output row, biases skipped, and its gradient", "[synthetic][dc][grad]") {
  using B = dd::EigenBackend<double>;
  dd::Rng rng(1);
  auto normal = [&](Shape s) {
    Tensor<double> t(std::move(s));
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = rng.normal();
    return t;
  };
  const auto gs_w = normal({3, 2, 2, 2}), gs_b = normal({3}), gr_w = normal({3, 2, 2, 2}), gr_b = normal({3});
  {
    const auto d = ds::gradient_distance<B>({dd::ad::Var<B>(gs_w), dd::ad::Var<B>(gs_b)}, {gr_w, gr_b});
    double expected = 0;
    for (std::size_t r = 0; r < 3; ++r) {
      double dot = 0, ns = 0, nr = 0;
      for (std::size_t k = 0; k < 8; ++k) {
        dot += gs_w[r * 8 + k] * gr_w[r * 8 + k];
        ns += gs_w[r * 8 + k] * gs_w[r * 8 + k];
        nr += gr_w[r * 8 + k] * gr_w[r * 8 + k];
      }
      expected += 1 - dot / (std::sqrt(ns) * std::sqrt(nr) + 1e-6);
    }
    CHECK(relative_error(d.item(), expected) < Tolerances<double>::value);
  }
  const auto r = dd::ad::gradcheck<B>([&](const std::vector<dd::ad::Var<B>>& v) { return ds::gradient_distance<B>(v, {gr_w, gr_b}); },
                                      {gs_w, gs_b});
  CHECK(r.max_rel_error < Tolerances<double>::grad);
}

TEST_CASE("Dc::loss_and_grad: the second-order gradient w.r.t. the images matches finite differences", "[synthetic][dc][grad]") {
  using B = dd::EigenBackend<double>;
  const std::size_t classes = 2;
  const auto data = bars<double>(5, classes, 2);
  ds::Dc<dd::nn::ConvNet, B> dc{tiny_net(classes), {.images_per_class = 1}};
  dd::Rng rng(4);
  const auto theta = tiny_net(classes).init<B>(rng);
  std::vector<Tensor<double>> real(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    real[c] = Tensor<double>({5, 1, 8, 8});
    std::copy_n(data.images.data() + c * 5 * 64, 5 * 64, real[c].data());
  }
  Tensor<double> images({2, 1, 8, 8});
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = rng.normal();
  for (const char* strategy : {"none", "rotate_color"}) {
    const ds::Dsa dsa{strategy};
    const std::vector<ds::DsaDraw> draws{dsa.draw(rng, 8, 8), dsa.draw(rng, 8, 8)};
    const auto lg = dc.loss_and_grad(theta, images, real, dsa, draws);
    double worst = 0, gmax = 0;
    for (std::size_t k = 0; k < lg.grad.size(); ++k) gmax = std::max(gmax, std::abs(lg.grad[k]));
    const double h = 1e-5;
    for (std::size_t k = 0; k < images.size(); k += 5) {
      auto at = [&](double step) {
        auto moved = images.clone();
        moved[k] += step;
        return dc.loss_and_grad(theta, moved, real, dsa, draws).loss;
      };
      const double numeric = (-at(-3 * h) + 9 * at(-2 * h) - 45 * at(-h) + 45 * at(h) - 9 * at(2 * h) + at(3 * h)) / (60 * h);
      worst = std::max(worst, std::abs(numeric - lg.grad[k]) / std::max(std::abs(numeric) + std::abs(lg.grad[k]), 1e-3 * gmax));
    }
    INFO("strategy " << strategy);
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("Dc::fit lowers the matching loss, resumes on the same bytes, DSA makes it DSA", "[synthetic][dc]") {
  const std::size_t classes = 2;
  const auto train = bars<float>(20, classes, 5);
  struct Recorder {
    std::vector<double> losses;
    void on_step(dd::callbacks::TrainingState& s) { losses.push_back(s.loss); }
  };
  ds::DcOptions opt{.images_per_class = 1, .iterations = 30, .batch_real = 16, .seed = 3};
  Recorder rec;
  const auto a = ds::Dc{tiny_net(classes), opt}.fit(train, rec);
  REQUIRE(rec.losses.size() == 30);
  double first = 0, last = 0;
  for (std::size_t i = 0; i < 6; ++i) first += rec.losses[i], last += rec.losses[29 - i];
  CHECK(last < first);
  CHECK(a.method == "dc");
  CHECK(a.images.shape() == Shape{2, 1, 8, 8});
  a.validate();
  TempFile ckpt("distill_dc_test");
  auto shorter = opt;
  shorter.iterations = 8;
  shorter.outer_loop = 2;
  shorter.inner_loop = 2;
  const auto full = ds::Dc{tiny_net(classes), shorter}.fit(train);
  (void)ds::Dc{tiny_net(classes), shorter}.fit(train, StopAndSave{ckpt.path, 3});
  auto resumed = shorter;
  resumed.resume_from = ckpt.path;
  CHECK(dd::max_abs_diff(ds::Dc{tiny_net(classes), resumed}.fit(train).images, full.images) == 0.0f);
  auto dsa = shorter;
  dsa.dsa_strategy = "auto";
  const auto d = ds::Dc{tiny_net(classes), dsa}.fit(train);
  CHECK(d.method == "dsa");
  CHECK_THAT(d.options_json, Contains("color_crop_cutout_scale_rotate"));
}

TEST_CASE("Dc refuses bad options with the argument named", "[synthetic][dc]") {
  const auto net = tiny_net(2);
  CHECK_THROWS_WITH((ds::Dc{net, {.images_per_class = 7}}), Contains("defines no loops for 7 images per class"));
  CHECK_NOTHROW((ds::Dc{net, {.images_per_class = 7, .outer_loop = 3, .inner_loop = 2}}));
  CHECK_THROWS_WITH((ds::Dc{net, {.batch_real = 0}}), Contains("batch_real is 0"));
  CHECK_THROWS_WITH((ds::Dc{net, {.lr_img = 0}}), Contains("lr_img is 0"));
  CHECK_THROWS_WITH((ds::Dc{net, {.dsa_strategy = "zoom"}}), Contains("unknown transform 'zoom'"));
  CHECK((ds::dc_loops(10) == std::pair<std::size_t, std::size_t>{10, 50}));
}
