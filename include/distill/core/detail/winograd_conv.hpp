// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_DETAIL_WINOGRAD_CONV_HPP
#define DISTILL_CORE_DETAIL_WINOGRAD_CONV_HPP

/**
 * @file
 * Winograd F(2×2, 3×3) convolution (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks") for
 * 3×3, stride-1 layers with many channels (ConvNet-3's 128 → 128 layers): the forward pass, the input gradient
 * and the weight gradient, each as 16 GEMMs over transformed tiles instead of one im2col GEMM.
 *
 * Why: a 2×2 output tile costs 16 multiplies per (input, output) channel pair instead of 36, so the GEMM work
 * of each pass falls by 2.25× (1.56× on a 7×7 map, whose 4×4 tiles cover 8×8), and there is no im2col/col2im.
 * Those layers were 0.86 of a ConvNet-3 training step, and their im2col GEMMs already ran at about 0.7 of the
 * machine's GEMM peak, so fewer flops was the way left to make the step faster.
 *
 * The algebra. A 2×2 output tile Y of output channel o is computed from the 4×4 input tiles d_c (overlapping by
 * 2) of every input channel c as
 *
 *     Y = Aᵀ [ Σ_c U_oc ⊙ V_c ] A,    U_oc = G g_oc Gᵀ (filter transform),   V_c = Bᵀ d_c B (input transform),
 *
 * that is, for each of the 16 positions ξ of the 4×4 transform, M_ξ = U_ξ · V_ξ is a GEMM [O × C] · [C × tiles].
 * The two gradients are the adjoints of the same three linear stages, so each is exact for the forward above:
 *
 *     input gradient:  Z = A dY Aᵀ per tile,  dV_ξ = U_ξᵀ · Z_ξ,         dd_c = B dV_c Bᵀ, overlap-added into dx;
 *     weight gradient: Z = A dY Aᵀ, V as above, dU_ξ = Σ_tiles Z_ξ · V_ξᵀ,  dg_oc = Gᵀ dU_oc G.
 *
 * (With B, G, A the F(2, 3) matrices below: entries 0, ±1 and ±½, so the transforms are adds and halvings and the
 * rounding error stays within a few ulps of the direct sum's.)
 *
 * Blocking: samples are processed in chunks of about kChunkTiles tiles (4 samples of 7×7 tiles for a 14×14 map),
 * one chunk per thread at a time, so the transformed tiles of a chunk (16 · C · tiles values, 1.6 MB for 128
 * channels) stay in cache between the transform and the GEMMs, and every GEMM is [128 × 128] · [128 × ~196]: the
 * size at which the backends' GEMM ran fastest here (measured: 16 GEMMs of 49, 98, 196, 392, 784 columns).
 */

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"

namespace distill::detail {

/// F(2×2, 3×3) Winograd convolution of a whole NCHW batch through backend B's GEMM (see the file comment).
template <Backend B>
class WinogradConv {
 public:
  using T = typename B::Scalar;
  //! Transform positions: one per entry of a 4×4 tile.
  static constexpr std::size_t kPositions = 16;
  //! Tiles per chunk to aim for: the GEMMs' column count.
  static constexpr std::size_t kChunkTiles = 196;

  //! Whether this path computes g: a 3×3 kernel, stride 1, padding below the kernel size.
  static bool applies(const ConvGeometry& g) {
    return g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h < 3 && g.pad_w < 3 &&
           g.height + 2 * g.pad_h >= 3 && g.width + 2 * g.pad_w >= 3;
  }

  WinogradConv(const ConvGeometry& g, std::size_t out_channels)
      : g_(g), out_(out_channels), oh_(g.out_h()), ow_(g.out_w()), th_((oh_ + 1) / 2), tw_((ow_ + 1) / 2),
        tiles_(th_ * tw_), pitch_(2 * tw_ + 2), plane_((2 * th_ + 2) * pitch_),
        chunk_(std::max<std::size_t>(1, (kChunkTiles + tiles_ / 2) / tiles_)) {
    DISTILL_CHECK(applies(g), "WinogradConv: needs a 3x3 kernel, stride 1 and padding below 3; got ", g.kernel_h, "x",
                  g.kernel_w, ", stride ", g.stride_h, "x", g.stride_w, ", padding ", g.pad_h, "x", g.pad_w);
    DISTILL_CHECK(out_channels > 0, "WinogradConv: out_channels must be positive");
  }

  //! y = W ⋆ x (+ bias) for the whole batch: x [N, C, H, W], w [O, C, 3, 3], y [N, O, OH, OW]; bias may be null.
  void forward(const T* x, const T* w, const T* bias, T* y) const {
    const std::vector<T> u = filter_transform(w);
    const std::size_t c = g_.channels, in = c * g_.height * g_.width, out = out_ * oh_ * ow_;
    for_each_chunk(kPositions * (block(c, chunk_ * tiles_) + block(out_, chunk_ * tiles_)) + plane_, [&](std::size_t n0, std::size_t ns, T* s) {
      const std::size_t p = ns * tiles_;
      T* v = s;                              // [16][C][P]
      T* m = v + kPositions * block(c, p);         // [16][O][P]
      T* plane = m + kPositions * block(out_, p);  // one padded input plane
      input_transform(x + n0 * in, ns, p, plane, v);
      for (std::size_t xi = 0; xi < kPositions; ++xi)
        B::gemm(Gemm<T>{false, false, out_, p, c, T(1), u.data() + xi * out_ * c, c, v + xi * block(c, p), p, T(0),
                        m + xi * block(out_, p), p});
      output_transform(m, ns, p, bias, y + n0 * out);
    });
  }

  //! dx = ∂⟨dy, W ⋆ x⟩/∂x: dy [N, O, OH, OW], w [O, C, 3, 3], dx [N, C, H, W] (overwritten).
  void input_grad(const T* dy, const T* w, T* dx) const {
    const std::vector<T> u = filter_transform(w);
    const std::size_t c = g_.channels, in = c * g_.height * g_.width, out = out_ * oh_ * ow_;
    for_each_chunk(kPositions * (block(c, chunk_ * tiles_) + block(out_, chunk_ * tiles_)) + plane_, [&](std::size_t n0, std::size_t ns, T* s) {
      const std::size_t p = ns * tiles_;
      T* z = s;                            // [16][O][P]
      T* dv = z + kPositions * block(out_, p);   // [16][C][P]
      T* plane = dv + kPositions * block(c, p);  // one padded input-gradient plane
      output_transform_adjoint(dy + n0 * out, ns, p, z);
      for (std::size_t xi = 0; xi < kPositions; ++xi)
        B::gemm(Gemm<T>{true, false, c, p, out_, T(1), u.data() + xi * out_ * c, c, z + xi * block(out_, p), p, T(0),
                        dv + xi * block(c, p), p});
      input_transform_adjoint(dv, ns, p, plane, dx + n0 * in);
    });
  }

  //! dw = ∂⟨dy, W ⋆ x⟩/∂W: x [N, C, H, W], dy [N, O, OH, OW], dw [O, C, 3, 3] (overwritten).
  void weight_grad(const T* x, const T* dy, T* dw) const {
    const std::size_t c = g_.channels, in = c * g_.height * g_.width, out = out_ * oh_ * ow_;
    const std::size_t du_size = kPositions * out_ * c;
    // One partial ∂U per thread, summed in thread order afterwards (the same bytes for the same thread count).
    std::vector<std::vector<T>> partials(max_threads());
    for_each_chunk(
        kPositions * (block(c, chunk_ * tiles_) + block(out_, chunk_ * tiles_)) + plane_,
        [&](std::size_t n0, std::size_t ns, T* s) {
          std::vector<T>& du = partials[thread_id()];
          if (du.empty()) du.assign(du_size, T(0));
          const std::size_t p = ns * tiles_;
          T* v = s;                           // [16][C][P]
          T* z = v + kPositions * block(c, p);      // [16][O][P]
          T* plane = z + kPositions * block(out_, p);
          input_transform(x + n0 * in, ns, p, plane, v);
          output_transform_adjoint(dy + n0 * out, ns, p, z);
          for (std::size_t xi = 0; xi < kPositions; ++xi)
            B::gemm(Gemm<T>{false, true, out_, c, p, T(1), z + xi * block(out_, p), p, v + xi * block(c, p), p, T(1),
                            du.data() + xi * out_ * c, c});
        });
    std::vector<T> du(du_size, T(0));
    for (const auto& part : partials)
      if (!part.empty()) B::axpby(T(1), part.data(), T(1), du.data(), du_size);
    filter_transform_adjoint(du, dw);
  }

 private:
  // ---- the F(2, 3) matrices, applied along one axis of a tile ----------------------------------------------------
  //! Bᵀ · d (4 → 4), the input transform.
  static void input_map(const T d[4], T r[4]) {
    r[0] = d[0] - d[2];
    r[1] = d[1] + d[2];
    r[2] = d[2] - d[1];
    r[3] = d[1] - d[3];
  }
  //! B · v (4 → 4), its adjoint.
  static void input_map_adjoint(const T v[4], T r[4]) {
    r[0] = v[0];
    r[1] = v[1] - v[2] + v[3];
    r[2] = v[1] + v[2] - v[0];
    r[3] = -v[3];
  }
  //! G · g (3 → 4), the filter transform.
  static void filter_map(const T g[3], T r[4]) {
    r[0] = g[0];
    r[1] = T(0.5) * (g[0] + g[1] + g[2]);
    r[2] = T(0.5) * (g[0] - g[1] + g[2]);
    r[3] = g[2];
  }
  //! Gᵀ · u (4 → 3), its adjoint.
  static void filter_map_adjoint(const T u[4], T r[3]) {
    r[0] = u[0] + T(0.5) * (u[1] + u[2]);
    r[1] = T(0.5) * (u[1] - u[2]);
    r[2] = T(0.5) * (u[1] + u[2]) + u[3];
  }
  //! Aᵀ · m (4 → 2), the output transform.
  static void output_map(const T m[4], T r[2]) {
    r[0] = m[0] + m[1] + m[2];
    r[1] = m[1] - m[2] - m[3];
  }
  //! A · y (2 → 4), its adjoint.
  static void output_map_adjoint(const T y[2], T r[4]) {
    r[0] = y[0];
    r[1] = y[0] + y[1];
    r[2] = y[0] - y[1];
    r[3] = -y[1];
  }

  //! out = L · in · Rᵀ for a tile `in` [R1 × C1] → [R2 × C2], where `Map` applies L (and R) to one vector: the
  //! same 1-D map along the columns, then along the rows (template arguments, so every call inlines).
  template <auto Map, std::size_t R1, std::size_t C1, std::size_t R2, std::size_t C2>
  static void two_sided(const T (&in)[R1][C1], T (&out)[R2][C2]) {
    T mid[R2][C1];
    for (std::size_t j = 0; j < C1; ++j) {
      T col[R1], res[R2];
      for (std::size_t i = 0; i < R1; ++i) col[i] = in[i][j];
      Map(col, res);
      for (std::size_t i = 0; i < R2; ++i) mid[i][j] = res[i];
    }
    for (std::size_t i = 0; i < R2; ++i) Map(mid[i], out[i]);
  }

  /**
   * Elements from one transform position's [rows × P] block to the next. The 16 blocks of a transform are written
   * together, one value each per tile; a stride that is a multiple of 4 KiB (128 channels × 192 tiles × 4 B is
   * 24 pages) puts all 16 in the same L1 set, and those conflict misses made the transforms 3× slower than the
   * GEMMs on a 7×7 map. kSkew moves each block by one more cache line.
   */
  static std::size_t block(std::size_t rows, std::size_t p) { return rows * p + kSkew; }
  static constexpr std::size_t kSkew = 64 / sizeof(T);

  // ---- the stages ---------------------------------------------------------------------------------------------
  //! U [16][O][C] = G g Gᵀ for every filter of w [O][C][3][3].
  std::vector<T> filter_transform(const T* w) const {
    const std::size_t c = g_.channels;
    std::vector<T> u(kPositions * out_ * c);
    for (std::size_t o = 0; o < out_; ++o)
      for (std::size_t ch = 0; ch < c; ++ch) {
        const T* f = w + (o * c + ch) * 9;
        const T in[3][3] = {{f[0], f[1], f[2]}, {f[3], f[4], f[5]}, {f[6], f[7], f[8]}};
        T t[4][4];
        two_sided<filter_map>(in, t);
        for (std::size_t xi = 0; xi < kPositions; ++xi) u[(xi * out_ + o) * c + ch] = t[xi / 4][xi % 4];
      }
    return u;
  }

  //! dw [O][C][3][3] = Gᵀ dU G, the adjoint of filter_transform.
  void filter_transform_adjoint(const std::vector<T>& du, T* dw) const {
    const std::size_t c = g_.channels;
    for (std::size_t o = 0; o < out_; ++o)
      for (std::size_t ch = 0; ch < c; ++ch) {
        T in[4][4], r[3][3];
        for (std::size_t xi = 0; xi < kPositions; ++xi) in[xi / 4][xi % 4] = du[(xi * out_ + o) * c + ch];
        two_sided<filter_map_adjoint>(in, r);
        T* f = dw + (o * c + ch) * 9;
        for (std::size_t i = 0; i < 9; ++i) f[i] = r[i / 3][i % 3];
      }
  }

  //! V [16][C][P] = Bᵀ d B for every 4×4 input tile of ns samples starting at x (P = ns · tiles).
  void input_transform(const T* x, std::size_t ns, std::size_t p, T* plane, T* v) const {
    const std::size_t c = g_.channels, stride = block(c, p);
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t ch = 0; ch < c; ++ch) {
        pad_plane(x + (s * c + ch) * g_.height * g_.width, plane);
        T* vc = v + ch * p + s * tiles_;
        for (std::size_t i = 0; i < th_; ++i)
          for (std::size_t j = 0; j < tw_; ++j) {
            const T* d = plane + 2 * i * pitch_ + 2 * j;
            const T in[4][4] = {{d[0], d[1], d[2], d[3]},
                                {d[pitch_], d[pitch_ + 1], d[pitch_ + 2], d[pitch_ + 3]},
                                {d[2 * pitch_], d[2 * pitch_ + 1], d[2 * pitch_ + 2], d[2 * pitch_ + 3]},
                                {d[3 * pitch_], d[3 * pitch_ + 1], d[3 * pitch_ + 2], d[3 * pitch_ + 3]}};
            T t[4][4];
            two_sided<input_map>(in, t);
            const std::size_t q = i * tw_ + j;
            for (std::size_t xi = 0; xi < kPositions; ++xi) vc[xi * stride + q] = t[xi / 4][xi % 4];
          }
      }
  }

  //! dx of ns samples from dV: dd = B dV Bᵀ per tile, overlap-added in a padded plane whose interior is dx.
  void input_transform_adjoint(const T* dv, std::size_t ns, std::size_t p, T* plane, T* dx) const {
    const std::size_t c = g_.channels, stride = block(c, p);
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t ch = 0; ch < c; ++ch) {
        std::fill_n(plane, plane_, T(0));
        const T* vc = dv + ch * p + s * tiles_;
        for (std::size_t i = 0; i < th_; ++i)
          for (std::size_t j = 0; j < tw_; ++j) {
            const std::size_t q = i * tw_ + j;
            T in[4][4], t[4][4];
            for (std::size_t xi = 0; xi < kPositions; ++xi) in[xi / 4][xi % 4] = vc[xi * stride + q];
            two_sided<input_map_adjoint>(in, t);
            T* d = plane + 2 * i * pitch_ + 2 * j;
            for (std::size_t r = 0; r < 4; ++r)
              for (std::size_t k = 0; k < 4; ++k) d[r * pitch_ + k] += t[r][k];
          }
        T* out = dx + (s * c + ch) * g_.height * g_.width;
        for (std::size_t h = 0; h < g_.height; ++h)
          std::copy_n(plane + (h + g_.pad_h) * pitch_ + g_.pad_w, g_.width, out + h * g_.width);
      }
  }

  //! y (+ bias) of ns samples from M [16][O][P]: Y = Aᵀ M A per tile, the parts inside the output map.
  void output_transform(const T* m, std::size_t ns, std::size_t p, const T* bias, T* y) const {
    const std::size_t stride = block(out_, p);
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t o = 0; o < out_; ++o) {
        const T* mo = m + o * p + s * tiles_;
        T* yo = y + (s * out_ + o) * oh_ * ow_;
        const T b0 = bias ? bias[o] : T(0);
        for (std::size_t i = 0; i < th_; ++i)
          for (std::size_t j = 0; j < tw_; ++j) {
            const std::size_t q = i * tw_ + j;
            T in[4][4], r[2][2];
            for (std::size_t xi = 0; xi < kPositions; ++xi) in[xi / 4][xi % 4] = mo[xi * stride + q];
            two_sided<output_map>(in, r);
            for (std::size_t u = 0; u < 2 && 2 * i + u < oh_; ++u)
              for (std::size_t w = 0; w < 2 && 2 * j + w < ow_; ++w) yo[(2 * i + u) * ow_ + 2 * j + w] = r[u][w] + b0;
          }
      }
  }

  //! Z [16][O][P] = A dY Aᵀ per tile, dY zero outside the output map: the adjoint of output_transform.
  void output_transform_adjoint(const T* dy, std::size_t ns, std::size_t p, T* z) const {
    const std::size_t stride = block(out_, p);
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t o = 0; o < out_; ++o) {
        const T* dyo = dy + (s * out_ + o) * oh_ * ow_;
        T* zo = z + o * p + s * tiles_;
        for (std::size_t i = 0; i < th_; ++i)
          for (std::size_t j = 0; j < tw_; ++j) {
            T in[2][2] = {{T(0), T(0)}, {T(0), T(0)}}, r[4][4];
            for (std::size_t u = 0; u < 2 && 2 * i + u < oh_; ++u)
              for (std::size_t w = 0; w < 2 && 2 * j + w < ow_; ++w) in[u][w] = dyo[(2 * i + u) * ow_ + 2 * j + w];
            two_sided<output_map_adjoint>(in, r);
            const std::size_t q = i * tw_ + j;
            for (std::size_t xi = 0; xi < kPositions; ++xi) zo[xi * stride + q] = r[xi / 4][xi % 4];
          }
      }
  }

  //! One input plane [H, W] into the zeroed tile buffer (row pitch 2·tw + 2, 2·th + 2 rows), at offset (pad_h, pad_w).
  void pad_plane(const T* x, T* plane) const {
    std::fill_n(plane, plane_, T(0));
    for (std::size_t h = 0; h < g_.height; ++h)
      std::copy_n(x + h * g_.width, g_.width, plane + (h + g_.pad_h) * pitch_ + g_.pad_w);
  }

  // ---- chunks over the batch ----------------------------------------------------------------------------------
  static std::size_t max_threads() {
#if defined(_OPENMP)
    return std::size_t(omp_get_max_threads());
#else
    return 1;
#endif
  }
  static std::size_t thread_id() {
#if defined(_OPENMP)
    return std::size_t(omp_get_thread_num());
#else
    return 0;
#endif
  }

  //! body(first sample, samples, scratch) for each chunk of the batch: in parallel over chunks (one scratch buffer
  //! per thread) when the backend's GEMM may run inside an OpenMP region, else in order with the GEMM's own threads.
  template <class Body>
  void for_each_chunk(std::size_t scratch_size, Body body) const {
    const std::size_t chunks = (g_.batch + chunk_ - 1) / chunk_;
    auto run = [&](std::size_t k, T* scratch) {
      const std::size_t n0 = k * chunk_;
      body(n0, std::min(chunk_, g_.batch - n0), scratch);
    };
    if constexpr (BackendTraits<B>::gemm_in_parallel_region) {
#pragma omp parallel if (chunks > 1)
      {
        auto scratch = Tensor<T>::empty(Shape{scratch_size});
#pragma omp for schedule(static)
        for (std::size_t k = 0; k < chunks; ++k) run(k, scratch.data());
      }
    } else {
      auto scratch = Tensor<T>::empty(Shape{scratch_size});
      for (std::size_t k = 0; k < chunks; ++k) run(k, scratch.data());
    }
  }

  ConvGeometry g_;
  std::size_t out_, oh_, ow_, th_, tw_, tiles_, pitch_, plane_, chunk_;
};

}  // namespace distill::detail

#endif  // DISTILL_CORE_DETAIL_WINOGRAD_CONV_HPP
