// SPDX-License-Identifier: MIT
// Every differentiable op against central finite differences in double: first order, and second order
// (the gradient of ⟨∇f, v⟩ with create_graph), on both backends.
#include <catch2/catch.hpp>
#include <algorithm>
#include <functional>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "distill/autodiff.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace ad = distill::ad;
using distill::Shape;
using distill::Tensor;

namespace {

template <class B>
struct Case {
  std::string name;
  std::vector<Tensor<typename B::Scalar>> inputs;
  std::function<ad::Var<B>(const std::vector<ad::Var<B>>&)> op;
};

/**
 * Inputs x [2, 3, 3, 3], γ, β [3] for a norm → relu whose pre-activations γx̂ + β all lie ≥ 0.2 from ReLU's kink,
 * with some on each side: the finite-difference stencil (±0.02 in x) never crosses it. The first such seed is used.
 */
template <class B>
std::vector<Tensor<typename B::Scalar>> away_from_kink() {
  for (std::uint64_t seed = 66;; seed += 3) {
    std::vector<Tensor<typename B::Scalar>> in{random_tensor<B>({2, 3, 3, 3}, seed), random_tensor<B>({3}, seed + 1, 0.5, 1.5),
                                               random_tensor<B>({3}, seed + 2)};
    const auto z = ad::group_norm(ad::Var<B>(in[0]), 3, ad::Var<B>(in[1]), ad::Var<B>(in[2])).value();
    double nearest = 1e9;
    std::size_t positive = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      nearest = std::min(nearest, std::abs(double(z[i])));
      positive += z[i] > 0;
    }
    if (nearest > 0.2 && positive > 0 && positive < z.size()) return in;
  }
}

template <class B>
std::vector<Case<B>> all_cases() {
  using V = ad::Var<B>;
  using Vs = std::vector<V>;
  auto r = [](Shape s, std::uint64_t seed, double lo = -1, double hi = 1) { return random_tensor<B>(s, seed, lo, hi); };
  auto sp = [](Shape s, std::uint64_t seed) { return spaced_tensor<B>(s, seed); };
  // Same grid shifted by half a step: every element differs from every sp() element by at least 1/n.
  auto sp_half = [](Shape s, std::uint64_t seed) { return spaced_tensor<B>(s, seed, 0.87); };
  std::vector<Case<B>> c;
  c.push_back({"add broadcast row", {r({3, 4}, 1), r({4}, 2)}, [](const Vs& x) { return ad::add(x[0], x[1]); }});
  c.push_back({"sub broadcast channel", {r({2, 3, 2, 2}, 3), r({1, 3, 1, 1}, 4)}, [](const Vs& x) { return ad::sub(x[0], x[1]); }});
  c.push_back({"sub scalar-first", {r({1}, 5), r({2, 3}, 6)}, [](const Vs& x) { return ad::sub(x[0], x[1]); }});
  c.push_back({"mul broadcast", {r({2, 1, 3}, 7), r({4, 1}, 8)}, [](const Vs& x) { return ad::mul(x[0], x[1]); }});
  c.push_back({"div", {r({3, 3}, 9), r({3, 3}, 10, 0.5, 2)}, [](const Vs& x) { return ad::div(x[0], x[1]); }});
  c.push_back({"div broadcast", {r({3, 1}, 9), r({3, 4}, 10, 0.5, 2)}, [](const Vs& x) { return ad::div(x[0], x[1]); }});
  c.push_back({"neg", {r({5}, 11)}, [](const Vs& x) { return ad::neg(x[0]); }});
  c.push_back({"exp", {r({5}, 12)}, [](const Vs& x) { return ad::exp(x[0]); }});
  c.push_back({"log", {r({5}, 13, 0.5, 2)}, [](const Vs& x) { return ad::log(x[0]); }});
  c.push_back({"sqrt", {r({5}, 14, 0.5, 2)}, [](const Vs& x) { return ad::sqrt(x[0]); }});
  c.push_back({"safe_sqrt", {r({5}, 15, 0.5, 2)}, [](const Vs& x) { return ad::safe_sqrt(x[0]); }});
  c.push_back({"pow", {r({5}, 16, 0.5, 2)}, [](const Vs& x) { return ad::pow(x[0], typename B::Scalar(2.5)); }});
  c.push_back({"reciprocal", {r({5}, 17, 0.5, 2)}, [](const Vs& x) { return ad::reciprocal(x[0]); }});
  c.push_back({"abs", {sp({6}, 18)}, [](const Vs& x) { return ad::abs(x[0]); }});
  c.push_back({"clamp", {sp({6}, 19)}, [](const Vs& x) { return ad::clamp(x[0], typename B::Scalar(-0.5), typename B::Scalar(0.5)); }});
  c.push_back({"relu", {sp({6}, 20)}, [](const Vs& x) { return ad::relu(x[0]); }});
  c.push_back({"tanh", {r({6}, 21)}, [](const Vs& x) { return ad::tanh(x[0]); }});
  c.push_back({"sigmoid", {r({6}, 22)}, [](const Vs& x) { return ad::sigmoid(x[0]); }});
  c.push_back({"acos", {r({6}, 23, -0.9, 0.9)}, [](const Vs& x) { return ad::acos(x[0]); }});
  c.push_back({"sin cos", {r({6}, 24)}, [](const Vs& x) { return ad::mul(ad::sin(x[0]), ad::cos(x[0])); }});
  c.push_back({"atan2", {r({6}, 25), r({6}, 26, 0.5, 1)}, [](const Vs& x) { return ad::atan2(x[0], x[1]); }});
  c.push_back({"maximum", {sp({6}, 27), sp_half({6}, 28)}, [](const Vs& x) { return ad::maximum(x[0], x[1]); }});
  c.push_back({"minimum", {sp({6}, 29), sp_half({1}, 30)}, [](const Vs& x) { return ad::minimum(x[0], x[1]); }});
  c.push_back({"scalar ops", {r({4}, 31, 0.5, 2)}, [](const Vs& x) {
                 using T = typename B::Scalar;
                 return (T(2) - x[0] * T(3) + T(1)) / T(2) + T(1) / x[0];
               }});
  c.push_back({"matmul", {r({3, 4}, 32), r({4, 2}, 33)}, [](const Vs& x) { return ad::matmul(x[0], x[1]); }});
  c.push_back({"matmul At", {r({4, 3}, 34), r({4, 2}, 35)}, [](const Vs& x) { return ad::matmul(x[0], x[1], {true, false}); }});
  c.push_back({"matmul Bt", {r({3, 4}, 36), r({2, 4}, 37)}, [](const Vs& x) { return ad::matmul(x[0], x[1], {false, true}); }});
  c.push_back({"matmul AtBt", {r({4, 3}, 38), r({2, 4}, 39)}, [](const Vs& x) { return ad::matmul(x[0], x[1], {true, true}); }});
  c.push_back({"sum axes", {r({2, 3, 4}, 40)}, [](const Vs& x) { return ad::sum(x[0], {0, 2}); }});
  c.push_back({"mean keepdim", {r({2, 3, 4}, 41)}, [](const Vs& x) { return ad::mean(x[0], {1}, true); }});
  c.push_back({"log_softmax", {r({3, 5}, 42, -2, 2)}, [](const Vs& x) { return ad::log_softmax(x[0]); }});
  c.push_back({"softmax axis0", {r({3, 5}, 43, -2, 2)}, [](const Vs& x) { return ad::softmax(x[0], 0); }});
  c.push_back({"logsumexp", {r({3, 5}, 44, -2, 2)}, [](const Vs& x) { return ad::logsumexp(x[0], 1); }});
  c.push_back({"reshape", {r({2, 6}, 45)}, [](const Vs& x) { return ad::reshape(x[0], Shape{3, 4}); }});
  c.push_back({"permute", {r({2, 3, 4}, 46)}, [](const Vs& x) { return ad::permute(x[0], {2, 0, 1}); }});
  c.push_back({"transpose", {r({2, 3}, 47)}, [](const Vs& x) { return ad::transpose(x[0]); }});
  c.push_back({"slice", {r({4, 3}, 48)}, [](const Vs& x) { return ad::slice(x[0], 1, 1, 3); }});
  c.push_back({"concat", {r({2, 3}, 49), r({2, 2}, 50)}, [](const Vs& x) { return ad::concat(Vs{x[0], x[1]}, 1); }});
  c.push_back({"gather_rows", {r({4, 3}, 51)}, [](const Vs& x) { return ad::gather_rows(x[0], {3, 0, 3, 1}); }});
  c.push_back({"scatter_add_rows", {r({3, 2}, 52)}, [](const Vs& x) { return ad::scatter_add_rows(x[0], {1, 1, 0}, 4); }});
  c.push_back({"broadcast_to", {r({3, 1}, 53)}, [](const Vs& x) { return ad::broadcast_to(x[0], Shape{2, 3, 4}); }});
  c.push_back({"conv2d stride1 pad1", {r({2, 2, 5, 5}, 54), r({3, 2, 3, 3}, 55), r({3}, 56)},
               [](const Vs& x) { return ad::conv2d(x[0], x[1], x[2], {.stride = 1, .padding = 1}); }});
  c.push_back({"conv2d stride2", {r({1, 2, 6, 5}, 57), r({2, 2, 2, 3}, 58)},
               [](const Vs& x) { return ad::conv2d(x[0], x[1], V{}, {.stride = 2, .padding = 0}); }});
  // 60 channels × 3×3 taps is past the direct path's 512: all three passes take the Winograd path.
  c.push_back({"conv2d winograd", {r({2, 60, 3, 4}, 70), r({3, 60, 3, 3}, 71), r({3}, 72)},
               [](const Vs& x) { return ad::conv2d(x[0], x[1], x[2], {.stride = 1, .padding = 1}); }});
  // One input channel, 60 outputs: a direct forward pass, but a Winograd input gradient (540 transposed taps).
  c.push_back({"conv2d wide from one channel", {r({2, 1, 5, 4}, 73), r({60, 1, 3, 3}, 74)},
               [](const Vs& x) { return ad::conv2d(x[0], x[1], V{}, {.stride = 1, .padding = 1}); }});
  // 16 output channels and ≥ 32 taps: the direct weight gradient with the output channels in the lanes (a 5-wide
  // kernel of 7 rows, padded; a 3-wide one, unpadded).
  c.push_back({"conv2d by-channel weight gradient 7x5", {r({2, 1, 8, 7}, 75), r({16, 1, 7, 5}, 76), r({16}, 77)},
               [](const Vs& x) { return ad::conv2d(x[0], x[1], x[2], {.stride = 1, .padding = 2}); }});
  c.push_back({"conv2d by-channel weight gradient 3x3", {r({2, 4, 5, 6}, 78), r({16, 4, 3, 3}, 79)},
               [](const Vs& x) { return ad::conv2d(x[0], x[1], V{}, {.stride = 1, .padding = 0}); }});
  c.push_back({"avg_pool2d", {r({2, 2, 4, 4}, 59)}, [](const Vs& x) { return ad::avg_pool2d(x[0], 2); }});
  c.push_back({"max_pool2d", {sp({2, 2, 4, 4}, 60)}, [](const Vs& x) { return ad::max_pool2d(x[0], 2); }});
  c.push_back({"instance_norm", {r({2, 3, 3, 3}, 61)}, [](const Vs& x) { return ad::instance_norm(x[0]); }});
  c.push_back({"group_norm", {r({2, 4, 2, 2}, 62)}, [](const Vs& x) { return ad::group_norm(x[0], 2); }});
  c.push_back({"group_norm affine", {r({2, 4, 2, 3}, 63), r({4}, 64, 0.5, 1.5), r({4}, 65)},
               [](const Vs& x) { return ad::group_norm(x[0], 2, x[1], x[2]); }});
  c.push_back({"instance_norm affine relu", away_from_kink<B>(), [](const Vs& x) {
                 return ad::group_norm(x[0], 3, x[1], x[2], {.relu = true});
               }});
  // An odd height: the last row is outside every pooling window.
  c.push_back({"group_norm_avg_pool2", {r({2, 4, 5, 4}, 80), r({4}, 81, 0.5, 1.5), r({4}, 82)},
               [](const Vs& x) { return ad::group_norm_avg_pool2(x[0], 2, x[1], x[2]); }});
  c.push_back({"group_norm_avg_pool2 relu, odd plane", away_from_kink<B>(), [](const Vs& x) {
                 return ad::group_norm_avg_pool2(x[0], 3, x[1], x[2], {.relu = true});
               }});
  return c;
}

// A fused op's gradients by its kernel (plain backward) and by its op-built backward (create_graph), against
// the gradients of its definition from primitive ops; the op-built ∂x must be differentiable again.
template <class B>
void check_both_backward_paths(const ad::Var<B>& fused, const ad::Var<B>& reference, const ad::Var<B>& w,
                               const std::vector<ad::Var<B>>& inputs) {
  const auto expected = ad::grad(ad::dot(reference, w), inputs);
  const auto plain = ad::grad(ad::dot(fused, w), inputs);
  const auto recorded = ad::grad(ad::dot(fused, w), inputs, {.create_graph = true});
  CHECK(recorded[0].requires_grad());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    REQUIRE(plain[k].shape() == expected[k].shape());
    REQUIRE(recorded[k].shape() == expected[k].shape());
    for (std::size_t i = 0; i < expected[k].size(); ++i) {
      CHECK(plain[k].value()[i] == Approx(expected[k].value()[i]).margin(1e-11));
      CHECK(recorded[k].value()[i] == Approx(expected[k].value()[i]).margin(1e-11));
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("ops: first-order gradients match central finite differences", "[autodiff][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  for (auto& c : all_cases<B>()) {
    auto f = [&](const std::vector<ad::Var<B>>& x) { return weighted(c.op(x), 99); };
    const auto r = ad::gradcheck<B>(f, c.inputs);
    INFO(c.name << ": worst input " << r.worst_input << " index " << r.worst_index << " analytic " << r.worst_analytic
                << " numeric " << r.worst_numeric);
    CHECK(r.checked > 0);
    CHECK(r.max_rel_error < Tolerances<double>::grad);
  }
}

TEMPLATE_TEST_CASE("ops: second-order gradients (gradient of <grad f, v>) match finite differences",
                   "[autodiff][grad][second-order]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  for (auto& c : all_cases<B>()) {
    std::vector<Tensor<double>> dirs;
    for (std::size_t i = 0; i < c.inputs.size(); ++i) dirs.push_back(random_tensor<B>(c.inputs[i].shape(), 500 + i));
    auto f = [&](const std::vector<ad::Var<B>>& x) { return weighted(c.op(x), 99); };
    const auto r = ad::gradcheck_second_order<B>(f, c.inputs, dirs);
    INFO(c.name << ": worst input " << r.worst_input << " index " << r.worst_index << " analytic " << r.worst_analytic
                << " numeric " << r.worst_numeric);
    CHECK(r.max_rel_error < Tolerances<double>::second_order);
  }
}

TEMPLATE_TEST_CASE("ops: float values agree with double values", "[autodiff]", DISTILL_TEST_FLOAT_BACKENDS) {
  using B = TestType;
  using BD = std::conditional_t<std::is_same_v<B, distill::EigenBackend<float>>, distill::EigenBackend<double>,
#if DISTILL_HAS_XTENSOR
                                distill::XtensorBackend<double>
#else
                                distill::EigenBackend<double>
#endif
                                >;
  auto cf = all_cases<B>();
  auto cd = all_cases<BD>();
  for (std::size_t i = 0; i < cf.size(); ++i) {
    std::vector<ad::Var<B>> xf;
    std::vector<ad::Var<BD>> xd;
    for (auto& t : cf[i].inputs) xf.emplace_back(t);
    for (auto& t : cd[i].inputs) xd.emplace_back(t);
    const auto yf = cf[i].op(xf).value();
    const auto yd = cd[i].op(xd).value();
    INFO(cf[i].name);
    REQUIRE(yf.shape() == yd.shape());
    for (std::size_t k = 0; k < yf.size(); ++k) CHECK(relative_error(yf[k], yd[k], 1e-3) < 1e-4);
  }
}

TEMPLATE_TEST_CASE("ops: fused group_norm matches its composite definition, by both backward paths", "[autodiff][norm]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using V = ad::Var<B>;
  for (const std::size_t groups : {1, 2, 4}) {
    for (const bool relu : {false, true}) {
      ad::Tape<B> tape;
      const V x = tape.variable(random_tensor<B>({3, 4, 3, 2}, 70, -2, 3));
      const V gamma = tape.variable(random_tensor<B>({4}, 71, 0.5, 1.5));
      const V beta = tape.variable(random_tensor<B>({4}, 72));
      // The definition, from primitive ops.
      const V xg = ad::reshape(x, Shape{3, groups, 4 / groups * 6});
      const V centred = ad::sub(xg, ad::mean(xg, {2}, true));
      const V sd = ad::sqrt(ad::add_scalar(ad::mean(ad::mul(centred, centred), {2}, true), 1e-5));
      V reference = ad::add(ad::mul(ad::reshape(ad::div(centred, sd), Shape{3, 4, 3, 2}), ad::reshape(gamma, Shape{1, 4, 1, 1})),
                            ad::reshape(beta, Shape{1, 4, 1, 1}));
      if (relu) reference = ad::relu(reference);
      const V fused = ad::group_norm(x, groups, gamma, beta, {.relu = relu});
      INFO("groups " << groups << " relu " << relu);
      for (std::size_t i = 0; i < fused.size(); ++i) CHECK(fused.value()[i] == Approx(reference.value()[i]).margin(1e-12));

      const V w(random_tensor<B>({3, 4, 3, 2}, 73));
      check_both_backward_paths(fused, reference, w, {x, gamma, beta});
    }
  }
}

TEMPLATE_TEST_CASE("ops: group_norm_avg_pool2 matches group_norm then avg_pool2d, by both backward paths",
                   "[autodiff][norm]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using V = ad::Var<B>;
  for (const Shape& shape : {Shape{3, 4, 6, 4}, Shape{2, 4, 7, 5}}) {  // even, and odd in both directions
    for (const std::size_t groups : {1, 2, 4}) {
      for (const bool relu : {false, true}) {
        ad::Tape<B> tape;
        const V x = tape.variable(random_tensor<B>(shape, 90, -2, 3));
        const V gamma = tape.variable(random_tensor<B>({4}, 91, 0.5, 1.5));
        const V beta = tape.variable(random_tensor<B>({4}, 92));
        const V reference = ad::avg_pool2d(ad::group_norm(x, groups, gamma, beta, {.relu = relu}), 2);
        const V fused = ad::group_norm_avg_pool2(x, groups, gamma, beta, {.relu = relu});
        INFO("shape " << distill::show(shape) << " groups " << groups << " relu " << relu);
        REQUIRE(fused.shape() == reference.shape());
        for (std::size_t i = 0; i < fused.size(); ++i) CHECK(fused.value()[i] == Approx(reference.value()[i]).margin(1e-12));

        const V w(random_tensor<B>(reference.shape(), 93));
        check_both_backward_paths(fused, reference, w, {x, gamma, beta});
        // Without γ and β, and with an input that needs no gradient (the kernel still reduces through scratch).
        const V constant_x(random_tensor<B>(shape, 94));
        const V plain_ref = ad::avg_pool2d(ad::group_norm(constant_x, groups, V{}, V{}, {.relu = relu}), 2);
        const V plain_fused = ad::group_norm_avg_pool2(constant_x, groups, V{}, V{}, {.relu = relu});
        for (std::size_t i = 0; i < plain_fused.size(); ++i)
          CHECK(plain_fused.value()[i] == Approx(plain_ref.value()[i]).margin(1e-12));
        const V fused_gamma = ad::group_norm_avg_pool2(constant_x, groups, gamma, beta, {.relu = relu});
        const V reference_gamma = ad::avg_pool2d(ad::group_norm(constant_x, groups, gamma, beta, {.relu = relu}), 2);
        const V gamma_only = ad::grad(ad::dot(fused_gamma, w), gamma);
        const V gamma_expected = ad::grad(ad::dot(reference_gamma, w), gamma);
        for (std::size_t i = 0; i < 4; ++i) CHECK(gamma_only.value()[i] == Approx(gamma_expected.value()[i]).margin(1e-11));
      }
    }
  }
}

TEMPLATE_TEST_CASE("ops: group_norm rejects bad arguments with a message naming them", "[autodiff][norm]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  using V = ad::Var<B>;
  const V x(random_tensor<B>({2, 4, 3, 3}, 74));
  const V four(random_tensor<B>({4}, 75)), three(random_tensor<B>({3}, 76));
  CHECK_THROWS_WITH(ad::group_norm(x, 3, four, four), Catch::Contains("4 channels do not split into 3 groups"));
  CHECK_THROWS_WITH(ad::group_norm(x, 2, three, three), Catch::Contains("one per channel"));
  CHECK_THROWS_WITH(ad::group_norm(x, 2, four, V{}), Catch::Contains("both gamma and beta"));
  CHECK_THROWS_WITH(ad::group_norm(V(random_tensor<B>({4, 3}, 77)), 1, V{}, V{}), Catch::Contains("NCHW"));
  CHECK_THROWS_WITH(ad::group_norm(x, 2, four, four, {.eps = 0}), Catch::Contains("eps must be positive"));
  CHECK_THROWS_WITH(ad::group_norm_avg_pool2(x, 2, four, V{}), Catch::Contains("group_norm_avg_pool2(): give both"));
  CHECK_THROWS_WITH(ad::group_norm_avg_pool2(V(random_tensor<B>({2, 4, 1, 6}, 78)), 2, four, four),
                    Catch::Contains("group_norm_avg_pool2(): kernel 2x2 is larger than the padded input 1x6"));
}

TEMPLATE_TEST_CASE("ops: take and put_add reject out-of-range indices", "[autodiff]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const ad::Var<B> x(random_tensor<B>({2, 3}, 78));
  CHECK_THROWS_WITH(ad::take(x, {0, 6}, Shape{2}), Catch::Contains("index 6 out of range for 6 elements"));
  CHECK_THROWS_WITH(ad::put_add(x, {0, 1, 2, 3, 4, 9}, Shape{8}), Catch::Contains("index 9 out of range for 8"));
}

TEMPLATE_TEST_CASE("conv2d: the direct and Winograd paths match im2col + GEMM at the nets' layer shapes",
                   "[autodiff][conv]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  namespace dt = ad::detail;
  struct Layer {
    const char* name;
    std::size_t batch, channels, size, out, kernel, pad;
  };
  // ConvNet-3's three layers (the 128-channel ones with 64 channels, to keep the test quick) and LeNet's two.
  const Layer layer = GENERATE(Layer{"ConvNet conv1", 3, 1, 28, 16, 3, 1}, Layer{"ConvNet conv2", 5, 64, 14, 64, 3, 1},
                               Layer{"ConvNet conv3", 13, 64, 7, 32, 3, 1}, Layer{"LeNet conv1", 2, 1, 28, 6, 5, 2},
                               Layer{"LeNet conv2", 2, 6, 14, 16, 5, 0});
  INFO(layer.name);
  const distill::ConvGeometry g{layer.batch, layer.channels, layer.size, layer.size, layer.kernel, layer.kernel,
                                1, 1, layer.pad, layer.pad};
  const auto x = random_tensor<B>({layer.batch, layer.channels, layer.size, layer.size}, 80);
  const auto w = random_tensor<B>({layer.out, layer.channels, layer.kernel, layer.kernel}, 81);
  const auto bias = random_tensor<B>({layer.out}, 82);
  const auto dy = random_tensor<B>({layer.batch, layer.out, g.out_h(), g.out_w()}, 83);
  auto agree = [](const Tensor<T>& fast, const Tensor<T>& reference, double scale) {
    REQUIRE(fast.shape() == reference.shape());
    double worst = 0;
    for (std::size_t i = 0; i < fast.size(); ++i) worst = std::max(worst, std::abs(double(fast[i]) - double(reference[i])));
    // Sums of up to batch × positions products of values ≤ 1: relative to √terms, a few ulps of the result's size.
    CHECK(worst <= Tolerances<T>::value * scale);
  };
  const double taps = double(g.col_rows()), positions = double(layer.batch * g.out_h() * g.out_w());
  agree(dt::conv_forward<B>(x, w, g, bias.data()), dt::conv_forward<B>(x, w, g, bias.data(), dt::ConvPath::im2col),
        std::sqrt(taps));
  agree(dt::conv_input_grad<B>(dy, w, g), dt::conv_input_grad<B>(dy, w, g, dt::ConvPath::im2col),
        std::sqrt(double(layer.out) * layer.kernel * layer.kernel));
  agree(dt::conv_weight_grad<B>(x, dy, g, w.shape()),
        dt::conv_weight_grad<B>(x, dy, g, w.shape(), dt::ConvPath::im2col), std::sqrt(positions));
}

TEMPLATE_TEST_CASE("conv2d weight gradients give the same bytes on every run with more threads than two",
                   "[autodiff][conv]", DISTILL_TEST_FLOAT_BACKENDS) {
  // Per-thread partial sums are added in thread order. (Added in the order threads finished, they would differ in
  // the last bits from run to run once three or more partials are summed; two commute exactly.)
  using B = TestType;
  namespace dt = ad::detail;
#if defined(_OPENMP)
  const int before = omp_get_max_threads();
  omp_set_num_threads(4);
#endif
  struct Layer {
    const char* name;
    distill::ConvGeometry g;
    std::size_t out;
  };
  for (const Layer& layer : {Layer{"direct (LeNet conv2)", {16, 6, 14, 14, 5, 5, 1, 1, 0, 0}, 16},
                             Layer{"im2col (stride 2)", {16, 8, 9, 9, 3, 3, 2, 2, 1, 1}, 12},
                             Layer{"Winograd", {16, 64, 7, 7, 3, 3, 1, 1, 1, 1}, 8}}) {
    INFO(layer.name);
    const auto& g = layer.g;
    const auto x = random_tensor<B>({g.batch, g.channels, g.height, g.width}, 90);
    const auto dy = random_tensor<B>({g.batch, layer.out, g.out_h(), g.out_w()}, 91);
    const Shape w_shape{layer.out, g.channels, g.kernel_h, g.kernel_w};
    const auto first = dt::conv_weight_grad<B>(x, dy, g, w_shape);
    for (int run = 0; run < 10; ++run) {
      const auto again = dt::conv_weight_grad<B>(x, dy, g, w_shape);
      REQUIRE(std::equal(first.data(), first.data() + first.size(), again.data()));
    }
  }
#if defined(_OPENMP)
  omp_set_num_threads(before);
#endif
}
