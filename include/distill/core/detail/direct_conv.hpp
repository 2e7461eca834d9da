// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_DETAIL_DIRECT_CONV_HPP
#define DISTILL_CORE_DETAIL_DIRECT_CONV_HPP

/**
 * @file
 * Direct (im2col-free) stride-1 convolution of one sample, for layers with a few hundred taps per output at most
 * (C·kh·kw ≤ 512): LeNet's two layers (25 and 150 taps) and ConvNet's first (9). The input gradient of such a
 * layer runs on the same layout (each tap scatters into the padded dx, input_grad()), and so does its weight
 * gradient.
 *
 * Why: there im2col + GEMM fits badly. The GEMMs are small (LeNet's: 6 or 16 output channels, 100–784 positions,
 * an inner dimension of 25–150), so the BLAS spends its time packing and zeroing, and im2col (a 40–112-byte copy
 * per kernel row and output row) and col2im were over a third of an unrolled-GD outer step, whose cost is the real
 * batch's forward pass and weight gradient through LeNet.
 *
 * How: the sample is copied, zero-padded, into a buffer of row pitch Wp = W + 2·pad_w, and the output is computed
 * at every "virtual" position q = i·Wp + j with j < Wp rather than j < OW. Tap (c, ky, kx) then reads
 * xp[c·S + ky·Wp + kx + q] for contiguous q: the convolution becomes a 1-D one over the flattened image, in whole
 * SIMD packs and without edge cases. The columns j ≥ OW are garbage that the forward pass drops and that the
 * weight gradient multiplies by a zero dy. The waste is (Wp − OW)/Wp: 4/32 for LeNet's first layer, 4/14 for its
 * second, 2/30 for ConvNet's first.
 *
 * Register blocking: outputs accumulate in registers for `kForwardBlock` output channels × 2 packs of positions
 * (forward: 8 channels where the ISA has 32 vector registers, 4 otherwise), or for `kOutBlock` channels × 4 taps
 * (weight gradient; 2 taps where the ISA has 16 vector registers). A forward tap then costs 2 loads of the image
 * and kForwardBlock broadcasts of the weight per 2·kForwardBlock multiply-adds. Eight channels take LeNet's six
 * (conv1, and the input gradient of conv2) in one block: as 4 + 2, the block of 2 had only 4 independent
 * accumulators, too few to cover the multiply-add latency.
 *
 * Over a batch, the weight gradient keeps its partial sums lane-wise (accumulate_weight_grad_lanes, then
 * sum_lanes once): summing every (channel, tap) accumulator across its lanes after each sample cost as much as the
 * multiply-adds themselves in LeNet's second layer, whose 10 × 14 map is only 10 packs of positions.
 *
 * Where the output channels fill whole packs and there are many taps per weight (LeNet's second layer: 16
 * channels, 150 taps), the weight gradient puts the output channels in the lanes instead
 * (accumulate_weight_grad_by_channel): dy is transposed to [OH·OW, O], and a block of kh' × kw taps of one input
 * channel accumulates in registers over the real positions only, each multiply-add taking its image value as a
 * broadcast. No garbage columns (10 × 14 virtual positions rounded to 160 for 100 real ones in that layer), no
 * staging of dy per block, no sums across lanes; the transposition (O·OH·OW moves) is small against the
 * O·OH·OW·taps/lanes() multiply-adds.
 */

#include <algorithm>
#include <vector>
#include <cstddef>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/detail/simd.hpp"

namespace distill::detail {

/// One sample's direct convolution for a fixed geometry: forward (y = W ⋆ x + b) and the weight gradient
/// (dW += dy ⋆ x). The caller provides `scratch_size()` elements of scratch per concurrent call.
template <class T>
class DirectConv {
 public:
  //! The most taps per output (C·kh·kw) taken by the direct path. Past it (ConvNet's 128-channel layers: 1152)
  //! the GEMM has a long inner dimension, blocks for cache and wastes no garbage columns, so it wins.
  static constexpr std::size_t kMaxTaps = 512;
  //! Output channels per weight-gradient register block: 6 × 4 taps accumulators + 4 image packs fit 32 vector
  //! registers (AVX-512), 4 × 2 taps fit 16. Six take LeNet's first layer in one block: as 4 + 2, the block of 2
  //! loaded 4 image packs per 8 multiply-adds, and each block staged its own dy.
  static constexpr std::size_t kOutBlock = sizeof(Pack<T>) >= 64 ? 6 : 4;

  //! Whether the direct path takes this geometry: stride 1, few taps per output, padding below the kernel size.
  static bool applies(const ConvGeometry& g) {
    return g.stride_h == 1 && g.stride_w == 1 && g.col_rows() <= kMaxTaps && g.pad_h < g.kernel_h &&
           g.pad_w < g.kernel_w;
  }

  //! Whether input_grad() takes the layer: the direct path applies, and the input gradient's own sums (O·kh·kw
  //! terms per input value) are few too. Past that (ConvNet's 128-channel layers: 1152) GEMM or Winograd win.
  static bool input_grad_applies(const ConvGeometry& g, std::size_t out_channels) {
    return applies(g) && out_channels * g.kernel_h * g.kernel_w <= kMaxTaps;
  }

  DirectConv(const ConvGeometry& g, std::size_t out_channels)
      : g_(g), out_(out_channels), taps_(g.col_rows()), oh_(g.out_h()), ow_(g.out_w()),
        pitch_(g.width + 2 * g.pad_w), plane_((g.height + 2 * g.pad_h) * pitch_),
        positions_(round_up(oh_ * pitch_, kBlock)),
        // Reads reach C·S + (positions − OH·Wp) + kw − 2 at most (a garbage position of the last channel).
        padded_size_(g.channels * plane_ + (positions_ - oh_ * pitch_) + g.kernel_w),
        by_channel_(out_ % kLanes == 0 && (g.kernel_w == 3 || g.kernel_w == 5) && taps_ >= 4 * kLanes) {
    DISTILL_CHECK(applies(g), "DirectConv: geometry with ", taps_, " taps and stride ", g.stride_h, "x", g.stride_w,
                  " is not for the direct path (check DirectConv::applies first)");
    offset_.resize(taps_);
    for (std::size_t c = 0, t = 0; c < g.channels; ++c)
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx, ++t) offset_[t] = c * plane_ + ky * pitch_ + kx;
  }

  //! Scratch elements one call needs: the padded sample, then kForwardBlock staged output planes (or, for
  //! accumulate_weight_grad_by_channel, the transposed dy).
  std::size_t scratch_size() const {
    return padded_size_ + std::max(kForwardBlock * positions_, by_channel_ ? oh_ * ow_ * out_ : 0);
  }

  //! Scratch elements one input_grad() call needs: the padded input gradient, every channel of dy staged, and the
  //! sums of one kernel row's taps.
  std::size_t input_grad_scratch_size() const {
    return padded_size_ + sums_margin() + out_ * positions_ + g_.kernel_w * (positions_ + 2 * sums_margin());
  }

  //! y = W ⋆ x (+ bias): x one sample [C, H, W], w [O, C, kh, kw], y [O, OH, OW]; bias may be null.
  void forward(const T* x, const T* w, const T* bias, T* y, T* scratch) const {
    T* xp = scratch;
    T* stage = scratch + padded_size_;
    pad(x, xp);
    for (std::size_t o0 = 0; o0 < out_; o0 += kForwardBlock) {
      const std::size_t nb = std::min(kForwardBlock, out_ - o0);
      with_static_count<kForwardBlock>(
          nb, [&]<std::size_t NB>() { forward_block<NB>(xp, w + o0 * taps_, bias ? bias + o0 : nullptr, stage); });
      for (std::size_t b = 0; b < nb; ++b)
        for (std::size_t i = 0; i < oh_; ++i)
          copy_row(stage + b * positions_ + i * pitch_, ow_, y + ((o0 + b) * oh_ + i) * ow_);
    }
  }

  /**
   * dx = the input gradient of forward() for dy one sample [O, OH, OW], w [O, C, kh, kw]: dx [C, H, W]. Each tap t
   * scatters Σ_o w[o][t]·dy_o, taken at dy's virtual positions (zero at the garbage ones), into the padded dx at
   * the tap's offset, and dx is the padded buffer's interior. This is the forward pass read backwards: the same
   * C·kh·kw × O × OH·Wp multiply-adds as forward(). (As a direct convolution of dy padded by k − 1 − pad with the
   * flipped weights, it computed 2.6× as many for LeNet's second layer: H·(W + 2(k − 1 − pad)) positions, most of
   * whose taps read the padding.) The taps of one kernel row land one element apart, so their sums go to a buffer
   * and reach dx in one aligned pass: added tap by tap, each load of dx waited for a partly overlapping store
   * (which cannot be forwarded), and that cost more than the multiply-adds. Requires input_grad_applies().
   */
  void input_grad(const T* dy, const T* w, T* dx, T* scratch) const {
    const std::size_t kw = g_.kernel_w, margin = sums_margin(), stride = positions_ + 2 * margin;
    T* dxp = scratch;
    T* dys = dxp + padded_size_ + margin;
    T* sums = dys + out_ * positions_;
    std::fill_n(dxp, padded_size_ + margin, T(0));
    std::fill_n(sums, kw * stride, T(0));  // the margins stay zero
    stage_dy(dy, 0, out_, dys);
    for (std::size_t t = 0; t < taps_; t += kw) {  // one kernel row (c, ky) at a time
      for (std::size_t k = 0; k < kw; k += kScatterTaps)
        with_static_count<kScatterTaps>(std::min(kScatterTaps, kw - k), [&]<std::size_t NT>() {
          scatter_sums<NT>(w, dys, t + k, sums + k * stride + margin, stride);
        });
      // dxp[offset[t] + q] += Σ_kx sums[kx][q − kx]: the row's taps added in one pass, aligned to dxp.
      T* p = dxp + offset_[t];
      for (std::size_t q = 0; q < positions_ + kw - 1; q += kLanes) {
        V v = L::load(p + q);
        for (std::size_t kx = 0; kx < kw; ++kx) v += L::load(sums + kx * stride + margin + q - kx);
        L::store(v, p + q);
      }
    }
    for (std::size_t c = 0; c < g_.channels; ++c)
      for (std::size_t h = 0; h < g_.height; ++h)
        copy_row(dxp + c * plane_ + (h + g_.pad_h) * pitch_ + g_.pad_w, g_.width, dx + (c * g_.height + h) * g_.width);
  }

  //! dw += dy ⋆ x: x one sample [C, H, W], dy [O, OH, OW], dw [O, C, kh, kw].
  void accumulate_weight_grad(const T* x, const T* dy, T* dw, T* scratch) const {
    T* xp = scratch;
    T* stage = scratch + padded_size_;
    pad(x, xp);
    for (std::size_t o0 = 0; o0 < out_; o0 += kOutBlock) {
      const std::size_t nb = std::min(kOutBlock, out_ - o0);
      stage_dy(dy, o0, nb, stage);
      with_static_count<kOutBlock>(nb,
                                   [&]<std::size_t NB>() { weight_grad_block<NB, false>(xp, stage, dw + o0 * taps_); });
    }
  }

  //! The partial sums per weight that accumulate_weight_grad_lanes keeps (the SIMD width).
  static constexpr std::size_t lanes() { return Lanes<Pack<T>>::size; }

  /**
   * dwl += dy ⋆ x lane by lane: dwl [O, C·kh·kw, lanes()] holds, per weight, the partial sums that
   * accumulate_weight_grad would add up and add to dw. Call it for every sample, then sum_lanes() once.
   */
  void accumulate_weight_grad_lanes(const T* x, const T* dy, T* dwl, T* scratch) const {
    T* xp = scratch;
    T* stage = scratch + padded_size_;
    pad(x, xp);
    for (std::size_t o0 = 0; o0 < out_; o0 += kOutBlock) {
      const std::size_t nb = std::min(kOutBlock, out_ - o0);
      stage_dy(dy, o0, nb, stage);
      with_static_count<kOutBlock>(
          nb, [&]<std::size_t NB>() { weight_grad_block<NB, true>(xp, stage, dwl + o0 * taps_ * kLanes); });
    }
  }

  //! dw[i] += Σ_l dwl[i·lanes() + l] for i < n: the weight gradient from accumulate_weight_grad_lanes' sums.
  static void sum_lanes(const T* dwl, T* dw, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dw[i] += T(L::sum(L::load(dwl + i * kLanes)));
  }

  //! Whether accumulate_weight_grad_by_channel takes this layer: output channels in whole packs, a kernel width
  //! of 3 or 5 (its register blocks), and at least 4·lanes() taps, so that transposing dy stays cheap.
  bool by_channel() const { return by_channel_; }

  /**
   * dwt += (dy ⋆ x)ᵀ with the output channels in the lanes: x one sample [C, H, W], dy [O, OH, OW], dwt
   * [C·kh·kw, O] (the transposed weight gradient; add_transposed() adds it to dw [O, C·kh·kw]). Requires
   * by_channel().
   */
  void accumulate_weight_grad_by_channel(const T* x, const T* dy, T* dwt, T* scratch) const {
    DISTILL_ASSERT(by_channel_);
    const T* xp = x;  // without padding the real positions read inside the sample itself: no copy
    if (g_.pad_h != 0 || g_.pad_w != 0) {
      pad(x, scratch);
      xp = scratch;
    }
    T* dyt = scratch + padded_size_;
    const std::size_t p = oh_ * ow_;
    for (std::size_t q = 0; q < p; ++q)
      for (std::size_t o = 0; o < out_; ++o) dyt[q * out_ + o] = dy[o * p + q];
    const std::size_t kw = g_.kernel_w, rows = std::min<std::size_t>(kMaxRows, kGradRegs / kw);
    for (std::size_t c = 0; c < g_.channels; ++c)
      for (std::size_t ky = 0; ky < g_.kernel_h; ky += rows)
        with_static_count<kMaxRows>(std::min(rows, g_.kernel_h - ky), [&]<std::size_t RY>() {
          if (kw == 5)
            weight_grad_rows<5, RY>(xp, dyt, dwt, c, ky);
          else
            weight_grad_rows<3, RY>(xp, dyt, dwt, c, ky);
        });
  }

  //! dw[o][t] += dwt[t][o]: the weight gradient [O, taps] from accumulate_weight_grad_by_channel's sums.
  static void add_transposed(const T* dwt, T* dw, std::size_t out_channels, std::size_t taps) {
    for (std::size_t o = 0; o < out_channels; ++o)
      for (std::size_t t = 0; t < taps; ++t) dw[o * taps + t] += dwt[t * out_channels + o];
  }

 private:
  using V = Pack<T>;
  using L = Lanes<V>;
  static constexpr std::size_t kLanes = L::size;
  //! Taps per weight-gradient register block: 4 × kOutBlock accumulators + 4 image packs fit 32 vector registers
  //! (AVX-512), 2 × kOutBlock + 2 fit 16.
  static constexpr std::size_t kGradTaps = sizeof(V) >= 64 ? 4 : 2;
  //! Taps per input-gradient register block: 2·kScatterTaps accumulators + 2 dy packs + a broadcast.
  static constexpr std::size_t kScatterTaps = sizeof(V) >= 64 ? 8 : 4;
  //! Output channels per forward register block: 2·kForwardBlock accumulators + 2 image packs + a broadcast.
  static constexpr std::size_t kForwardBlock = sizeof(V) >= 64 ? 8 : 4;
  //! Accumulators of a by-channel weight-gradient block: the vector registers less a dy pack, a broadcast and
  //! spare ones (32 registers with AVX-512, 16 otherwise); kernel rows per block at most kMaxRows.
  static constexpr std::size_t kGradRegs = sizeof(V) >= 64 ? 26 : 12;
  static constexpr std::size_t kMaxRows = 5;

  //! dy of channels o0 … o0 + nb − 1 in the virtual layout, zero at the garbage positions so they add nothing.
  void stage_dy(const T* dy, std::size_t o0, std::size_t nb, T* stage) const {
    for (std::size_t b = 0; b < nb; ++b) {
      T* dst = stage + b * positions_;
      for (std::size_t i = 0; i < oh_; ++i) {
        copy_row(dy + ((o0 + b) * oh_ + i) * ow_, ow_, dst + i * pitch_);
        std::fill(dst + i * pitch_ + ow_, dst + (i + 1) * pitch_, T(0));
      }
      std::fill(dst + oh_ * pitch_, dst + positions_, T(0));
    }
  }
  static constexpr std::size_t kBlock = 2 * kLanes;  //!< positions per forward register block

  static std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

  //! dwt[t][o] += Σ_{i,j} dyt[i·OW + j][o] · xp[offset[t] + i·Wp + j] for the RY × KW taps t of input channel c
  //! from kernel row ky0 on, one pack of output channels at a time, over the real positions only.
  template <std::size_t KW, std::size_t RY>
  void weight_grad_rows(const T* xp, const T* dyt, T* dwt, std::size_t c, std::size_t ky0) const {
    const T* base = xp + c * plane_ + ky0 * pitch_;
    for (std::size_t o0 = 0; o0 < out_; o0 += kLanes) {
      V acc[RY][KW];
      for (std::size_t r = 0; r < RY; ++r)
        for (std::size_t k = 0; k < KW; ++k) acc[r][k] = V(T(0));
      for (std::size_t i = 0; i < oh_; ++i) {
        const T* row = base + i * pitch_;
        const T* d = dyt + i * ow_ * out_ + o0;
        for (std::size_t j = 0; j < ow_; ++j) {
          const V dv = L::load(d + j * out_);
          for (std::size_t r = 0; r < RY; ++r)
            for (std::size_t k = 0; k < KW; ++k) acc[r][k] += dv * V(row[r * pitch_ + j + k]);
        }
      }
      for (std::size_t r = 0; r < RY; ++r)
        for (std::size_t k = 0; k < KW; ++k) {
          T* p = dwt + ((c * g_.kernel_h + ky0 + r) * KW + k) * out_ + o0;
          L::store(L::load(p) + acc[r][k], p);
        }
    }
  }

  //! x into the zeroed, padded buffer (row pitch Wp, channel stride S, zero tail for the garbage reads).
  void pad(const T* x, T* xp) const {
    std::fill_n(xp, padded_size_, T(0));
    for (std::size_t c = 0; c < g_.channels; ++c)
      for (std::size_t h = 0; h < g_.height; ++h)
        copy_row(x + (c * g_.height + h) * g_.width, g_.width,
                 xp + c * plane_ + (h + g_.pad_h) * pitch_ + g_.pad_w);
  }

  //! stage[b][q] = bias[b] + Σ_t w[b][t] · xp[offset[t] + q] for NB channels, all virtual positions q.
  template <std::size_t NB>
  void forward_block(const T* xp, const T* w, const T* bias, T* stage) const {
    for (std::size_t q = 0; q < positions_; q += kBlock) {
      V acc[NB][2];
      for (std::size_t b = 0; b < NB; ++b) acc[b][0] = acc[b][1] = V(bias ? bias[b] : T(0));
      for (std::size_t t = 0; t < taps_; ++t) {
        const T* p = xp + offset_[t] + q;
        const V x0 = L::load(p), x1 = L::load(p + kLanes);
        for (std::size_t b = 0; b < NB; ++b) {
          const V wb = V(w[b * taps_ + t]);
          acc[b][0] += wb * x0;
          acc[b][1] += wb * x1;
        }
      }
      for (std::size_t b = 0; b < NB; ++b) {
        L::store(acc[b][0], stage + b * positions_ + q);
        L::store(acc[b][1], stage + b * positions_ + q + kLanes);
      }
    }
  }

  //! sums[k·stride + q] = Σ_o w[o][t + k] · dys[o][q] for NT taps of one kernel row, all virtual positions q.
  template <std::size_t NT>
  void scatter_sums(const T* w, const T* dys, std::size_t t, T* sums, std::size_t stride) const {
    for (std::size_t q = 0; q < positions_; q += kBlock) {
      V acc[NT][2];
      for (std::size_t k = 0; k < NT; ++k) acc[k][0] = acc[k][1] = V(T(0));
      for (std::size_t o = 0; o < out_; ++o) {
        const T* d = dys + o * positions_ + q;
        const V d0 = L::load(d), d1 = L::load(d + kLanes);
        for (std::size_t k = 0; k < NT; ++k) {
          const V wk = V(w[o * taps_ + t + k]);
          acc[k][0] += wk * d0;
          acc[k][1] += wk * d1;
        }
      }
      for (std::size_t k = 0; k < NT; ++k) {
        L::store(acc[k][0], sums + k * stride + q);
        L::store(acc[k][1], sums + k * stride + q + kLanes);
      }
    }
  }

  //! Zeros before and after each row of input_grad()'s sums, so that the shifted reads of the last pass stay in
  //! the buffer: at least kw − 1, in whole packs.
  std::size_t sums_margin() const { return round_up(g_.kernel_w - 1, kLanes); }

  //! dw[b][t] += Σ_q stage[b][q] · xp[offset[t] + q] for NB channels, kGradTaps taps per pass (then 2, then 1);
  //! ToLanes: into dw [NB, taps, lanes] lane-wise instead.
  template <std::size_t NB, bool ToLanes>
  void weight_grad_block(const T* xp, const T* stage, T* dw) const {
    std::size_t t = 0;
    if constexpr (kGradTaps == 4)
      for (; t + 4 <= taps_; t += 4) weight_grad_taps<NB, 4, ToLanes>(xp, stage, dw, t);
    for (; t + 2 <= taps_; t += 2) weight_grad_taps<NB, 2, ToLanes>(xp, stage, dw, t);
    if (t < taps_) weight_grad_taps<NB, 1, ToLanes>(xp, stage, dw, t);
  }

  template <std::size_t NB, std::size_t NT, bool ToLanes>
  void weight_grad_taps(const T* xp, const T* stage, T* dw, std::size_t t) const {
    V acc[NB][NT];
    for (std::size_t b = 0; b < NB; ++b)
      for (std::size_t k = 0; k < NT; ++k) acc[b][k] = V(T(0));
    for (std::size_t q = 0; q < positions_; q += kLanes) {
      V d[NB];
      for (std::size_t b = 0; b < NB; ++b) d[b] = L::load(stage + b * positions_ + q);
      for (std::size_t k = 0; k < NT; ++k) {
        const V x = L::load(xp + offset_[t + k] + q);
        for (std::size_t b = 0; b < NB; ++b) acc[b][k] += d[b] * x;
      }
    }
    for (std::size_t b = 0; b < NB; ++b)
      for (std::size_t k = 0; k < NT; ++k) {
        if constexpr (ToLanes) {
          T* p = dw + (b * taps_ + t + k) * kLanes;
          L::store(L::load(p) + acc[b][k], p);
        } else {
          dw[b * taps_ + t + k] += T(L::sum(acc[b][k]));
        }
      }
  }

  ConvGeometry g_;
  std::size_t out_, taps_, oh_, ow_, pitch_, plane_, positions_, padded_size_;
  bool by_channel_;  //!< see by_channel()
  std::vector<std::size_t> offset_;  //!< tap t = (c, ky, kx) → c·S + ky·Wp + kx
};

}  // namespace distill::detail

#endif  // DISTILL_CORE_DETAIL_DIRECT_CONV_HPP
