// SPDX-License-Identifier: MIT
// EmpiricalFeatureKernel: gram_vjp vs central differences (MLP and a tiny ConvNet, both inputs, one side, the same
// tensor on both sides), convergence to the closed-form NNGP as width and inits grow, use by KRR, same seed ->
// same bytes, resample, KIP's loss gradient through it (its feature path against finite differences and against
// the generic path) and a short Kip::fit / label_solve, NetworkFeatureKernel, and bad arguments.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "distill/autodiff.hpp"
#include "distill/eval/krr_eval.hpp"
#include "distill/kernels.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/kip.hpp"
#include "distill/synthetic/label_solve.hpp"
#include "support/weighted_gram.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;
namespace dk = distill::kernels;
using distill::Shape;
using distill::Tensor;
using MlpKernel = dk::EmpiricalFeatureKernel<dd::nn::Mlp>;

namespace {

// The same kernel through the Kernel interface only (no feature maps): KIP takes its generic path with it.
struct GramOnly {
  MlpKernel k;
  template <class BB>
  Tensor<typename BB::Scalar> gram(const Tensor<typename BB::Scalar>& a, const Tensor<typename BB::Scalar>& b,
                                   dk::GramCache<typename BB::Scalar>* = nullptr) const {
    return k.gram<BB>(a, b);
  }
  template <class BB>
  dk::GramVjp<typename BB::Scalar> gram_vjp(const Tensor<typename BB::Scalar>& a, const Tensor<typename BB::Scalar>& b,
                                            const Tensor<typename BB::Scalar>& g, dk::VjpWrt wrt = dk::VjpWrt::both,
                                            const dk::GramCache<typename BB::Scalar>* = nullptr) const {
    return k.gram_vjp<BB>(a, b, g, wrt);
  }
};

// Checks dx1, dx2 of gram_vjp (both, one side each) against central differences of ⟨G, K⟩ on every coordinate.
template <class B, class K>
void check_vjp(const K& k, const Tensor<double>& x1, const Tensor<double>& x2, const Tensor<double>& g) {
  const auto vjp = check_gram_vjp<B>(k, x1, x2, g);
  const auto first = k.template gram_vjp<B>(x1, x2, g, dk::VjpWrt::first);
  const auto second = k.template gram_vjp<B>(x1, x2, g, dk::VjpWrt::second);
  CHECK(first.dx2.size() == 0);
  CHECK(second.dx1.size() == 0);
  REQUIRE(first.dx1.shape() == x1.shape());
  REQUIRE(second.dx2.shape() == x2.shape());
  for (std::size_t i = 0; i < x1.size(); ++i) CHECK(relative_error(first.dx1[i], vjp.dx1[i]) < Tolerances<double>::value);
  for (std::size_t i = 0; i < x2.size(); ++i) CHECK(relative_error(second.dx2[i], vjp.dx2[i]) < Tolerances<double>::value);
}

// The smallest |pre-activation| of an Mlp's hidden ReLUs over the kernel's inits and the rows of x. The central
// stencil moves one input by at most 2h = 2e-4 (weights below 1/√fan_in in size), so a margin above 3e-4 keeps
// every difference quotient off a ReLU kink. Measured over 1000 random seeds of these cases: without the margin
// about 5 % fail on a straddled kink (not the VJP); 756 have the margin, and all of those pass.
double min_preactivation(const MlpKernel& k, const Tensor<double>& x) {
  using B = dd::EigenBackend<double>;
  const auto& w = k.model.widths;
  const std::size_t n = x.shape(0);
  double lo = INFINITY;
  for (std::size_t m = 0; m < k.inits; ++m) {
    const auto p = k.params<B>(m);
    std::vector<double> h(x.begin(), x.end());
    for (std::size_t l = 0; l + 2 < w.size(); ++l) {  // the layers features() runs, each followed by a ReLU
      const auto &wt = p.tensors[2 * l], &b = p.tensors[2 * l + 1];
      std::vector<double> z(n * w[l + 1]);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t o = 0; o < w[l + 1]; ++o) {
          double v = b[o];
          for (std::size_t c = 0; c < w[l]; ++c) v += wt[o * w[l] + c] * h[i * w[l] + c];
          lo = std::min(lo, std::abs(v));
          z[i * w[l + 1] + o] = std::max(v, 0.0);
        }
      h = std::move(z);
    }
  }
  return lo;
}

// A fully connected ReLU network in the standard parameterisation with Gaussian weights W_l ~ N(0, σ_w²/fan_in)
// and biases N(0, σ_b²): the network whose infinite-width NNGP FcNtk computes (nn::Linear draws U(±1/√fan_in) or
// Xavier-normal, neither of which has this limit for every width; see the convergence test). Features are the last
// hidden layer's activations, forward adds a readout.
struct GaussianReluMlp {
  std::vector<std::size_t> widths;  // {d, hidden..., classes}
  double weight_var = 2.0;
  double bias_var = 0.0;

  template <dd::Backend B>
  dd::nn::Params<typename B::Scalar> init(dd::Rng& rng) const {
    using T = typename B::Scalar;
    dd::nn::Params<T> p;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      auto w = Tensor<T>::empty({widths[l + 1], widths[l]});
      B::random_normal(rng, w.data(), w.size(), T(0), T(std::sqrt(weight_var / double(widths[l]))));
      auto b = Tensor<T>::empty({widths[l + 1]});
      B::random_normal(rng, b.data(), b.size(), T(0), T(std::sqrt(bias_var)));
      p.add("fc" + std::to_string(l) + ".weight", std::move(w));
      p.add("fc" + std::to_string(l) + ".bias", std::move(b));
    }
    return p;
  }
  template <dd::Backend B>
  dd::ad::Var<B> features(const std::vector<dd::ad::Var<B>>& params, const dd::ad::Var<B>& x) const {
    return run<B>(params, x, widths.size() - 2);
  }
  template <dd::Backend B>
  dd::ad::Var<B> forward(const std::vector<dd::ad::Var<B>>& params, const dd::ad::Var<B>& x) const {
    return run<B>(params, x, widths.size() - 1);
  }

 private:
  template <dd::Backend B>
  dd::ad::Var<B> run(const std::vector<dd::ad::Var<B>>& params, const dd::ad::Var<B>& x, std::size_t layers) const {
    dd::ad::Var<B> h = x;
    for (std::size_t l = 0; l < layers; ++l) {
      h = dd::ad::add(dd::ad::matmul(h, params[2 * l], {.trans_b = true}), params[2 * l + 1]);
      if (l + 2 < widths.size()) h = dd::ad::relu(h);
    }
    return h;
  }
};

// max over entries of |K − K∞| / √(K∞_ii K∞_jj): the error on the scale of the kernel's diagonal.
double max_scaled_error(const Tensor<double>& k, const Tensor<double>& ref) {
  const std::size_t n = ref.shape(0);
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      worst = std::max(worst, std::abs(k.at(i, j) - ref.at(i, j)) / std::sqrt(ref.at(i, i) * ref.at(j, j)));
  return worst;
}

}  // namespace

static_assert(dk::Kernel<MlpKernel, dd::EigenBackend<float>>);
static_assert(dk::Kernel<MlpKernel, dd::EigenBackend<double>>);
static_assert(dk::KernelFloatAndDouble<MlpKernel, dd::EigenBackend<float>>);
static_assert(dk::KernelFloatAndDouble<dk::EmpiricalFeatureKernel<dd::nn::ConvNet>, dd::EigenBackend<float>>);
static_assert(dk::Kernel<dk::EmpiricalFeatureKernel<dd::nn::LeNet>, dd::EigenBackend<float>>);
static_assert(dd::nn::Model<GaussianReluMlp, dd::EigenBackend<double>> &&
              dd::nn::HasFeatures<GaussianReluMlp, dd::EigenBackend<double>>);

TEMPLATE_TEST_CASE("EmpiricalFeatureKernel: gram_vjp of an MLP matches central differences", "[kernels][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const MlpKernel k{.model = {.widths = {4, 16, 8, 3}}, .inits = 3, .seed = 7};
  const auto x1 = normal_tensor<double>({3, 4}, 1);
  const auto x2 = normal_tensor<double>({4, 2, 2}, 2);  // any [N, ...] with 4 values per row: Mlp flattens
  const auto g = normal_tensor<double>({3, 4}, 3);
  REQUIRE(min_preactivation(k, x1) > 3e-4);  // the stencil sees a smooth function (see min_preactivation)
  REQUIRE(min_preactivation(k, x2) > 3e-4);
  check_vjp<B>(k, x1, x2, g);
}

TEMPLATE_TEST_CASE("EmpiricalFeatureKernel: K(X, X) with the same tensor on both sides has both partials",
                   "[kernels][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const MlpKernel k{.model = {.widths = {4, 16, 8, 3}}, .inits = 2, .seed = 3};
  const auto x = normal_tensor<double>({4, 4}, 4);
  const auto g = normal_tensor<double>({4, 4}, 5);  // not symmetric: the two partials differ
  REQUIRE(min_preactivation(k, x) > 3e-4);
  const auto vjp = k.template gram_vjp<B>(x, x, g);
  // Perturbing one side only: a deep copy (a Tensor copy would share x's storage), so the other side keeps x.
  CHECK(max_grad_error([&](const Tensor<double>& y) { return weighted_gram<B>(k, y, x, g); }, x.clone(), vjp.dx1) <
        Tolerances<double>::grad);
  CHECK(max_grad_error([&](const Tensor<double>& y) { return weighted_gram<B>(k, x, y, g); }, x.clone(), vjp.dx2) <
        Tolerances<double>::grad);
  // The two partials differ (G is not symmetric), so this case does tell them apart.
  double gap = 0;
  for (std::size_t i = 0; i < x.size(); ++i) gap = std::max(gap, relative_error(vjp.dx1[i], vjp.dx2[i]));
  CHECK(gap > 1e-3);
  // And gram(X, X) computed once equals gram on a copy (computed twice), and is symmetric.
  const auto kk = k.template gram<B>(x, x);
  const auto kc = k.template gram<B>(x, x.clone());
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) {
      CHECK(relative_error(kk.at(i, j), kc.at(i, j)) < Tolerances<double>::value);
      CHECK(relative_error(kk.at(i, j), kk.at(j, i)) < Tolerances<double>::value);
    }
}

TEST_CASE("EmpiricalFeatureKernel: gram_vjp of a tiny ConvNet matches central differences", "[kernels][grad]") {
  // 1 channel, 4×4 images, one block of 3 channels (conv 3×3 → instance norm + ReLU → avg pool): 12 features.
  // As with the MLP, a random seed can put a normalised activation within the stencil of a ReLU kink (about 7 % of
  // 300 seeds did); these seeds do not.
  using B = dd::EigenBackend<double>;
  const dk::EmpiricalFeatureKernel<dd::nn::ConvNet> k{
      .model = {.channels = 1, .classes = 2, .width = 3, .depth = 1, .image_size = 4}, .inits = 2, .seed = 11};
  const auto x1 = normal_tensor<double>({2, 1, 4, 4}, 6);
  const auto x2 = normal_tensor<double>({3, 1, 4, 4}, 7);
  const auto g = normal_tensor<double>({2, 3}, 8);
  check_vjp<B>(k, x1, x2, g);
}

TEST_CASE("EmpiricalFeatureKernel: converges to the closed-form NNGP as width and inits grow", "[kernels]") {
  // GaussianReluMlp with W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²): its pre-activations are Gaussian at every width,
  // with FcNtk's covariance recursion, and its features are the last hidden layer's ReLU outputs, whose
  // covariance is Ǩ_L. FcNtk{.kind = nngp} includes the readout Dense, K_{L+1} = σ_w² Ǩ_L + σ_b², so the limit of
  // the empirical kernel is (FcNtk − σ_b²)/σ_w² (FcNtk itself when σ_w² = 1, σ_b² = 0). Error measure: the
  // largest |K − K∞| over entries, on the scale √(K∞_ii K∞_jj). The fluctuation is O(1/√(width · inits)) (a
  // diagonal entry's relative variance is 5/(width · inits) for ReLU features), so 64 × 1 → 1024 × 64 cuts it by
  // about 32×. Measured over 100 data/init seeds: the worst error at 1024 × 64 was 2.9 % (depth 1) and 3.7 %
  // (depth 2); at 1024 × 16 the depth-2 case went over 5 % for a quarter of the seeds, hence 64 inits.
  // The third case (σ_w² = 1, σ_b² = 0) is the one where the empirical kernel's limit is FcNtk's NNGP itself.
  using B = dd::EigenBackend<double>;
  const std::size_t n = 6, d = 8;
  const auto x = normal_tensor<double>({n, d}, 21);
  struct Case {
    std::size_t depth;
    double w, b;
  };
  for (const Case c : {Case{1, 2.0, 0.0}, Case{2, 2.0, 0.1}, Case{1, 1.0, 0.0}}) {
    const dk::FcNtk closed{.depth = c.depth, .weight_var = c.w, .bias_var = c.b, .kind = dk::KernelKind::nngp};
    Tensor<double> ref = closed.gram<B>(x, x);
    for (auto& v : ref) v = (v - c.b) / c.w;
    double errors[3];
    const std::size_t widths[3] = {64, 256, 1024}, inits[3] = {1, 8, 64};
    for (int s = 0; s < 3; ++s) {
      std::vector<std::size_t> ws{d};
      for (std::size_t l = 0; l < c.depth; ++l) ws.push_back(widths[s]);
      ws.push_back(2);
      const dk::EmpiricalFeatureKernel<GaussianReluMlp> k{
          .model = {.widths = ws, .weight_var = c.w, .bias_var = c.b}, .inits = inits[s], .seed = 100};
      errors[s] = max_scaled_error(k.gram<B>(x, x), ref);
    }
    INFO("depth " << c.depth << " σ_w² " << c.w << " σ_b² " << c.b << ": errors " << errors[0] << " (64 x 1), "
                  << errors[1] << " (256 x 8), " << errors[2] << " (1024 x 64)");
    CHECK(errors[1] < errors[0]);
    CHECK(errors[2] < errors[1]);
    CHECK(errors[2] < 0.05);
  }
}

TEST_CASE("EmpiricalFeatureKernel: KRR and krr_accuracy run with it", "[kernels]") {
  // Two well-separated Gaussian blobs in 6 dimensions: 10 support points, 40 test points.
  using B = dd::EigenBackend<float>;
  const std::size_t d = 6, n = 10, m = 40;
  auto make = [&](std::size_t rows, std::uint64_t seed, std::vector<std::int64_t>& labels) {
    Tensor<float> x = normal_tensor<float>({rows, d}, seed, 0.5);
    labels.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      labels[i] = std::int64_t(i % 2);
      x[i * d] += labels[i] ? 2.0f : -2.0f;
    }
    return x;
  };
  std::vector<std::int64_t> ls, lt;
  const auto xs = make(n, 31, ls), xt = make(m, 32, lt);
  const auto ys = dk::centred_one_hot<float>(ls, 2);
  const MlpKernel k{.model = {.widths = {d, 64, 32, 2}}, .inits = 4, .seed = 5};

  const auto fit = dk::krr_fit<B>(k, xs, ys, {.reg = 1e-4});
  const auto pred = dk::krr_predict<B>(k, fit, xs);
  // On the support, K_ss α = Y − λα (the residual of the solve, not a magic constant).
  for (std::size_t i = 0; i < ys.size(); ++i)
    CHECK(std::abs(pred[i] + float(fit.ridge) * fit.alpha[i] - ys[i]) < 1e-3);

  const auto r = dd::eval::krr_accuracy<B>(k, xs, ys, xt, lt, {.reg = 1e-4});
  CHECK(r.count == m);
  CHECK(r.accuracy >= 0.9);
}

TEST_CASE("EmpiricalFeatureKernel: KIP's loss gradient through it matches finite differences, Kip and label_solve run",
          "[kernels][grad]") {
  namespace ds = distill::synthetic;
  using B = dd::EigenBackend<double>;
  // kip_loss_and_grad takes the feature path for this kernel (each network once per batch, the gradient through
  // the shared features): checked end to end against finite differences, and against the generic path through
  // gram()/gram_vjp() (the same kernel behind a wrapper that hides its feature maps), for both objectives.
  const MlpKernel k{.model = {.widths = {5, 16, 8, 3}}, .inits = 2, .seed = 13};
  static_assert(dk::FeatureKernel<MlpKernel, B>);
  const auto xs = normal_tensor<double>({4, 5}, 61), ys = normal_tensor<double>({4, 3}, 62);
  const auto xt = normal_tensor<double>({7, 5}, 63), yt = normal_tensor<double>({7, 3}, 64);
  REQUIRE(min_preactivation(k, xs) > 3e-4);
  const auto lg = ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-2);
  CHECK(max_grad_error([&](const Tensor<double>& x) { return ds::kip_loss_and_grad<B>(k, x, ys, xt, yt, 1e-2).loss; },
                       xs.clone(), lg.d_support) < Tolerances<double>::grad);
  static_assert(!dk::FeatureKernel<GramOnly, B>);
  for (const auto objective : {ds::KipObjective{}, ds::KipObjective{.kind = ds::KipObjective::Kind::cross_entropy,
                                                                    .temperature = 0.3}}) {
    const auto fast = ds::kip_loss_and_grad<B>(k, xs, ys, xt, yt, 1e-2, objective);
    const auto generic = ds::kip_loss_and_grad<B>(GramOnly{k}, xs, ys, xt, yt, 1e-2, objective);
    CHECK(relative_error(fast.loss, generic.loss) < 1e-12);
    CHECK(relative_error(fast.d_log_temperature, generic.d_log_temperature) < 1e-10);
    for (std::size_t i = 0; i < xs.size(); ++i) CHECK(relative_error(fast.d_support[i], generic.d_support[i]) < 1e-10);
    for (std::size_t i = 0; i < ys.size(); ++i) CHECK(relative_error(fast.d_labels[i], generic.d_labels[i]) < 1e-10);
  }

  // A few KIP steps on blobs shaped [N, 1, 3, 4] (Mlp flattens them): a new network every step via resample().
  distill::Rng rng(65);
  distill::LabeledData<float> train{Tensor<float>({40, 1, 3, 4}), {}, 2};
  for (std::size_t i = 0; i < 40; ++i) {
    train.labels.push_back(std::int64_t(i % 2));
    for (std::size_t f = 0; f < 12; ++f) train.images[i * 12 + f] = float((f % 2 == i % 2 ? 1.5 : 0.0) + rng.normal());
  }
  ds::Kip kip{dk::EmpiricalFeatureKernel<dd::nn::Mlp>{.model = {.widths = {12, 32, 16, 2}}, .inits = 2},
              {.images_per_class = 2, .steps = 3, .target_batch_size = 20}};
  const auto set = kip.fit(train);
  CHECK(set.images.shape() == Shape{4, 1, 3, 4});
  CHECK(set.images.all_finite());

  const auto xsf = normal_tensor<float>({4, 12}, 66), xtf = normal_tensor<float>({10, 12}, 67);
  std::vector<std::int64_t> lt(10);
  for (std::size_t i = 0; i < 10; ++i) lt[i] = std::int64_t(i % 2);
  const MlpKernel kf{.model = {.widths = {12, 32, 16, 2}}, .inits = 2};
  const auto solved = ds::label_solve<dd::EigenBackend<float>>(kf, xsf, xtf, dk::centred_one_hot<float>(lt, 2));
  CHECK(solved.shape() == Shape{4, 2});
  CHECK(solved.all_finite());
}

TEST_CASE("EmpiricalFeatureKernel: same seed gives the same bytes, resample draws new networks", "[kernels]") {
  using B = dd::EigenBackend<float>;
  const auto x1 = normal_tensor<float>({5, 4}, 41), x2 = normal_tensor<float>({3, 4}, 42);
  MlpKernel a{.model = {.widths = {4, 32, 16, 3}}, .inits = 3, .seed = 9};
  const MlpKernel b = a;
  const auto ka = a.gram<B>(x1, x2), kb = b.gram<B>(x1, x2);
  REQUIRE(ka.shape() == Shape{5, 3});
  CHECK(std::memcmp(ka.data(), kb.data(), ka.size() * sizeof(float)) == 0);
  const auto g = normal_tensor<float>({5, 3}, 43);
  const auto va = a.gram_vjp<B>(x1, x2, g), vb = b.gram_vjp<B>(x1, x2, g);
  CHECK(std::memcmp(va.dx1.data(), vb.dx1.data(), va.dx1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(va.dx2.data(), vb.dx2.data(), va.dx2.size() * sizeof(float)) == 0);

  // Float and double use the same draws (in their own precision).
  const auto kd = a.gram<dd::EigenBackend<double>>(x1.cast<double>(), x2.cast<double>());
  for (std::size_t i = 0; i < ka.size(); ++i) CHECK(relative_error(ka[i], kd[i]) < Tolerances<float>::value);

  a.resample(10);
  const auto kr = a.gram<B>(x1, x2);
  double diff = 0;
  for (std::size_t i = 0; i < ka.size(); ++i) diff = std::max(diff, relative_error(ka[i], kr[i]));
  CHECK(diff > 1e-3);
  a.resample(9);
  const auto kback = a.gram<B>(x1, x2);
  CHECK(std::memcmp(ka.data(), kback.data(), ka.size() * sizeof(float)) == 0);
}

TEST_CASE("NetworkFeatureKernel: the kernel of one given network, φφᵀ/F, with its VJP and float parameters on a "
          "double backend", "[kernels][grad]") {
  using B = dd::EigenBackend<double>;
  const dd::nn::Mlp mlp{.widths = {4, 16, 8, 3}};
  distill::Rng rng(71);
  const auto theta = mlp.init<dd::EigenBackend<float>>(rng);  // stored in float, as FRePo's pool keeps them
  const dk::NetworkFeatureKernel<dd::nn::Mlp> k{.model = mlp, .params = theta};
  static_assert(dk::FeatureKernel<decltype(k), B>);
  const auto x1 = normal_tensor<double>({5, 4}, 72), x2 = normal_tensor<double>({3, 4}, 73);
  const auto phi1 = mlp.features<B>(dd::nn::constants<B>(theta.cast<double>()), dd::ad::Var<B>(x1)).value();
  const auto phi2 = mlp.features<B>(dd::nn::constants<B>(theta.cast<double>()), dd::ad::Var<B>(x2)).value();
  const auto kk = k.gram<B>(x1, x2);
  REQUIRE(kk.shape() == Shape{5, 3});
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      double dot = 0;
      for (std::size_t f = 0; f < 8; ++f) dot += phi1[i * 8 + f] * phi2[j * 8 + f];
      CHECK(kk[i * 3 + j] == Approx(dot / 8).epsilon(1e-12));
    }
  check_gram_vjp<B>(k, x1, x2, normal_tensor<double>({5, 3}, 74));
  CHECK_THROWS_WITH(k.feature_map<B>(1, dd::ad::Var<B>(x1)), Catch::Matchers::Contains("feature map 1 of 1"));
}

TEST_CASE("EmpiricalFeatureKernel: bad arguments throw invalid_argument naming them", "[kernels]") {
  using B = dd::EigenBackend<double>;
  using Catch::Matchers::Contains;
  const MlpKernel k{.model = {.widths = {4, 8, 3}}, .inits = 2};
  const auto x = normal_tensor<double>({3, 4}, 51);
  const MlpKernel none{.model = {.widths = {4, 8, 3}}, .inits = 0};
  CHECK_THROWS_WITH(none.gram<B>(x, x), Contains("inits is 0"));
  CHECK_THROWS_AS(none.gram<B>(x, x), dd::invalid_argument);
  CHECK_THROWS_WITH(k.gram<B>(Tensor<double>({4}), x), Contains("x1 has shape"));
  CHECK_THROWS_WITH(k.gram<B>(x, Tensor<double>({4}), nullptr), Contains("x2 has shape"));
  CHECK_THROWS_WITH(k.gram<B>(x, normal_tensor<double>({2, 5}, 52)), Contains("values per row"));
  CHECK_THROWS_AS(k.gram<B>(x, normal_tensor<double>({2, 5}, 52)), dd::invalid_argument);
  CHECK_THROWS_WITH(k.gram_vjp<B>(x, x, Tensor<double>({3, 2})), Contains("g has shape"));
  CHECK_THROWS_AS(k.gram_vjp<B>(x, x, Tensor<double>({3, 2})), dd::invalid_argument);
  // Features the model cannot compute (5 values per row for a 4-input MLP) are reported by the model.
  CHECK_THROWS_AS(k.gram<B>(normal_tensor<double>({2, 5}, 53), normal_tensor<double>({2, 5}, 54)),
                  dd::invalid_argument);
}
