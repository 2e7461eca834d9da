// SPDX-License-Identifier: MIT
// Tests for include/distill/io/idx.hpp: IDX images/labels, raw and gzip, and every kind of bad file.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "distill/io/idx.hpp"
#include "io_test_support.hpp"

namespace dd = distill;
using iotest::Bytes;
using iotest::make_idx;
using iotest::require_io_error;

namespace {
// 3 images of 2x4 pixels with distinct values, and their labels.
const std::vector<std::uint8_t> kPixels = {0,  255, 1,  2,  3,  4,  5,  6,    //
                                           7,  8,   9,  10, 11, 12, 13, 128,  //
                                           20, 40,  60, 80, 100, 120, 140, 254};
const std::vector<std::uint8_t> kLabels = {7, 0, 3};
Bytes image_file() { return make_idx(0x00000803, {3, 2, 4}, kPixels); }
Bytes label_file() { return make_idx(0x00000801, {3}, kLabels); }
}  // namespace

TEMPLATE_TEST_CASE("idx: images load with shape [N, rows, cols] and values byte/255", "[io][idx]", float, double) {
  using T = TestType;
  iotest::TempDir dir;
  SECTION("raw file") {
    iotest::write_bytes(dir / "imgs", image_file());
    const auto t = dd::io::load_idx_images<T>(dir / "imgs");
    REQUIRE(t.shape() == dd::Shape{3, 2, 4});
    for (std::size_t i = 0; i < kPixels.size(); ++i) REQUIRE(t[i] == static_cast<T>(kPixels[i]) / T(255));
    REQUIRE(t.at(0, 0, 1) == T(1));
    REQUIRE(t.at(0, 0, 0) == T(0));
  }
  SECTION("gzip is detected by content, whatever the file is called") {
    iotest::write_bytes(dir / "imgs.bin", iotest::gzip(image_file()));
    iotest::write_bytes(dir / "raw_named.gz", image_file());
    const auto a = dd::io::load_idx_images<T>(dir / "imgs.bin");
    const auto b = dd::io::load_idx_images<T>(dir / "raw_named.gz");
    REQUIRE(a.shape() == dd::Shape{3, 2, 4});
    REQUIRE(dd::max_abs_diff(a, b) == T(0));
  }
  SECTION("concatenated gzip members read as one stream (like gzread)") {
    const Bytes whole = image_file();
    const Bytes head(whole.begin(), whole.begin() + 10), tail(whole.begin() + 10, whole.end());
    Bytes two = iotest::gzip(head);
    const Bytes second = iotest::gzip(tail);
    two.insert(two.end(), second.begin(), second.end());
    const auto t = dd::io::parse_idx_images<T>(two, "two-members.gz");
    REQUIRE(t.shape() == dd::Shape{3, 2, 4});
    REQUIRE(t[23] == T(254) / T(255));
  }
  SECTION("parse from memory gives the same as the file loader") {
    const auto bytes = image_file();
    const auto t = dd::io::parse_idx_images<T>(bytes, "memory");
    REQUIRE(t.size() == kPixels.size());
    REQUIRE(t[1] == T(1));
  }
  SECTION("other ranks: [N, features] and [N, H, W, C]") {
    const auto two = dd::io::parse_idx_images<T>(make_idx(0x00000802, {2, 3}, {1, 2, 3, 4, 5, 6}), "rank2");
    REQUIRE(two.shape() == dd::Shape{2, 3});
    const auto four = dd::io::parse_idx_images<T>(make_idx(0x00000804, {1, 1, 2, 3}, {1, 2, 3, 4, 5, 6}), "rank4");
    REQUIRE(four.shape() == dd::Shape{1, 1, 2, 3});
  }
}

TEST_CASE("idx: labels and load_idx", "[io][idx]") {
  iotest::TempDir dir;
  iotest::write_bytes(dir / "imgs", image_file());
  iotest::write_bytes(dir / "labels.gz", iotest::gzip(label_file()));
  SECTION("labels") {
    const auto l = dd::io::load_idx_labels(dir / "labels.gz");
    REQUIRE(l == std::vector<std::int64_t>{7, 0, 3});
  }
  SECTION("load_idx makes [N, 1, H, W] and num_classes = max label + 1") {
    const auto d = dd::io::load_idx(dir / "imgs", dir / "labels.gz");
    REQUIRE(d.images.shape() == dd::Shape{3, 1, 2, 4});
    REQUIRE(d.labels == std::vector<std::int64_t>{7, 0, 3});
    REQUIRE(d.num_classes == 8);
    REQUIRE(d.images.at(2, 0, 1, 3) == 254.0f / 255.0f);
    d.validate();
  }
  SECTION("label/image count mismatch names both files") {
    iotest::write_bytes(dir / "labels4", make_idx(0x00000801, {4}, {1, 2, 3, 4}));
    const auto msg = require_io_error([&] { dd::io::load_idx(dir / "imgs", dir / "labels4"); },
                                      {"mismatch", "labels4", "imgs", "4 labels", "3 images"});
  }
  SECTION("load_idx refuses non-3-d images") {
    iotest::write_bytes(dir / "flat", make_idx(0x00000802, {3, 2}, {1, 2, 3, 4, 5, 6}));
    require_io_error([&] { dd::io::load_idx(dir / "flat", dir / "labels.gz"); }, {"flat", "[N, rows, cols]"});
  }
}

TEST_CASE("idx: truncated files fail at every offset with the file name", "[io][idx]") {
  const Bytes whole = image_file();
  for (std::size_t cut : {std::size_t(0), std::size_t(2), std::size_t(3), std::size_t(4), std::size_t(7), std::size_t(12),
                          std::size_t(15), std::size_t(16), std::size_t(17), whole.size() - 1}) {
    INFO("cut at " << cut);
    const Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    require_io_error([&] { dd::io::parse_idx_images<float>(part, "cut.idx"); }, {"'cut.idx'", "truncated"});
    // The same through gzip: the content is truncated, the gzip stream is fine.
    require_io_error([&] { dd::io::parse_idx_images<float>(iotest::gzip(part), "cut.idx.gz"); }, {"'cut.idx.gz'"});
  }
  const Bytes labels = label_file();
  for (std::size_t cut = 0; cut < labels.size(); ++cut) {
    const Bytes part(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(cut));
    require_io_error([&] { dd::io::parse_idx_labels(part, "cut-labels"); }, {"'cut-labels'", "truncated"});
  }
  SECTION("a truncated gzip stream") {
    const Bytes gz = iotest::gzip(whole);
    for (std::size_t cut : {std::size_t(2), std::size_t(10), gz.size() / 2, gz.size() - 9, gz.size() - 1}) {
      INFO("cut at " << cut);
      const Bytes part(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(cut));
      require_io_error([&] { dd::io::parse_idx_images<float>(part, "cut.gz"); }, {"'cut.gz'"});
    }
  }
  SECTION("corrupt gzip data") {
    Bytes gz = iotest::gzip(whole);
    for (std::size_t i = 10; i < gz.size() - 8; ++i) gz[i] = std::byte{0xFF};
    require_io_error([&] { dd::io::parse_idx_images<float>(gz, "corrupt.gz"); }, {"'corrupt.gz'", "corrupt"});
  }
}

TEST_CASE("idx: bad headers are refused with a message that names the file and the problem", "[io][idx]") {
  SECTION("wrong magic") {
    require_io_error([] { dd::io::parse_idx_images<float>(make_idx(0x12345678, {3, 2, 4}, kPixels), "f.idx"); },
                     {"'f.idx'", "magic", "0x12345678", "0x00000803"});
    // A label file passed as images (and the other way round).
    require_io_error([] { dd::io::parse_idx_images<float>(label_file(), "labels-as-images"); },
                     {"'labels-as-images'", "0x00000801", "0x00000803"});
    require_io_error([] { dd::io::parse_idx_labels(image_file(), "images-as-labels"); },
                     {"'images-as-labels'", "0x00000803", "0x00000801"});
  }
  SECTION("unsupported dtype") {
    require_io_error([] { dd::io::parse_idx_images<float>(make_idx(0x00000D03, {1, 1, 1}, {0, 0, 0, 0}), "floats.idx"); },
                     {"'floats.idx'", "dtype", "0x0d", "float32", "0x08"});
    require_io_error([] { dd::io::parse_idx_labels(make_idx(0x00000C01, {1}, {0, 0, 0, 1}), "ints.idx"); },
                     {"'ints.idx'", "int32"});
  }
  SECTION("absurd dims: a 20-byte file claiming 10^9 images fails before allocating") {
    const Bytes bytes = make_idx(0x00000803, {1000000000u, 28, 28}, {1, 2, 3, 4});
    REQUIRE(bytes.size() == 20);
    require_io_error([&] { dd::io::parse_idx_images<float>(bytes, "huge.idx"); }, {"'huge.idx'", "1000000000", "4 data bytes"});
    // Extents whose product overflows 64 bits.
    const Bytes overflow = make_idx(0x00000804, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 2}, {1});
    require_io_error([&] { dd::io::parse_idx_images<float>(overflow, "overflow.idx"); }, {"'overflow.idx'"});
  }
  SECTION("zero extent") {
    require_io_error([] { dd::io::parse_idx_images<float>(make_idx(0x00000803, {0, 28, 28}, {}), "empty.idx"); },
                     {"'empty.idx'", "dimension 0", "> 0"});
    require_io_error([] { dd::io::parse_idx_labels(make_idx(0x00000801, {0}, {}), "empty-labels"); }, {"'empty-labels'"});
  }
  SECTION("trailing bytes") {
    auto bytes = label_file();
    bytes.push_back(std::byte{9});
    require_io_error([&] { dd::io::parse_idx_labels(bytes, "long-labels"); }, {"'long-labels'", "trailing"});
  }
  SECTION("trailing garbage after gzip data") {
    auto gz = iotest::gzip(label_file());
    gz.push_back(std::byte{'x'});
    require_io_error([&] { dd::io::parse_idx_labels(gz, "junk.gz"); }, {"'junk.gz'", "trailing"});
  }
}

TEST_CASE("idx: missing and unreadable files", "[io][idx]") {
  iotest::TempDir dir;
  require_io_error([&] { dd::io::load_idx_images<float>(dir / "nope-images"); }, {"nope-images", "load_idx_images", "no such file"});
  require_io_error([&] { dd::io::load_idx_labels(dir / "nope-labels"); }, {"nope-labels", "no such file"});
  require_io_error([&] { dd::io::load_idx_images<float>(dir.path); }, {dir.path.string(), "not a regular file"});
  iotest::write_bytes(dir / "imgs", image_file());
  require_io_error([&] { dd::io::load_idx(dir / "imgs", dir / "missing-labels"); }, {"missing-labels"});
}
