// SPDX-License-Identifier: MIT
// Every layer's gradient (w.r.t. input and parameters) against central finite differences in double, on both
// backends; a second-order check through a small conv net; PyTorch-style init bounds and bad-input errors.
#include <catch2/catch.hpp>
#include <functional>

#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using distill::Shape;
using distill::Tensor;

namespace {

// Checks d/d(x, params) of weighted(layer(x)) for a layer whose params are made by its init (then perturbed).
template <class B, class L>
void check_layer(const L& layer, const Tensor<typename B::Scalar>& x, const std::string& name) {
  using T = typename B::Scalar;
  distill::Rng rng(7);
  nn::Params<T> p;
  layer.template init<B>(rng, p, "");
  REQUIRE(p.size() == layer.num_params());
  std::vector<Tensor<T>> inputs{x};
  for (std::size_t i = 0; i < p.size(); ++i) {
    Tensor<T> t = p.tensors[i].clone();
    const auto noise = random_tensor<B>(t.shape(), 100 + i, -0.3, 0.3);
    for (std::size_t k = 0; k < t.size(); ++k) t[k] += noise[k];
    inputs.push_back(t);
  }
  auto f = [&layer](const std::vector<ad::Var<B>>& v) {
    const std::vector<ad::Var<B>> params(v.begin() + 1, v.end());
    std::size_t cursor = 0;
    const ad::Var<B> y = layer.template apply<B>(params, cursor, v[0]);
    REQUIRE(cursor == params.size());
    return weighted(y, 42);
  };
  const auto r = ad::gradcheck<B>(f, inputs);
  INFO(name << ": worst input " << r.worst_input << " index " << r.worst_index << " analytic " << r.worst_analytic
            << " numeric " << r.worst_numeric);
  CHECK(r.checked > 0);
  CHECK(r.max_rel_error < Tolerances<T>::grad);
}

}  // namespace

TEMPLATE_TEST_CASE("Layers: gradients match central differences", "[nn][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  check_layer<B>(nn::Linear{.in = 5, .out = 3}, random_tensor<B>({4, 5}, 1), "Linear");
  check_layer<B>(nn::Linear{.in = 5, .out = 3, .bias = false}, random_tensor<B>({2, 5}, 2), "Linear (no bias)");
  check_layer<B>(nn::Conv2d{.in = 2, .out = 3, .kernel = 3, .stride = 1, .padding = 1}, random_tensor<B>({2, 2, 5, 5}, 3),
                 "Conv2d 3x3 pad 1");
  check_layer<B>(nn::Conv2d{.in = 2, .out = 2, .kernel = 2, .stride = 2, .padding = 0}, random_tensor<B>({2, 2, 4, 6}, 4),
                 "Conv2d 2x2 stride 2");
  check_layer<B>(nn::Conv2d{.in = 1, .out = 2, .kernel = 5, .stride = 1, .padding = 2, .bias = false},
                 random_tensor<B>({1, 1, 6, 6}, 5), "Conv2d 5x5 pad 2 (no bias)");
  check_layer<B>(nn::Relu{}, spaced_tensor<B>({3, 4}, 6), "Relu");
  check_layer<B>(nn::Tanh{}, random_tensor<B>({3, 4}, 7), "Tanh");
  check_layer<B>(nn::Sigmoid{}, random_tensor<B>({3, 4}, 8), "Sigmoid");
  check_layer<B>(nn::AvgPool{.size = 2}, random_tensor<B>({2, 2, 4, 5}, 9), "AvgPool");
  check_layer<B>(nn::MaxPool{.size = 2}, spaced_tensor<B>({2, 2, 4, 4}, 10), "MaxPool");
  check_layer<B>(nn::InstanceNorm{.channels = 3}, random_tensor<B>({2, 3, 3, 3}, 11), "InstanceNorm");
  check_layer<B>(nn::InstanceNorm{.channels = 2, .affine = false}, random_tensor<B>({2, 2, 3, 3}, 12), "InstanceNorm (no affine)");
  check_layer<B>(nn::GroupNorm{.groups = 2, .channels = 4}, random_tensor<B>({2, 4, 2, 3}, 13), "GroupNorm");
  check_layer<B>(nn::Flatten{}, random_tensor<B>({2, 3, 2, 2}, 14), "Flatten");
}

TEMPLATE_TEST_CASE("Layers: second order through a small conv net (d/dx of <grad_theta loss, v>)", "[nn][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  // tanh instead of relu: a finite-difference stencil must not cross a kink of the first derivative.
  const auto net = nn::serial(nn::Conv2d{.in = 2, .out = 3, .kernel = 3, .stride = 1, .padding = 1}, nn::InstanceNorm{.channels = 3},
                              nn::Tanh{}, nn::AvgPool{.size = 2}, nn::Conv2d{.in = 3, .out = 2, .kernel = 2, .stride = 1, .padding = 0},
                              nn::Tanh{}, nn::Flatten{}, nn::Linear{.in = 2, .out = 3});
  distill::Rng rng(3);
  const auto theta = net.template init<B>(rng);
  std::vector<Tensor<T>> directions;
  for (std::size_t i = 0; i < theta.size(); ++i) directions.push_back(random_tensor<B>(theta.tensors[i].shape(), 50 + i));
  const std::vector<std::int64_t> labels{0, 2};
  // f(x) = <∇θ CE(net(θ, x)), v>: the quantity gradient matching / unrolled distillation differentiate w.r.t. x.
  auto f = [&](const std::vector<ad::Var<B>>& xs) {
    auto& tape = *xs[0].tape();
    const auto th = nn::variables(tape, theta);
    const auto loss = nn::cross_entropy(net.template forward<B>(th, xs[0]), labels);
    const auto g = ad::grad(loss, th, {.create_graph = true});
    ad::Var<B> total = ad::dot(g[0], ad::Var<B>(directions[0]));
    for (std::size_t i = 1; i < g.size(); ++i) total = ad::add(total, ad::dot(g[i], ad::Var<B>(directions[i])));
    return total;
  };
  const auto r = ad::gradcheck<B>(f, {random_tensor<B>({2, 2, 4, 4}, 77)});
  INFO("worst index " << r.worst_index << " analytic " << r.worst_analytic << " numeric " << r.worst_numeric);
  CHECK(r.checked == 64);
  CHECK(r.max_rel_error < Tolerances<T>::second_order);
}

TEMPLATE_TEST_CASE("Layers: PyTorch-style initialisation", "[nn]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(5);
  nn::Params<T> p;
  nn::Conv2d{.in = 4, .out = 8, .kernel = 3}.template init<B>(rng, p, "c.");
  nn::Linear{.in = 100, .out = 10}.template init<B>(rng, p, "l.");
  nn::InstanceNorm{.channels = 8}.template init<B>(rng, p, "n.");
  REQUIRE(p.names == std::vector<std::string>{"c.weight", "c.bias", "l.weight", "l.bias", "n.weight", "n.bias"});
  REQUIRE(p.tensors[0].shape() == Shape{8, 4, 3, 3});
  const double conv_bound = 1.0 / 6.0, lin_bound = 0.1;
  auto within = [](const Tensor<T>& t, double b) {
    double lo = 1e9, hi = -1e9;
    for (auto v : t) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
    return lo >= -b && hi <= b && hi - lo > b;  // inside the bound and actually spread over it
  };
  CHECK(within(p.tensors[0], conv_bound));
  CHECK(within(p.tensors[2], lin_bound));
  for (auto v : p.tensors[4]) CHECK(v == T(1));
  for (auto v : p.tensors[5]) CHECK(v == T(0));
  // Same seed, same bytes.
  distill::Rng rng2(5);
  nn::Params<T> q;
  nn::Conv2d{.in = 4, .out = 8, .kernel = 3}.template init<B>(rng2, q, "c.");
  CHECK(std::equal(p.tensors[0].begin(), p.tensors[0].end(), q.tensors[0].begin()));
}

TEMPLATE_TEST_CASE("Layers: Xavier-normal initialisation (std sqrt(2/(fan_in+fan_out)), zero bias)", "[nn]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(9);
  nn::Params<T> p;
  nn::Conv2d{.in = 16, .out = 32, .kernel = 5, .weight_init = nn::WeightInit::xavier_normal}.template init<B>(rng, p, "c.");
  nn::Linear{.in = 400, .out = 120, .weight_init = nn::WeightInit::xavier_normal}.template init<B>(rng, p, "l.");
  auto std_of = [](const Tensor<T>& t) {
    double s = 0, s2 = 0;
    for (auto v : t) s += double(v), s2 += double(v) * double(v);
    const double n = double(t.size()), mean = s / n;
    CHECK(std::abs(mean) < 4 * std::sqrt(s2 / n / n));  // centred: |mean| within 4 standard errors
    return std::sqrt(s2 / n - mean * mean);
  };
  // 12,800 and 48,000 draws: the sample std is within 2 % of the target with overwhelming probability.
  CHECK(std_of(p.tensors[0]) == Approx(std::sqrt(2.0 / (16 * 25 + 32 * 25))).epsilon(0.02));
  CHECK(std_of(p.tensors[2]) == Approx(std::sqrt(2.0 / (400 + 120))).epsilon(0.02));
  for (auto v : p.tensors[1]) CHECK(v == T(0));
  for (auto v : p.tensors[3]) CHECK(v == T(0));
  // LeNet (Wang et al. 2018) uses it by default; PyTorch's default stays available.
  const auto lenet = nn::LeNet{}.template init<B>(rng);
  CHECK(std_of(lenet["fc1.weight"]) == Approx(std::sqrt(2.0 / 520)).epsilon(0.02));
  const auto torch_style = nn::LeNet{.weight_init = nn::WeightInit::pytorch}.template init<B>(rng);
  CHECK(std_of(torch_style["fc1.weight"]) == Approx(1.0 / std::sqrt(3.0 * 400)).epsilon(0.02));
}

TEMPLATE_TEST_CASE("Layers: bad input is rejected with a message", "[nn]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  distill::Rng rng(1);
  nn::Params<T> p;
  const nn::Linear lin{.in = 3, .out = 2};
  lin.template init<B>(rng, p, "");
  const auto vars = nn::constants<B>(p);
  std::size_t cursor = 0;
  CHECK_THROWS_AS(lin.template apply<B>(vars, cursor, ad::Var<B>(Tensor<T>(Shape{2, 4}))), distill::invalid_argument);
  cursor = 1;  // the bias where the weight should be
  CHECK_THROWS_WITH(lin.template apply<B>(vars, cursor, ad::Var<B>(Tensor<T>(Shape{2, 3}))),
                    Catch::Contains("weight has shape [2], expected [2, 3]"));
  cursor = 2;
  CHECK_THROWS_WITH(lin.template apply<B>(vars, cursor, ad::Var<B>(Tensor<T>(Shape{2, 3}))), Catch::Contains("ran out of parameters"));
  CHECK_THROWS_AS((nn::GroupNorm{.groups = 3, .channels = 4}.template init<B>(rng, p, "")), distill::invalid_argument);
  const nn::Conv2d conv{.in = 2, .out = 2};
  cursor = 0;
  CHECK_THROWS_AS(conv.template apply<B>(vars, cursor, ad::Var<B>(Tensor<T>(Shape{1, 3, 4, 4}))), distill::invalid_argument);
}
