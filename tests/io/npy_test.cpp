// SPDX-License-Identifier: MIT
// Tests for include/distill/io/npy.hpp: NPY round trips for every dtype, conversions, bad files, NumPy interop.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "distill/io/npy.hpp"
#include "io_test_support.hpp"
#include "support/skip.hpp"

namespace dd = distill;
namespace io = distill::io;
using Catch::Matchers::Contains;
using iotest::Bytes;
using iotest::require_io_error;

namespace {
//! A .npy file with a hand-written header dict (padded like NumPy), followed by `data`.
Bytes npy_with_header(const std::string& dict, const Bytes& data, int major = 1) {
  std::string h = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64) h += ' ';
  h += '\n';
  Bytes b;
  for (char c : std::string("\x93NUMPY")) b.push_back(static_cast<std::byte>(c));
  b.push_back(static_cast<std::byte>(major));
  b.push_back(std::byte{0});
  for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) b.push_back(static_cast<std::byte>((h.size() >> (8 * i)) & 0xFF));
  for (char c : h) b.push_back(static_cast<std::byte>(c));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}
Bytes zeros(std::size_t n) { return Bytes(n, std::byte{0}); }
}  // namespace

TEMPLATE_TEST_CASE("npy: NpyArray round trips through a file for every numeric dtype", "[io][npy]", std::uint8_t, std::int32_t,
                   std::int64_t, float, double) {
  using T = TestType;
  iotest::TempDir dir;
  std::vector<T> values;
  for (int i = 0; i < 24; ++i) values.push_back(static_cast<T>(i * 3 + 1));
  if constexpr (std::is_signed_v<T>) values[5] = static_cast<T>(-7);
  if constexpr (std::is_same_v<T, std::int64_t>) values[6] = std::numeric_limits<std::int64_t>::max();
  if constexpr (std::is_floating_point_v<T>) values[7] = static_cast<T>(0.1);
  const auto a = io::NpyArray::from_values(values, {2, 3, 4});
  REQUIRE(a.dtype == io::dtype_of<T>());
  REQUIRE(a.bytes.size() == 24 * sizeof(T));
  io::save_npy(dir / "a.npy", a);
  const auto b = io::load_npy_array(dir / "a.npy");
  REQUIRE(b == a);
  REQUIRE(b.to_vector<T>() == values);
  SECTION("header is version 1.0, 64-byte aligned, shape tuple written like Python") {
    const auto bytes = iotest::read_bytes(dir / "a.npy");
    REQUIRE(std::to_integer<int>(bytes[6]) == 1);
    const std::size_t header_len = std::to_integer<std::size_t>(bytes[8]) | (std::to_integer<std::size_t>(bytes[9]) << 8);
    REQUIRE((10 + header_len) % 64 == 0);
    REQUIRE(bytes.size() == 10 + header_len + 24 * sizeof(T));
    const std::string header(reinterpret_cast<const char*>(bytes.data()) + 10, header_len);
    REQUIRE_THAT(header, Contains("'descr': '" + a.descr() + "'") && Contains("'shape': (2, 3, 4)") &&
                             Contains("'fortran_order': False"));
    REQUIRE(header.back() == '\n');
  }
}

TEMPLATE_TEST_CASE("npy: tensors save and load (with dtype conversion)", "[io][npy]", float, double) {
  using T = TestType;
  iotest::TempDir dir;
  dd::Tensor<T> t({2, 3}, {1.5, -2, 3.25, 0, 1e-3, 7});
  io::save_npy(dir / "t.npy", t);
  const auto back = io::load_npy<T>(dir / "t.npy");
  REQUIRE(back.shape() == t.shape());
  REQUIRE(dd::max_abs_diff(back, t) == T(0));
  const auto as_float = io::load_npy<float>(dir / "t.npy");
  REQUIRE(as_float.at(1, 2) == 7.0f);
  SECTION("1-d and 0-d shapes") {
    io::save_npy(dir / "v.npy", dd::Tensor<T>({5}, T(2)));
    const auto bytes = iotest::read_bytes(dir / "v.npy");
    const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    REQUIRE_THAT(text, Contains("'shape': (5,)"));
    io::save_npy(dir / "s.npy", dd::Tensor<T>::scalar(T(4)));
    const auto s = io::load_npy<T>(dir / "s.npy");
    REQUIRE(s.rank() == 0);
    REQUIRE(s.item() == T(4));
  }
  SECTION("integer arrays load as float tensors") {
    io::save_npy(dir / "i.npy", io::NpyArray::from_values(std::vector<std::int64_t>{1, -2, 3}));
    const auto f = io::load_npy<T>(dir / "i.npy");
    REQUIRE(f.shape() == dd::Shape{3});
    REQUIRE(f[1] == T(-2));
  }
  SECTION("empty arrays") {
    io::save_npy(dir / "e.npy", dd::Tensor<T>({0, 3}));
    const auto e = io::load_npy<T>(dir / "e.npy");
    REQUIRE(e.shape() == dd::Shape{0, 3});
  }
}

TEST_CASE("npy: conversions between dtypes", "[io][npy]") {
  const auto f = io::NpyArray::from_values(std::vector<double>{1, 2, -3});
  REQUIRE(f.as<std::int64_t>() == std::vector<std::int64_t>{1, 2, -3});
  REQUIRE(f.as<float>().shape() == dd::Shape{3});
  REQUIRE(f.as<float>()[2] == -3.0f);
  SECTION("a float that is not a whole number never becomes a label") {
    const auto soft = io::NpyArray::from_values(std::vector<float>{0.5f});
    REQUIRE_THROWS_AS(soft.as<std::int64_t>(), dd::invalid_argument);
    REQUIRE_THROWS_WITH(soft.as<std::int64_t>(), Contains("not an exact int64"));
    const auto nan = io::NpyArray::from_values(std::vector<double>{std::nan("")});
    REQUIRE_THROWS_AS(nan.as<std::int32_t>(), dd::invalid_argument);
    const auto big = io::NpyArray::from_values(std::vector<double>{300.0});
    REQUIRE_THROWS_AS(big.as<std::uint8_t>(), dd::invalid_argument);
    const auto neg = io::NpyArray::from_values(std::vector<std::int64_t>{-1});
    REQUIRE_THROWS_WITH(neg.as<std::uint8_t>(), Contains("out of range"));
  }
  SECTION("strings") {
    const auto s = io::NpyArray::from_string("kip — ε=0.1");
    REQUIRE(s.dtype == io::DType::unicode);
    REQUIRE(s.shape == dd::Shape{1});
    REQUIRE(s.descr() == "<U11");
    REQUIRE(s.as_string() == "kip — ε=0.1");
    REQUIRE(io::parse_npy(io::serialize_npy(s), "s.npy").as_string() == "kip — ε=0.1");
    REQUIRE(io::NpyArray::from_string("").as_string().empty());
    REQUIRE_THROWS_AS(s.to_vector<float>(), dd::invalid_argument);
    REQUIRE_THROWS_AS(f.as_string(), dd::invalid_argument);
    REQUIRE_THROWS_AS(io::NpyArray::from_string("\xff\xfe"), dd::invalid_argument);
    const auto bytes = io::NpyArray::from_values(std::vector<std::uint8_t>{'h', 'i'});
    REQUIRE(bytes.as_string() == "hi");
  }
  SECTION("an array whose bytes do not match its shape is refused on save") {
    io::NpyArray bad{io::DType::float32, {2, 2}, Bytes(12), 0};
    REQUIRE_THROWS_AS(io::serialize_npy(bad), dd::invalid_argument);
    REQUIRE_THROWS_WITH(io::serialize_npy(bad), Contains("12 data bytes") && Contains("expected 16"));
  }
}

TEST_CASE("npy: headers written by hand (version 2.0, double quotes, Python 2 longs) parse", "[io][npy]") {
  const auto v2 = io::parse_npy(npy_with_header("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2,)}", zeros(16), 2), "v2");
  REQUIRE(v2.dtype == io::DType::float64);
  REQUIRE(v2.shape == dd::Shape{2});
  const auto longs = io::parse_npy(npy_with_header("{'descr': '|b1', 'fortran_order': False, 'shape': (3L, 1L), }", zeros(3)), "py2");
  REQUIRE(longs.dtype == io::DType::uint8);
  REQUIRE(longs.shape == dd::Shape{3, 1});
}

TEST_CASE("npy: bad files are refused with the file name and the problem", "[io][npy]") {
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const Bytes good = npy_with_header(ok_dict, zeros(24));
  REQUIRE(io::parse_npy(good, "good.npy").shape == dd::Shape{2, 3});
  SECTION("truncated at several offsets") {
    for (std::size_t cut : {std::size_t(0), std::size_t(1), std::size_t(6), std::size_t(9), std::size_t(10), std::size_t(40),
                            std::size_t(63), std::size_t(64), std::size_t(70), good.size() - 1}) {
      INFO("cut at " << cut);
      const Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
      require_io_error([&] { io::parse_npy(part, "cut.npy"); }, {"'cut.npy'"});
    }
  }
  SECTION("bad magic") {
    Bytes b = good;
    b[1] = std::byte{'X'};
    require_io_error([&] { io::parse_npy(b, "m.npy"); }, {"'m.npy'", "magic"});
  }
  SECTION("unknown version") {
    Bytes b = good;
    b[6] = std::byte{9};
    require_io_error([&] { io::parse_npy(b, "v.npy"); }, {"'v.npy'", "version 9"});
  }
  SECTION("fortran order") {
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", zeros(24)), "f.npy"); },
                     {"'f.npy'", "Fortran order"});
  }
  SECTION("a repeated header key (found by fuzz_npy: '|U5' then '|u1' left a stale string length)") {
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '|U5','descr': '|u1', 'fortran_order': False, 'shape': (3,), }", zeros(3)), "dup.npy"); },
                     {"'dup.npy'", "repeats the header key 'descr'"});
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2, 3), }", zeros(24)), "dup2.npy"); },
                     {"'dup2.npy'", "repeats the header key 'shape'"});
  }
  SECTION("big-endian") {
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", zeros(24)), "be.npy"); },
                     {"'be.npy'", "big-endian"});
  }
  SECTION("unsupported dtypes: object, structured, complex, float16") {
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", zeros(8)), "o.npy"); },
                     {"'o.npy'", "pickle"});
    require_io_error(
        [] { io::parse_npy(npy_with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", zeros(4)), "s.npy"); },
        {"'s.npy'", "structured"});
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", zeros(8)), "c.npy"); },
                     {"'c.npy'", "unsupported dtype '<c8'"});
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", zeros(2)), "h.npy"); },
                     {"'h.npy'", "'<f2'"});
  }
  SECTION("malformed dicts") {
    for (const char* dict : {"", "{", "{'descr': '<f4'", "{'descr': '<f4', 'fortran_order': False}",
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}",
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }",
                             "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }",
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } trailing"}) {
      INFO(dict);
      require_io_error([&] { io::parse_npy(npy_with_header(dict, zeros(24)), "d.npy"); }, {"'d.npy'"});
    }
  }
  SECTION("data size must match the shape") {
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", zeros(8)), "big.npy"); },
                     {"'big.npy'", "truncated", "8 data bytes"});
    require_io_error([] { io::parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", zeros(8)), "ovf.npy"); },
                     {"'ovf.npy'", "truncated"});
    require_io_error([] { io::parse_npy(npy_with_header(std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), zeros(28)), "long.npy"); },
                     {"'long.npy'", "4 unexpected trailing bytes"});
  }
  SECTION("missing file") {
    iotest::TempDir dir;
    require_io_error([&] { io::load_npy<float>(dir / "absent.npy"); }, {"absent.npy", "no such file"});
  }
  SECTION("load_npy of a string array") {
    iotest::TempDir dir;
    io::save_npy(dir / "s.npy", io::NpyArray::from_string("x"));
    require_io_error([&] { io::load_npy<float>(dir / "s.npy"); }, {"s.npy", "strings"});
  }
}

TEST_CASE("npy: NumPy reads what distill writes and distill reads what NumPy writes", "[io][npy][numpy]") {
  if (!iotest::have_numpy()) DISTILL_SKIP("/usr/bin/python3 with numpy is not available; NumPy interop not tested");
  iotest::TempDir dir;
  SECTION("distill -> numpy") {
    dd::Tensor<float> t({2, 3}, {1.5f, -2, 3.25f, 0, 1e-3f, 7});
    io::save_npy(dir / "f32.npy", t);
    io::save_npy(dir / "f64.npy", t.cast<double>());
    io::save_npy(dir / "i64.npy", io::NpyArray::from_values(std::vector<std::int64_t>{-1, 0, 1LL << 40}));
    io::save_npy(dir / "u8.npy", io::NpyArray::from_values(std::vector<std::uint8_t>{0, 128, 255}, {3, 1}));
    io::save_npy(dir / "s.npy", io::NpyArray::from_string("héllo"));
    io::save_npy(dir / "scalar.npy", dd::Tensor<double>::scalar(2.5));
    REQUIRE(iotest::run_python(dir.path, R"(
a = np.load('f32.npy'); assert a.dtype == np.float32 and a.shape == (2, 3), a
assert np.array_equal(a, np.array([[1.5, -2, 3.25], [0, 1e-3, 7]], dtype=np.float32)), a
b = np.load('f64.npy'); assert b.dtype == np.float64 and np.array_equal(b, a.astype(np.float64))
c = np.load('i64.npy'); assert c.dtype == np.int64 and c.tolist() == [-1, 0, 1 << 40], c
d = np.load('u8.npy'); assert d.dtype == np.uint8 and d.shape == (3, 1) and d.ravel().tolist() == [0, 128, 255]
s = np.load('s.npy'); assert s.dtype.kind == 'U' and s.shape == (1,) and str(s[0]) == 'héllo', s
z = np.load('scalar.npy'); assert z.shape == () and float(z) == 2.5
)") == 0);
  }
  SECTION("numpy -> distill") {
    REQUIRE(iotest::run_python(dir.path, R"(
np.save('f32.npy', np.arange(12, dtype=np.float32).reshape(3, 4) / 4)
np.save('f64.npy', np.array([[1e300, -0.5]]))
np.save('i64.npy', np.array([3, -4, 5], dtype=np.int64))
np.save('i32.npy', np.array([7, 8], dtype=np.int32))
np.save('u8.npy', np.array([[1, 2], [3, 250]], dtype=np.uint8))
np.save('b1.npy', np.array([True, False]))
np.save('s.npy', np.array(['kip', 'dc']))
np.save('fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
np.save('be.npy', np.ones(3, dtype='>f8'))
np.save('obj.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)
np.save('big_header.npy', np.zeros([1] * 32, dtype=np.float32))
)") == 0);
    const auto f32 = io::load_npy<float>(dir / "f32.npy");
    REQUIRE(f32.shape() == dd::Shape{3, 4});
    REQUIRE(f32.at(2, 3) == 11.0f / 4);
    const auto f64 = io::load_npy<double>(dir / "f64.npy");
    REQUIRE(f64.at(0, 0) == 1e300);
    REQUIRE(io::load_npy_array(dir / "i64.npy").as<std::int64_t>() == std::vector<std::int64_t>{3, -4, 5});
    REQUIRE(io::load_npy_array(dir / "i32.npy").as<std::int64_t>() == std::vector<std::int64_t>{7, 8});
    const auto u8 = io::load_npy_array(dir / "u8.npy");
    REQUIRE(u8.shape == dd::Shape{2, 2});
    REQUIRE(u8.as<std::uint8_t>() == std::vector<std::uint8_t>{1, 2, 3, 250});
    REQUIRE(io::load_npy_array(dir / "b1.npy").as<std::int64_t>() == std::vector<std::int64_t>{1, 0});
    const auto s = io::load_npy_array(dir / "s.npy");
    REQUIRE(s.shape == dd::Shape{2});
    REQUIRE(s.string_length == 3);
    REQUIRE_THROWS_AS(s.as_string(), dd::invalid_argument);  // two strings, not one
    REQUIRE(io::load_npy<float>(dir / "big_header.npy").rank() == 32);
    require_io_error([&] { io::load_npy<float>(dir / "fortran.npy"); }, {"fortran.npy", "Fortran order"});
    require_io_error([&] { io::load_npy<float>(dir / "be.npy"); }, {"be.npy", "big-endian"});
    require_io_error([&] { io::load_npy<float>(dir / "obj.npy"); }, {"obj.npy", "pickle"});
  }
}
