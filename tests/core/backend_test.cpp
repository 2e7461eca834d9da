// SPDX-License-Identifier: MIT
// Tests for include/distill/core/backend.hpp and its two implementations (eigen_backend.hpp,
// xtensor_backend.hpp): every primitive of the Backend concept against the naive reference kernels or a
// direct loop written here, on every backend and precision, plus a test that the backends agree.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "distill/core.hpp"
#include "distill/core/detail/reference_kernels.hpp"
#include "support/backends.hpp"
#include "support/tolerances.hpp"

namespace dd = distill;

namespace {

// ---- concept checks ----------------------------------------------------------------------------------------

/// The smallest type that models Backend: declarations only, since a concept checks expressions, not bodies.
struct LocalArchetypeBackend {
  using Scalar = float;
  static constexpr std::string_view name = "archetype";
  static void gemm(const dd::Gemm<float>&);
  static void axpby(float, const float*, float, float*, std::size_t);
  static double dot(const float*, const float*, std::size_t);
  static void unary(dd::UnaryOp, const float*, float*, std::size_t);
  static void binary(dd::BinaryOp, const float*, const float*, float*, std::size_t);
  static void binary_scalar(dd::BinaryOp, const float*, float, float*, std::size_t);
  static void reduce(dd::ReduceOp, const float*, float*, std::size_t, std::size_t, std::size_t);
  static void fill(float*, std::size_t, float);
  static void random_normal(dd::Rng&, float*, std::size_t, float, float);
  static void random_uniform(dd::Rng&, float*, std::size_t, float, float);
  static void im2col(const dd::ConvGeometry&, const float*, float*);
  static void col2im(const dd::ConvGeometry&, const float*, float*);
};
/// Everything but the convolution helpers: must be rejected, and the failing part must be BackendConv.
struct NoConvBackend {
  using Scalar = double;
  static constexpr std::string_view name = "no-conv";
  static void gemm(const dd::Gemm<double>&);
  static void axpby(double, const double*, double, double*, std::size_t);
  static double dot(const double*, const double*, std::size_t);
  static void unary(dd::UnaryOp, const double*, double*, std::size_t);
  static void binary(dd::BinaryOp, const double*, const double*, double*, std::size_t);
  static void binary_scalar(dd::BinaryOp, const double*, double, double*, std::size_t);
  static void reduce(dd::ReduceOp, const double*, double*, std::size_t, std::size_t, std::size_t);
  static void fill(double*, std::size_t, double);
  static void random_normal(dd::Rng&, double*, std::size_t, double, double);
  static void random_uniform(dd::Rng&, double*, std::size_t, double, double);
};
struct IntScalarBackend : LocalArchetypeBackend {
  using Scalar = int;
};

static_assert(dd::Backend<LocalArchetypeBackend>);
static_assert(dd::Backend<dd::EigenBackend<float>> && dd::Backend<dd::EigenBackend<double>>);
#if DISTILL_HAS_XTENSOR
static_assert(dd::Backend<dd::XtensorBackend<float>> && dd::Backend<dd::XtensorBackend<double>>);
#endif
static_assert(!dd::Backend<int>);
static_assert(!dd::Backend<dd::Tensor<float>>);
static_assert(!dd::Backend<NoConvBackend>);
static_assert(dd::BackendBlas<NoConvBackend> && dd::BackendElementwise<NoConvBackend> && !dd::BackendConv<NoConvBackend>);
static_assert(!dd::Backend<IntScalarBackend> && !dd::BackendScalar<IntScalarBackend>);

// ---- helpers ---------------------------------------------------------------------------------------------

template <class T>
std::vector<T> random_vector(std::size_t n, dd::Rng& rng, double lo = -1, double hi = 1) {
  std::vector<T> v(n);
  for (auto& x : v) x = T(rng.uniform(lo, hi));
  return v;
}

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

/// Absolute error allowed for a value whose magnitude scale is `scale`, per precision.
template <class T>
double tol_for(double scale) {
  return Tolerances<T>::value * std::max(1.0, scale);
}

/// Runs one GEMM case on backend B and on the reference, with padded leading dimensions whose padding holds
/// NaN (so reading it would show), and checks C, including that C's padding is left untouched.
template <class B>
void check_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, typename B::Scalar alpha,
                typename B::Scalar beta, std::size_t pad, bool nan_in_c, std::uint64_t seed) {
  using T = typename B::Scalar;
  dd::Rng rng(seed);
  const std::size_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  const std::size_t lda = ac + pad, ldb = bc + 2 * pad, ldc = n + pad;
  std::vector<T> a(std::max<std::size_t>(ar * lda, 1), T(nan_v)), b(std::max<std::size_t>(br * ldb, 1), T(nan_v));
  for (std::size_t i = 0; i < ar; ++i)
    for (std::size_t j = 0; j < ac; ++j) a[i * lda + j] = T(rng.uniform(-1, 1));
  for (std::size_t i = 0; i < br; ++i)
    for (std::size_t j = 0; j < bc; ++j) b[i * ldb + j] = T(rng.uniform(-1, 1));
  std::vector<T> c(std::max<std::size_t>(m * ldc, 1), T(-123));  // padding sentinel
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = nan_in_c ? T(nan_v) : T(rng.uniform(-1, 1));
  std::vector<T> ref = c;

  dd::Gemm<T> g{.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = alpha, .a = a.data(), .lda = lda,
                .b = b.data(), .ldb = ldb, .beta = beta, .c = c.data(), .ldc = ldc};
  B::gemm(g);
  g.c = ref.data();
  dd::detail::reference_gemm(g);

  INFO(B::name << " gemm ta=" << ta << " tb=" << tb << " m=" << m << " n=" << n << " k=" << k << " alpha=" << alpha
               << " beta=" << beta << " pad=" << pad);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const T got = c[i * ldc + j], want = ref[i * ldc + j];
      if (!std::isfinite(got) || std::abs(double(got) - double(want)) > tol_for<T>(std::sqrt(double(k)) + 1)) {
        INFO("C(" << i << ", " << j << ") = " << got << ", reference " << want);
        REQUIRE(false);
      }
    }
    for (std::size_t j = n; j < ldc; ++j) REQUIRE(c[i * ldc + j] == T(-123));
  }
}

template <class T>
double naive_dot(const std::vector<T>& x, const std::vector<T>& y) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += double(x[i]) * double(y[i]);
  return s;
}

/// Inputs inside the domain of a unary op (and including 0 where the op is defined there).
template <class T>
std::vector<T> unary_inputs(dd::UnaryOp op, std::size_t n, dd::Rng& rng) {
  using U = dd::UnaryOp;
  std::vector<T> x;
  switch (op) {
    case U::log: case U::sqrt: case U::rsqrt: x = random_vector<T>(n, rng, 0.05, 4); break;
    case U::reciprocal: x = random_vector<T>(n, rng, 0.25, 3); for (std::size_t i = 0; i < n; i += 2) x[i] = -x[i]; break;
    case U::acos: x = random_vector<T>(n, rng, -0.99, 0.99); break;
    case U::exp: x = random_vector<T>(n, rng, -10, 10); break;
    default: x = random_vector<T>(n, rng, -5, 5); if (n > 3) x[3] = T(0); break;
  }
  return x;
}

constexpr dd::UnaryOp all_unary[] = {dd::UnaryOp::neg, dd::UnaryOp::exp, dd::UnaryOp::log, dd::UnaryOp::sqrt,
                                     dd::UnaryOp::rsqrt, dd::UnaryOp::abs, dd::UnaryOp::sign, dd::UnaryOp::square,
                                     dd::UnaryOp::reciprocal, dd::UnaryOp::relu, dd::UnaryOp::relu_mask,
                                     dd::UnaryOp::tanh, dd::UnaryOp::sigmoid, dd::UnaryOp::acos, dd::UnaryOp::sin,
                                     dd::UnaryOp::cos};
constexpr dd::BinaryOp all_binary[] = {dd::BinaryOp::add, dd::BinaryOp::sub, dd::BinaryOp::mul,
                                       dd::BinaryOp::div, dd::BinaryOp::max, dd::BinaryOp::min,
                                       dd::BinaryOp::pow, dd::BinaryOp::atan2, dd::BinaryOp::greater};

template <class T>
void binary_inputs(dd::BinaryOp op, std::size_t n, dd::Rng& rng, std::vector<T>& a, std::vector<T>& b) {
  if (op == dd::BinaryOp::pow) {
    a = random_vector<T>(n, rng, 0.1, 3);
    b = random_vector<T>(n, rng, -2, 2);
    if (n > 2) b[2] = T(0);
  } else if (op == dd::BinaryOp::div) {
    a = random_vector<T>(n, rng, -3, 3);
    b = random_vector<T>(n, rng, 0.25, 2);
    for (std::size_t i = 0; i < n; i += 3) b[i] = -b[i];
  } else {
    a = random_vector<T>(n, rng, -3, 3);
    b = random_vector<T>(n, rng, -3, 3);
    for (std::size_t i = 0; i < n; i += 5) b[i] = a[i];  // ties for max/min/greater
  }
}

/// Direct (non-im2col) 2-D convolution: out[n, f, oh, ow] = Σ_c,ki,kj w[f, c, ki, kj] · x_padded[n, c, ...].
template <class T>
std::vector<double> direct_conv(const dd::ConvGeometry& g, const std::vector<T>& x, const std::vector<T>& w,
                                std::size_t filters) {
  const std::size_t oh = g.out_h(), ow = g.out_w();
  std::vector<double> out(g.batch * filters * oh * ow, 0.0);
  for (std::size_t n = 0; n < g.batch; ++n)
    for (std::size_t f = 0; f < filters; ++f)
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) {
          double s = 0;
          for (std::size_t c = 0; c < g.channels; ++c)
            for (std::size_t ki = 0; ki < g.kernel_h; ++ki)
              for (std::size_t kj = 0; kj < g.kernel_w; ++kj) {
                const long h = long(i * g.stride_h + ki) - long(g.pad_h);
                const long v = long(j * g.stride_w + kj) - long(g.pad_w);
                if (h < 0 || v < 0 || h >= long(g.height) || v >= long(g.width)) continue;
                s += double(w[((f * g.channels + c) * g.kernel_h + ki) * g.kernel_w + kj]) *
                     double(x[((n * g.channels + c) * g.height + std::size_t(h)) * g.width + std::size_t(v)]);
              }
          out[((n * filters + f) * oh + i) * ow + j] = s;
        }
  return out;
}

/// im2col written from its definition, independent of detail::im2col_loops.
template <class T>
std::vector<T> naive_im2col(const dd::ConvGeometry& g, const std::vector<T>& x) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), cols = g.col_cols();
  std::vector<T> out(g.col_rows() * cols, T(0));
  for (std::size_t c = 0; c < g.channels; ++c)
    for (std::size_t ki = 0; ki < g.kernel_h; ++ki)
      for (std::size_t kj = 0; kj < g.kernel_w; ++kj)
        for (std::size_t n = 0; n < g.batch; ++n)
          for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j) {
              const long h = long(i * g.stride_h + ki) - long(g.pad_h);
              const long v = long(j * g.stride_w + kj) - long(g.pad_w);
              const std::size_t r = (c * g.kernel_h + ki) * g.kernel_w + kj, col = (n * oh + i) * ow + j;
              if (h >= 0 && v >= 0 && h < long(g.height) && v < long(g.width))
                out[r * cols + col] = x[((n * g.channels + c) * g.height + std::size_t(h)) * g.width + std::size_t(v)];
            }
  return out;
}

const dd::ConvGeometry conv_cases[] = {
    {.batch = 2, .channels = 3, .height = 5, .width = 6, .kernel_h = 3, .kernel_w = 3},
    {.batch = 2, .channels = 2, .height = 7, .width = 7, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
     .pad_h = 1, .pad_w = 1},
    {.batch = 1, .channels = 3, .height = 6, .width = 5, .kernel_h = 2, .kernel_w = 3, .stride_h = 2, .stride_w = 1,
     .pad_h = 0, .pad_w = 2},
    {.batch = 3, .channels = 4, .height = 4, .width = 4, .kernel_h = 1, .kernel_w = 1},
    {.batch = 1, .channels = 1, .height = 3, .width = 3, .kernel_h = 5, .kernel_w = 5, .pad_h = 1, .pad_w = 1},
    {.batch = 2, .channels = 1, .height = 9, .width = 8, .kernel_h = 4, .kernel_w = 2, .stride_h = 3, .stride_w = 3,
     .pad_h = 2, .pad_w = 1},
    // Padding wider than the kernel: some kernel offsets see no image column at all.
    {.batch = 1, .channels = 2, .height = 2, .width = 2, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
     .pad_h = 3, .pad_w = 3},
};

}  // namespace

// ---- GEMM ------------------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("Backend::gemm: all transposes, padded leading dims, alpha and beta", "[core][backend][gemm]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  std::uint64_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      // The last shapes are for the packed float kernel (EigenBackend<float> on AVX-512), which tiles C by 12×32 and
      // blocks k by 256, m by 120 and n by 1024: a partial tile on each side, one past and one short of every
      // block, and a depth that is not a multiple of its 16-wide transpose.
      for (auto [m, n, k] : {std::array<std::size_t, 3>{1, 1, 1}, {5, 7, 3}, {17, 13, 29}, {64, 33, 48}, {6, 16, 16},
                             {12, 32, 256}, {13, 33, 17}, {25, 65, 257}, {121, 40, 300}, {7, 1057, 40}, {130, 20, 600}}) {
        check_gemm<B>(ta, tb, m, n, k, T(1), T(0), 0, false, seed++);        // plain C = A·B, dense
        check_gemm<B>(ta, tb, m, n, k, T(1.5), T(0.5), 3, false, seed++);    // alpha, beta, padded
        check_gemm<B>(ta, tb, m, n, k, T(-0.75), T(1), 1, false, seed++);    // accumulate
        check_gemm<B>(ta, tb, m, n, k, T(2), T(0), 4, true, seed++);         // beta = 0 ignores NaN in C
        check_gemm<B>(ta, tb, m, n, k, T(2), T(0), 0, true, seed++);         // ... also when C is dense
      }
    }
}

TEMPLATE_TEST_CASE("Backend::gemm: k = 0, empty outputs and tall-skinny shapes", "[core][backend][gemm]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  SECTION("k = 0 scales C by beta (and beta = 0 clears even NaN)") {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm<B>(ta, tb, 4, 5, 0, T(1), T(0.5), 2, false, 7);
        check_gemm<B>(ta, tb, 4, 5, 0, T(1), T(0), 2, true, 8);
        check_gemm<B>(ta, tb, 4, 5, 0, T(1), T(0), 0, true, 8);
      }
  }
  SECTION("m = 0 or n = 0 does nothing") {
    T sentinel = T(5);
    dd::Gemm<T> g{.m = 0, .n = 3, .k = 2, .a = nullptr, .lda = 2, .b = nullptr, .ldb = 3, .c = &sentinel, .ldc = 3};
    B::gemm(g);
    g.m = 3, g.n = 0;
    B::gemm(g);
    REQUIRE(sentinel == T(5));
  }
  SECTION("tall-skinny and short-wide") {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm<B>(ta, tb, 3000, 3, 64, T(1), T(0), 0, false, 11);
        check_gemm<B>(ta, tb, 3, 2000, 50, T(1), T(1), 1, false, 12);
        check_gemm<B>(ta, tb, 10, 10, 4000, T(0.5), T(0), 2, true, 13);  // long inner dimension
        check_gemm<B>(ta, tb, 500, 1, 300, T(1), T(0.25), 0, false, 14);  // matrix-vector
      }
  }
}

// ---- elementwise -----------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("Backend::unary: every op matches the scalar formula, in place too", "[core][backend]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  dd::Rng rng(21);
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(37), std::size_t(1000)}) {
    for (auto op : all_unary) {
      INFO(B::name << " unary op " << int(op) << " n=" << n);
      auto x = unary_inputs<T>(op, n, rng);
      std::vector<T> y(n, T(nan_v));
      B::unary(op, x.data(), y.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const double want = dd::detail::apply_unary(op, double(x[i]));
        INFO("x = " << x[i] << " got " << y[i] << " want " << want);
        REQUIRE(std::abs(double(y[i]) - want) <= 4 * tol_for<T>(std::abs(want)));
      }
      auto z = x;  // in place: x == y
      B::unary(op, z.data(), z.data(), n);
      // SIMD peeling depends on the buffer's alignment, so in place may differ from out of place by rounding.
      for (std::size_t i = 0; i < n; ++i) REQUIRE(std::abs(double(z[i]) - double(y[i])) <= tol_for<T>(std::abs(double(y[i]))));
    }
  }
}

TEMPLATE_TEST_CASE("Backend::binary and binary_scalar: every op, with aliasing", "[core][backend]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  dd::Rng rng(22);
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(37), std::size_t(1000)}) {
    for (auto op : all_binary) {
      INFO(B::name << " binary op " << int(op) << " n=" << n);
      std::vector<T> a, b;
      binary_inputs<T>(op, n, rng, a, b);
      std::vector<T> y(n, T(nan_v));
      B::binary(op, a.data(), b.data(), y.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const double want = dd::detail::apply_binary(op, double(a[i]), double(b[i]));
        INFO("a = " << a[i] << " b = " << b[i] << " got " << y[i] << " want " << want);
        REQUIRE(std::abs(double(y[i]) - want) <= 4 * tol_for<T>(std::abs(want)));
      }
      // y aliases a, then b: same result as out of place.
      auto a2 = a;
      B::binary(op, a2.data(), b.data(), a2.data(), n);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(std::abs(double(a2[i]) - double(y[i])) <= tol_for<T>(std::abs(double(y[i]))));
      auto b2 = b;
      B::binary(op, a.data(), b2.data(), b2.data(), n);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(std::abs(double(b2[i]) - double(y[i])) <= tol_for<T>(std::abs(double(y[i]))));
      // all three the same buffer.
      {
        auto s = a;
        B::binary(op, s.data(), s.data(), s.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
          const double want = dd::detail::apply_binary(op, double(a[i]), double(a[i]));
          REQUIRE(std::abs(double(s[i]) - want) <= 4 * tol_for<T>(std::abs(want)));
        }
      }

      // binary_scalar with the scalar b[0] (positive for div and pow), out of place and in place.
      const T s = n ? (op == dd::BinaryOp::div || op == dd::BinaryOp::pow ? std::abs(b[0]) + T(0.5) : b[0]) : T(0.5);
      std::vector<T> ys(n, T(nan_v));
      B::binary_scalar(op, a.data(), s, ys.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const double want = dd::detail::apply_binary(op, double(a[i]), double(s));
        REQUIRE(std::abs(double(ys[i]) - want) <= 4 * tol_for<T>(std::abs(want)));
      }
      auto a3 = a;
      B::binary_scalar(op, a3.data(), s, a3.data(), n);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(std::abs(double(a3[i]) - double(ys[i])) <= tol_for<T>(std::abs(double(ys[i]))));
    }
  }
}

TEMPLATE_TEST_CASE("Backend::axpby, dot and fill", "[core][backend]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  dd::Rng rng(23);
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(37), std::size_t(10000)}) {
    INFO(B::name << " n=" << n);
    auto x = random_vector<T>(n, rng), y0 = random_vector<T>(n, rng);
    for (auto [alpha, beta] : {std::pair<T, T>{T(2), T(-0.5)}, {T(1), T(1)}, {T(-1.5), T(0)}, {T(0), T(3)}}) {
      auto y = y0;
      B::axpby(alpha, x.data(), beta, y.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        REQUIRE(std::abs(double(y[i]) - (double(alpha) * x[i] + double(beta) * y0[i])) <= tol_for<T>(1));
    }
    // beta = 0 overwrites y: NaN in y must not leak into the result.
    std::vector<T> ynan(n, T(nan_v));
    B::axpby(T(2), x.data(), T(0), ynan.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(ynan[i] == T(2) * x[i]);

    const double d = B::dot(x.data(), y0.data(), n);
    REQUIRE(std::abs(d - naive_dot(x, y0)) <= tol_for<T>(std::sqrt(double(n))));
    REQUIRE(B::dot(x.data(), x.data(), n) >= 0.0);

    std::vector<T> f(n, T(0));
    B::fill(f.data(), n, T(-2.5));
    for (T v : f) REQUIRE(v == T(-2.5));
  }
}

TEMPLATE_TEST_CASE("Backend::reduce: sum, max and min over the middle axis", "[core][backend]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  dd::Rng rng(24);
  for (auto [outer, len, inner] : {std::array<std::size_t, 3>{3, 5, 4}, {1, 7, 1}, {4, 1, 3}, {2, 0, 3}, {1, 1000, 1},
                                   {5, 64, 1}, {1, 64, 9}, {0, 3, 2}, {2, 3, 0}}) {
    for (auto op : {dd::ReduceOp::sum, dd::ReduceOp::max, dd::ReduceOp::min}) {
      INFO(B::name << " reduce op " << int(op) << " [" << outer << ", " << len << ", " << inner << "]");
      auto x = random_vector<T>(outer * len * inner, rng, -2, 2);
      std::vector<T> y(outer * inner, T(nan_v)), ref(outer * inner);
      B::reduce(op, x.data(), y.data(), outer, len, inner);
      dd::detail::reference_reduce(op, x.data(), ref.data(), outer, len, inner);
      for (std::size_t i = 0; i < y.size(); ++i) {
        if (op == dd::ReduceOp::sum) REQUIRE(std::abs(double(y[i]) - double(ref[i])) <= tol_for<T>(std::sqrt(double(len))));
        else REQUIRE(y[i] == ref[i]);  // max/min pick an element: exact
      }
      if (len == 0)
        for (T v : y) REQUIRE(v == T(0));
      if (len == 1)
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == x[i]);
    }
  }
}

// ---- im2col / col2im -------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("Backend::im2col matches a direct loop and gives a direct convolution via GEMM",
                   "[core][backend][conv]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  dd::Rng rng(25);
  for (const auto& g : conv_cases) {
    INFO(B::name << " conv N" << g.batch << " C" << g.channels << " " << g.height << "x" << g.width << " k"
                 << g.kernel_h << "x" << g.kernel_w << " s" << g.stride_h << "x" << g.stride_w << " p" << g.pad_h
                 << "x" << g.pad_w);
    auto x = random_vector<T>(g.input_size(), rng);
    std::vector<T> cols(g.col_rows() * g.col_cols(), T(nan_v));
    B::im2col(g, x.data(), cols.data());
    REQUIRE(cols == naive_im2col(g, x));

    // W[F, C·kh·kw] · cols[C·kh·kw, N·OH·OW] = out[F, (n, oh, ow)], which must equal the direct convolution.
    const std::size_t filters = 3, plane = g.out_h() * g.out_w();
    auto w = random_vector<T>(filters * g.col_rows(), rng);
    std::vector<T> out(filters * g.col_cols());
    B::gemm({.m = filters, .n = g.col_cols(), .k = g.col_rows(), .a = w.data(), .lda = g.col_rows(),
             .b = cols.data(), .ldb = g.col_cols(), .c = out.data(), .ldc = g.col_cols()});
    const auto direct = direct_conv(g, x, w, filters);
    for (std::size_t n = 0; n < g.batch; ++n)
      for (std::size_t f = 0; f < filters; ++f)
        for (std::size_t p = 0; p < plane; ++p)
          REQUIRE(std::abs(double(out[f * g.col_cols() + n * plane + p]) - direct[(n * filters + f) * plane + p]) <=
                  tol_for<T>(std::sqrt(double(g.col_rows()))));
  }
}

TEMPLATE_TEST_CASE("Backend::col2im is the scatter-add adjoint of im2col", "[core][backend][conv]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  dd::Rng rng(26);
  for (const auto& g : conv_cases) {
    INFO(B::name << " conv N" << g.batch << " C" << g.channels << " " << g.height << "x" << g.width << " k"
                 << g.kernel_h << "x" << g.kernel_w << " s" << g.stride_h << " p" << g.pad_h);
    const std::size_t ncol = g.col_rows() * g.col_cols();
    auto x = random_vector<T>(g.input_size(), rng);
    auto c = random_vector<T>(ncol, rng);
    std::vector<T> ix(ncol), cx(g.input_size(), T(nan_v));  // col2im overwrites x: NaN must disappear
    B::im2col(g, x.data(), ix.data());
    B::col2im(g, c.data(), cx.data());
    // <im2col(x), c> == <x, col2im(c)>
    const double lhs = naive_dot(ix, c), rhs = naive_dot(x, cx);
    REQUIRE(std::abs(lhs - rhs) <= tol_for<T>(std::sqrt(double(ncol))));

    // col2im against a scatter-add written from the definition.
    std::vector<double> want(g.input_size(), 0.0);
    const std::size_t oh = g.out_h(), ow = g.out_w(), cols = g.col_cols();
    for (std::size_t ch = 0; ch < g.channels; ++ch)
      for (std::size_t ki = 0; ki < g.kernel_h; ++ki)
        for (std::size_t kj = 0; kj < g.kernel_w; ++kj)
          for (std::size_t n = 0; n < g.batch; ++n)
            for (std::size_t i = 0; i < oh; ++i)
              for (std::size_t j = 0; j < ow; ++j) {
                const long h = long(i * g.stride_h + ki) - long(g.pad_h);
                const long v = long(j * g.stride_w + kj) - long(g.pad_w);
                if (h < 0 || v < 0 || h >= long(g.height) || v >= long(g.width)) continue;
                want[((n * g.channels + ch) * g.height + std::size_t(h)) * g.width + std::size_t(v)] +=
                    c[((ch * g.kernel_h + ki) * g.kernel_w + kj) * cols + (n * oh + i) * ow + j];
              }
    for (std::size_t i = 0; i < cx.size(); ++i) REQUIRE(std::abs(double(cx[i]) - want[i]) <= tol_for<T>(4));
  }
}

TEMPLATE_TEST_CASE("Backend::im2col/col2im reject impossible geometry", "[core][backend][conv]",
                   DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  std::vector<T> buf(64, T(0));
  dd::ConvGeometry too_big{.height = 3, .width = 3, .kernel_h = 5, .kernel_w = 5};
  REQUIRE_THROWS_WITH(B::im2col(too_big, buf.data(), buf.data()),
                      Catch::Matchers::Contains("im2col()") && Catch::Matchers::Contains("larger than the padded input"));
  REQUIRE_THROWS_AS(B::col2im(too_big, buf.data(), buf.data()), dd::invalid_argument);
  dd::ConvGeometry zero_stride{.height = 3, .width = 3, .kernel_h = 1, .kernel_w = 1, .stride_h = 0};
  REQUIRE_THROWS_WITH(B::im2col(zero_stride, buf.data(), buf.data()), Catch::Matchers::Contains("stride must be positive"));
}

// ---- random fills ----------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("Backend::random_normal/uniform: same bytes for the same seed on every backend, right moments",
                   "[core][backend][rng]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const std::size_t n = 100001;  // odd: the Box–Muller spare is left over
  std::vector<T> y(n), ref(n);

  dd::Rng r1(77), r2(77);
  B::random_normal(r1, y.data(), n, T(1.5), T(2));
  dd::EigenBackend<T>::random_normal(r2, ref.data(), n, T(1.5), T(2));  // the other backend(s) draw the same
  REQUIRE(std::memcmp(y.data(), ref.data(), n * sizeof(T)) == 0);
  REQUIRE(r1.next() == r2.next());  // and leave the generator in the same state
#if DISTILL_HAS_XTENSOR
  dd::Rng r3(77);
  dd::XtensorBackend<T>::random_normal(r3, ref.data(), n, T(1.5), T(2));
  REQUIRE(std::memcmp(y.data(), ref.data(), n * sizeof(T)) == 0);
#endif
  double s = 0, sq = 0;
  for (T v : y) s += v, sq += double(v) * v;
  const double mean = s / n, var = sq / n - mean * mean;
  REQUIRE(mean == Approx(1.5).margin(0.03));
  REQUIRE(std::sqrt(var) == Approx(2.0).margin(0.03));

  dd::Rng u1(78), u2(78);
  B::random_uniform(u1, y.data(), n, T(-1), T(3));
  dd::EigenBackend<T>::random_uniform(u2, ref.data(), n, T(-1), T(3));
  REQUIRE(std::memcmp(y.data(), ref.data(), n * sizeof(T)) == 0);
  s = sq = 0;
  for (T v : y) {
    REQUIRE(v >= T(-1));
    REQUIRE(v <= T(3));  // float rounding of lo + (hi-lo)·u may reach hi
    s += v, sq += double(v) * v;
  }
  const double umean = s / n, uvar = sq / n - umean * umean;
  REQUIRE(umean == Approx(1.0).margin(0.02));
  REQUIRE(uvar == Approx(16.0 / 12.0).margin(0.03));

  // Different seeds give different bytes.
  dd::Rng r4(79);
  B::random_normal(r4, ref.data(), n, T(1.5), T(2));
  REQUIRE(std::memcmp(y.data(), ref.data(), n * sizeof(T)) != 0);
  // n = 0 draws nothing.
  dd::Rng r5(80), r6(80);
  B::random_normal(r5, nullptr, 0, T(0), T(1));
  REQUIRE(r5.next() == r6.next());
}

// ---- cross-backend agreement -----------------------------------------------------------------------------

#if DISTILL_HAS_XTENSOR
TEMPLATE_TEST_CASE("Eigen and xtensor backends agree on the same inputs", "[core][backend]", float, double) {
  using T = TestType;
  using E = dd::EigenBackend<T>;
  using X = dd::XtensorBackend<T>;
  dd::Rng rng(31);

  // GEMM, every transpose, padded.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const std::size_t m = 45, n = 31, k = 70;
      auto a = random_vector<T>((ta ? k : m) * 80, rng), b = random_vector<T>((tb ? n : k) * 80, rng);
      auto c0 = random_vector<T>(m * 40, rng);
      auto ce = c0, cx = c0;
      dd::Gemm<T> g{.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = T(0.7), .a = a.data(), .lda = 80,
                    .b = b.data(), .ldb = 80, .beta = T(-0.3), .c = ce.data(), .ldc = 40};
      E::gemm(g);
      g.c = cx.data();
      X::gemm(g);
      for (std::size_t i = 0; i < ce.size(); ++i) REQUIRE(std::abs(double(ce[i]) - double(cx[i])) <= tol_for<T>(10));
    }
  // Elementwise and reductions.
  const std::size_t n = 777;
  for (auto op : all_unary) {
    auto x = unary_inputs<T>(op, n, rng);
    std::vector<T> ye(n), yx(n);
    E::unary(op, x.data(), ye.data(), n);
    X::unary(op, x.data(), yx.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(std::abs(double(ye[i]) - double(yx[i])) <= 8 * tol_for<T>(std::abs(double(ye[i]))));
  }
  for (auto op : all_binary) {
    std::vector<T> a, b;
    binary_inputs<T>(op, n, rng, a, b);
    std::vector<T> ye(n), yx(n);
    E::binary(op, a.data(), b.data(), ye.data(), n);
    X::binary(op, a.data(), b.data(), yx.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(std::abs(double(ye[i]) - double(yx[i])) <= 8 * tol_for<T>(std::abs(double(ye[i]))));
  }
  auto x = random_vector<T>(6 * 50 * 7, rng);
  for (auto op : {dd::ReduceOp::sum, dd::ReduceOp::max, dd::ReduceOp::min}) {
    std::vector<T> ye(42), yx(42);
    E::reduce(op, x.data(), ye.data(), 6, 50, 7);
    X::reduce(op, x.data(), yx.data(), 6, 50, 7);
    for (std::size_t i = 0; i < 42; ++i) REQUIRE(std::abs(double(ye[i]) - double(yx[i])) <= tol_for<T>(8));
  }
  REQUIRE(std::abs(E::dot(x.data(), x.data(), x.size()) - X::dot(x.data(), x.data(), x.size())) <= tol_for<T>(100));
  const auto& g = conv_cases[1];
  auto img = random_vector<T>(g.input_size(), rng);
  std::vector<T> ce(g.col_rows() * g.col_cols()), cx(ce.size());
  E::im2col(g, img.data(), ce.data());
  X::im2col(g, img.data(), cx.data());
  REQUIRE(ce == cx);
}
#endif
