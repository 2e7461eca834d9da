// SPDX-License-Identifier: MIT
// Writes the seed corpora for the fuzzers: small *valid* files of every kind the parsers accept, so that
// libFuzzer starts from deep inside the formats instead of having to discover magic numbers.
// Usage: make_seeds <corpus-root>   (creates <root>/idx, <root>/npy, <root>/npz)
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <zlib.h>

#include "distill/io/npy.hpp"
#include "distill/io/npz.hpp"

namespace fs = std::filesystem;
namespace io = distill::io;
using Bytes = std::vector<std::byte>;

static void write(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
static void be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::byte>((v >> s) & 0xFF));
}
static void le(Bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}
static Bytes compress(const Bytes& in, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
static Bytes idx(std::uint32_t magic, std::vector<std::uint32_t> dims) {
  Bytes b;
  be32(b, magic);
  std::size_t n = 1;
  for (auto d : dims) be32(b, d), n *= d;
  for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::byte>((i * 37) & 0xFF));
  return b;
}
//! A ZIP with deflate entries, as np.savez_compressed makes (with a ZIP64 extra field in the local header).
static Bytes deflate_zip(const std::map<std::string, Bytes>& entries) {
  Bytes zip, cd;
  for (const auto& [name, content] : entries) {
    const Bytes data = compress(content, -MAX_WBITS);
    const auto crc = crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size()));
    const auto offset = zip.size();
    le(zip, 0x04034b50, 4), le(zip, 45, 2), le(zip, 0, 2), le(zip, 8, 2), le(zip, 0, 4);
    le(zip, crc, 4), le(zip, 0xFFFFFFFFu, 4), le(zip, 0xFFFFFFFFu, 4), le(zip, name.size(), 2), le(zip, 20, 2);
    for (char c : name) zip.push_back(static_cast<std::byte>(c));
    le(zip, 1, 2), le(zip, 16, 2), le(zip, content.size(), 8), le(zip, data.size(), 8);
    zip.insert(zip.end(), data.begin(), data.end());
    le(cd, 0x02014b50, 4), le(cd, 45, 2), le(cd, 45, 2), le(cd, 0, 2), le(cd, 8, 2), le(cd, 0, 4);
    le(cd, crc, 4), le(cd, data.size(), 4), le(cd, content.size(), 4), le(cd, name.size(), 2), le(cd, 0, 2);
    le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 4), le(cd, offset, 4);
    for (char c : name) cd.push_back(static_cast<std::byte>(c));
  }
  const auto cd_offset = zip.size();
  zip.insert(zip.end(), cd.begin(), cd.end());
  le(zip, 0x06054b50, 4), le(zip, 0, 2), le(zip, 0, 2), le(zip, entries.size(), 2), le(zip, entries.size(), 2);
  le(zip, cd.size(), 4), le(zip, cd_offset, 4), le(zip, 0, 2);
  return zip;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-root>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* d : {"idx", "npy", "npz"}) fs::create_directories(root / d);

  const Bytes images = idx(0x00000803, {3, 4, 5}), labels = idx(0x00000801, {7});
  write(root / "idx/images", images);
  write(root / "idx/images.gz", compress(images, 16 + MAX_WBITS));
  write(root / "idx/labels", labels);
  write(root / "idx/labels.gz", compress(labels, 16 + MAX_WBITS));
  write(root / "idx/rank4", idx(0x00000804, {1, 2, 2, 3}));

  std::map<std::string, io::NpyArray> arrays;
  arrays["f32"] = io::NpyArray::from_values(std::vector<float>{1.5f, -2, 0, 3}, {2, 2});
  arrays["f64"] = io::NpyArray::from_values(std::vector<double>{1e-3, 7});
  arrays["i64"] = io::NpyArray::from_values(std::vector<std::int64_t>{1, -2, 3}, {3, 1});
  arrays["i32"] = io::NpyArray::from_values(std::vector<std::int32_t>{4, 5});
  arrays["u8"] = io::NpyArray::from_values(std::vector<std::uint8_t>{0, 255, 9});
  arrays["scalar"] = io::NpyArray::from_values(std::vector<double>{2.5}, {});
  arrays["text"] = io::NpyArray::from_string("kip \u03b5");
  for (const auto& [key, a] : arrays) write(root / "npy" / (key + ".npy"), io::serialize_npy(a));

  io::save_npz(root / "npz/stored.npz", arrays);
  std::map<std::string, Bytes> entries;
  for (const auto& [key, a] : arrays) entries[key + ".npy"] = io::serialize_npy(a);
  write(root / "npz/deflate.npz", deflate_zip(entries));
  write(root / "npz/one.npz", deflate_zip({{"x.npy", io::serialize_npy(arrays["f32"])}}));
  return 0;
}
