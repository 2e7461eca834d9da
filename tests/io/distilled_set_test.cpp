// SPDX-License-Identifier: MIT
// Tests for include/distill/io/distilled_set.hpp: the distilled-set NPZ format, its checks, and NumPy loading.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "distill/io/distilled_set.hpp"
#include "io_test_support.hpp"
#include "support/skip.hpp"

namespace dd = distill;
namespace io = distill::io;
using Catch::Matchers::Contains;
using iotest::require_io_error;

namespace {
template <class T>
io::DistilledSet<T> hard_set() {
  io::DistilledSet<T> s;
  s.images = dd::Tensor<T>({3, 2, 2, 2});
  for (std::size_t i = 0; i < s.images.size(); ++i) s.images[i] = static_cast<T>(i) / 10 - T(1);
  s.labels = dd::Tensor<T>({3}, {0, 2, 1});
  s.mean = dd::Tensor<T>({2}, {0.5, 0.25});
  s.stddev = dd::Tensor<T>({2}, {0.2, 0.3});
  s.method = "kip";
  s.options_json = R"({"images_per_class": 1, "steps": 1000})";
  s.num_classes = 10;
  return s;
}
}  // namespace

TEMPLATE_TEST_CASE("distilled_set: hard labels round trip", "[io][distilled_set]", float, double) {
  using T = TestType;
  iotest::TempDir dir;
  const auto s = hard_set<T>();
  io::save_distilled(dir / "s.npz", s);
  REQUIRE(dir.entries() == std::vector<std::string>{"s.npz"});
  const auto keys = io::load_npz(dir / "s.npz");
  REQUIRE(keys.count("labels") == 1);
  REQUIRE(keys.at("labels").dtype == io::DType::int64);
  REQUIRE(keys.count("soft_labels") == 0);
  REQUIRE(keys.at("images").dtype == io::dtype_of<T>());
  REQUIRE(keys.at("format_version").shape.empty());

  const auto b = io::load_distilled<T>(dir / "s.npz");
  REQUIRE(b.images.shape() == dd::Shape{3, 2, 2, 2});
  REQUIRE(dd::max_abs_diff(b.images, s.images) == T(0));
  REQUIRE(dd::max_abs_diff(b.labels, s.labels) == T(0));
  REQUIRE(dd::max_abs_diff(b.mean, s.mean) == T(0));
  REQUIRE(dd::max_abs_diff(b.stddev, s.stddev) == T(0));
  REQUIRE_FALSE(b.step_sizes.has_value());
  REQUIRE(b.method == "kip");
  REQUIRE(b.options_json == s.options_json);
  REQUIRE(b.num_classes == 10);
  REQUIRE_FALSE(b.has_soft_labels());
  REQUIRE(b.hard_labels() == std::vector<std::int64_t>{0, 2, 1});
  const auto ld = b.to_labeled_data();
  REQUIRE(ld.num_classes == 10);
  ld.validate();
  SECTION("loading in the other precision converts") {
    using U = std::conditional_t<std::is_same_v<T, float>, double, float>;
    const auto u = io::load_distilled<U>(dir / "s.npz");
    REQUIRE(u.images.at(2, 1, 1, 1) == static_cast<U>(s.images.at(2, 1, 1, 1)));
  }
}

TEST_CASE("distilled_set: soft labels, step sizes and defaults", "[io][distilled_set]") {
  iotest::TempDir dir;
  io::DistilledSet<float> s;
  s.images = dd::Tensor<float>({2, 1, 3, 3}, 0.5f);
  s.labels = dd::Tensor<float>({2, 4}, {0.1f, 0.7f, 0.1f, 0.1f, 0.9f, 0.0f, 0.05f, 0.05f});
  s.step_sizes = dd::Tensor<float>({5}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f});
  s.method = "label_solve — ε";
  io::save_npz(dir / "soft.npz", s);  // the save_npz overload for distilled sets
  const auto keys = io::load_npz(dir / "soft.npz");
  REQUIRE(keys.count("soft_labels") == 1);
  REQUIRE(keys.count("labels") == 0);
  const auto b = io::load_distilled<float>(dir / "soft.npz");
  REQUIRE(b.has_soft_labels());
  REQUIRE(b.labels.shape() == dd::Shape{2, 4});
  REQUIRE(b.labels.at(1, 0) == 0.9f);
  REQUIRE(b.hard_labels() == std::vector<std::int64_t>{1, 0});
  REQUIRE(b.num_classes == 4);
  REQUIRE(b.step_sizes.has_value());
  REQUIRE(b.step_sizes->at(4) == 0.5f);
  // Not set means identity normalisation, saved explicitly.
  REQUIRE(b.mean.shape() == dd::Shape{1});
  REQUIRE(b.mean[0] == 0.0f);
  REQUIRE(b.stddev[0] == 1.0f);
  REQUIRE(b.method == "label_solve — ε");
  REQUIRE(b.options_json == "{}");
}

TEST_CASE("distilled_set: a coreset (real examples) saves as a distilled set", "[io][distilled_set]") {
  iotest::TempDir dir;
  dd::LabeledData<float> data{dd::Tensor<float>({4, 1, 2, 2}, 0.25f), {3, 1, 3, 0}, 5};
  const auto s = io::DistilledSet<float>::from_labeled_data(data.subset(std::vector<std::size_t>{0, 3}), "k_center_greedy");
  io::save_distilled(dir / "c.npz", s);
  const auto b = io::load_distilled<float>(dir / "c.npz");
  REQUIRE(b.hard_labels() == std::vector<std::int64_t>{3, 0});
  REQUIRE(b.num_classes == 5);
  REQUIRE(b.method == "k_center_greedy");
}

TEST_CASE("distilled_set: invalid sets are refused on save, naming the field", "[io][distilled_set]") {
  iotest::TempDir dir;
  auto s = hard_set<float>();
  SECTION("images not 4-d") {
    s.images = dd::Tensor<float>({3, 8});
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("images have shape [3, 8]"));
  }
  SECTION("NaN image") {
    s.images[5] = std::nanf("");
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("NaN"));
  }
  SECTION("label count") {
    s.labels = dd::Tensor<float>({2}, {0, 1});
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("labels have shape [2]"));
  }
  SECTION("fractional or out-of-range hard label") {
    s.labels[1] = 1.5f;
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("hard label 1 is 1.5"));
    s.labels[1] = 10;
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("[0, 10)"));
    s.labels[1] = -1;
    REQUIRE_THROWS_AS(io::save_distilled(dir / "x.npz", s), dd::invalid_argument);
  }
  SECTION("stddev not positive, wrong channel count") {
    s.stddev[1] = 0;
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("stddev"));
    s.stddev = dd::Tensor<float>({3}, 1.0f);
    s.mean = dd::Tensor<float>({3}, 0.0f);
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("one per channel"));
  }
  SECTION("soft labels disagree with num_classes") {
    s.labels = dd::Tensor<float>({3, 4});
    REQUIRE_THROWS_WITH(io::save_distilled(dir / "x.npz", s), Contains("num_classes is 10"));
  }
  REQUIRE(dir.entries().empty());
}

TEST_CASE("distilled_set: files that are not distilled sets are refused on load", "[io][distilled_set]") {
  iotest::TempDir dir;
  const auto f = dir / "x.npz";
  auto base = [] {
    std::map<std::string, io::NpyArray> m;
    m["format_version"] = io::NpyArray::from_values(std::vector<std::int64_t>{1}, dd::Shape{});
    m["images"] = io::NpyArray::from_tensor(dd::Tensor<float>({2, 1, 2, 2}));
    m["labels"] = io::NpyArray::from_values(std::vector<std::int64_t>{0, 1});
    m["mean"] = io::NpyArray::from_tensor(dd::Tensor<float>({1}));
    m["std"] = io::NpyArray::from_tensor(dd::Tensor<float>({1}, 1.0f));
    return m;
  };
  SECTION("the minimal valid file loads (method, options, num_classes are optional)") {
    io::save_npz(f, base());
    const auto s = io::load_distilled<float>(f);
    REQUIRE(s.classes() == 2);
    REQUIRE(s.method.empty());
  }
  SECTION("no format_version") {
    auto m = base();
    m.erase("format_version");
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "not a distilled-set file"});
  }
  SECTION("a newer format_version") {
    auto m = base();
    m["format_version"] = io::NpyArray::from_values(std::vector<std::int64_t>{2}, dd::Shape{});
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "format_version 2"});
  }
  SECTION("both label kinds") {
    auto m = base();
    m["soft_labels"] = io::NpyArray::from_tensor(dd::Tensor<float>({2, 2}));
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "exactly one"});
  }
  SECTION("float labels that are not whole numbers") {
    auto m = base();
    m["labels"] = io::NpyArray::from_values(std::vector<float>{0.5f, 1});
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "'labels'", "not an exact"});
  }
  SECTION("images of the wrong rank, labels of the wrong length") {
    auto m = base();
    m["images"] = io::NpyArray::from_tensor(dd::Tensor<float>({2, 4}));
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "'images'", "[N, C, H, W]"});
    m = base();
    m["labels"] = io::NpyArray::from_values(std::vector<std::int64_t>{0, 1, 1});
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "'labels'", "expected [2]"});
  }
  SECTION("a string where numbers belong, zero std") {
    auto m = base();
    m["mean"] = io::NpyArray::from_string("zero");
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "'mean'"});
    m = base();
    m["std"] = io::NpyArray::from_tensor(dd::Tensor<float>({1}, 0.0f));
    io::save_npz(f, m);
    require_io_error([&] { io::load_distilled<float>(f); }, {"x.npz", "stddev"});
  }
}

TEST_CASE("distilled_set: NumPy loads the file with the documented snippet", "[io][distilled_set][numpy]") {
  if (!iotest::have_numpy()) DISTILL_SKIP("/usr/bin/python3 with numpy is not available; NumPy interop not tested");
  iotest::TempDir dir;
  auto s = hard_set<float>();
  s.step_sizes = dd::Tensor<float>({2}, {0.01f, 0.02f});
  io::save_distilled(dir / "kip.npz", s);
  // The snippet from docs/distilled_set_format.md, plus asserts.
  REQUIRE(iotest::run_python(dir.path, R"(
import json
f = np.load("kip.npz")                                   # no allow_pickle needed
x = (f["images"] * f["std"][None, :, None, None]) + f["mean"][None, :, None, None]  # back to pixel space
y = f["labels"] if "labels" in f else f["soft_labels"]
meta = {"method": str(f["method"][0]), "options": json.loads(str(f["options_json"][0]))}
assert int(f["format_version"]) == 1 and int(f["num_classes"]) == 10
assert f["images"].shape == (3, 2, 2, 2) and f["images"].dtype == np.float32
assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
assert np.allclose(f["images"].ravel(), np.arange(24) / 10 - 1)
assert np.allclose(x[0, 1, 0, 0], (0.4 - 1) * 0.3 + 0.25)
assert meta == {"method": "kip", "options": {"images_per_class": 1, "steps": 1000}}, meta
assert np.allclose(f["step_sizes"], [0.01, 0.02])
)") == 0);
}
