// SPDX-License-Identifier: MIT
// Params: count/clone, tape helpers, NPZ round trip (order and values kept, readable by NumPy's layout), errors.
#include <catch2/catch.hpp>
#include <filesystem>

#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/temp_file.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using distill::Shape;
using distill::Tensor;

TEMPLATE_TEST_CASE("Params: count, clone, variables and constants", "[nn][params]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(1);
  const auto p = nn::Mlp{.widths = {6, 4, 3}}.template init<B>(rng);
  REQUIRE(p.names == std::vector<std::string>{"fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"});
  CHECK(p.count() == 6 * 4 + 4 + 4 * 3 + 3);
  auto q = p.clone();
  q.tensors[0][0] += T(1);
  CHECK(q.tensors[0][0] != p.tensors[0][0]);  // deep copy
  CHECK(p["fc1.bias"].shape() == Shape{3});
  CHECK_THROWS_AS(p["nope"], distill::invalid_argument);
  ad::Tape<B> tape;
  const auto vars = nn::variables(tape, p);
  CHECK(vars.size() == 4);
  CHECK(vars[0].requires_grad());
  CHECK(!nn::constants<B>(p)[0].requires_grad());
  const auto back = nn::values_of(vars, p.names);
  CHECK(back.tensors[2].same_storage(p.tensors[2]));
}

TEMPLATE_TEST_CASE("Params: NPZ round trip keeps names, order, shapes and bytes", "[nn][params][io]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(2);
  // ConvNet names sort differently from their order (classifier < conv0), so the order must come from the file.
  const nn::ConvNet net{.width = 4, .depth = 2, .image_size = 8};
  const auto p = net.template init<B>(rng);
  const TempFile file("distill_params_test");  // unique: the backends' cases run as parallel processes
  const auto& path = file.path;
  nn::save_params(path, p);
  const auto q = nn::load_params<T>(path);
  REQUIRE(q.names == p.names);
  for (std::size_t i = 0; i < p.size(); ++i) {
    REQUIRE(q.tensors[i].shape() == p.tensors[i].shape());
    CHECK(std::equal(p.tensors[i].begin(), p.tensors[i].end(), q.tensors[i].begin()));
  }
  nn::check_same_layout(q, p);
  // Loaded into the other precision: converted.
  const auto qd = nn::load_params<double>(path);
  CHECK(qd.tensors[0][3] == Approx(double(p.tensors[0][3])));
  // A net of another shape is refused by name.
  distill::Rng rng2(2);
  const auto other = nn::ConvNet{.width = 8, .depth = 2, .image_size = 8}.template init<B>(rng2);
  CHECK_THROWS_WITH(nn::check_same_layout(q, other), Catch::Contains("conv0.weight"));
}

TEST_CASE("Params: save/load errors", "[nn][params][io]") {
  nn::Params<float> p;
  p.add("w", Tensor<float>(Shape{2}));
  p.add("w", Tensor<float>(Shape{2}));
  const auto path = std::filesystem::temp_directory_path() / "distill_params_dup.npz";
  CHECK_THROWS_AS(nn::save_params(path, p), distill::invalid_argument);
  CHECK(!std::filesystem::exists(path));  // nothing half-written
  nn::Params<float> bad;
  bad.add("a\nb", Tensor<float>(Shape{1}));
  CHECK_THROWS_AS(nn::save_params(path, bad), distill::invalid_argument);
  CHECK_THROWS_AS(nn::load_params<float>("/nonexistent/distill.npz"), distill::io_error);
}
