// SPDX-License-Identifier: MIT
// Tests for include/distill/io/datasets.hpp: where data is looked for, clear errors when it is missing, data specs
// (load_data / load_data_split) of every form on generated files, hostile files, and (tag [data]) the real MNIST and
// Fashion-MNIST.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "distill/io/datasets.hpp"
#include "distill/io/npz.hpp"
#include "io_test_support.hpp"
#include "support/skip.hpp"

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

namespace {
//! Checks a real data set's test split through load_dataset (as the examples' --dataset does); skips when absent.
void check_real_test_split(const char* name) {
  const auto dir = io::data_root() / name;
  if (!std::filesystem::exists(dir / "t10k-labels-idx1-ubyte") && !std::filesystem::exists(dir / "t10k-labels-idx1-ubyte.gz")) {
    DISTILL_SKIP(name << " not found under " << dir.string() << " (run scripts/setup.sh)");
  }
  const auto d = io::load_dataset<float>(name, "test");
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
}  // namespace

TEST_CASE("datasets: real MNIST test split", "[io][datasets][data]") { check_real_test_split("mnist"); }
TEST_CASE("datasets: real Fashion-MNIST test split", "[io][datasets][data]") { check_real_test_split("fashion-mnist"); }

// ---- data specs (load_data, load_data_split) on generated files -------------------------------------------------

namespace {
using iotest::TempDir;
using u8 = std::uint8_t;

//! An IDX folder: train n images of h x w with labels `train_labels`, test likewise; `gz` compresses every file.
void write_idx_folder(const std::filesystem::path& dir, bool gz, std::size_t h, std::size_t w, const std::vector<u8>& train_labels,
                      const std::vector<u8>& test_labels, std::size_t test_h = 0) {
  std::filesystem::create_directories(dir);
  auto put = [&](const std::string& stem, const iotest::Bytes& b) {
    iotest::write_bytes(dir / (gz ? stem + ".gz" : stem), gz ? iotest::gzip(b) : b);
  };
  auto images = [](std::size_t n, std::size_t hh, std::size_t ww) {
    std::vector<u8> px(n * hh * ww);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<u8>(i * 5 % 256);
    return iotest::make_idx(0x00000803, {std::uint32_t(n), std::uint32_t(hh), std::uint32_t(ww)}, px);
  };
  const std::size_t th = test_h ? test_h : h;
  put("train-images-idx3-ubyte", images(train_labels.size(), h, w));
  put("train-labels-idx1-ubyte", iotest::make_idx(0x00000801, {std::uint32_t(train_labels.size())}, train_labels));
  put("t10k-images-idx3-ubyte", images(test_labels.size(), th, th == h ? w : th));
  put("t10k-labels-idx1-ubyte", iotest::make_idx(0x00000801, {std::uint32_t(test_labels.size())}, test_labels));
}

//! A CIFAR-10 binary batch whose record k has label labels[k] and pixel (c, y, x) = (40 c + y + 2 x + k) % 256.
iotest::Bytes cifar_batch(const std::vector<int>& labels) {
  iotest::Bytes b;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    b.push_back(static_cast<std::byte>(labels[k]));
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x) b.push_back(static_cast<std::byte>((40 * c + y + 2 * x + k) % 256));
  }
  return b;
}

//! uint8 images of `shape` with byte i = i % 251.
io::NpyArray u8_images(dd::Shape shape) {
  std::vector<u8> v(dd::numel(shape));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<u8>(i % 251);
  return io::NpyArray::from_values(v, shape);
}
template <class T>
io::NpyArray float_images(dd::Shape shape) {
  std::vector<T> v(dd::numel(shape));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(i) * T(0.25) - T(1);  // any range: taken as is
  return io::NpyArray::from_values(v, shape);
}
template <class L>
io::NpyArray labels_of(const std::vector<L>& v) {
  return io::NpyArray::from_values(v);
}
void write_npz(const std::filesystem::path& p, const std::vector<std::pair<std::string, io::NpyArray>>& arrays) {
  io::NpzWriter w(p);
  for (const auto& [k, a] : arrays) w.add(k, a);
  w.finish();
}
}  // namespace

TEST_CASE("load_data: an IDX folder, plain and gzip, gives [N, 1, H, W] and one num_classes for both splits",
          "[io][datasets][load_data]") {
  TempDir dir;
  const bool gz = GENERATE(false, true);
  INFO("gzip: " << gz);
  const auto folder = dir / "digits";
  write_idx_folder(folder, gz, 3, 2, {0, 3, 1}, {7, 2});
  const auto d = io::load_data<float>(folder.string());
  REQUIRE(d.name == folder.string());
  REQUIRE(d.train.images.shape() == dd::Shape{3, 1, 3, 2});
  REQUIRE(d.test.images.shape() == dd::Shape{2, 1, 3, 2});
  REQUIRE(d.train.labels == std::vector<std::int64_t>{0, 3, 1});
  REQUIRE(d.test.labels == std::vector<std::int64_t>{7, 2});
  REQUIRE(d.train.num_classes == 8);  // the largest label of either split + 1, the same for both
  REQUIRE(d.test.num_classes == 8);
  REQUIRE(d.train.images.at(1, 0, 0, 1) == static_cast<float>(7 * 5) / 255.0f);  // pixel 7 of the file
  d.train.validate();
  d.test.validate();
  const auto test = io::load_data_split<double>(folder.string(), "test");
  REQUIRE(test.labels == d.test.labels);
  REQUIRE(test.images.at(1, 0, 2, 1) == static_cast<double>(11 * 5) / 255.0);
  // A folder whose name has a comma is still a folder (the comma splits only 'a.npz,b.npz' when no such path exists).
  const auto comma = dir / "runs,v2";
  std::filesystem::rename(folder, comma);
  REQUIRE(io::load_data<float>(comma.string()).train.labels == d.train.labels);
}

TEST_CASE("load_data: a CIFAR-10 binary folder (two train batches and the test batch)", "[io][datasets][load_data][cifar]") {
  TempDir dir;
  const auto folder = dir / "cifar";
  std::filesystem::create_directories(folder);
  iotest::write_bytes(folder / "data_batch_1.bin", cifar_batch({6, 0}));
  iotest::write_bytes(folder / "data_batch_2.bin", cifar_batch({9}));
  iotest::write_bytes(folder / "test_batch.bin", cifar_batch({1, 2, 3}));
  for (const auto& spec : {folder.string(), dir.path.string()}) {  // the folder itself, or one holding cifar-10-batches-bin/
    if (spec == dir.path.string()) std::filesystem::rename(folder, dir / "cifar-10-batches-bin");
    INFO("spec " << spec);
    const auto d = io::load_data<float>(spec);
    REQUIRE(d.name == spec);
    REQUIRE(d.train.images.shape() == dd::Shape{3, 3, 32, 32});
    REQUIRE(d.test.images.shape() == dd::Shape{3, 3, 32, 32});
    REQUIRE(d.train.labels == std::vector<std::int64_t>{6, 0, 9});
    REQUIRE(d.test.labels == std::vector<std::int64_t>{1, 2, 3});
    REQUIRE(d.train.num_classes == 10);
    REQUIRE(d.test.num_classes == 10);
    // Channel planes: red, green, blue are consecutive 1024-byte planes of a record.
    CHECK(d.train.images.at(0, 0, 0, 0) == 0.0f);
    CHECK(d.train.images.at(0, 0, 1, 3) == 7.0f / 255.0f);
    CHECK(d.train.images.at(1, 1, 0, 0) == 41.0f / 255.0f);
    CHECK(d.train.images.at(0, 2, 31, 31) == static_cast<float>((80 + 31 + 62) % 256) / 255.0f);
    CHECK(d.train.images.at(2, 2, 0, 0) == 80.0f / 255.0f);  // data_batch_2's first record follows data_batch_1's two
    const auto train = io::load_data_split<float>(spec, "train");
    REQUIRE(train.labels == d.train.labels);
  }
}

TEST_CASE("load_data: an NPZ file with test arrays, uint8 [N, H, W] images", "[io][datasets][load_data][npz]") {
  TempDir dir;
  const auto f = dir / "train.npz";
  write_npz(f, {{"images", u8_images({3, 4, 5})},
                {"labels", labels_of<std::int64_t>({0, 2, 1})},
                {"test_images", u8_images({2, 4, 5})},
                {"test_labels", labels_of<std::int64_t>({4, 0})}});
  const auto d = io::load_data<float>(f.string());
  REQUIRE(d.name == f.string());
  REQUIRE(d.train.images.shape() == dd::Shape{3, 1, 4, 5});  // one channel added
  REQUIRE(d.test.images.shape() == dd::Shape{2, 1, 4, 5});
  REQUIRE(d.train.images.at(2, 0, 3, 4) == static_cast<float>(59 % 251) / 255.0f);  // uint8 scaled to [0, 1]
  REQUIRE(d.test.images.at(0, 0, 0, 1) == 1.0f / 255.0f);
  REQUIRE(d.train.labels == std::vector<std::int64_t>{0, 2, 1});
  REQUIRE(d.test.labels == std::vector<std::int64_t>{4, 0});
  REQUIRE(d.train.num_classes == 5);  // max label over both splits + 1
  REQUIRE(d.test.num_classes == 5);
  REQUIRE(io::load_data_split<float>(f.string(), "test").labels == d.test.labels);
  REQUIRE(io::load_data_split<float>(f.string(), "train").num_classes == 5);
}

TEST_CASE("load_data: an NPZ file without test arrays, float32 [N, C, H, W] images", "[io][datasets][load_data][npz]") {
  TempDir dir;
  const auto f = dir / "mine.npz";
  write_npz(f, {{"images", float_images<float>({2, 3, 2, 2})}, {"labels", labels_of<std::int32_t>({1, 0})}});
  const auto d = io::load_data<double>(f.string());
  REQUIRE(d.train.images.shape() == dd::Shape{2, 3, 2, 2});
  REQUIRE(d.train.images.at(1, 2, 1, 1) == 23 * 0.25 - 1);  // floats taken as they are
  REQUIRE(d.train.images.at(0, 0, 0, 0) == -1.0);
  REQUIRE(d.train.num_classes == 2);
  REQUIRE(d.test.empty());
  REQUIRE(d.test.images.shape() == dd::Shape{0, 3, 2, 2});
  REQUIRE(d.test.num_classes == 2);
  CHECK_THROWS_AS(io::load_data_split<float>(f.string(), "test"), dd::io_error);
  CHECK_THROWS_WITH(io::load_data_split<float>(f.string(), "test"), Catch::Contains("no test split") && Catch::Contains(f.string() + ",test.npz"));
  REQUIRE(io::load_data_split<float>(f.string(), "train").size() == 2);
}

TEST_CASE("load_data: 'train.npz,test.npz' with float64 images, float labels and num_classes", "[io][datasets][load_data][npz]") {
  TempDir dir;
  const auto a = dir / "a.npz", b = dir / "b.npz";
  write_npz(a, {{"images", float_images<double>({2, 1, 3, 3})},
                {"labels", labels_of<float>({1.0f, 0.0f})},  // whole numbers in a float array are accepted
                {"num_classes", io::NpyArray::from_values(std::vector<std::int64_t>{7}, dd::Shape{})}});  // a 0-d scalar
  write_npz(b, {{"images", float_images<double>({3, 3, 3})}, {"labels", labels_of<u8>({2, 5, 0})}});
  const std::string spec = a.string() + "," + b.string();
  const auto d = io::load_data<float>(spec);
  REQUIRE(d.name == spec);
  REQUIRE(d.train.images.shape() == dd::Shape{2, 1, 3, 3});
  REQUIRE(d.test.images.shape() == dd::Shape{3, 1, 3, 3});  // [N, H, W] in one file, [N, 1, H, W] in the other: the same
  REQUIRE(d.train.labels == std::vector<std::int64_t>{1, 0});
  REQUIRE(d.test.labels == std::vector<std::int64_t>{2, 5, 0});
  REQUIRE(d.train.num_classes == 7);  // the key, not max label + 1 = 6
  REQUIRE(d.test.num_classes == 7);
  REQUIRE(d.test.images.at(2, 0, 2, 2) == 26 * 0.25f - 1);
  const auto test = io::load_data_split<float>(spec, "test");
  REQUIRE(test.labels == d.test.labels);

  // num_classes larger than any label is kept (classes the data does not use).
  write_npz(a, {{"images", float_images<double>({2, 1, 3, 3})},
                {"labels", labels_of<float>({1.0f, 0.0f})},
                {"num_classes", io::NpyArray::from_values(std::vector<std::int32_t>{10}, dd::Shape{1})}});
  REQUIRE(io::load_data<float>(spec).test.num_classes == 10);
}

TEST_CASE("load_data: the built-in names load both splits from data_root()", "[io][datasets][load_data]") {
  TempDir dir;
  ScopedDataEnv env(dir.path.string());
  write_idx_folder(dir / "mnist", false, 2, 2, {1, 4}, {9});
  write_idx_folder(dir / "fashion-mnist", true, 2, 2, {3}, {0, 1});
  const auto m = io::load_data<float>("mnist");
  REQUIRE(m.name == "mnist");
  REQUIRE(m.train.labels == std::vector<std::int64_t>{1, 4});
  REQUIRE(m.train.num_classes == 10);
  for (const char* name : {"fashion", "fashion-mnist"}) {
    const auto f = io::load_data<float>(name);
    REQUIRE(f.name == "fashion");
    REQUIRE(f.test.labels == std::vector<std::int64_t>{0, 1});
    REQUIRE(f.test.num_classes == 4);
  }
  REQUIRE(io::load_data_split<float>("mnist", "test").labels == std::vector<std::int64_t>{9});
  std::filesystem::remove_all(dir / "mnist");
  CHECK_THROWS_WITH(io::load_data<float>("mnist"), Catch::Contains("run scripts/setup.sh"));
  CHECK_THROWS_AS(io::load_data_split<float>("mnist", "validation"), dd::invalid_argument);
}

TEST_CASE("load_data: hostile or mistaken inputs are io_errors that name the problem", "[io][datasets][load_data]") {
  using Catch::Contains;
  TempDir dir;
  const auto f = dir / "d.npz";
  const auto good_images = u8_images({2, 4, 4});
  SECTION("unknown spec lists the accepted forms") {
    const auto spec = (dir / "nothing_here").string();
    CHECK_THROWS_AS(io::load_data<float>(spec), dd::io_error);
    CHECK_THROWS_WITH(io::load_data<float>(spec), Contains("unknown data spec '" + spec + "'") && Contains("mnist") &&
                                                      Contains("fashion") && Contains("t10k-images-idx3-ubyte") &&
                                                      Contains("data_batch_1.bin") && Contains("train.npz,test.npz"));
    CHECK_THROWS_WITH(io::load_data<float>("cifar10"), Contains("unknown data spec 'cifar10'"));
    CHECK_THROWS_WITH(io::load_data<float>(""), Contains("empty"));
    CHECK_THROWS_WITH(io::load_data_split<float>("Mnist", "train"), Contains("unknown data spec 'Mnist'"));
  }
  SECTION("missing NPZ files, a folder of neither kind, a file that is not .npz, a bad comma form") {
    CHECK_THROWS_WITH(io::load_data<float>((dir / "x.npz").string()), Contains((dir / "x.npz").string()) && Contains("no such file"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string() + "," + (dir / "t.npz").string()), Contains("t.npz") && Contains("test split"));
    std::filesystem::create_directories(dir / "empty");
    CHECK_THROWS_WITH(io::load_data<float>((dir / "empty").string()), Contains("holds neither IDX files") && Contains("data_batch_1.bin"));
    iotest::write_bytes(dir / "notes.txt", iotest::to_bytes({1, 2, 3}));
    CHECK_THROWS_WITH(io::load_data<float>((dir / "notes.txt").string()), Contains("not an .npz archive"));
    CHECK_THROWS_WITH(io::load_data<float>(f.string() + ","), Contains("is not 'train.npz,test.npz'"));
    CHECK_THROWS_WITH(io::load_data<float>(f.string() + "," + f.string() + "," + f.string()), Contains("is not 'train.npz,test.npz'"));
  }
  SECTION("NPZ without labels or images") {
    write_npz(f, {{"images", good_images}, {"y", labels_of<std::int64_t>({0, 1})}});
    CHECK_THROWS_AS(io::load_data<float>(f.string()), dd::io_error);
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains(f.string()) && Contains("no array 'labels'") && Contains("images, y"));
    write_npz(f, {{"x", good_images}, {"labels", labels_of<std::int64_t>({0, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("no array 'images'"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, 1})}, {"test_images", good_images}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("'test_images' but no 'test_labels'"));
  }
  SECTION("NPZ labels: negative, not whole, out of range, wrong count or rank") {
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, -3})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("array 'labels' label 1 is -3") && Contains("negative"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<double>({0.0, 1.5})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("label 1 is 1.5") && Contains("whole number"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, 3})},
                  {"num_classes", io::NpyArray::from_values(std::vector<std::int64_t>{3}, dd::Shape{})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("label 1 is 3") && Contains("out of range") && Contains("num_classes = 3"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, std::int64_t(1) << 40})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("label 1 is 1099511627776") && Contains("out of range"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, 1, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("3 labels but 'images' has 2 images"));
    write_npz(f, {{"images", good_images}, {"labels", io::NpyArray::from_values(std::vector<std::int64_t>{0, 1}, dd::Shape{2, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("shape [2, 1]") && Contains("expected 1-d"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, 1})},
                  {"test_images", good_images}, {"test_labels", labels_of<std::int64_t>({0, -1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("array 'test_labels' label 1 is -1"));
    write_npz(f, {{"images", good_images}, {"labels", labels_of<std::int64_t>({0, 1})},
                  {"num_classes", io::NpyArray::from_values(std::vector<double>{2.5}, dd::Shape{})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("num_classes") && Contains("whole number"));
  }
  SECTION("NPZ images: wrong rank, wrong dtype, NaN") {
    write_npz(f, {{"images", u8_images({2, 16})}, {"labels", labels_of<std::int64_t>({0, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("shape [2, 16]") && Contains("expected [N, H, W]"));
    write_npz(f, {{"images", io::NpyArray::from_values(std::vector<std::int32_t>(32, 1), dd::Shape{2, 4, 4})},
                  {"labels", labels_of<std::int64_t>({0, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("dtype <i4") && Contains("expected uint8"));
    std::vector<float> px(32, 0.5f);
    px[17] = std::nanf("");
    write_npz(f, {{"images", io::NpyArray::from_values(px, dd::Shape{2, 4, 4})}, {"labels", labels_of<std::int64_t>({0, 1})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("element 17") && Contains("finite"));
  }
  SECTION("train 28x28 with test 32x32 (NPZ pair, NPZ test arrays, IDX folder)") {
    const auto b = dir / "b.npz";
    write_npz(f, {{"images", u8_images({2, 28, 28})}, {"labels", labels_of<std::int64_t>({0, 1})}});
    write_npz(b, {{"images", u8_images({2, 32, 32})}, {"labels", labels_of<std::int64_t>({0, 1})}});
    const auto spec = f.string() + "," + b.string();
    CHECK_THROWS_AS(io::load_data<float>(spec), dd::io_error);
    CHECK_THROWS_WITH(io::load_data<float>(spec), Contains("[2, 1, 28, 28]") && Contains("[2, 1, 32, 32]") && Contains("same image size"));
    CHECK_THROWS_WITH(io::load_data_split<float>(spec, "train"), Contains("same image size"));
    write_npz(f, {{"images", u8_images({2, 28, 28})}, {"labels", labels_of<std::int64_t>({0, 1})},
                  {"test_images", u8_images({1, 3, 28, 28})}, {"test_labels", labels_of<std::int64_t>({0})}});
    CHECK_THROWS_WITH(io::load_data<float>(f.string()), Contains("[1, 3, 28, 28]") && Contains("same image size"));
    write_idx_folder(dir / "idx", false, 28, 28, {0}, {1}, 32);
    CHECK_THROWS_WITH(io::load_data<float>((dir / "idx").string()), Contains("[1, 1, 28, 28]") && Contains("[1, 1, 32, 32]"));
  }
  SECTION("an IDX folder with a missing file names it, without the setup.sh hint") {
    write_idx_folder(dir / "idx", true, 2, 2, {0}, {1});
    std::filesystem::remove(dir / "idx" / "t10k-labels-idx1-ubyte.gz");
    std::string msg;
    try {
      io::load_data<float>((dir / "idx").string());
    } catch (const dd::io_error& e) {
      msg = e.what();
    }
    CHECK_THAT(msg, Contains((dir / "idx" / "t10k-labels-idx1-ubyte").string()) && Contains("IDX folder"));
    CHECK_THAT(msg, !Contains("setup.sh"));
  }
}

TEST_CASE("load_data: real MNIST by name and by folder give the same splits", "[io][datasets][load_data][data]") {
  const auto dir = io::data_root() / "mnist";
  if (!io::detail::has_data_file(dir, "train-images-idx3-ubyte") || !io::detail::has_data_file(dir, "t10k-labels-idx1-ubyte")) {
    DISTILL_SKIP("mnist not found under " << dir.string() << " (run scripts/setup.sh)");
  }
  const auto by_name = io::load_data<float>("mnist");
  REQUIRE(by_name.name == "mnist");
  REQUIRE(by_name.train.images.shape() == dd::Shape{60000, 1, 28, 28});
  REQUIRE(by_name.test.images.shape() == dd::Shape{10000, 1, 28, 28});
  REQUIRE(by_name.train.num_classes == 10);
  REQUIRE(by_name.test.num_classes == 10);
  const auto by_folder = io::load_data<float>(dir.string());
  REQUIRE(by_folder.name == dir.string());
  REQUIRE(by_folder.train.labels == by_name.train.labels);
  REQUIRE(by_folder.test.labels == by_name.test.labels);
  REQUIRE(std::equal(by_folder.test.images.begin(), by_folder.test.images.end(), by_name.test.images.begin()));
}
