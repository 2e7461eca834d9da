// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_NPZ_HPP
#define DISTILL_IO_NPZ_HPP

/**
 * @file
 * NumPy's `.npz` archives: a ZIP file whose entries are `.npy` files, one per key (np.savez,
 * np.savez_compressed, np.load(f)[key]).
 *
 * Writing: stored (uncompressed) entries with CRC-32, local headers, a central directory and the
 * end-of-central-directory record; fixed timestamps (1980-01-01), so the same arrays give the same bytes.
 * ZIP64 is not written: an archive or entry past 4 GiB is refused with an io_error before anything is
 * renamed into place. Every save is atomic (detail/atomic_file.hpp).
 *
 * Reading: stored and deflate entries (np.savez_compressed), sizes taken from the central directory
 * (NumPy writes ZIP64 extra fields even for small entries; they are understood), CRC-32 verified.
 * Offsets and sizes are checked against the archive before anything is allocated or inflated.
 */

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/detail/atomic_file.hpp"
#include "distill/io/detail/bytes.hpp"
#include "distill/io/npy.hpp"

namespace distill::io {

namespace detail {
inline constexpr std::uint32_t zip_local_sig = 0x04034b50;
inline constexpr std::uint32_t zip_central_sig = 0x02014b50;
inline constexpr std::uint32_t zip_eocd_sig = 0x06054b50;
inline constexpr std::uint32_t zip64_eocd_sig = 0x06064b50;
inline constexpr std::uint32_t zip64_locator_sig = 0x07064b50;
inline constexpr std::uint16_t zip_dos_date_1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible archives
//! Largest 32-bit size or offset a non-ZIP64 archive can carry (0xFFFFFFFF itself means "see ZIP64").
inline constexpr std::uint64_t zip32_limit = 0xFFFFFFFEu;

inline bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}
}  // namespace detail

/**
 * WHAT THIS OBJECT REPRESENTS
 *   An `.npz` archive being written: add() appends one array per key (stored as `<key>.npy`), finish()
 *   writes the directory and renames the file into place. If the writer is destroyed without finish()
 *   (for instance because an add() threw), nothing is left on disk: neither the target nor a temporary.
 */
class NpzWriter {
 public:
  //! Starts writing `path` (through a temporary file). @throw io_error when it cannot be created.
  explicit NpzWriter(const std::filesystem::path& path) : file_(path, "io::save_npz()") {}

  /**
   * Appends `array` under `key` (NumPy sees it as `np.load(path)[key]`).
   * @throw invalid_argument on an empty or repeated key, or an array whose bytes do not match its shape;
   *        io_error when the archive would pass the 4 GiB limit of non-ZIP64 archives or a write fails.
   */
  void add(std::string_view key, const NpyArray& array) {
    DISTILL_CHECK(!finished_, "NpzWriter::add(): archive '", file_.target().string(), "' is already finished");
    DISTILL_CHECK(!key.empty(), "NpzWriter::add(): key is empty, expected a name such as \"images\"");
    DISTILL_CHECK(names_.insert(std::string(key)).second, "NpzWriter::add(): key '", key, "' was already added to '",
                  file_.target().string(), "'");
    array.validate("NpzWriter::add()");
    const std::string name = std::string(key) + ".npy";
    DISTILL_CHECK(name.size() <= 0xFFFF, "NpzWriter::add(): key of ", key.size(), " bytes is too long, expected < 65532");
    const auto header = detail::npy_header(array);
    const std::uint64_t size = header.size() + array.bytes.size();
    const std::uint64_t offset = file_.tell();
    if (size > detail::zip32_limit || offset + 30 + name.size() + size > detail::zip32_limit) {
      DISTILL_THROW(io_error, "io::save_npz(): '", file_.target().string(), "' would exceed 4 GiB at key '", key,
                    "' (", size, " bytes); distill does not write ZIP64 archives, split the data into several files");
    }
    DISTILL_CHECK(entries_.size() < 0xFFFF, "NpzWriter::add(): too many keys (", entries_.size(), "), expected < 65535");
    std::uint32_t crc = detail::crc32_update(0, header);
    crc = detail::crc32_update(crc, array.bytes);

    detail::Bytes h;
    h.reserve(30 + name.size());
    detail::store_le<std::uint32_t>(h, detail::zip_local_sig);
    detail::store_le<std::uint16_t>(h, 20);  // version needed: 2.0
    detail::store_le<std::uint16_t>(h, flags(name));
    detail::store_le<std::uint16_t>(h, 0);   // method: stored
    detail::store_le<std::uint16_t>(h, 0);   // time 00:00:00
    detail::store_le<std::uint16_t>(h, detail::zip_dos_date_1980);
    detail::store_le<std::uint32_t>(h, crc);
    detail::store_le<std::uint32_t>(h, static_cast<std::uint32_t>(size));  // compressed size
    detail::store_le<std::uint32_t>(h, static_cast<std::uint32_t>(size));  // uncompressed size
    detail::store_le<std::uint16_t>(h, static_cast<std::uint16_t>(name.size()));
    detail::store_le<std::uint16_t>(h, 0);  // extra field length
    for (char c : name) h.push_back(static_cast<std::byte>(c));
    file_.write_all(h);
    file_.write_all(header);
    file_.write_all(array.bytes);
    entries_.push_back({name, crc, static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(offset)});
  }

  //! Appends a tensor as a float32 / float64 array.
  template <std::floating_point T>
  void add(std::string_view key, const Tensor<T>& t) {
    add(key, NpyArray::from_tensor(t));
  }
  //! Appends a string as a one-element '<U' array (NumPy: `str(f[key][0])`).
  void add_string(std::string_view key, std::string_view text) { add(key, NpyArray::from_string(text)); }

  /**
   * Writes the central directory and renames the archive into place.
   * @throw io_error when the directory would pass 4 GiB or a write or the rename fails.
   */
  void finish() {
    DISTILL_CHECK(!finished_, "NpzWriter::finish(): archive '", file_.target().string(), "' is already finished");
    const std::uint64_t cd_offset = file_.tell();
    detail::Bytes cd;
    for (const auto& e : entries_) {
      detail::store_le<std::uint32_t>(cd, detail::zip_central_sig);
      detail::store_le<std::uint16_t>(cd, (3 << 8) | 20);  // made by: Unix, ZIP 2.0 (so the mode below applies)
      detail::store_le<std::uint16_t>(cd, 20);             // version needed: 2.0
      detail::store_le<std::uint16_t>(cd, flags(e.name));
      detail::store_le<std::uint16_t>(cd, 0);  // stored
      detail::store_le<std::uint16_t>(cd, 0);
      detail::store_le<std::uint16_t>(cd, detail::zip_dos_date_1980);
      detail::store_le<std::uint32_t>(cd, e.crc);
      detail::store_le<std::uint32_t>(cd, e.size);
      detail::store_le<std::uint32_t>(cd, e.size);
      detail::store_le<std::uint16_t>(cd, static_cast<std::uint16_t>(e.name.size()));
      detail::store_le<std::uint16_t>(cd, 0);  // extra
      detail::store_le<std::uint16_t>(cd, 0);  // comment
      detail::store_le<std::uint16_t>(cd, 0);  // disk number
      detail::store_le<std::uint16_t>(cd, 0);  // internal attributes
      detail::store_le<std::uint32_t>(cd, 0100644u << 16);  // external attributes: regular file, rw-r--r--
      detail::store_le<std::uint32_t>(cd, e.offset);
      for (char c : e.name) cd.push_back(static_cast<std::byte>(c));
    }
    if (cd_offset + cd.size() + 22 > detail::zip32_limit) {
      DISTILL_THROW(io_error, "io::save_npz(): '", file_.target().string(),
                    "' would exceed 4 GiB; distill does not write ZIP64 archives, split the data into several files");
    }
    const auto cd_size = static_cast<std::uint32_t>(cd.size());
    detail::store_le<std::uint32_t>(cd, detail::zip_eocd_sig);
    detail::store_le<std::uint16_t>(cd, 0);  // this disk
    detail::store_le<std::uint16_t>(cd, 0);  // disk with the directory
    detail::store_le<std::uint16_t>(cd, static_cast<std::uint16_t>(entries_.size()));
    detail::store_le<std::uint16_t>(cd, static_cast<std::uint16_t>(entries_.size()));
    detail::store_le<std::uint32_t>(cd, cd_size);
    detail::store_le<std::uint32_t>(cd, static_cast<std::uint32_t>(cd_offset));
    detail::store_le<std::uint16_t>(cd, 0);  // comment length
    file_.write_all(cd);
    file_.commit();
    finished_ = true;
  }

 private:
  //! Bit 11 marks a UTF-8 name (only set when needed, as Python's zipfile does).
  static std::uint16_t flags(std::string_view name) { return detail::is_ascii(name) ? 0 : 0x0800; }

  struct Entry {
    std::string name;
    std::uint32_t crc;
    std::uint32_t size;
    std::uint32_t offset;
  };
  detail::AtomicFile file_;
  std::vector<Entry> entries_;
  std::set<std::string> names_;
  bool finished_ = false;
};

/**
 * Saves arrays as an `.npz` archive (stored entries; NumPy: `np.load(path)[key]`), atomically.
 * @throw invalid_argument on an empty key or an inconsistent array; io_error when it cannot be written.
 */
inline void save_npz(const std::filesystem::path& path, const std::map<std::string, NpyArray>& arrays) {
  NpzWriter w(path);
  for (const auto& [key, array] : arrays) w.add(key, array);
  w.finish();
}

/**
 * Parses a whole `.npz` (ZIP) archive held in memory into its arrays, keyed by entry name without `.npy`.
 * @param name  the file name, for messages (entries are reported as `name[key.npy]`).
 * @throw io_error when the archive is truncated or corrupt (no end record, bad signatures, offsets outside
 *        the file, CRC mismatch), uses encryption or a compression other than stored/deflate, repeats a
 *        key, or an entry is not a valid `.npy` file.
 */
inline std::map<std::string, NpyArray> parse_npz(std::span<const std::byte> bytes, std::string_view name) {
  using detail::load_le;
  using detail::quoted;
  const std::size_t n = bytes.size();
  const std::byte* b = bytes.data();
  auto fail = [&](const std::string& what) { DISTILL_THROW(io_error, "NPZ ", quoted(name), " ", what); };

  // 1. The end-of-central-directory record: the last 22 bytes plus an optional comment of <= 64 KiB.
  if (n < 22) fail("is truncated or not a zip archive: " + std::to_string(n) + " bytes, less than the 22-byte end record");
  std::size_t eocd = std::string_view::npos;
  const std::size_t lowest = n >= 22 + 0xFFFF ? n - 22 - 0xFFFF : 0;
  for (std::size_t pos = n - 22 + 1; pos-- > lowest;) {
    if (load_le<std::uint32_t>(b + pos) == detail::zip_eocd_sig && pos + 22 + load_le<std::uint16_t>(b + pos + 20) == n) {
      eocd = pos;
      break;
    }
  }
  if (eocd == std::string_view::npos) fail("has no end-of-central-directory record (not a zip/npz archive, or truncated)");
  if (load_le<std::uint16_t>(b + eocd + 4) != 0 || load_le<std::uint16_t>(b + eocd + 6) != 0) {
    fail("is a multi-disk (split) zip archive, which is not supported");
  }
  std::uint64_t count = load_le<std::uint16_t>(b + eocd + 10);
  std::uint64_t cd_size = load_le<std::uint32_t>(b + eocd + 12);
  std::uint64_t cd_offset = load_le<std::uint32_t>(b + eocd + 16);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
    // ZIP64 end record, found through its locator just before the classic one.
    if (eocd < 20 || load_le<std::uint32_t>(b + eocd - 20) != detail::zip64_locator_sig) {
      if (count != 0xFFFF) fail("has saturated directory fields but no ZIP64 end-record locator");
    } else {
      const std::uint64_t z = load_le<std::uint64_t>(b + eocd - 20 + 8);
      if (z > n || n - z < 56 || load_le<std::uint32_t>(b + z) != detail::zip64_eocd_sig) fail("has a corrupt ZIP64 end record");
      count = load_le<std::uint64_t>(b + z + 32);
      cd_size = load_le<std::uint64_t>(b + z + 40);
      cd_offset = load_le<std::uint64_t>(b + z + 48);
    }
  }
  if (cd_offset > eocd || cd_size > eocd - cd_offset) {
    fail("is truncated or corrupt: its central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) +
         " bytes) lies outside the file");
  }
  if (count > cd_size / 46) fail("is corrupt: " + std::to_string(count) + " entries cannot fit in a " + std::to_string(cd_size) +
                                  "-byte central directory");

  // 2. The central directory: authoritative names, sizes, CRCs and offsets.
  std::map<std::string, NpyArray> out;
  std::size_t pos = static_cast<std::size_t>(cd_offset);
  const std::size_t cd_end = static_cast<std::size_t>(cd_offset + cd_size);
  for (std::uint64_t i = 0; i < count; ++i) {
    if (cd_end - pos < 46 || load_le<std::uint32_t>(b + pos) != detail::zip_central_sig) {
      fail("is corrupt: central directory entry " + std::to_string(i) + " is missing or has a bad signature");
    }
    const std::uint16_t flags = load_le<std::uint16_t>(b + pos + 8);
    const std::uint16_t method = load_le<std::uint16_t>(b + pos + 10);
    const std::uint32_t crc = load_le<std::uint32_t>(b + pos + 16);
    std::uint64_t csize = load_le<std::uint32_t>(b + pos + 20);
    std::uint64_t usize = load_le<std::uint32_t>(b + pos + 24);
    const std::size_t nlen = load_le<std::uint16_t>(b + pos + 28);
    const std::size_t elen = load_le<std::uint16_t>(b + pos + 30);
    const std::size_t clen = load_le<std::uint16_t>(b + pos + 32);
    std::uint64_t local = load_le<std::uint32_t>(b + pos + 42);
    if (cd_end - pos - 46 < nlen + elen + clen) fail("is corrupt: central directory entry " + std::to_string(i) + " is truncated");
    const std::string entry(reinterpret_cast<const char*>(b + pos + 46), nlen);
    // ZIP64 extra field (id 1): 64-bit values for exactly those fields that hold 0xFFFFFFFF, in this order.
    for (std::size_t e = pos + 46 + nlen, e_end = e + elen; e + 4 <= e_end;) {
      const std::uint16_t id = load_le<std::uint16_t>(b + e);
      const std::size_t len = load_le<std::uint16_t>(b + e + 2);
      if (len > e_end - e - 4) fail("is corrupt: entry '" + entry + "' has a truncated extra field");
      if (id == 1) {
        std::size_t q = e + 4;
        auto take = [&](std::uint64_t& field) {
          if (field != 0xFFFFFFFFu) return;
          if (q + 8 > e + 4 + len) fail("is corrupt: entry '" + entry + "' has a short ZIP64 extra field");
          field = load_le<std::uint64_t>(b + q);
          q += 8;
        };
        take(usize);
        take(csize);
        take(local);
      }
      e += 4 + len;
    }
    pos += 46 + nlen + elen + clen;
    if (entry.empty()) fail("is corrupt: central directory entry " + std::to_string(i) + " has an empty name");
    if (entry.back() == '/') continue;  // a directory entry holds no array
    const std::string where = std::string(name) + "[" + entry + "]";
    if (flags & 0x1) fail("entry '" + entry + "' is encrypted, which is not supported");
    if (method != 0 && method != 8) {
      fail("entry '" + entry + "' uses compression method " + std::to_string(method) +
           ", expected 0 (stored) or 8 (deflate, as np.savez_compressed writes)");
    }

    // 3. The local header, whose own name and extra lengths give where the data starts.
    if (local > n || n - local < 30 || load_le<std::uint32_t>(b + local) != detail::zip_local_sig) {
      fail("is corrupt: the local header of entry '" + entry + "' is missing or outside the file");
    }
    const std::size_t lnlen = load_le<std::uint16_t>(b + local + 26);
    const std::size_t lelen = load_le<std::uint16_t>(b + local + 28);
    const std::uint64_t data = local + 30 + lnlen + lelen;
    if (data > n || csize > n - data) {
      fail("is truncated: entry '" + entry + "' declares " + std::to_string(csize) + " bytes of data at offset " + std::to_string(data) +
           " but the file has " + std::to_string(n) + " bytes");
    }
    if (std::string_view(reinterpret_cast<const char*>(b + local + 30), lnlen) != entry) {
      fail("is corrupt: entry '" + entry + "' has a different name in its local header");
    }
    const auto raw = bytes.subspan(static_cast<std::size_t>(data), static_cast<std::size_t>(csize));
    detail::Bytes inflated;
    std::span<const std::byte> content = raw;
    if (method == 0) {
      if (csize != usize) fail("is corrupt: stored entry '" + entry + "' has different compressed and uncompressed sizes");
    } else {
      // DEFLATE cannot expand data by more than ~1032:1; a larger claim is corrupt, and refusing it here
      // keeps a forged size from allocating memory.
      if (usize > csize * 1032 + 1024) {
        fail("is corrupt: deflate entry '" + entry + "' claims " + std::to_string(usize) + " bytes from only " +
             std::to_string(csize) + " compressed bytes");
      }
      inflated = detail::inflate_bytes(raw, -15, static_cast<std::size_t>(usize), where, "NPZ entry");
      content = inflated;
    }
    if (detail::crc32_of(content) != crc) fail("is corrupt: CRC-32 mismatch in entry '" + entry + "'");
    std::string key = entry;
    if (key.size() > 4 && key.ends_with(".npy")) key.resize(key.size() - 4);
    if (out.count(key)) fail("has the key '" + key + "' twice");
    out.emplace(std::move(key), parse_npy(content, where));
  }
  return out;
}

/**
 * Loads every array of an `.npz` archive (np.savez or np.savez_compressed output, or save_npz's).
 * @return the arrays keyed by name (without `.npy`).
 * @throw io_error when the file is missing or unreadable, or as parse_npz.
 */
inline std::map<std::string, NpyArray> load_npz(const std::filesystem::path& path) {
  const auto bytes = detail::read_file(path, "io::load_npz()");
  return parse_npz(bytes, path.string());
}

}  // namespace distill::io

#endif  // DISTILL_IO_NPZ_HPP
