// SPDX-License-Identifier: MIT
// Tests for include/distill/synthetic/dsa.hpp and the resampling ops it stands on (autodiff/ops/sample.hpp):
// grid_sample / translate / flip_width are exact adjoint pairs whose first and second derivatives match central
// differences; every DSA transform is differentiable w.r.t. the images (finite differences in double); one draw
// applied to two batches transforms both the same way (siamese); zero-strength draws are the identity; strategy
// strings parse (and bad ones are refused with the word named); the per-image Tensor augmentation for evaluation.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <set>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/synthetic/dsa.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;
namespace ad = distill::ad;
using Catch::Matchers::Contains;
using B = dd::EigenBackend<double>;
using V = ad::Var<B>;

namespace {

dd::Tensor<double> random_tensor(dd::Shape shape, std::uint64_t seed) {
  dd::Tensor<double> t(std::move(shape));
  dd::Rng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = rng.normal();
  return t;
}

double max_abs_diff(const dd::Tensor<double>& a, const dd::Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

double inner(const dd::Tensor<double>& a, const dd::Tensor<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

/// A nonlinear scalar of a linear map's output, so that first and second derivatives are both non-trivial.
template <class F>
auto weighted_square(F f, const dd::Tensor<double>& weights) {
  return [f, weights](const std::vector<V>& xs) { return ad::sum(ad::mul(ad::square(f(xs[0])), V(weights))); };
}

// The stencil's rounding error is about 1e-11 in absolute terms here, so coordinates whose derivative is itself
// near 1e-6 (products of normal draws) are compared against a floor of 1e-5 rather than 1e-7.
const ad::GradcheckOptions kCheck{.tiny = 1e-5};

const std::vector<dd::synthetic::DsaTransform> kAll = {
    dd::synthetic::DsaTransform::color, dd::synthetic::DsaTransform::crop,  dd::synthetic::DsaTransform::cutout,
    dd::synthetic::DsaTransform::flip,  dd::synthetic::DsaTransform::scale, dd::synthetic::DsaTransform::rotate};

}  // namespace

TEST_CASE("grid_sample, translate and flip_width are adjoint pairs with first and second derivatives", "[autodiff][grad]") {
  const auto x = random_tensor({2, 2, 5, 6}, 1);
  dd::Tensor<double> theta({2, 2, 3}, {0.9, -0.3, 0.1, 0.25, 1.1, -0.05,  //
                                       1.0, 0.0, 0.0, 0.0, 1.0, 0.0});
  const auto grid = ad::affine_grid(theta, 4, 7);  // a different output size: the adjoint maps back to 5 x 6
  const auto y = random_tensor({2, 2, 4, 7}, 2);
  // <A x, y> = <x, A^T y>
  const auto ax = ad::grid_sample(V(x), grid).value();
  const auto aty = ad::grid_sample_adjoint(V(y), grid, x.shape()).value();
  CHECK(relative_error(inner(ax, y), inner(x, aty)) < Tolerances<double>::value);

  const std::vector<long> dy{1, -2}, dx{-3, 0};
  const auto x2 = random_tensor({2, 2, 5, 6}, 5);
  CHECK(relative_error(inner(ad::translate(V(x), dy, dx).value(), x2),
                       inner(x, ad::translate(V(x2), {-1, 2}, {3, 0}).value())) < Tolerances<double>::value);

  const auto w_out = random_tensor({2, 2, 4, 7}, 3), w_in = random_tensor({2, 2, 5, 6}, 4);
  const auto v = random_tensor({2, 2, 5, 6}, 6);
  const auto vy = random_tensor({2, 2, 4, 7}, 7);
  SECTION("grid_sample") {
    auto f = weighted_square([&](const V& in) { return ad::grid_sample(in, grid); }, w_out);
    CHECK(ad::gradcheck<B>(f, {x}, kCheck).max_rel_error < Tolerances<double>::grad);
    CHECK(ad::gradcheck_second_order<B>(f, {x}, {v}, kCheck).max_rel_error < Tolerances<double>::second_order);
  }
  SECTION("grid_sample_adjoint") {
    auto f = weighted_square([&](const V& in) { return ad::grid_sample_adjoint(in, grid, x.shape()); }, w_in);
    CHECK(ad::gradcheck<B>(f, {y}, kCheck).max_rel_error < Tolerances<double>::grad);
    CHECK(ad::gradcheck_second_order<B>(f, {y}, {vy}, kCheck).max_rel_error < Tolerances<double>::second_order);
  }
  SECTION("translate") {
    auto f = weighted_square([&](const V& in) { return ad::translate(in, dy, dx); }, w_in);
    CHECK(ad::gradcheck<B>(f, {x}, kCheck).max_rel_error < Tolerances<double>::grad);
    CHECK(ad::gradcheck_second_order<B>(f, {x}, {v}, kCheck).max_rel_error < Tolerances<double>::second_order);
  }
  SECTION("flip_width") {
    auto f = weighted_square([&](const V& in) { return ad::flip_width(in, {1, 0}); }, w_in);
    CHECK(ad::gradcheck<B>(f, {x}, kCheck).max_rel_error < Tolerances<double>::grad);
    CHECK(ad::gradcheck_second_order<B>(f, {x}, {v}, kCheck).max_rel_error < Tolerances<double>::second_order);
  }
}

TEST_CASE("affine grid sampling: identity, a quarter turn, zero outside, one grid for the batch", "[autodiff]") {
  const auto x = random_tensor({3, 2, 5, 5}, 11);
  dd::Tensor<double> identity({1, 2, 3}, {1, 0, 0, 0, 1, 0});
  CHECK(max_abs_diff(ad::grid_sample(V(x), ad::affine_grid(identity, 5, 5)).value(), x) < 1e-12);
  // θ = [[0, −1, 0], [1, 0, 0]]: output (i, j) reads source (row j, column 4 − i)
  dd::Tensor<double> quarter({1, 2, 3}, {0, -1, 0, 1, 0, 0});
  const auto y = ad::grid_sample(V(x), ad::affine_grid(quarter, 5, 5)).value();
  double worst = 0;
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 5; ++j)
          worst = std::max(worst, std::abs(y[((n * 2 + c) * 5 + i) * 5 + j] - x[((n * 2 + c) * 5 + j) * 5 + (4 - i)]));
  CHECK(worst < 1e-12);
  // A shift by the whole width samples only zero padding.
  dd::Tensor<double> away({1, 2, 3}, {1, 0, 2.5, 0, 1, 0});
  CHECK(max_abs_diff(ad::grid_sample(V(x), ad::affine_grid(away, 5, 5)).value(), dd::Tensor<double>(x.shape())) == 0);
  CHECK_THROWS_WITH(ad::grid_sample(V(x), dd::Tensor<double>({2, 5, 5, 2})), Contains("grid has shape [2, 5, 5, 2]"));
  CHECK_THROWS_WITH(ad::translate(V(x), {1, 2}, {0}), Contains("dy has 2 entries"));
}

TEST_CASE("every DSA transform is differentiable w.r.t. the images (finite differences, double)", "[synthetic][dsa][grad]") {
  dd::synthetic::Dsa dsa{"color_crop_cutout_flip_scale_rotate"};
  const auto x = random_tensor({3, 2, 6, 6}, 21);
  const auto w = random_tensor({3, 2, 6, 6}, 22);
  for (auto t : kAll) {
    // Per-image numbers for this group (drawn until the group comes up).
    dd::Rng rng(100);
    dd::synthetic::DsaDraw d;
    do d = dsa.draw(rng, 6, 6, 3);
    while (d.transform != t);
    if (t == dd::synthetic::DsaTransform::flip) d.flip = {1, 0, 1};
    INFO("transform " << dd::synthetic::dsa_name(t));
    auto f = weighted_square([&](const V& in) { return dsa.apply<B>(in, d); }, w);
    const auto r = ad::gradcheck<B>(f, {x}, kCheck);
    CHECK(r.max_rel_error < Tolerances<double>::grad);
    // The augmented batch changes (the draw is not the identity) and keeps its shape.
    const auto y = dsa.apply(x, d);
    CHECK(y.shape() == x.shape());
    CHECK(max_abs_diff(y, x) > 1e-3);
  }
  // Second order through the colour and rotation groups (DC differentiates a gradient of the augmented loss).
  for (auto t : {dd::synthetic::DsaTransform::color, dd::synthetic::DsaTransform::rotate}) {
    dd::Rng rng(5);
    dd::synthetic::DsaDraw d;
    do d = dsa.draw(rng, 6, 6, 3);
    while (d.transform != t);
    auto f = weighted_square([&](const V& in) { return dsa.apply<B>(in, d); }, w);
    CHECK(ad::gradcheck_second_order<B>(f, {x}, {random_tensor(x.shape(), 23)}, kCheck).max_rel_error <
          Tolerances<double>::second_order);
  }
}

TEST_CASE("DSA is siamese: one draw transforms two batches (of any size) the same way", "[synthetic][dsa]") {
  dd::synthetic::Dsa dsa{"color_crop_cutout_flip_scale_rotate"};
  const auto real = random_tensor({5, 3, 8, 8}, 31);
  dd::Rng rng(32);
  std::set<int> groups;
  for (int trial = 0; trial < 60; ++trial) {
    const auto d = dsa.draw(rng, 8, 8);  // count 1: shared by every image
    groups.insert(int(d.transform));
    const auto out = dsa.apply(real, d);
    // Image 2 of the real batch, augmented alone as a "synthetic batch" of 1, gives the same pixels.
    dd::Tensor<double> one({1, 3, 8, 8});
    std::copy_n(real.data() + 2 * 192, 192, one.data());
    const auto alone = dsa.apply(one, d);
    double worst = 0;
    for (std::size_t k = 0; k < 192; ++k) worst = std::max(worst, std::abs(alone[k] - out[2 * 192 + k]));
    INFO("transform " << dd::synthetic::dsa_name(d.transform));
    // colour mixes over the pixels of one image only, so the transform of an image does not depend on its batch
    CHECK(worst < 1e-12);
  }
  CHECK(groups.size() == 6);  // every group of the strategy comes up
  // The same seed gives the same draw, so the real and synthetic side can also draw separately from equal Rngs.
  dd::Rng a(9), b(9);
  const auto da = dsa.draw(a, 8, 8), db = dsa.draw(b, 8, 8);
  CHECK(max_abs_diff(dsa.apply(real, da), dsa.apply(real, db)) == 0);
}

TEST_CASE("DSA at zero strength is the identity", "[synthetic][dsa]") {
  dd::synthetic::Dsa dsa{"color_crop_cutout_flip_scale_rotate"};
  const auto x = random_tensor({2, 3, 7, 7}, 41);
  for (auto t : kAll) {
    INFO("transform " << dd::synthetic::dsa_name(t));
    CHECK(max_abs_diff(dsa.apply(x, dd::synthetic::DsaDraw::identity(t)), x) < 1e-12);
  }
  // Drawn with zero strengths, the geometric groups leave the images alone.
  dd::synthetic::Dsa zero{"crop_cutout_flip_scale_rotate",
                          {.prob_flip = 0, .ratio_scale = 1, .ratio_rotate = 0, .ratio_crop_pad = 0, .ratio_cutout = 0}};
  dd::Rng rng(42);
  for (int trial = 0; trial < 20; ++trial) CHECK(max_abs_diff(zero.apply(x, zero.draw(rng, 7, 7, 2)), x) < 1e-12);
  CHECK(max_abs_diff(dd::synthetic::Dsa{"none"}.apply(x, dd::synthetic::Dsa{"none"}.draw(rng, 7, 7)), x) == 0);
}

TEST_CASE("DSA strategies: parsing, the per-data-set default, draws only from the strategy, bad input", "[synthetic][dsa]") {
  using dd::synthetic::DsaTransform;
  CHECK(dd::synthetic::parse_dsa_strategy("color_crop_cutout_flip_scale_rotate").size() == 6);
  CHECK(dd::synthetic::parse_dsa_strategy("none").empty());
  CHECK(dd::synthetic::default_dsa_strategy(1) == "color_crop_cutout_scale_rotate");  // digits: no flip
  CHECK(dd::synthetic::default_dsa_strategy(3) == "color_crop_cutout_flip_scale_rotate");
  CHECK_THROWS_WITH(dd::synthetic::Dsa{"color_zoom"}, Contains("unknown transform 'zoom'"));
  CHECK_THROWS_WITH(dd::synthetic::Dsa{"crop_color_crop"}, Contains("DSA strategy 'crop_color_crop' names transform 'crop' twice"));
  CHECK_THROWS_WITH((dd::synthetic::Dsa{"color", {.prob_flip = 2}}), Contains("prob_flip is 2"));
  dd::synthetic::Dsa dsa{"crop_rotate"};
  dd::Rng rng(3);
  for (int i = 0; i < 30; ++i) {
    const auto t = dsa.draw(rng, 8, 8).transform;
    CHECK((t == DsaTransform::crop || t == DsaTransform::rotate));
  }
  const auto x = random_tensor({4, 1, 8, 8}, 5);
  CHECK_THROWS_WITH(dsa.apply(x, dsa.draw(rng, 8, 8, 3)), Contains("the draw was made for 3 images, but the batch has 4"));
  CHECK_THROWS_WITH(dsa.apply(random_tensor({4, 64}, 1), dsa.draw(rng, 8, 8)), Contains("expected [N, C, H, W]"));
}

TEST_CASE("DSA augmentation for evaluation: per-image draws, shape kept, seeded", "[synthetic][dsa]") {
  dd::synthetic::Dsa dsa{"crop"};
  const auto aug = dsa.augmentation<double>();
  dd::Tensor<double> x({40, 1, 9, 9});
  for (std::size_t n = 0; n < 40; ++n) x[n * 81 + 40] = 1.0;  // one bright centre pixel per image
  dd::Rng r1(8), r2(8);
  const auto y = aug(x, r1);
  CHECK(y.shape() == x.shape());
  CHECK(max_abs_diff(y, aug(x, r2)) == 0);
  std::set<std::size_t> places;  // where the bright pixel went: per-image shifts differ
  for (std::size_t n = 0; n < 40; ++n)
    for (std::size_t p = 0; p < 81; ++p)
      if (y[n * 81 + p] == 1.0) places.insert(p);
  CHECK(places.size() > 5);
}
