// SPDX-License-Identifier: MIT
// FcNtk: hand-derived gradients vs finite differences and vs the autodiff tape, symmetry and PSD-ness, the
// float SIMD path vs double, edge inputs, and the closed form vs Monte-Carlo kernels of wide random MLPs.
#include <catch2/catch.hpp>
#include <cmath>

#include "distill/autodiff.hpp"
#include "distill/kernels.hpp"
#include <Eigen/Dense>  // after distill's headers: core/config.hpp includes the intrinsics quietly first
#include "support/weighted_gram.hpp"
#include "support/backends.hpp"
#include "support/gradcheck_inputs.hpp"
#include "support/tolerances.hpp"

namespace dk = distill::kernels;
using distill::Shape;
using distill::Tensor;

namespace {

const dk::FcNtk kCases[] = {
    {.depth = 0},
    {.depth = 1},
    {.depth = 3},
    {.depth = 3, .weight_var = 1.5, .bias_var = 0.1},
    {.depth = 2, .bias_var = 0.05, .kind = dk::KernelKind::nngp},
    {.depth = 5, .kind = dk::KernelKind::nngp},
};

}  // namespace

static_assert(dk::Kernel<dk::FcNtk, distill::EigenBackend<float>>);
static_assert(dk::Kernel<dk::Rbf, distill::EigenBackend<double>>);
static_assert(dk::Kernel<dk::Linear, distill::EigenBackend<double>>);
static_assert(!dk::Kernel<int, distill::EigenBackend<double>>);

TEMPLATE_TEST_CASE("FcNtk: gram_vjp matches central differences for both inputs", "[kernels][grad]",
                   DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const auto x1 = normal_tensor<double>({4, 3, 2}, 1);  // rank-3 inputs are flattened to 6 features
  const auto x2 = normal_tensor<double>({5, 3, 2}, 2);
  const auto g = normal_tensor<double>({4, 5}, 3);
  for (const auto& k : kCases) {
    INFO("depth " << k.depth << " bias_var " << k.bias_var << " ntk " << (k.kind == dk::KernelKind::ntk));
    const auto vjp = check_gram_vjp<B>(k, x1, x2, g);
    // One side only, and through a cache, give the same numbers.
    dk::GramCache<double> cache;
    (void)k.template gram<B>(x1, x2, &cache);
    const auto second = k.template gram_vjp<B>(x1, x2, g, dk::VjpWrt::second, &cache);
    CHECK(second.dx1.size() == 0);
    CHECK(distill::max_abs_diff(second.dx2, vjp.dx2) < 1e-12);
  }
}

TEMPLATE_TEST_CASE("FcNtk: K(X, X) as a function of one X (θ = 0 on the diagonal) has the right gradient",
                   "[kernels][grad]", DISTILL_TEST_DOUBLE_BACKENDS) {
  using B = TestType;
  const auto x = normal_tensor<double>({5, 7}, 4);
  const auto g = normal_tensor<double>({5, 5}, 5);
  for (const auto& k : kCases) {
    const auto vjp = k.template gram_vjp<B>(x, x, g);
    Tensor<double> total = vjp.dx1.clone();
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += vjp.dx2[i];
    CHECK(max_grad_error([&](const Tensor<double>& v) { return weighted_gram<B>(k, v, v, g); }, x, total) <
          Tolerances<double>::grad);
  }
}

TEST_CASE("FcNtk: hand gradient agrees with the autodiff tape", "[kernels][grad]") {
  using B = distill::EigenBackend<double>;
  namespace ad = distill::ad;
  const std::size_t n1 = 4, n2 = 3, d = 5;
  const auto x1v = normal_tensor<double>({n1, d}, 6), x2v = normal_tensor<double>({n2, d}, 7);
  const auto gv = normal_tensor<double>({n1, n2}, 8);
  const double w = 2.0, b = 0.1;
  const dk::FcNtk k{.depth = 2, .weight_var = w, .bias_var = b};

  ad::Tape<B> tape;
  auto x1 = tape.variable(x1v), x2 = tape.variable(x2v);
  auto sq1 = ad::sum(ad::mul(x1, x1), {1}, true);                               // [n1, 1]
  auto sq2 = ad::reshape(ad::sum(ad::mul(x2, x2), {1}, false), {1, n2});        // [1, n2]
  auto kk = ad::add_scalar(ad::mul_scalar(ad::matmul(x1, x2, {.trans_b = true}), w / d), b);
  auto th = kk;
  auto q1 = ad::add_scalar(ad::mul_scalar(sq1, w / d), b), q2 = ad::add_scalar(ad::mul_scalar(sq2, w / d), b);
  for (std::size_t l = 0; l < k.depth; ++l) {
    auto s = ad::sqrt(ad::mul(q1, q2));
    auto c = ad::div(kk, s);
    auto theta = ad::acos(c);
    auto sn = ad::sqrt(ad::add_scalar(ad::neg(ad::mul(c, c)), 1.0));
    auto pi_minus = ad::add_scalar(ad::neg(theta), M_PI);
    auto relu = ad::mul_scalar(ad::mul(s, ad::add(sn, ad::mul(pi_minus, c))), 0.5 / M_PI);
    kk = ad::add_scalar(ad::mul_scalar(relu, w), b);
    th = ad::add(kk, ad::mul_scalar(ad::mul(th, pi_minus), w * 0.5 / M_PI));
    q1 = ad::add_scalar(ad::mul_scalar(q1, w / 2), b);
    q2 = ad::add_scalar(ad::mul_scalar(q2, w / 2), b);
  }
  auto loss = ad::sum(ad::mul(th, ad::Var<B>(gv)));
  const auto grads = ad::grad(loss, {x1, x2});

  const auto hand = k.gram<B>(x1v, x2v);
  CHECK(distill::max_abs_diff(hand, th.value()) < 1e-10);
  const auto vjp = k.gram_vjp<B>(x1v, x2v, gv);
  for (std::size_t i = 0; i < vjp.dx1.size(); ++i) CHECK(relative_error(vjp.dx1[i], grads[0].value()[i]) < 1e-10);
  for (std::size_t i = 0; i < vjp.dx2.size(); ++i) CHECK(relative_error(vjp.dx2[i], grads[1].value()[i]) < 1e-10);
}

TEMPLATE_TEST_CASE("FcNtk: K(X, X) is symmetric and positive semi-definite", "[kernels]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const auto x = normal_tensor<T>({24, 10}, 9);
  for (const auto& k : kCases) {
    const auto kk = k.template gram<B>(x, x);
    Eigen::MatrixXd m(24, 24);
    for (std::size_t i = 0; i < 24; ++i)
      for (std::size_t j = 0; j < 24; ++j) m(Eigen::Index(i), Eigen::Index(j)) = double(kk.at(i, j));
    CHECK((m - m.transpose()).cwiseAbs().maxCoeff() <= 1e-6 * m.cwiseAbs().maxCoeff());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (m + m.transpose()));
    CHECK(eig.eigenvalues().minCoeff() >= -1e-5 * eig.eigenvalues().maxCoeff());
  }
}

TEST_CASE("FcNtk: the float SIMD path agrees with double", "[kernels]") {
  using BF = distill::EigenBackend<float>;
  using BD = distill::EigenBackend<double>;
  // 93 columns reach every path of a row: the 4-pack interleaved blocks, single packs and the last pack that
  // overlaps the one before it (8-lane AVX2: 2 blocks, 3 packs, 5 columns left; 16-lane AVX-512: 1 block, 1 pack,
  // 13 left). Duplicated rows, in a block and in the tail, exercise θ = 0 off the diagonal.
  auto x1d = normal_tensor<double>({9, 20}, 10), x2d = normal_tensor<double>({93, 20}, 11);
  for (std::size_t c = 0; c < 20; ++c) x2d.at(5, c) = x1d.at(2, c), x2d.at(91, c) = x1d.at(7, c);
  const auto gd = normal_tensor<double>({9, 93}, 12);
  const auto x1f = x1d.cast<float>(), x2f = x2d.cast<float>(), gf = gd.cast<float>();
  for (const auto& k : kCases) {
    const auto kd = k.gram<BD>(x1d, x2d);
    const auto kf = k.gram<BF>(x1f, x2f);
    double scale = 0;
    for (auto v : kd) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < kd.size(); ++i) CHECK(std::abs(double(kf[i]) - kd[i]) <= 1e-5 * scale);
    const auto vd = k.gram_vjp<BD>(x1d, x2d, gd);
    const auto vf = k.gram_vjp<BF>(x1f, x2f, gf);
    for (const auto& [a, b] : {std::pair{&vd.dx1, &vf.dx1}, std::pair{&vd.dx2, &vf.dx2}}) {
      double gs = 0;
      for (auto v : *a) gs = std::max(gs, std::abs(v));
      double worst = 0;
      for (std::size_t i = 0; i < a->size(); ++i) worst = std::max(worst, std::abs(double((*b)[i]) - (*a)[i]));
      CHECK(worst <= 1e-3 * gs);  // the duplicated pair sits on the kink, where both use the zero subgradient
    }
  }
}

TEMPLATE_TEST_CASE("FcNtk: zero and duplicate inputs give finite values and gradients", "[kernels]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  auto x = normal_tensor<T>({4, 6}, 13);
  for (std::size_t c = 0; c < 6; ++c) x.at(0, c) = T(0), x.at(3, c) = x.at(2, c);
  const auto g = normal_tensor<T>({4, 4}, 14);
  for (const auto& k : kCases) {
    const auto kk = k.template gram<B>(x, x);
    const auto v = k.template gram_vjp<B>(x, x, g);
    CHECK(kk.all_finite());
    CHECK(v.dx1.all_finite());
    CHECK(v.dx2.all_finite());
  }
  // Empty inputs give empty outputs.
  const dk::FcNtk k{};
  const auto e = k.template gram<B>(Tensor<T>({0, 6}), x);
  CHECK(e.shape() == Shape{0, 4});
  CHECK_THROWS_AS(k.template gram<B>(Tensor<T>({2, 5}), x), distill::invalid_argument);
  CHECK_THROWS_AS((dk::FcNtk{.depth = 99}.template gram<B>(x, x)), distill::invalid_argument);
}

// ---- closed form vs Monte-Carlo ---------------------------------------------------------------------------
// A random MLP in the NTK parameterisation, h¹ = σ_w W¹x/√d + σ_b b¹, x^l = relu(h^l), f = σ_w wᵀx^L/√n + σ_b b.
// Its empirical NNGP is σ_w²⟨x^L, x'^L⟩/n + σ_b² (the readout averaged out exactly), and its empirical NTK is
// Σ_l (δ^l·δ'^l)(σ_w²⟨x^{l-1}, x'^{l-1}⟩/n_{l-1} + σ_b²) with δ^l = ∂f/∂h^l: the sum over every weight and bias of
// ∂f/∂p(x)·∂f/∂p(x'), computed layer by layer instead of one parameter at a time.
namespace {
struct Empirical {
  Eigen::MatrixXd nngp, ntk;
};
Empirical empirical_kernels(const Eigen::MatrixXd& x /* [d, n] */, std::size_t depth, std::size_t width, double w,
                            double b, std::uint64_t seed) {
  distill::Rng rng(seed);
  auto normal = [&](Eigen::Index r, Eigen::Index c) {
    Eigen::MatrixXd m(r, c);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
    return m;
  };
  const Eigen::Index n = x.cols(), wd = Eigen::Index(width);
  std::vector<Eigen::MatrixXd> acts{x}, pre, weights;
  for (std::size_t l = 0; l < depth; ++l) {
    const Eigen::MatrixXd& in = acts.back();
    Eigen::MatrixXd wl = normal(wd, in.rows());
    Eigen::VectorXd bl = normal(wd, 1);
    Eigen::MatrixXd h = (std::sqrt(w / double(in.rows())) * wl * in).colwise() + std::sqrt(b) * bl;
    pre.push_back(h);
    weights.push_back(wl);
    acts.push_back(h.cwiseMax(0.0));
  }
  const Eigen::VectorXd readout = normal(wd, 1);
  Empirical e;
  const double last = double(acts.back().rows());
  e.nngp = (w / last) * acts.back().transpose() * acts.back();
  e.nngp.array() += b;
  // δ for the readout is 1; δ^L = σ_w w/√n ⊙ relu'(h^L); δ^{l} = (σ_w/√n) W^{l+1}ᵀ δ^{l+1} ⊙ relu'(h^l).
  Eigen::MatrixXd ntk = e.nngp;  // readout layer: weights and bias
  Eigen::MatrixXd delta(wd, n);
  for (Eigen::Index j = 0; j < n; ++j) delta.col(j) = std::sqrt(w / last) * readout;
  for (std::size_t l = depth; l-- > 0;) {
    const Eigen::MatrixXd mask = (pre[l].array() > 0).cast<double>();
    delta = delta.cwiseProduct(mask);  // δ^l = ∂f/∂h^l
    const double fan_in = double(acts[l].rows());
    Eigen::MatrixXd in_cov = (w / fan_in) * acts[l].transpose() * acts[l];
    in_cov.array() += b;
    ntk += (delta.transpose() * delta).cwiseProduct(in_cov);
    if (l > 0) delta = std::sqrt(w / fan_in) * weights[l].transpose() * delta;
  }
  e.ntk = ntk;
  return e;
}
}  // namespace

TEST_CASE("FcNtk: closed form agrees with Monte-Carlo kernels of width-2048 random MLPs", "[kernels]") {
  // 6 points in 8 dimensions, width 2048, 4 networks averaged. Tolerance: 5% of √(K_ii K_jj) for every entry
  // (the fluctuation of an empirical kernel entry is O(1/√width) of that scale; observed errors are ~1-2%).
  const std::size_t n = 6, d = 8, width = 2048, seeds = 4;
  const auto xt = normal_tensor<double>({n, d}, 15);
  Eigen::MatrixXd x(d, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < d; ++c) x(Eigen::Index(c), Eigen::Index(i)) = xt.at(i, c);
  for (const auto& [depth, w, b] : {std::tuple{1, 2.0, 0.0}, std::tuple{3, 2.0, 0.1}, std::tuple{2, 1.5, 0.2}}) {
    Eigen::MatrixXd nngp = Eigen::MatrixXd::Zero(n, n), ntk = nngp;
    for (std::size_t s = 0; s < seeds; ++s) {
      const auto e = empirical_kernels(x, std::size_t(depth), width, w, b, 100 + s);
      nngp += e.nngp / double(seeds);
      ntk += e.ntk / double(seeds);
    }
    const dk::FcNtk kn{.depth = std::size_t(depth), .weight_var = w, .bias_var = b, .kind = dk::KernelKind::nngp};
    const dk::FcNtk kt{.depth = std::size_t(depth), .weight_var = w, .bias_var = b, .kind = dk::KernelKind::ntk};
    const auto cn = kn.gram<distill::EigenBackend<double>>(xt, xt), ct = kt.gram<distill::EigenBackend<double>>(xt, xt);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        const auto I = Eigen::Index(i), J = Eigen::Index(j);
        INFO("depth " << depth << " entry " << i << "," << j);
        CHECK(std::abs(nngp(I, J) - cn.at(i, j)) <= 0.05 * std::sqrt(cn.at(i, i) * cn.at(j, j)));
        CHECK(std::abs(ntk(I, J) - ct.at(i, j)) <= 0.05 * std::sqrt(ct.at(i, i) * ct.at(j, j)));
      }
  }
}
