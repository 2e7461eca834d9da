// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_PNG_HPP
#define DISTILL_IO_PNG_HPP

/**
 * @file
 * PNG image grids: the standard way to look at a distilled set (one row per class, images side by side).
 * Needs stb_image_write (Debian: libstb-dev); without it, including this header stops the build with a
 * message that says so.
 */

#include "distill/core/config.hpp"

#if !DISTILL_HAS_STB
#error "distill/io/png.hpp needs stb_image_write.h (<stb/stb_image_write.h>; Debian/Ubuntu: apt install libstb-dev). Install it, or do not include distill/io/png.hpp."
#else

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/detail/atomic_file.hpp"
#include "distill/io/detail/stb_write.hpp"

namespace distill::io {

/// How image values map to 0..255.
enum class Scaling {
  global,     //!< one min..max over the whole batch (keeps brightness comparable across images)
  per_image,  //!< each image stretched to its own min..max (shows the structure of faint images)
  clamp,      //!< values are taken as [0, 1] and clamped (raw pixels)
};

/// Layout of write_png_grid; every field has a default.
struct GridOptions {
  std::size_t columns = 0;                   //!< images per row; 0 = ceil(sqrt(N)), or the largest class with rows_by_label
  std::vector<std::int64_t> rows_by_label = {};  //!< optional: one label per image; class k's images go to row k
  Scaling scaling = Scaling::global;         //!< how values map to 0..255
  std::size_t padding = 1;                   //!< pixels between and around images
  std::size_t upscale = 1;                   //!< each pixel becomes an upscale x upscale block
  double pad_value = 1.0;                    //!< padding brightness in [0, 1] (1 = white)
};

/// An 8-bit image in row-major HWC order (what stb writes).
struct Image8 {
  std::size_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};

/**
 * Lays out a batch of images as one 8-bit image (the pixels write_png_grid encodes).
 * @param images  [N, C, H, W] with C = 1 (grey) or 3 (RGB), or [N, H, W] (grey).
 * @throw invalid_argument on another shape, N = 0, non-finite values, labels that do not match N or are
 *        negative, upscale = 0, or a grid larger than 2^31 pixels per side.
 */
template <std::floating_point T>
Image8 render_grid(const Tensor<T>& images, const GridOptions& options = {}) {
  DISTILL_CHECK(images.rank() == 4 || images.rank() == 3, "io::write_png_grid(): images have shape ", show(images.shape()),
                ", expected [N, C, H, W] (C = 1 or 3) or [N, H, W]");
  const std::size_t n = images.shape(0);
  const std::size_t c = images.rank() == 4 ? images.shape(1) : 1;
  const std::size_t h = images.shape(images.rank() - 2), w = images.shape(images.rank() - 1);
  DISTILL_CHECK(c == 1 || c == 3, "io::write_png_grid(): images have ", c, " channels (shape ", show(images.shape()),
                "), expected 1 (grey) or 3 (RGB)");
  DISTILL_CHECK(n > 0 && h > 0 && w > 0, "io::write_png_grid(): images have shape ", show(images.shape()), ", expected no empty axis");
  DISTILL_CHECK(options.upscale >= 1, "io::write_png_grid(): upscale is 0, expected >= 1");
  DISTILL_CHECK(options.pad_value >= 0 && options.pad_value <= 1, "io::write_png_grid(): pad_value is ", options.pad_value,
                ", expected a value in [0, 1]");
  DISTILL_CHECK(images.all_finite(), "io::write_png_grid(): images contain NaN or infinity");

  // Grid cells: (row, column) for each image.
  std::vector<std::size_t> cell_row(n), cell_col(n);
  std::size_t cols = 0, rows = 0;
  if (!options.rows_by_label.empty()) {
    const auto& labels = options.rows_by_label;
    DISTILL_CHECK(labels.size() == n, "io::write_png_grid(): rows_by_label has ", labels.size(), " labels for ", n,
                  " images, expected one per image");
    std::int64_t max_label = 0;
    for (std::size_t i = 0; i < n; ++i) {
      DISTILL_CHECK(labels[i] >= 0, "io::write_png_grid(): rows_by_label[", i, "] is ", labels[i], ", expected >= 0");
      max_label = std::max(max_label, labels[i]);
    }
    DISTILL_CHECK(static_cast<std::uint64_t>(max_label) < n + 1024, "io::write_png_grid(): rows_by_label has label ", max_label,
                  ", which would make more empty rows than images");
    const std::size_t k = static_cast<std::size_t>(max_label) + 1;
    std::vector<std::size_t> count(k, 0);
    for (auto l : labels) ++count[static_cast<std::size_t>(l)];
    cols = options.columns ? options.columns : std::max<std::size_t>(1, *std::max_element(count.begin(), count.end()));
    // A class with more images than columns wraps onto extra rows; an absent class keeps its (empty) row.
    std::vector<std::size_t> first_row(k, 0), seen(k, 0);
    for (std::size_t cls = 0; cls < k; ++cls) {
      first_row[cls] = rows;
      rows += std::max<std::size_t>(1, (count[cls] + cols - 1) / cols);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto cls = static_cast<std::size_t>(labels[i]);
      cell_row[i] = first_row[cls] + seen[cls] / cols;
      cell_col[i] = seen[cls] % cols;
      ++seen[cls];
    }
  } else {
    cols = options.columns ? options.columns : static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    cols = std::min(cols, n);
    rows = (n + cols - 1) / cols;
    for (std::size_t i = 0; i < n; ++i) cell_row[i] = i / cols, cell_col[i] = i % cols;
  }

  const std::size_t up = options.upscale, pad = options.padding;
  const std::size_t cell_h = h * up, cell_w = w * up;
  const long double out_w = static_cast<long double>(cols) * (cell_w + pad) + pad;
  const long double out_h = static_cast<long double>(rows) * (cell_h + pad) + pad;
  // stb_image_write indexes with int: keep the filtered image ((width * C + 1) * height bytes) below 2^31.
  DISTILL_CHECK((out_w * c + 1) * out_h < static_cast<long double>(std::numeric_limits<int>::max()), "io::write_png_grid(): grid of ",
                static_cast<double>(out_w), " x ", static_cast<double>(out_h), " pixels is too large for PNG encoding (< 2 GiB); lower upscale or columns");

  Image8 img;
  img.width = static_cast<std::size_t>(out_w);
  img.height = static_cast<std::size_t>(out_h);
  img.channels = c;
  const auto pad8 = static_cast<std::uint8_t>(std::lround(options.pad_value * 255));
  img.pixels.assign(img.width * img.height * c, pad8);

  const std::size_t per_image = c * h * w;
  auto range_of = [&](const T* p, std::size_t count) {
    auto [lo, hi] = std::minmax_element(p, p + count);
    return std::pair<double, double>(*lo, *hi);
  };
  std::pair<double, double> global{0.0, 1.0};
  if (options.scaling == Scaling::global) global = range_of(images.data(), images.size());

  for (std::size_t i = 0; i < n; ++i) {
    const T* src = images.data() + i * per_image;
    auto [lo, hi] = options.scaling == Scaling::per_image ? range_of(src, per_image) : global;
    // A constant image has no range to stretch; show its value as is (clamped), so a blank stays blank.
    const bool flat = options.scaling == Scaling::clamp || !(hi > lo);
    const double scale = flat ? 1.0 : 1.0 / (hi - lo);
    const double offset = flat ? 0.0 : lo;
    const std::size_t y0 = pad + cell_row[i] * (cell_h + pad), x0 = pad + cell_col[i] * (cell_w + pad);
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        for (std::size_t ch = 0; ch < c; ++ch) {
          const double v = std::clamp((static_cast<double>(src[(ch * h + y) * w + x]) - offset) * scale, 0.0, 1.0);
          const auto byte = static_cast<std::uint8_t>(std::lround(v * 255));
          for (std::size_t dy = 0; dy < up; ++dy) {
            std::uint8_t* row = img.pixels.data() + ((y0 + y * up + dy) * img.width + x0 + x * up) * c + ch;
            for (std::size_t dx = 0; dx < up; ++dx) row[dx * c] = byte;
          }
        }
      }
    }
  }
  return img;
}

/**
 * PNG-encodes an 8-bit image in memory.
 * @throw io_error when the encoder fails.
 */
inline std::vector<std::byte> encode_png(const Image8& img) {
  std::vector<std::byte> out;
  auto sink = [](void* ctx, void* data, int size) {
    auto* o = static_cast<std::vector<std::byte>*>(ctx);
    const auto* p = static_cast<const std::byte*>(data);
    o->insert(o->end(), p, p + size);
  };
  const int ok = stbi_write_png_to_func(sink, &out, static_cast<int>(img.width), static_cast<int>(img.height),
                                        static_cast<int>(img.channels), img.pixels.data(), static_cast<int>(img.width * img.channels));
  if (!ok) DISTILL_THROW(io_error, "io::encode_png(): stb_image_write failed to encode a ", img.width, " x ", img.height, " image");
  return out;
}

/**
 * Writes a batch of images as one PNG grid (atomically).
 *
 *     dd::io::write_png_grid("kip.png", set.images, {.rows_by_label = labels, .upscale = 2});
 *
 * @param images  [N, C, H, W] with C = 1 or 3, or [N, H, W]; any value range (see GridOptions::scaling).
 * @throw invalid_argument as render_grid; io_error when the file cannot be written.
 */
template <std::floating_point T>
void write_png_grid(const std::filesystem::path& path, const Tensor<T>& images, const GridOptions& options = {}) {
  const auto png = encode_png(render_grid(images, options));
  detail::atomic_write(path, "io::write_png_grid()", [&](detail::AtomicFile& f) { f.write_all(png); });
}

}  // namespace distill::io

#endif  // DISTILL_HAS_STB
#endif  // DISTILL_IO_PNG_HPP
