// SPDX-License-Identifier: MIT
// Tests for include/distill/io/cifar.hpp: the CIFAR-10 binary record layout (label byte, then the R, G, B planes),
// which batches a folder contributes, and truncated or foreign files. CIFAR-10 itself cannot be downloaded on the
// build machines, so every batch here is generated: the layout is the one documented at
// https://www.cs.toronto.edu/~kriz/cifar.html ("binary version").
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "distill/io/cifar.hpp"
#include "io_test_support.hpp"

namespace dd = distill;
namespace io = distill::io;
using Catch::Matchers::Contains;

namespace {
//! The byte of pixel (c, y, x) of record `r` in the generated batches: differs across channels, rows, columns, records.
std::uint8_t pixel(std::size_t r, std::size_t c, std::size_t y, std::size_t x) {
  return static_cast<std::uint8_t>((r * 37 + c * 85 + y * 7 + x * 3) % 256);
}

//! A CIFAR-10 batch: per record, the label byte, then 1024 R, 1024 G, 1024 B bytes (each plane row-major 32 x 32).
//! Record k of this batch uses pixel(first + k, ...).
iotest::Bytes cifar_batch(const std::vector<int>& labels, std::size_t first) {
  iotest::Bytes b;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    b.push_back(static_cast<std::byte>(labels[k]));
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x) b.push_back(static_cast<std::byte>(pixel(first + k, c, y, x)));
  }
  return b;
}

//! Number of pixels of `images` (records `first`.. of the generator) that differ from pixel() / 255.
template <class T>
std::size_t pixel_mismatches(const dd::Tensor<T>& images, std::size_t first) {
  std::size_t bad = 0;
  for (std::size_t n = 0; n < images.shape(0); ++n)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x)
          bad += images.at(n, c, y, x) != static_cast<T>(pixel(first + n, c, y, x)) / T(255);
  return bad;
}
}  // namespace

TEMPLATE_TEST_CASE("cifar: records become [N, 3, 32, 32] channel planes with values byte / 255", "[io][cifar]", float, double) {
  using T = TestType;
  iotest::TempDir dir;
  iotest::write_bytes(dir / "a.bin", cifar_batch({3, 0, 9}, 0));
  iotest::write_bytes(dir / "b.bin", cifar_batch({7, 1}, 3));
  const auto d = io::load_cifar10_batches<T>({dir / "a.bin", dir / "b.bin"});
  REQUIRE(d.images.shape() == dd::Shape{5, 3, 32, 32});
  REQUIRE(d.labels == std::vector<std::int64_t>{3, 0, 9, 7, 1});  // files in the order given, records in file order
  REQUIRE(d.num_classes == 10);  // CIFAR-10 always has ten classes, whichever the labels use
  d.validate();
  CHECK(pixel_mismatches(d.images, 0) == 0);
  // Spot checks that spell the layout out: byte 1 + 1024 c + 32 y + x of a record is channel c, row y, column x.
  CHECK(d.images.at(0, 0, 0, 1) == T(3) / T(255));                 // red plane, row 0, column 1
  CHECK(d.images.at(0, 1, 0, 0) == T(85) / T(255));                // green plane starts 1024 bytes later
  CHECK(d.images.at(1, 2, 31, 31) == T((37 + 170 + 217 + 93) % 256) / T(255));  // blue, last pixel, second record
  CHECK(d.images.at(4, 0, 2, 0) == T((4 * 37 + 14) % 256) / T(255));  // the second file's second record
}

TEST_CASE("cifar: a folder's train split is every data_batch_K.bin (K = 1..5) that exists, in order", "[io][cifar]") {
  iotest::TempDir dir;
  iotest::write_bytes(dir / "data_batch_1.bin", cifar_batch({1, 2}, 0));
  iotest::write_bytes(dir / "data_batch_2.bin", cifar_batch({3}, 2));
  iotest::write_bytes(dir / "data_batch_4.bin", cifar_batch({4, 5}, 3));  // 3 is absent: skipped, not an error
  iotest::write_bytes(dir / "test_batch.bin", cifar_batch({9, 8, 0}, 100));
  iotest::write_bytes(dir / "data_batch_6.bin", cifar_batch({6}, 200));  // not part of CIFAR-10: ignored
  const auto train = io::load_cifar10_folder<float>(dir.path, "train");
  REQUIRE(train.labels == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  CHECK(pixel_mismatches(train.images, 0) == 0);
  const auto test = io::load_cifar10_folder<float>(dir.path, "test");
  REQUIRE(test.images.shape() == dd::Shape{3, 3, 32, 32});
  REQUIRE(test.labels == std::vector<std::int64_t>{9, 8, 0});
  CHECK(pixel_mismatches(test.images, 100) == 0);
  REQUIRE(test.num_classes == 10);
}

TEST_CASE("cifar: truncated, foreign and missing batches are refused with the file and the problem", "[io][cifar]") {
  iotest::TempDir dir;
  const auto ok = cifar_batch({1, 2}, 0);
  SECTION("a size that is not a multiple of 3073 bytes") {
    const auto f = dir / "data_batch_1.bin";
    iotest::write_bytes(f, iotest::Bytes(ok.begin(), ok.end() - 5));
    CHECK_THROWS_AS(io::load_cifar10_batches<float>({f}), dd::io_error);
    CHECK_THROWS_WITH(io::load_cifar10_batches<float>({f}),
                      Contains(f.string()) && Contains("truncated") && Contains("6141 bytes") && Contains("multiple of 3073"));
    CHECK_THROWS_WITH(io::load_cifar10_folder<float>(dir.path, "train"), Contains("data_batch_1.bin") && Contains("6141 bytes"));
  }
  SECTION("an empty file") {
    iotest::write_bytes(dir / "e.bin", {});
    CHECK_THROWS_WITH(io::load_cifar10_batches<float>({dir / "e.bin"}), Contains("e.bin") && Contains("0 bytes"));
  }
  SECTION("a label above 9 (for instance a CIFAR-100 file) names the record") {
    iotest::write_bytes(dir / "x.bin", cifar_batch({4, 10, 2}, 0));
    CHECK_THROWS_AS(io::load_cifar10_batches<float>({dir / "x.bin"}), dd::io_error);
    CHECK_THROWS_WITH(io::load_cifar10_batches<float>({dir / "x.bin"}),
                      Contains("x.bin") && Contains("record 1") && Contains("label 10") && Contains("expected 0..9"));
  }
  SECTION("a later file's problem is found before anything is loaded") {
    iotest::write_bytes(dir / "a.bin", ok);
    iotest::write_bytes(dir / "b.bin", iotest::Bytes(100));
    CHECK_THROWS_WITH(io::load_cifar10_batches<float>({dir / "a.bin", dir / "b.bin"}), Contains("b.bin") && Contains("100 bytes"));
  }
  SECTION("missing files and folders") {
    CHECK_THROWS_WITH(io::load_cifar10_batches<float>({dir / "nope.bin"}), Contains("nope.bin") && Contains("no such file"));
    CHECK_THROWS_WITH(io::load_cifar10_folder<float>(dir.path, "train"), Contains((dir / "data_batch_1.bin").string()));
    iotest::write_bytes(dir / "data_batch_1.bin", ok);
    CHECK_NOTHROW(io::load_cifar10_folder<float>(dir.path, "train"));
    CHECK_THROWS_AS(io::load_cifar10_folder<float>(dir.path, "test"), dd::io_error);
    CHECK_THROWS_WITH(io::load_cifar10_folder<float>(dir.path, "test"), Contains((dir / "test_batch.bin").string()));
    CHECK_THROWS_WITH(io::load_cifar10_folder<float>(dir / "absent", "train"), Contains("absent") && Contains("not a folder"));
  }
  SECTION("bad arguments") {
    CHECK_THROWS_AS(io::load_cifar10_folder<float>(dir.path, "validation"), dd::invalid_argument);
    CHECK_THROWS_AS(io::load_cifar10_batches<float>({}), dd::invalid_argument);
  }
}
