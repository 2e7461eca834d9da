// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <vector>

#include "distill/core/transform_list.hpp"

namespace {

enum class Shade { red, green, blue };
const char* shade_name(Shade s) { return s == Shade::red ? "red" : s == Shade::green ? "green" : "blue"; }
constexpr Shade all_shades[] = {Shade::red, Shade::green, Shade::blue};

std::vector<Shade> parse(const char* text) { return distill::parse_transform_list(text, all_shades, shade_name, "shade list"); }

}  // namespace

TEST_CASE("parse_transform_list: names joined by '_' in their order, none is empty, bad words named", "[core]") {
  using Catch::Contains;
  CHECK(parse("blue_red") == std::vector<Shade>{Shade::blue, Shade::red});
  CHECK(parse("green") == std::vector<Shade>{Shade::green});
  CHECK(parse("").empty());
  CHECK(parse("none").empty());
  CHECK(parse("None").empty());
  CHECK_THROWS_WITH(parse("red_pink"), Contains("shade list 'red_pink': unknown transform 'pink'; valid: red, green, blue"));
  CHECK_THROWS_WITH(parse("red__blue"), Contains("unknown transform ''"));
  CHECK_THROWS_WITH(parse("red_"), Contains("unknown transform ''"));
  CHECK_THROWS_WITH(parse("blue_red_blue"), Contains("names transform 'blue' twice"));
}
