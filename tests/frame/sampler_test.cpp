// SPDX-License-Identifier: MIT
// frame::ClassBalancedSampler and frame::ShuffledBatches: balance, no repeats within a class, determinism for a
// seed, clear errors; every example once per pass; frame::gather_rows; the seed scheme's streams differ.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include "distill/frame/sampler.hpp"
#include "distill/frame/seed.hpp"
#include "distill/frame/training_set.hpp"

namespace fr = distill::frame;
using distill::LabeledData;
using distill::Tensor;

namespace {
// 3 classes with 5, 7 and 9 examples; pixel value = example index.
LabeledData<float> uneven() {
  LabeledData<float> d{Tensor<float>({21, 1, 1, 2}), {}, 3};
  for (std::size_t i = 0; i < 21; ++i) {
    d.labels.push_back(i < 5 ? 0 : i < 12 ? 1 : 2);
    d.images[2 * i] = d.images[2 * i + 1] = float(i);
  }
  return d;
}
}  // namespace

TEST_CASE("ClassBalancedSampler: balanced batches without repeats, per-class draws, errors", "[frame]") {
  const auto data = uneven();
  const fr::ClassBalancedSampler sampler(data);
  distill::Rng rng(3);
  const auto batch = sampler.balanced(rng, 10);  // 4, 3, 3
  REQUIRE(batch.size() == 10);
  std::vector<std::size_t> per(3, 0);
  for (auto i : batch) ++per[std::size_t(data.labels[i])];
  CHECK(per == std::vector<std::size_t>{4, 3, 3});
  CHECK(std::set<std::size_t>(batch.begin(), batch.end()).size() == 10);
  // A class smaller than its share gives all it has.
  CHECK(sampler.balanced(rng, 30).size() == 21);  // 10 of each wanted; the classes have 5, 7 and 9
  // Same generator state, same draw.
  distill::Rng a(8), b(8);
  CHECK(sampler.per_class(a, 4) == sampler.per_class(b, 4));
  distill::Rng c(8);
  const auto picks = sampler.per_class(c, 5);
  for (std::size_t k = 0; k < 15; ++k) CHECK(std::size_t(data.labels[picks[k]]) == k / 5);
  CHECK_THROWS_WITH(sampler.per_class(c, 6, "Kip::fit()"), Catch::Contains("Kip::fit(): class 0 has 5 examples"));
  // One class's random batch: distinct members of that class; the whole class, shuffled, when it is smaller.
  const auto three = sampler.of_class_random(c, 1, 3);
  REQUIRE(three.size() == 3);
  CHECK(std::set<std::size_t>(three.begin(), three.end()).size() == 3);
  for (auto i : three) CHECK(data.labels[i] == 1);
  auto all = sampler.of_class_random(c, 2, 50);
  std::sort(all.begin(), all.end());
  CHECK(all == sampler.of_class(2));
  CHECK_THROWS_WITH(sampler.of_class_random(c, 3, 1), Catch::Contains("class 3 is outside the 3 classes"));
}

TEST_CASE("ShuffledBatches: each pass visits every example once, drop_last, any step directly", "[frame]") {
  fr::ShuffledBatches batches(10, 4, 7);
  CHECK(batches.per_pass() == 3);
  std::vector<std::size_t> seen;
  for (std::size_t s = 0; s < 3; ++s)
    for (auto i : batches.batch_at(s)) seen.push_back(i);
  std::sort(seen.begin(), seen.end());
  for (std::size_t i = 0; i < 10; ++i) CHECK(seen[i] == i);
  CHECK(batches.batch_at(2).size() == 2);
  const std::vector<std::size_t> pass1(batches.batch_at(3).begin(), batches.batch_at(3).end());
  fr::ShuffledBatches fresh(10, 4, 7);
  const auto direct = fresh.batch_at(3);  // reached without visiting steps 0..2
  CHECK(std::vector<std::size_t>(direct.begin(), direct.end()) == pass1);
  fr::ShuffledBatches dropped(10, 4, 7, true);
  CHECK(dropped.per_pass() == 2);
  CHECK_THROWS_AS(fr::ShuffledBatches(3, 4, 0, true), distill::invalid_argument);
  CHECK_THROWS_AS(fr::ShuffledBatches(3, 0, 0), distill::invalid_argument);
}

TEST_CASE("gather_rows, seed streams and prepare_training_set", "[frame]") {
  const auto data = uneven();
  Tensor<float> out;
  const std::vector<std::size_t> idx{4, 0, 20};
  fr::gather_rows(data.images, idx, out);
  CHECK(out.shape() == distill::Shape{3, 1, 1, 2});
  CHECK(out[0] == 4.0f);
  CHECK(out[5] == 20.0f);
  const std::vector<std::size_t> bad{21};
  CHECK_THROWS_AS(fr::gather_rows(data.images, bad, out), distill::invalid_argument);

  CHECK(fr::derive_seed(1, fr::Stream::step, 0) != fr::derive_seed(1, fr::Stream::pass, 0));
  CHECK(fr::derive_seed(1, fr::Stream::step, 0) != fr::derive_seed(1, fr::Stream::step, 1));
  CHECK(fr::derive_seed(1, fr::Stream::step, 5) == fr::derive_seed(1, fr::Stream::step, 5));

  const auto p = fr::prepare_training_set(data, true, 5, "test()");
  CHECK(p.class_counts == std::vector<std::size_t>{5, 7, 9});
  double mean = 0;
  for (float v : p.data.images) mean += v;
  CHECK(std::abs(mean) < 1e-4);
  CHECK(p.norm.mean[0] == Approx(10.0));
  CHECK(data.images[0] == 0.0f);  // the caller's data are left alone
  CHECK_THROWS_WITH(fr::prepare_training_set(data, false, 6, "test()"), Catch::Contains("test(): class 0 has 5"));
  auto missing = data;
  missing.num_classes = 4;
  CHECK_THROWS_WITH(fr::prepare_training_set(missing, false, 1, "test()"), Catch::Contains("class 3 has no examples"));
  auto nan = data;
  nan.images = data.images.clone();
  nan.images[3] = std::nanf("");
  CHECK_THROWS_WITH(fr::prepare_training_set(nan, false, 1, "test()"), Catch::Contains("NaN"));
}
