// SPDX-License-Identifier: MIT
// Tests for include/distill/synthetic/augment.hpp: RandomShift moves every channel of an image by one whole-pixel
// offset within the bound, repeats edge pixels, keeps images with probability 1 − p, is reproducible by seed, and
// rejects bad batches and options with the argument named; KIP takes it through its augment hook.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "distill/io/labeled_data.hpp"
#include "distill/kernels.hpp"
#include "distill/synthetic/augment.hpp"
#include "distill/synthetic/kip.hpp"

namespace dd = distill;
using Catch::Matchers::Contains;

namespace {

/// A batch whose pixel (i, c, r, col) holds a distinct value, so a shifted image reveals its offset.
dd::Tensor<double> coded_batch(std::size_t n, std::size_t channels, std::size_t h, std::size_t w) {
  dd::Tensor<double> t({n, channels, h, w});
  for (std::size_t k = 0; k < t.size(); ++k) t[k] = double(k);
  return t;
}

/// The (dy, dx) that maps `original` image i onto `shifted` image i with edge repetition, or nothing.
std::optional<std::pair<long, long>> offset_of(const dd::Tensor<double>& original, const dd::Tensor<double>& shifted,
                                               std::size_t i, long bound) {
  const std::size_t c = original.shape(1), h = original.shape(2), w = original.shape(3);
  for (long dy = -bound; dy <= bound; ++dy)
    for (long dx = -bound; dx <= bound; ++dx) {
      bool match = true;
      for (std::size_t ch = 0; ch < c && match; ++ch)
        for (std::size_t r = 0; r < h && match; ++r)
          for (std::size_t col = 0; col < w && match; ++col) {
            const long sr = std::clamp(long(r) - dy, 0L, long(h) - 1), sc = std::clamp(long(col) - dx, 0L, long(w) - 1);
            match = shifted[((i * c + ch) * h + r) * w + col] == original[((i * c + ch) * h + std::size_t(sr)) * w + std::size_t(sc)];
          }
      if (match) return std::make_pair(dy, dx);
    }
  return std::nullopt;
}

}  // namespace

TEST_CASE("RandomShift moves each image by one offset within the bound, edges repeated", "[synthetic][augment]") {
  const auto original = coded_batch(200, 2, 5, 6);
  auto batch = original.clone();
  dd::Rng rng(7);
  dd::synthetic::RandomShift{.max_shift = 2}(batch, rng);
  std::set<std::pair<long, long>> seen;
  for (std::size_t i = 0; i < 200; ++i) {
    const auto off = offset_of(original, batch, i, 2);
    INFO("image " << i);
    REQUIRE(off.has_value());  // one offset explains every channel and pixel
    seen.insert(*off);
  }
  CHECK(seen.size() == 25);  // all of [−2, 2]² occur in 200 draws

  // The same seed gives the same batch; another seed another one.
  auto again = original.clone(), other = original.clone();
  dd::Rng rng_again(7), rng_other(8);
  dd::synthetic::RandomShift{.max_shift = 2}(again, rng_again);
  dd::synthetic::RandomShift{.max_shift = 2}(other, rng_other);
  bool same = true, differs = false;
  for (std::size_t k = 0; k < batch.size(); ++k) same = same && again[k] == batch[k], differs = differs || other[k] != batch[k];
  CHECK(same);
  CHECK(differs);
}

TEST_CASE("RandomShift with a probability leaves about 1 − p of the images alone", "[synthetic][augment]") {
  const auto original = coded_batch(2000, 1, 4, 4);
  auto batch = original.clone();
  dd::Rng rng(3);
  dd::synthetic::RandomShift{.max_shift = 1, .probability = 0.25}(batch, rng);
  std::size_t unchanged = 0;
  for (std::size_t i = 0; i < 2000; ++i) unchanged += offset_of(original, batch, i, 1) == std::make_pair(0L, 0L);
  // Unchanged: not drawn (0.75) or drawn with offset (0, 0) (0.25 / 9) — 0.778 of 2000, give or take 4 sd (37).
  CHECK(unchanged > 1519);
  CHECK(unchanged < 1593);

  auto kept = original.clone();
  dd::synthetic::RandomShift{.max_shift = 1, .probability = 0.0}(kept, rng);
  dd::synthetic::RandomShift{.max_shift = 0}(kept, rng);
  for (std::size_t k = 0; k < kept.size(); ++k) REQUIRE(kept[k] == original[k]);
}

TEST_CASE("RandomShift rejects bad batches and options, naming the problem", "[synthetic][augment]") {
  dd::Rng rng(0);
  dd::Tensor<float> flat({4, 16}), small({2, 1, 3, 3});
  CHECK_THROWS_WITH(dd::synthetic::RandomShift{}(flat, rng), Contains("NCHW (rank 4)"));
  CHECK_THROWS_WITH(dd::synthetic::RandomShift{.max_shift = 3}(small, rng), Contains("max_shift 3 is not smaller"));
  CHECK_THROWS_WITH((dd::synthetic::RandomShift{.max_shift = 1, .probability = 1.5}(small, rng)), Contains("probability is 1.5"));
}

TEST_CASE("KIP runs RandomShift on its targets through the augment hook", "[synthetic][augment][kip]") {
  // Two classes of 4×4 images (a bright left or right half): the augmented run differs from the plain one and is
  // reproducible, and both fit the data.
  dd::LabeledData<float> data;
  data.images = dd::Tensor<float>({40, 1, 4, 4});
  data.labels.resize(40);
  data.num_classes = 2;
  dd::Rng rng(1);
  for (std::size_t i = 0; i < 40; ++i) {
    data.labels[i] = std::int64_t(i % 2);
    for (std::size_t r = 0; r < 4; ++r)
      for (std::size_t c = 0; c < 4; ++c)
        data.images[i * 16 + r * 4 + c] = float(((c < 2) == (i % 2 == 0)) + 0.1 * rng.normal());
  }
  using B = dd::EigenBackend<float>;
  auto fit = [&](bool shift) {
    dd::synthetic::KipOptions<float> opt{.images_per_class = 2, .steps = 5, .target_batch_size = 20, .seed = 4};
    if (shift) opt.augment = dd::synthetic::RandomShift{.max_shift = 1};
    return dd::synthetic::Kip<dd::kernels::FcNtk, B>{dd::kernels::FcNtk{}, opt}.fit(data);
  };
  const auto plain = fit(false), shifted = fit(true), shifted_again = fit(true);
  bool differs = false, same = true;
  for (std::size_t k = 0; k < plain.images.size(); ++k) {
    differs = differs || plain.images[k] != shifted.images[k];
    same = same && shifted.images[k] == shifted_again.images[k];
  }
  CHECK(differs);
  CHECK(same);
}
