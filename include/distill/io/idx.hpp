// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_IDX_HPP
#define DISTILL_IO_IDX_HPP

/**
 * @file
 * IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/).
 *
 * Layout: a 4-byte big-endian magic `00 00 <dtype> <ndim>`, then `ndim` big-endian uint32 extents, then the
 * data in row-major order. distill reads dtype 0x08 (unsigned byte), which is what the image and label files
 * of both data sets use: images `0x00000803` ([N, rows, cols]), labels `0x00000801` ([N]).
 *
 * Files may be raw or gzip-compressed; gzip is recognised by its magic bytes 1f 8b, not by the file name.
 * Every extent is checked against the bytes that are actually there *before* anything is allocated, so a
 * corrupt 20-byte file that claims 10^9 images fails at once with an io_error naming the file.
 */

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/detail/bytes.hpp"
#include "distill/io/labeled_data.hpp"

namespace distill::io {

namespace detail {

//! The parsed header of an IDX file and where its data starts.
struct IdxHeader {
  std::uint8_t dtype = 0;
  Shape shape;
  std::size_t data_offset = 0;
};

inline const char* idx_dtype_name(std::uint8_t t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

inline std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x00000000";
  for (int i = 0; i < 8; ++i) s[9 - i] = digits[(v >> (4 * i)) & 0xF];
  return s;
}

/**
 * Validates an IDX header: magic, dtype 0x08, rank in [min_rank, max_rank], positive extents whose product
 * equals the number of data bytes present.
 * @param what  "IDX images" / "IDX labels", for messages.
 */
inline IdxHeader parse_idx_header(ByteSpan bytes, std::string_view name, std::string_view what, std::size_t min_rank,
                                  std::size_t max_rank, std::uint32_t expected_magic) {
  if (bytes.size() < 4) {
    DISTILL_THROW(io_error, what, " ", quoted(name), " is truncated: ", bytes.size(),
                  " bytes, too short for the 4-byte IDX magic number (expected ", hex32(expected_magic), ")");
  }
  const std::uint32_t magic = load_be<std::uint32_t>(bytes.data());
  const std::uint8_t dtype = static_cast<std::uint8_t>((magic >> 8) & 0xFF);
  const std::size_t rank = magic & 0xFF;
  if ((magic >> 16) != 0) {
    DISTILL_THROW(io_error, what, " ", quoted(name), " has bad magic number ", hex32(magic), ", expected ", hex32(expected_magic),
                  " (is this an IDX file?)");
  }
  if (dtype != 0x08) {
    DISTILL_THROW(io_error, what, " ", quoted(name), " has unsupported dtype byte 0x", hex32(dtype).substr(8), " (",
                  idx_dtype_name(dtype), "), expected 0x08 (unsigned byte)");
  }
  if (rank < min_rank || rank > max_rank) {
    DISTILL_THROW(io_error, what, " ", quoted(name), " has bad magic number ", hex32(magic), " (", rank,
                  " dimensions), expected ", hex32(expected_magic),
                  expected_magic == 0x00000801 ? " (a 1-d label file)" : " (an image file of rank >= 2)");
  }
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    DISTILL_THROW(io_error, what, " ", quoted(name), " is truncated: ", bytes.size(), " bytes, but its header alone needs ", header);
  }
  IdxHeader h;
  h.dtype = dtype;
  h.data_offset = header;
  h.shape.resize(rank);
  const std::size_t available = bytes.size() - header;
  std::size_t count = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    h.shape[i] = load_be<std::uint32_t>(bytes.data() + 4 + 4 * i);
    if (h.shape[i] == 0) {
      DISTILL_THROW(io_error, what, " ", quoted(name), " declares dimension ", i, " as 0, expected every extent > 0");
    }
    // The running product is compared with the bytes present at every step, so it can neither overflow
    // nor lead to an allocation the file cannot back.
    if (mul_overflows(count, h.shape[i], count) || count > available) {
      DISTILL_THROW(io_error, what, " ", quoted(name), " is truncated or corrupt: header declares shape ", show(h.shape),
                    " but only ", available, " data bytes follow the header");
    }
  }
  if (count != available) {
    DISTILL_THROW(io_error, what, " ", quoted(name), " has ", available - count, " unexpected trailing bytes after the ", count,
                  " data bytes of shape ", show(h.shape));
  }
  return h;
}

//! The decompressed content: a view of `bytes` itself when raw, else the inflated copy in `storage`.
inline ByteSpan maybe_gunzip(ByteSpan bytes, Bytes& storage, std::string_view name, std::string_view what) {
  if (!is_gzip(bytes)) return bytes;
  storage = gunzip(bytes, name, what);
  return storage;
}

}  // namespace detail

/**
 * Parses IDX images held in memory (raw or gzip) into pixel values scaled to [0, 1].
 * @param bytes  the whole file.
 * @param name   the file name, for messages.
 * @return a tensor of shape [N, rows, cols] (or [N, ...] for other ranks >= 2), value = byte / 255.
 * @throw io_error on a bad magic number, an unsupported dtype, a zero extent, truncation, trailing bytes or
 *        corrupt gzip data; the message names the file and the problem.
 */
template <std::floating_point T = float>
Tensor<T> parse_idx_images(std::span<const std::byte> bytes, std::string_view name) {
  detail::Bytes storage;
  const auto data = detail::maybe_gunzip(bytes, storage, name, "IDX images");
  const auto h = detail::parse_idx_header(data, name, "IDX images", 2, 8, 0x00000803);
  Tensor<T> out = Tensor<T>::empty(h.shape);
  // A 256-entry table turns the conversion into one load per pixel (and 1/255 is rounded once, the same way
  // for every pixel).
  std::array<T, 256> lut;
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<T>(v) / T(255);
  const std::byte* src = data.data() + h.data_offset;
  T* dst = out.data();
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; ++i) dst[i] = lut[std::to_integer<unsigned>(src[i])];
  return out;
}

/**
 * Parses IDX labels held in memory (raw or gzip).
 * @return N labels, each in [0, 255].
 * @throw io_error as parse_idx_images, or when the file is not a 1-d unsigned-byte file (magic 0x00000801).
 */
inline std::vector<std::int64_t> parse_idx_labels(std::span<const std::byte> bytes, std::string_view name) {
  detail::Bytes storage;
  const auto data = detail::maybe_gunzip(bytes, storage, name, "IDX labels");
  const auto h = detail::parse_idx_header(data, name, "IDX labels", 1, 1, 0x00000801);
  std::vector<std::int64_t> labels(h.shape[0]);
  const std::byte* src = data.data() + h.data_offset;
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = std::to_integer<std::int64_t>(src[i]);
  return labels;
}

/**
 * Loads an IDX image file (raw or .gz) with pixel values scaled to [0, 1].
 * @return shape [N, rows, cols] for the usual `idx3` files.
 * @throw io_error when the file is missing or unreadable, or as parse_idx_images.
 */
template <std::floating_point T = float>
Tensor<T> load_idx_images(const std::filesystem::path& path) {
  const auto bytes = detail::read_file(path, "io::load_idx_images()");
  return parse_idx_images<T>(bytes, path.string());
}

/**
 * Loads an IDX label file (raw or .gz).
 * @throw io_error when the file is missing or unreadable, or as parse_idx_labels.
 */
inline std::vector<std::int64_t> load_idx_labels(const std::filesystem::path& path) {
  const auto bytes = detail::read_file(path, "io::load_idx_labels()");
  return parse_idx_labels(bytes, path.string());
}

/**
 * Loads an image file and its label file into a LabeledData with images [N, 1, rows, cols] in [0, 1] and
 * num_classes = largest label + 1.
 * @throw io_error as load_idx_images / load_idx_labels, when the image file is not 3-d ([N, rows, cols]),
 *        or when the two files hold different numbers of examples.
 */
template <std::floating_point T = float>
LabeledData<T> load_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path) {
  Tensor<T> images = load_idx_images<T>(images_path);
  if (images.rank() != 3) {
    DISTILL_THROW(io_error, "io::load_idx(): IDX images '", images_path.string(), "' have shape ", show(images.shape()),
                  ", expected [N, rows, cols] (magic 0x00000803)");
  }
  auto labels = load_idx_labels(labels_path);
  if (labels.size() != images.shape(0)) {
    DISTILL_THROW(io_error, "io::load_idx(): label/image count mismatch: '", labels_path.string(), "' has ", labels.size(),
                  " labels but '", images_path.string(), "' has ", images.shape(0), " images");
  }
  std::int64_t max_label = -1;
  for (auto l : labels) max_label = std::max(max_label, l);
  const std::size_t n = images.shape(0);
  LabeledData<T> data{images.reshape({n, 1, images.shape(1), images.shape(2)}), std::move(labels),
                      static_cast<std::size_t>(max_label + 1)};
  return data;
}

}  // namespace distill::io

#endif  // DISTILL_IO_IDX_HPP
