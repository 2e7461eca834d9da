// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_CIFAR_HPP
#define DISTILL_IO_CIFAR_HPP

/**
 * @file
 * CIFAR-10 in its "binary version" (Krizhevsky 2009, Learning Multiple Layers of Features from Tiny Images,
 * https://www.cs.toronto.edu/~kriz/cifar.html): the folder `cifar-10-batches-bin/` holds
 *
 *   data_batch_1.bin ... data_batch_5.bin   the training split (10000 records each)
 *   test_batch.bin                          the test split (10000 records)
 *
 * A file is a plain sequence of 3073-byte records, no header: 1 label byte (0..9), then 3072 pixel bytes,
 * the 1024 red values, then the 1024 green, then the 1024 blue, each plane row-major 32 x 32. That is already
 * the channel-plane order of [C, H, W], so a record's pixels are copied in file order; value = byte / 255.
 *
 * Every file's size is checked (a positive multiple of 3073) before anything is allocated, and every label
 * byte is checked (<= 9), so a truncated download or a CIFAR-100 file fails with an io_error naming the file.
 */

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/detail/bytes.hpp"
#include "distill/io/labeled_data.hpp"

namespace distill::io {

namespace detail {
inline constexpr std::size_t cifar_side = 32;                                    //!< images are 32 x 32
inline constexpr std::size_t cifar_pixels = 3 * cifar_side * cifar_side;         //!< 3072 bytes per image
inline constexpr std::size_t cifar_record = 1 + cifar_pixels;                    //!< 3073 bytes per record
inline constexpr std::size_t cifar_classes = 10;
inline constexpr std::size_t cifar_train_batches = 5;  //!< data_batch_1.bin ... data_batch_5.bin

//! The size of `file` in bytes, checked to be a positive multiple of the 3073-byte record.
inline std::size_t cifar_file_size(const std::filesystem::path& file, std::string_view where) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    DISTILL_THROW(io_error, where, ": cannot open CIFAR-10 batch ", quoted(file.string()),
                  std::filesystem::exists(file, ec) ? ": not a regular file" : ": no such file");
  }
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) DISTILL_THROW(io_error, where, ": cannot read the size of CIFAR-10 batch ", quoted(file.string()), ": ", ec.message());
  if (size == 0 || size % cifar_record != 0) {
    DISTILL_THROW(io_error, where, ": CIFAR-10 batch ", quoted(file.string()), " is truncated or not a CIFAR-10 binary batch: ",
                  size, " bytes, expected a positive multiple of ", cifar_record, " (1 label byte + 3072 pixel bytes per record; ",
                  size / cifar_record, " whole records and ", size % cifar_record, " bytes left over)");
  }
  return static_cast<std::size_t>(size);
}
}  // namespace detail

/**
 * Loads CIFAR-10 binary batch files and concatenates them in the order given.
 *
 *     auto train = dd::io::load_cifar10_batches<float>({dir / "data_batch_1.bin", dir / "data_batch_2.bin"});
 *
 * @param files  one or more batch files (3073-byte records: label, then the R, G and B planes).
 * @return images [N, 3, 32, 32] with values byte / 255 in [0, 1], labels in 0..9, num_classes = 10.
 * @throw invalid_argument when `files` is empty; io_error naming the file when one is missing or unreadable,
 *        when its size is not a positive multiple of 3073 bytes (the message gives the size), or when a
 *        record's label byte is above 9 (the message gives the record).
 */
template <std::floating_point T = float>
LabeledData<T> load_cifar10_batches(const std::vector<std::filesystem::path>& files) {
  constexpr std::string_view where = "io::load_cifar10_batches()";
  DISTILL_CHECK(!files.empty(), where, ": files is empty, expected at least one CIFAR-10 batch file (e.g. data_batch_1.bin)");
  // Sizes first: every file is checked before the (possibly 600 MB) tensor is allocated.
  std::vector<std::size_t> records(files.size());
  std::size_t total = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    records[f] = detail::cifar_file_size(files[f], where) / detail::cifar_record;
    total += records[f];
  }
  LabeledData<T> out{Tensor<T>::empty({total, 3, detail::cifar_side, detail::cifar_side}), std::vector<std::int64_t>(total),
                     detail::cifar_classes};
  std::array<T, 256> lut;  // one rounding of 1/255 per byte value, the same for every pixel (as parse_idx_images)
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<T>(v) / T(255);
  std::size_t row = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const auto bytes = detail::read_file(files[f], where);
    if (bytes.size() != records[f] * detail::cifar_record) {  // the file changed since it was measured
      DISTILL_THROW(io_error, where, ": CIFAR-10 batch ", detail::quoted(files[f].string()), " changed size while it was read (",
                    records[f] * detail::cifar_record, " then ", bytes.size(), " bytes)");
    }
    for (std::size_t r = 0; r < records[f]; ++r, ++row) {
      const std::byte* rec = bytes.data() + r * detail::cifar_record;
      const auto label = std::to_integer<unsigned>(rec[0]);
      if (label >= detail::cifar_classes) {
        DISTILL_THROW(io_error, where, ": CIFAR-10 batch ", detail::quoted(files[f].string()), " record ", r, " (byte offset ",
                      r * detail::cifar_record, ") has label ", label,
                      ", expected 0..9 (is this a CIFAR-100 file, whose records have 2 label bytes?)");
      }
      out.labels[row] = static_cast<std::int64_t>(label);
      T* dst = out.images.data() + row * detail::cifar_pixels;
      for (std::size_t k = 0; k < detail::cifar_pixels; ++k) dst[k] = lut[std::to_integer<unsigned>(rec[1 + k])];
    }
  }
  return out;
}

/**
 * Loads one split of a CIFAR-10 binary folder (`cifar-10-batches-bin/`, as extracted from
 * cifar-10-binary.tar.gz).
 * @param dir    the folder holding data_batch_1.bin ... data_batch_5.bin and test_batch.bin.
 * @param split  "train": every data_batch_K.bin that exists for K = 1..5, in order of K (data_batch_1.bin is
 *               required, so a subset for quick runs is data_batch_1.bin alone); "test": test_batch.bin.
 * @return images [N, 3, 32, 32] in [0, 1], labels in 0..9, num_classes = 10.
 * @throw invalid_argument on another split; io_error naming the missing file, or as load_cifar10_batches.
 */
template <std::floating_point T = float>
LabeledData<T> load_cifar10_folder(const std::filesystem::path& dir, std::string_view split) {
  constexpr std::string_view where = "io::load_cifar10_folder()";
  DISTILL_CHECK(split == "train" || split == "test", where, ": split is '", split, "', expected \"train\" or \"test\"");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    DISTILL_THROW(io_error, where, ": CIFAR-10 folder ", detail::quoted(dir.string()), " does not exist or is not a folder");
  }
  std::vector<std::filesystem::path> files;
  if (split == "test") {
    files.push_back(dir / "test_batch.bin");
    if (!std::filesystem::exists(files[0], ec)) {
      DISTILL_THROW(io_error, where, ": cannot find ", detail::quoted(files[0].string()),
                    ", the test split of the CIFAR-10 binary folder ", detail::quoted(dir.string()));
    }
  } else {
    for (std::size_t k = 1; k <= detail::cifar_train_batches; ++k) {
      const auto file = dir / ("data_batch_" + std::to_string(k) + ".bin");
      if (std::filesystem::exists(file, ec)) files.push_back(file);
      else if (k == 1) {
        DISTILL_THROW(io_error, where, ": cannot find ", detail::quoted(file.string()), ", expected data_batch_1.bin ... ",
                      "data_batch_5.bin (at least the first) in the CIFAR-10 binary folder ", detail::quoted(dir.string()));
      }
    }
  }
  return load_cifar10_batches<T>(files);
}

}  // namespace distill::io

#endif  // DISTILL_IO_CIFAR_HPP
