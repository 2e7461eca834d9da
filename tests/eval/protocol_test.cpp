// SPDX-License-Identifier: MIT
// eval::train_from_scratch: N fresh runs, mean ± population std, determinism, distilled sets in normalised space.
#include <catch2/catch.hpp>
#include <numeric>

#include "distill/eval.hpp"
#include "distill/nn.hpp"
#include "support/backends.hpp"

namespace nn = distill::nn;
namespace eval = distill::eval;
using distill::LabeledData;
using distill::Shape;
using distill::Tensor;

namespace {
// Two overlapping Gaussian classes in 2-D: accuracy well below 1, so runs differ.
LabeledData<float> overlapping(std::size_t n, std::uint64_t seed, float shift = 0) {
  distill::Rng rng(seed);
  LabeledData<float> d{Tensor<float>(Shape{n, 2}), std::vector<std::int64_t>(n), 2};
  for (std::size_t i = 0; i < n; ++i) {
    d.labels[i] = std::int64_t(i % 2);
    d.images.at(i, 0) = float((d.labels[i] ? 0.5 : -0.5) + rng.normal()) + shift;
    d.images.at(i, 1) = float(rng.normal()) + shift;
  }
  return d;
}
}  // namespace

TEMPLATE_TEST_CASE("train_from_scratch: runs, mean, stddev and determinism", "[eval][protocol]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  const nn::Mlp mlp{.widths = {2, 8, 2}};
  const auto small = overlapping(20, 1), test = overlapping(400, 2);
  const eval::ProtocolOptions<float> opt{.runs = 4, .epochs = 30, .batch_size = 8, .seed = 10};
  const auto r = eval::train_from_scratch<B>(mlp, small, test, opt);
  REQUIRE(r.accuracies.size() == 4);
  const double mean = std::accumulate(r.accuracies.begin(), r.accuracies.end(), 0.0) / 4;
  double var = 0;
  for (double a : r.accuracies) var += (a - mean) * (a - mean) / 4;
  CHECK(r.mean == Approx(mean));
  CHECK(r.stddev == Approx(std::sqrt(var)).margin(1e-12));
  CHECK(r.mean > 0.55);  // better than chance (the Bayes rate is ≈ 0.69)
  for (double a : r.accuracies) CHECK((a >= 0 && a <= 1));
  // Run i is train(seed + i) on init(seed + i): the same options give the same bytes.
  const auto again = eval::train_from_scratch<B>(mlp, small, test, opt);
  CHECK(again.accuracies == r.accuracies);
  CHECK(again.test_losses == r.test_losses);
  auto other = opt;
  other.seed = 11;
  CHECK(eval::train_from_scratch<B>(mlp, small, test, other).test_losses != r.test_losses);
  CHECK_THROWS_AS(eval::train_from_scratch<B>(mlp, small, test, {.runs = 0}), distill::invalid_argument);
}

TEST_CASE("train_from_scratch: a distilled set's normalisation is applied to the test images", "[eval][protocol]") {
  const nn::Mlp mlp{.widths = {2, 8, 2}};
  // Training images in normalised space; the test set in raw space, shifted by the recorded mean.
  const auto small = overlapping(40, 3), test_raw = overlapping(400, 4, 5.0f);
  distill::io::DistilledSet<float> set = distill::io::DistilledSet<float>::from_labeled_data(
      LabeledData<float>{small.images.reshape(Shape{40, 1, 1, 2}), small.labels, 2}, "test");
  set.mean = Tensor<float>(Shape{1}, 5.0f);
  set.stddev = Tensor<float>(Shape{1}, 1.0f);
  const LabeledData<float> test{test_raw.images.reshape(Shape{400, 1, 1, 2}), test_raw.labels, 2};
  const eval::ProtocolOptions<float> opt{.runs = 2, .epochs = 20, .batch_size = 8};
  const auto with_norm = eval::train_from_scratch(mlp, set, test, opt);
  set.mean = {};
  set.stddev = {};
  const auto without = eval::train_from_scratch(mlp, set, test, opt);
  INFO("normalised " << with_norm.mean << " vs raw " << without.mean);
  CHECK(with_norm.mean > 0.55);
  CHECK(with_norm.mean > without.mean);
}
