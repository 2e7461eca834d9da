// SPDX-License-Identifier: MIT
// frame::CheckpointState: every kind of registered state survives a save and a load bit for bit; a checkpoint of
// another method, layout version or shape is refused with a message naming the key; a failed load changes nothing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "distill/frame/checkpoint_state.hpp"
#include "distill/io/npz.hpp"
#include "support/temp_file.hpp"

namespace fr = distill::frame;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("CheckpointState: a round trip of tensors, lists, optimizer states, counters and series", "[frame]",
                   float, double) {
  using T = TestType;
  Tensor<T> x({2, 3});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = T(0.1) * T(i) - T(0.25);
  std::vector<Tensor<T>> list{Tensor<T>({2}, T(1.5)), Tensor<T>({1, 2}, T(-2))};
  distill::nn::Adam::State<T> adam{.step = 7, .m = {Tensor<T>({2, 3}, T(0.5))}, .v = {Tensor<T>({2, 3}, T(0.25))}};
  distill::nn::Sgd::State<T> sgd{.step = 3, .buffer = {Tensor<T>({2}, T(4))}};
  distill::nn::Adam::State<T> fresh_adam;  // before its first step: no moments
  std::size_t count = 11;
  double value = 0.125;
  std::vector<double> series{1.0, 0.5, std::nan("")};
  auto make = [&](auto& x_, auto& list_, auto& adam_, auto& sgd_, auto& fresh_, auto& count_, auto& value_, auto& series_) {
    fr::CheckpointState<T> s("test");
    s.add("x", x_).add("list", list_).add("adam", adam_).add("sgd", sgd_).add("fresh", fresh_).add("count", count_);
    s.add("value", value_).add("series", series_);
    return s;
  };
  const TempFile file("distill_checkpoint_state_test");
  make(x, list, adam, sgd, fresh_adam, count, value, series).save(file.path, 42);

  Tensor<T> x2({2, 3});
  std::vector<Tensor<T>> list2{Tensor<T>({2}), Tensor<T>({1, 2})};
  distill::nn::Adam::State<T> adam2, fresh2;
  distill::nn::Sgd::State<T> sgd2;
  std::size_t count2 = 0;
  double value2 = 0;
  std::vector<double> series2;
  auto loaded = make(x2, list2, adam2, sgd2, fresh2, count2, value2, series2);
  CHECK(loaded.load(file.path) == 42);
  CHECK(distill::max_abs_diff(x, x2) == 0);
  CHECK(distill::max_abs_diff(list[1], list2[1]) == 0);
  CHECK(adam2.step == 7);
  REQUIRE(adam2.m.size() == 1);
  CHECK(distill::max_abs_diff(adam.v[0], adam2.v[0]) == 0);
  CHECK(sgd2.step == 3);
  CHECK(fresh2.step == 0);
  CHECK(fresh2.m.empty());
  CHECK(count2 == 11);
  CHECK(value2 == 0.125);
  REQUIRE(series2.size() == 3);
  CHECK(std::isnan(series2[2]));
  // The restored optimizer state owns its tensors: changing it leaves the loaded arrays' source alone.
  adam2.m[0][0] = T(99);
  CHECK(adam.m[0][0] == T(0.5));

  // The keys follow the documented scheme, readable by NumPy.
  const auto arrays = distill::io::load_npz(file.path);
  for (const char* key : {"checkpoint_format_version", "checkpoint_method", "step", "tensor.x", "tensors.list.count",
                          "tensors.list.1", "adam.adam.step", "adam.adam.m.0", "adam.adam.v.0", "sgd.sgd.buffer.0",
                          "count.count", "value.value", "series.series", "options_json"})
    CHECK(arrays.count(key) == 1);
}

TEST_CASE("CheckpointState: mismatches are refused with the key named, and leave the state untouched", "[frame]") {
  const TempFile file("distill_checkpoint_state_bad");
  Tensor<float> x({2, 2}, 1.0f);
  std::size_t n = 5;
  fr::CheckpointState<float> writer("kip");
  writer.add("x", x).add("n", n);
  writer.save(file.path, 3);

  Tensor<float> other({3, 2}, 7.0f);
  std::size_t n2 = 0;
  fr::CheckpointState<float> wrong_shape("kip");
  wrong_shape.add("x", other).add("n", n2);
  CHECK_THROWS_AS(wrong_shape.load(file.path), distill::io_error);
  CHECK_THROWS_WITH(wrong_shape.load(file.path), Catch::Contains("'tensor.x' of shape [2, 2]") &&
                                                     Catch::Contains("this run needs [3, 2]"));
  CHECK(other[0] == 7.0f);  // nothing assigned
  CHECK(n2 == 0);

  fr::CheckpointState<float> missing("kip");
  Tensor<float> y({2, 2});
  missing.add("y", y);
  CHECK_THROWS_WITH(missing.load(file.path), Catch::Contains("has no 'tensor.y'"));

  fr::CheckpointState<float> wrong_method("unrolled_gd");
  CHECK_THROWS_WITH(wrong_method.load(file.path), Catch::Contains("written by kip, not by unrolled_gd"));

  // Another layout version.
  auto arrays = writer.arrays(3);
  arrays["checkpoint_format_version"] = distill::io::NpyArray::from_values(std::vector<std::int64_t>{99}, Shape{});
  CHECK_THROWS_WITH(writer.restore(arrays), Catch::Contains("layout version 99"));
  CHECK_THROWS_AS(writer.load("/nonexistent/ckpt.npz"), distill::io_error);

  // Names are checked when registered.
  CHECK_THROWS_AS(writer.add("x", x), distill::invalid_argument);
  CHECK_THROWS_AS(writer.add("a.b", x), distill::invalid_argument);
}
