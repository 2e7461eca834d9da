// SPDX-License-Identifier: MIT
// io::JsonObject (escaping, numbers that read back exactly, nesting, lists, null for non-finite) and
// io::ChannelStandardization (per-channel statistics, applied in place or to a copy, channel mismatch refused).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "distill/io/json.hpp"
#include "distill/io/labeled_data.hpp"

using distill::Tensor;
namespace io = distill::io;

TEST_CASE("JsonObject: keys in order, escaped strings, exact doubles, nesting, lists, null", "[io][json]") {
  io::JsonObject inner;
  inner.add("rule", "adam").add("beta1", 0.9);
  io::JsonObject j;
  CHECK(j.empty());
  CHECK(j.str() == "{}");
  j.add("n", std::size_t(10)).add("neg", -3).add("flag", true).add("off", false).add("x", 0.1);
  j.add("text", std::string("a\"b\\c\nd\te")).add("ctrl", std::string(1, '\x01')).add("inner", inner);
  j.add("list", std::vector<double>{1.5, -2}).add("nan", std::nan("")).add("inf", INFINITY);
  CHECK_FALSE(j.empty());
  CHECK(j.str() ==
        "{\"n\": 10, \"neg\": -3, \"flag\": true, \"off\": false, \"x\": 0.10000000000000001, "
        "\"text\": \"a\\\"b\\\\c\\nd\\te\", \"ctrl\": \"\\u0001\", \"inner\": {\"rule\": \"adam\", \"beta1\": 0.90000000000000002}, "
        "\"list\": [1.5, -2], \"nan\": null, \"inf\": null}");
  CHECK(std::stod("0.10000000000000001") == 0.1);  // 17 digits read back to the same double
}

TEST_CASE("ChannelStandardization: per-channel mean and std, applied in place or to a copy", "[io]") {
  // 2 images, 2 channels of 2 pixels: channel 0 holds 1, 3, 1, 3; channel 1 holds 10 everywhere (constant).
  Tensor<float> images({2, 2, 1, 2}, {1, 3, 10, 10, 1, 3, 10, 10});
  const auto norm = io::ChannelStandardization<float>::of(images);
  CHECK(norm.mean[0] == Approx(2));
  CHECK(norm.stddev[0] == Approx(1));
  CHECK(norm.mean[1] == Approx(10));
  CHECK(norm.stddev[1] == 1.0f);  // a constant channel maps to 0, not to a division by 0
  const distill::LabeledData<float> data{images, {0, 1}, 2};
  const auto copy = norm.applied_to(data);
  CHECK(copy.images[0] == Approx(-1));
  CHECK(copy.images[1] == Approx(1));
  CHECK(copy.images[2] == Approx(0));
  CHECK(images[0] == 1.0f);  // the copy is deep
  const auto id = io::ChannelStandardization<float>::identity(2);
  auto same = images.clone();
  id.apply(same);
  CHECK(distill::max_abs_diff(same, images) == 0.0f);
  Tensor<float> three({1, 3, 1, 1});
  CHECK_THROWS_WITH(norm.apply(three), Catch::Contains("the standardisation has 2 channels"));
  Tensor<float> nan({1, 1, 1, 2}, {1.0f, std::nanf("")});
  CHECK_THROWS_WITH(io::ChannelStandardization<float>::of(nan), Catch::Contains("NaN"));
  CHECK_THROWS_AS(io::ChannelStandardization<float>::of(Tensor<float>({0, 1, 2, 2})), distill::invalid_argument);
}
