// SPDX-License-Identifier: MIT
// kernels/detail/fc_ntk_math.hpp, the per-entry FC NTK/NNGP recursion and its backward pass that the CUDA kernels
// run per thread, checked on the CPU (every machine, GPU or not): against FcNtk's float SIMD pass, against the double
// path, and its derivatives against central differences of the whole Gram matrix.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "distill/kernels.hpp"
#include "distill/kernels/detail/fc_ntk_math.hpp"
#include "support/gradcheck_inputs.hpp"

namespace dk = distill::kernels;
namespace fm = distill::kernels::detail::fc_ntk_math;
using distill::Tensor;

namespace {

const dk::FcNtk kCases[] = {
    {.depth = 0},
    {.depth = 1},
    {.depth = 3},
    {.depth = 3, .weight_var = 1.5, .bias_var = 0.1},
    {.depth = 2, .bias_var = 0.05, .kind = dk::KernelKind::nngp},
    {.depth = 7, .kind = dk::KernelKind::nngp},
};

/// ⟨G, K(X1, X2)⟩'s gradient and K itself from the shared per-entry functions alone (what the CUDA kernels compute:
/// P, r1, r2 per entry, then dX1 = P·X2 + 2 r1∘X1, dX2 = Pᵀ·X1 + 2 r2∘X2), with plain loops for the products.
template <class T>
struct Entrywise {
  std::vector<T> k, dx1, dx2;
};

template <class T>
Entrywise<T> entrywise(const dk::FcNtk& kernel, const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& g) {
  const std::size_t n1 = x1.shape(0), n2 = x2.shape(0), d = x1.size() / n1;
  std::vector<T> sq1(n1, T(0)), sq2(n2, T(0)), dots(n1 * n2, T(0));
  for (std::size_t i = 0; i < n1; ++i)
    for (std::size_t q = 0; q < d; ++q) sq1[i] += x1[i * d + q] * x1[i * d + q];
  for (std::size_t j = 0; j < n2; ++j)
    for (std::size_t q = 0; q < d; ++q) sq2[j] += x2[j * d + q] * x2[j * d + q];
  for (std::size_t i = 0; i < n1; ++i)
    for (std::size_t j = 0; j < n2; ++j)
      for (std::size_t q = 0; q < d; ++q) dots[i * n2 + j] += x1[i * d + q] * x2[j * d + q];
  const auto ops = kernel.row_ops(sq1, sq2, d);
  const fm::Params<T> p = ops.params();
  Entrywise<T> out{std::vector<T>(n1 * n2), std::vector<T>(n1 * d, T(0)), std::vector<T>(n2 * d, T(0))};
  std::vector<T> r1(n1, T(0)), r2(n2, T(0));
  for (std::size_t i = 0; i < n1; ++i)
    for (std::size_t j = 0; j < n2; ++j) {
      out.k[i * n2 + j] = fm::forward(p, i, j, dots[i * n2 + j]);
      const fm::Grad<T> gr = fm::backward(p, i, j, dots[i * n2 + j], g[i * n2 + j]);
      r1[i] += gr.n1;
      r2[j] += gr.n2;
      for (std::size_t q = 0; q < d; ++q) {
        out.dx1[i * d + q] += gr.dot * x2[j * d + q];
        out.dx2[j * d + q] += gr.dot * x1[i * d + q];
      }
    }
  for (std::size_t i = 0; i < n1; ++i)
    for (std::size_t q = 0; q < d; ++q) out.dx1[i * d + q] += 2 * r1[i] * x1[i * d + q];
  for (std::size_t j = 0; j < n2; ++j)
    for (std::size_t q = 0; q < d; ++q) out.dx2[j * d + q] += 2 * r2[j] * x2[j * d + q];
  return out;
}

template <class T>
double max_rel(const std::vector<T>& a, const Tensor<T>& b) {
  double scale = 1e-30, err = 0;
  for (std::size_t e = 0; e < a.size(); ++e) scale = std::max(scale, std::abs(double(b[e])));
  for (std::size_t e = 0; e < a.size(); ++e) err = std::max(err, std::abs(double(a[e]) - double(b[e])));
  return err / scale;
}

}  // namespace

TEST_CASE("fc_ntk_math: the per-entry functions match FcNtk's float SIMD pass (Gram matrix and VJP)",
          "[cuda][kernels]") {
  using B = distill::EigenBackend<float>;
  // 40 columns: full packs, interleaved packs and an overlapping last pack on the SIMD side.
  const auto x1 = normal_tensor<float>({6, 9}, 11), x2 = normal_tensor<float>({40, 9}, 12);
  const auto g = normal_tensor<float>({6, 40}, 13);
  for (const auto& k : kCases) {
    INFO("depth " << k.depth << " bias_var " << k.bias_var << " ntk " << (k.kind == dk::KernelKind::ntk));
    const auto e = entrywise(k, x1, x2, g);
    const Tensor<float> kk = k.gram<B>(x1, x2);
    const auto vjp = k.gram_vjp<B>(x1, x2, g);
    CHECK(max_rel(e.k, kk) < 2e-5);
    CHECK(max_rel(e.dx1, vjp.dx1) < 2e-4);
    CHECK(max_rel(e.dx2, vjp.dx2) < 2e-4);
  }
}

TEST_CASE("fc_ntk_math: float entries agree with the double recursion", "[cuda][kernels]") {
  const auto x1 = normal_tensor<double>({5, 8}, 21), x2 = normal_tensor<double>({7, 8}, 22);
  const auto g = normal_tensor<double>({5, 7}, 23);
  for (const auto& k : kCases) {
    INFO("depth " << k.depth << " bias_var " << k.bias_var);
    const auto ed = entrywise(k, x1, x2, g);
    const auto ef = entrywise(k, x1.cast<float>(), x2.cast<float>(), g.cast<float>());
    const Tensor<double> kd({ed.k.size()}, ed.k), dx1({ed.dx1.size()}, ed.dx1), dx2({ed.dx2.size()}, ed.dx2);
    CHECK(max_rel(std::vector<double>(ef.k.begin(), ef.k.end()), kd) < 1e-5);
    CHECK(max_rel(std::vector<double>(ef.dx1.begin(), ef.dx1.end()), dx1) < 1e-4);
    CHECK(max_rel(std::vector<double>(ef.dx2.begin(), ef.dx2.end()), dx2) < 1e-4);
  }
}

TEST_CASE("fc_ntk_math: the per-entry backward pass matches central differences of ⟨G, K⟩", "[cuda][kernels][grad]") {
  const auto x1 = normal_tensor<double>({3, 4}, 31), x2 = normal_tensor<double>({4, 4}, 32);
  const auto g = normal_tensor<double>({3, 4}, 33);
  for (const auto& k : kCases) {
    INFO("depth " << k.depth << " bias_var " << k.bias_var);
    const auto e = entrywise(k, x1, x2, g);
    auto loss = [&](const Tensor<double>& a, const Tensor<double>& b) {
      const auto f = entrywise(k, a, b, g);
      double s = 0;
      for (std::size_t q = 0; q < f.k.size(); ++q) s += g[q] * f.k[q];
      return s;
    };
    const double h = 1e-6;
    for (int side = 0; side < 2; ++side) {
      const Tensor<double>& x = side == 0 ? x1 : x2;
      const std::vector<double>& analytic = side == 0 ? e.dx1 : e.dx2;
      for (std::size_t q = 0; q < x.size(); ++q) {
        Tensor<double> up = x.clone(), down = x.clone();
        up[q] += h;
        down[q] -= h;
        const double fd = side == 0 ? (loss(up, x2) - loss(down, x2)) / (2 * h) : (loss(x1, up) - loss(x1, down)) / (2 * h);
        CHECK(analytic[q] == Approx(fd).epsilon(1e-5).margin(1e-7));
      }
    }
  }
}

TEST_CASE("fc_ntk_math: identical and opposite points take the zero subgradient at the kink, zero rows stay finite",
          "[cuda][kernels]") {
  Tensor<double> x1({3, 3}, {1, 2, 3, 0, 0, 0, -1, 0.5, 2});
  Tensor<double> x2({3, 3}, {1, 2, 3, -1, -2, -3, 0, 0, 0});
  const Tensor<double> g({3, 3}, 1.0);
  for (const auto& k : kCases) {
    const auto e = entrywise(k, x1, x2, g);
    for (double v : e.k) CHECK(std::isfinite(v));
    for (double v : e.dx1) CHECK(std::isfinite(v));
    for (double v : e.dx2) CHECK(std::isfinite(v));
    // θ = 0 at (x, x): the NTK of identical points equals the diagonal's closed form, q_{l+1} = σ_w² q_l/2 + σ_b².
    if (k.kind == dk::KernelKind::ntk && k.bias_var == 0) {
      double q = k.weight_var * 14.0 / 3.0, th = q;
      for (std::size_t l = 0; l < k.depth; ++l) {
        q = k.weight_var * q / 2;
        th = q + k.weight_var * th / 2;
      }
      CHECK(e.k[0] == Approx(th).epsilon(1e-12));
    }
  }
}

TEST_CASE("fc_ntk_math: FcNtk's double path is the shared function", "[cuda][kernels]") {
  // Every double entry (and float entries outside SIMD packs) runs fc_ntk_math::forward/backward on the CPU.
  using B = distill::EigenBackend<double>;
  const auto x1 = normal_tensor<double>({4, 6}, 41), x2 = normal_tensor<double>({5, 6}, 42);
  const auto g = normal_tensor<double>({4, 5}, 43);
  const dk::FcNtk k{.depth = 3};
  const auto e = entrywise(k, x1, x2, g);
  const auto vjp = k.gram_vjp<B>(x1, x2, g);
  CHECK(max_rel(e.k, k.gram<B>(x1, x2)) < 1e-14);
  CHECK(max_rel(e.dx1, vjp.dx1) < 1e-12);
  CHECK(max_rel(e.dx2, vjp.dx2) < 1e-12);
}
