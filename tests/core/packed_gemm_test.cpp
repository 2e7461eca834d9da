// SPDX-License-Identifier: MIT
// Tests for include/distill/core/detail/packed_gemm.hpp, the AVX-512 float GEMM behind EigenBackend<float>. Its
// products over every transpose, ragged tile and cache-block edge are checked with the other backends in
// backend_test.cpp; these cases check what is particular to it.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "distill/core.hpp"
#include "distill/core/detail/packed_gemm.hpp"
#include "distill/core/detail/reference_kernels.hpp"
#include "support/skip.hpp"

#if DISTILL_HAS_PACKED_GEMM
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace pg = distill::detail::packed_gemm;

TEST_CASE("packed_gemm::transpose16 turns rows into columns", "[core][packed_gemm]") {
  alignas(64) float in[16][16], out[16][16];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) in[i][j] = float(100 * i + j);
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_load_ps(in[i]);
  pg::transpose16(r);
  for (int j = 0; j < 16; ++j) _mm512_store_ps(out[j], r[j]);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) REQUIRE(out[j][i] == in[i][j]);
}

TEST_CASE("packed_gemm::pack_panel lays out lines along k and zero-fills a ragged panel", "[core][packed_gemm]") {
  // A 5-line, 37-deep block (two full 16×16 transposes and a scalar tail), stored both ways.
  const std::size_t width = 5, depth = 37, ld = 40;
  std::vector<float> along(width * ld), across(depth * ld);
  for (std::size_t j = 0; j < width; ++j)
    for (std::size_t p = 0; p < depth; ++p) along[j * ld + p] = across[p * ld + j] = float(1000 * j + p + 1);
  for (bool along_depth : {true, false}) {
    std::vector<float> panel(depth * pg::mr, -1.0f);
    pg::pack_panel<pg::mr>(along_depth ? along.data() : across.data(), ld, along_depth, width, depth, panel.data());
    for (std::size_t p = 0; p < depth; ++p)
      for (std::size_t j = 0; j < pg::mr; ++j) {
        INFO("along_depth " << along_depth << ", p " << p << ", line " << j);
        REQUIRE(panel[p * pg::mr + j] == (j < width ? float(1000 * j + p + 1) : 0.0f));
      }
  }
}

TEST_CASE("packed_gemm::gemm gives the same bits on one thread and on several", "[core][packed_gemm]") {
  // Threads split C into whole tiles, never k, so each element sums the same products in the same order.
  distill::Rng rng(5);
  for (auto [m, n, k] : {std::array<std::size_t, 3>{200, 70, 300}, {50, 500, 270}}) {
    std::vector<float> a(m * k), b(k * n);
    for (auto& v : a) v = float(rng.uniform(-1, 1));
    for (auto& v : b) v = float(rng.uniform(-1, 1));
    std::vector<float> serial(m * n), threaded(m * n), reference(m * n);
    distill::Gemm<float> g{.m = m, .n = n, .k = k, .a = a.data(), .lda = k, .b = b.data(), .ldb = n,
                                   .c = serial.data(), .ldc = n};
    pg::gemm_serial(g);
#if defined(_OPENMP)
    const int before = omp_get_max_threads();
    omp_set_num_threads(3);
#endif
    g.c = threaded.data();
    pg::gemm(g);
#if defined(_OPENMP)
    omp_set_num_threads(before);
#endif
    g.c = reference.data();
    distill::detail::reference_gemm(g);
    REQUIRE(std::memcmp(serial.data(), threaded.data(), serial.size() * sizeof(float)) == 0);
    for (std::size_t i = 0; i < m * n; ++i) REQUIRE(serial[i] == Approx(reference[i]).margin(1e-4));
  }
}

#else

TEST_CASE("packed_gemm: not built for this target", "[core][packed_gemm]") {
  DISTILL_SKIP("the packed GEMM needs AVX-512 (build with -march=native on an AVX-512 machine); EigenBackend<float> "
               "uses Eigen's product here, which backend_test.cpp checks");
}

#endif
