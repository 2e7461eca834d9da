// SPDX-License-Identifier: MIT
// Tests for include/distill/io/datasets.hpp: where data is looked for, clear errors when it is missing, and
// (tag [data]) the real MNIST and Fashion-MNIST test splits.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "distill/io/datasets.hpp"
#include "io_test_support.hpp"

namespace dd = distill;
namespace io = distill::io;

namespace {
//! Sets DISTILL_DATA for the scope and restores the previous value afterwards.
struct ScopedDataEnv {
  std::optional<std::string> old;
  explicit ScopedDataEnv(const std::string& value) {
    if (const char* v = std::getenv("DISTILL_DATA")) old = v;
    ::setenv("DISTILL_DATA", value.c_str(), 1);
  }
  ~ScopedDataEnv() {
    if (old) ::setenv("DISTILL_DATA", old->c_str(), 1);
    else ::unsetenv("DISTILL_DATA");
  }
};
}  // namespace

TEST_CASE("datasets: data_root follows DISTILL_DATA, then the compile-time default", "[io][datasets]") {
  {
    ScopedDataEnv env("/some/where");
    REQUIRE(io::data_root() == std::filesystem::path("/some/where"));
  }
  {
    ScopedDataEnv env("");  // empty counts as unset
    ::unsetenv("DISTILL_DATA");
#ifdef DISTILL_DEFAULT_DATA_DIR
    REQUIRE(io::data_root() == std::filesystem::path(DISTILL_DEFAULT_DATA_DIR));
#else
    REQUIRE(io::data_root() == std::filesystem::path("data"));
#endif
  }
}

TEST_CASE("datasets: missing data names the path and says how to get it", "[io][datasets]") {
  iotest::TempDir dir;
  ScopedDataEnv env(dir.path.string());
  const auto msg = iotest::require_io_error([] { io::load_mnist<float>("test"); },
                                            {"io::load_mnist()", (dir / "mnist" / "t10k-images-idx3-ubyte").string(), ".gz",
                                             "run scripts/setup.sh"});
  iotest::require_io_error([] { io::load_fashion_mnist<float>("train"); },
                           {(dir / "fashion-mnist" / "train-images-idx3-ubyte").string(), "run scripts/setup.sh"});
  REQUIRE_THROWS_AS(io::load_mnist<float>("validation"), dd::invalid_argument);
}

TEST_CASE("datasets: load_dataset names an unknown data set or split", "[io][datasets]") {
  CHECK_THROWS_WITH(io::load_dataset<float>("cifar10"), Catch::Contains("unknown data set 'cifar10'"));
  CHECK_THROWS_AS(io::load_dataset<float>("mnist", "validation"), dd::invalid_argument);
}

TEST_CASE("datasets: raw files are preferred, .gz files are found too", "[io][datasets]") {
  iotest::TempDir dir;
  ScopedDataEnv env(dir.path.string());
  std::filesystem::create_directories(dir / "mnist");
  std::filesystem::create_directories(dir / "fashion-mnist");
  const auto images = iotest::make_idx(0x00000803, {2, 2, 2}, {0, 51, 102, 153, 204, 255, 0, 0});
  const auto labels = iotest::make_idx(0x00000801, {2}, {4, 9});
  iotest::write_bytes(dir / "mnist/t10k-images-idx3-ubyte", images);
  iotest::write_bytes(dir / "mnist/t10k-labels-idx1-ubyte.gz", iotest::gzip(labels));
  iotest::write_bytes(dir / "fashion-mnist/train-images-idx3-ubyte.gz", iotest::gzip(images));
  iotest::write_bytes(dir / "fashion-mnist/train-labels-idx1-ubyte.gz", iotest::gzip(labels));
  const auto m = io::load_mnist<double>("test");
  REQUIRE(m.images.shape() == dd::Shape{2, 1, 2, 2});
  REQUIRE(m.images.at(0, 0, 1, 1) == 153.0 / 255.0);
  REQUIRE(m.labels == std::vector<std::int64_t>{4, 9});
  REQUIRE(m.num_classes == 10);
  const auto f = io::load_fashion_mnist<float>("train");
  REQUIRE(f.size() == 2);
  REQUIRE_THROWS_AS(io::load_mnist<float>("train"), dd::io_error);  // only the test split exists here
}

TEST_CASE("datasets: real MNIST and Fashion-MNIST test splits", "[io][datasets][data]") {
  for (const char* name : {"mnist", "fashion-mnist"}) {
    INFO(name);
    const auto dir = io::data_root() / name;
    if (!std::filesystem::exists(dir / "t10k-labels-idx1-ubyte") && !std::filesystem::exists(dir / "t10k-labels-idx1-ubyte.gz")) {
      WARN("SKIPPED: " << name << " not found under " << dir.string() << " (run scripts/setup.sh)");
      continue;
    }
    const auto d = io::load_dataset<float>(name, "test");  // by name, as the examples' --dataset does
    REQUIRE(d.images.shape() == dd::Shape{10000, 1, 28, 28});
    REQUIRE(d.labels.size() == 10000);
    REQUIRE(d.num_classes == 10);
    d.validate();
    const auto counts = d.class_counts();
    for (auto c : counts) REQUIRE(c >= 800);  // every class is well represented (892..1135 in MNIST test)
    const auto [lo, hi] = std::minmax_element(d.images.begin(), d.images.end());
    REQUIRE(*lo == 0.0f);
    REQUIRE(*hi == 1.0f);
  }
}
