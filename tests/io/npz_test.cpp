// SPDX-License-Identifier: MIT
// Tests for include/distill/io/npz.hpp: ZIP writing/reading, stored and deflate entries, corruption, NumPy interop.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "distill/io/npz.hpp"
#include "io_test_support.hpp"
#include "support/skip.hpp"

namespace dd = distill;
namespace io = distill::io;
using Catch::Matchers::Contains;
using iotest::Bytes;
using iotest::require_io_error;

namespace {
void put16(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}
void put32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

//! A minimal ZIP archive built independently of distill's writer (method 8 = deflate, 0 = stored).
Bytes make_zip(const std::vector<std::pair<std::string, Bytes>>& entries, int method) {
  Bytes zip, cd;
  for (const auto& [name, content] : entries) {
    const Bytes data = method == 8 ? iotest::deflate_raw(content) : content;
    const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())));
    const auto offset = static_cast<std::uint32_t>(zip.size());
    put32(zip, 0x04034b50); put16(zip, 20); put16(zip, 0); put16(zip, method); put16(zip, 0); put16(zip, 0x21);
    put32(zip, crc); put32(zip, static_cast<std::uint32_t>(data.size())); put32(zip, static_cast<std::uint32_t>(content.size()));
    put16(zip, static_cast<std::uint32_t>(name.size())); put16(zip, 0);
    for (char c : name) zip.push_back(static_cast<std::byte>(c));
    zip.insert(zip.end(), data.begin(), data.end());
    put32(cd, 0x02014b50); put16(cd, 20); put16(cd, 20); put16(cd, 0); put16(cd, method); put16(cd, 0); put16(cd, 0x21);
    put32(cd, crc); put32(cd, static_cast<std::uint32_t>(data.size())); put32(cd, static_cast<std::uint32_t>(content.size()));
    put16(cd, static_cast<std::uint32_t>(name.size())); put16(cd, 0); put16(cd, 0); put16(cd, 0); put16(cd, 0); put32(cd, 0);
    put32(cd, offset);
    for (char c : name) cd.push_back(static_cast<std::byte>(c));
  }
  const auto cd_offset = static_cast<std::uint32_t>(zip.size());
  zip.insert(zip.end(), cd.begin(), cd.end());
  put32(zip, 0x06054b50); put16(zip, 0); put16(zip, 0); put16(zip, static_cast<std::uint32_t>(entries.size()));
  put16(zip, static_cast<std::uint32_t>(entries.size())); put32(zip, static_cast<std::uint32_t>(cd.size())); put32(zip, cd_offset);
  put16(zip, 0);
  return zip;
}

std::map<std::string, io::NpyArray> sample_arrays() {
  std::map<std::string, io::NpyArray> m;
  dd::Tensor<float> images({2, 1, 2, 2}, {0, 0.25f, 0.5f, 1, -1, 2, 3, 4});
  m["images"] = io::NpyArray::from_tensor(images);
  m["labels"] = io::NpyArray::from_values(std::vector<std::int64_t>{3, 9});
  m["weights"] = io::NpyArray::from_tensor(dd::Tensor<double>({3}, {1e-9, 2, 3}));
  m["mask"] = io::NpyArray::from_values(std::vector<std::uint8_t>{1, 0, 1, 1}, {2, 2});
  m["method"] = io::NpyArray::from_string("kip");
  return m;
}
}  // namespace

TEST_CASE("npz: save_npz / load_npz round trip every dtype", "[io][npz]") {
  iotest::TempDir dir;
  const auto arrays = sample_arrays();
  io::save_npz(dir / "a.npz", arrays);
  REQUIRE(dir.entries() == std::vector<std::string>{"a.npz"});  // no temporary left behind
  const auto back = io::load_npz(dir / "a.npz");
  REQUIRE(back.size() == arrays.size());
  for (const auto& [key, a] : arrays) {
    INFO(key);
    REQUIRE(back.count(key) == 1);
    REQUIRE(back.at(key) == a);
  }
  REQUIRE(back.at("method").as_string() == "kip");
  REQUIRE(back.at("images").as<float>().at(1, 0, 1, 1) == 4.0f);
  SECTION("the same arrays give the same bytes (fixed timestamps)") {
    io::save_npz(dir / "b.npz", arrays);
    REQUIRE(iotest::read_bytes(dir / "a.npz") == iotest::read_bytes(dir / "b.npz"));
  }
  SECTION("an empty archive") {
    io::save_npz(dir / "empty.npz", {});
    REQUIRE(io::load_npz(dir / "empty.npz").empty());
  }
}

TEST_CASE("npz: NpzWriter checks keys", "[io][npz]") {
  iotest::TempDir dir;
  {
    io::NpzWriter w(dir / "k.npz");
    w.add("x", dd::Tensor<float>({2}, 1.0f));
    REQUIRE_THROWS_AS(w.add("x", dd::Tensor<float>({2}, 1.0f)), dd::invalid_argument);
    REQUIRE_THROWS_WITH(w.add("x", dd::Tensor<float>({2}, 1.0f)), Contains("'x' was already added"));
    REQUIRE_THROWS_WITH(w.add("", dd::Tensor<float>({2}, 1.0f)), Contains("key is empty"));
    w.add_string("ünïcode_kéy", "value");
    w.finish();
    REQUIRE_THROWS_AS(w.add("y", dd::Tensor<float>({1})), dd::invalid_argument);
  }
  const auto m = io::load_npz(dir / "k.npz");
  REQUIRE(m.size() == 2);
  REQUIRE(m.at("ünïcode_kéy").as_string() == "value");
}

TEST_CASE("npz: deflate entries (as np.savez_compressed writes) are read", "[io][npz]") {
  const auto arrays = sample_arrays();
  std::vector<std::pair<std::string, Bytes>> entries;
  for (const auto& [key, a] : arrays) entries.emplace_back(key + ".npy", io::serialize_npy(a));
  const Bytes zip = make_zip(entries, 8);
  const auto back = io::parse_npz(zip, "deflated.npz");
  REQUIRE(back.size() == arrays.size());
  for (const auto& [key, a] : arrays) REQUIRE(back.at(key) == a);
  SECTION("stored entries from another writer too") {
    REQUIRE(io::parse_npz(make_zip(entries, 0), "stored.npz").at("labels") == arrays.at("labels"));
  }
  SECTION("unsupported compression method") {
    Bytes z = make_zip({{"a.npy", io::serialize_npy(arrays.at("labels"))}}, 0);
    // Patch method in the central directory entry (offset 10 from its signature) to bzip2 (12).
    for (std::size_t i = 0; i + 4 <= z.size(); ++i) {
      if (z[i] == std::byte{0x50} && z[i + 1] == std::byte{0x4b} && z[i + 2] == std::byte{0x01} && z[i + 3] == std::byte{0x02}) {
        z[i + 10] = std::byte{12};
      }
    }
    require_io_error([&] { io::parse_npz(z, "bz.npz"); }, {"'bz.npz'", "compression method 12"});
  }
  SECTION("a deflate entry claiming an absurd uncompressed size fails before allocating") {
    Bytes z = make_zip({{"a.npy", io::serialize_npy(arrays.at("labels"))}}, 8);
    for (std::size_t i = 0; i + 4 <= z.size(); ++i) {
      if (z[i] == std::byte{0x50} && z[i + 1] == std::byte{0x4b} && z[i + 2] == std::byte{0x01} && z[i + 3] == std::byte{0x02}) {
        for (int k = 24; k < 28; ++k) z[i + k] = std::byte{0xEE};  // uncompressed size ~4 GB
      }
    }
    require_io_error([&] { io::parse_npz(z, "bomb.npz"); }, {"'bomb.npz'", "claims"});
  }
}

TEST_CASE("npz: corrupt and truncated archives are refused with the file name", "[io][npz]") {
  iotest::TempDir dir;
  io::save_npz(dir / "a.npz", sample_arrays());
  const Bytes good = iotest::read_bytes(dir / "a.npz");
  SECTION("truncated at several offsets") {
    for (std::size_t cut : {std::size_t(0), std::size_t(10), std::size_t(30), std::size_t(100), good.size() / 2, good.size() - 30,
                            good.size() - 22, good.size() - 1}) {
      INFO("cut at " << cut);
      const Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
      require_io_error([&] { io::parse_npz(part, "cut.npz"); }, {"'cut.npz'"});
    }
  }
  SECTION("a flipped data byte fails the CRC") {
    Bytes b = good;
    b[120] ^= std::byte{0x01};  // inside the first entry (after its 30-byte header, name and npy header)
    require_io_error([&] { io::parse_npz(b, "flip.npz"); }, {"'flip.npz'"});
  }
  SECTION("not a zip file at all") {
    require_io_error([] { io::parse_npz(Bytes(100, std::byte{7}), "junk.npz"); }, {"'junk.npz'", "end-of-central-directory"});
  }
  SECTION("a directory that points outside the file") {
    Bytes b = good;
    b[b.size() - 3] = std::byte{0x7F};  // high byte of the central directory offset (EOCD bytes 16..19)
    require_io_error([&] { io::parse_npz(b, "off.npz"); }, {"'off.npz'", "outside the file"});
  }
  SECTION("an entry that is not an NPY file") {
    const Bytes z = make_zip({{"x.npy", Bytes(20, std::byte{'a'})}}, 0);
    require_io_error([&] { io::parse_npz(z, "notnpy.npz"); }, {"notnpy.npz[x.npy]", "magic"});
  }
  SECTION("a key that appears twice") {
    const Bytes npy = io::serialize_npy(io::NpyArray::from_values(std::vector<std::int64_t>{1}));
    require_io_error([&] { io::parse_npz(make_zip({{"k.npy", npy}, {"k", npy}}, 0), "dup.npz"); }, {"'dup.npz'", "twice"});
  }
  SECTION("missing file") {
    require_io_error([&] { io::load_npz(dir / "absent.npz"); }, {"absent.npz", "no such file"});
  }
}

TEST_CASE("npz: NumPy reads what distill writes and distill reads np.savez / np.savez_compressed", "[io][npz][numpy]") {
  if (!iotest::have_numpy()) DISTILL_SKIP("/usr/bin/python3 with numpy is not available; NumPy interop not tested");
  iotest::TempDir dir;
  SECTION("distill -> numpy (no allow_pickle needed)") {
    io::save_npz(dir / "d.npz", sample_arrays());
    REQUIRE(iotest::run_python(dir.path, R"(
import zipfile
assert zipfile.ZipFile('d.npz').testzip() is None
f = np.load('d.npz', allow_pickle=False)
assert sorted(f.files) == ['images', 'labels', 'mask', 'method', 'weights'], f.files
im = f['images']; assert im.dtype == np.float32 and im.shape == (2, 1, 2, 2)
assert im.ravel().tolist() == [0, 0.25, 0.5, 1, -1, 2, 3, 4]
assert f['labels'].dtype == np.int64 and f['labels'].tolist() == [3, 9]
assert f['weights'].dtype == np.float64 and f['weights'].tolist() == [1e-9, 2, 3]
assert f['mask'].dtype == np.uint8 and f['mask'].tolist() == [[1, 0], [1, 1]]
assert str(f['method'][0]) == 'kip'
)") == 0);
  }
  SECTION("numpy -> distill") {
    REQUIRE(iotest::run_python(dir.path, R"(
rng = np.random.default_rng(0)
x = rng.standard_normal((50, 3, 4, 4)).astype(np.float32)
np.savez('plain.npz', x=x, y=np.arange(50), name=np.array(['dm']))
np.savez_compressed('packed.npz', x=x, y=np.arange(50), z=np.zeros(10000))
np.save('x.npy', x)
)") == 0);
    const auto x = io::load_npy<float>(dir / "x.npy");
    for (const char* file : {"plain.npz", "packed.npz"}) {
      INFO(file);
      const auto m = io::load_npz(dir / file);
      REQUIRE(dd::max_abs_diff(m.at("x").as<float>(), x) == 0.0f);
      const auto y = m.at("y").as<std::int64_t>();
      REQUIRE(y.size() == 50);
      REQUIRE(y[49] == 49);
    }
    REQUIRE(io::load_npz(dir / "plain.npz").at("name").as_string() == "dm");
    const auto z = io::load_npz(dir / "packed.npz").at("z").as<double>();
    REQUIRE(z.size() == 10000);
    REQUIRE(z[9999] == 0.0);
  }
}
