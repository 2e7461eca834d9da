// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_NPY_HPP
#define DISTILL_IO_NPY_HPP

/**
 * @file
 * NumPy's `.npy` format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), so that
 * arrays move between distill and NumPy / PyTorch without conversion scripts.
 *
 * Layout: `\x93NUMPY`, a version (1.0, 2.0 or 3.0), a little-endian header length (uint16 for 1.0, uint32
 * after), then a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces to a multiple of 64 bytes and ending in '\n', then the raw data.
 *
 * Supported: little-endian, C order, dtypes float32 '<f4', float64 '<f8', int64 '<i8', int32 '<i4', uint8
 * '|u1' (bool '|b1' reads as uint8) and unicode strings '<U<n>' (how distill stores text metadata: a numpy
 * str array loads without allow_pickle). Big-endian data, Fortran order, structured and object dtypes are
 * refused with an io_error that says so. distill writes version 1.0 (2.0 only when the header needs it).
 */

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"
#include "distill/io/detail/atomic_file.hpp"
#include "distill/io/detail/bytes.hpp"

namespace distill::io {

/// The element types an NpyArray can hold.
enum class DType { uint8, int32, int64, float32, float64, unicode };

//! "float32", ... for messages.
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::uint8: return "uint8";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::unicode: return "unicode string";
  }
  return "?";
}

//! The DType of a C++ element type (uint8_t, int32_t, int64_t, float, double).
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return DType::uint8;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::int32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::int64;
  else if constexpr (std::is_same_v<T, float>) return DType::float32;
  else if constexpr (std::is_same_v<T, double>) return DType::float64;
  else static_assert(sizeof(T) == 0, "distill::io: NPY element type must be uint8_t, int32_t, int64_t, float or double");
}

namespace detail {
//! Appends code point `cp` as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
//! Code points of a UTF-8 string. @throw invalid_argument on malformed UTF-8.
inline std::vector<std::uint32_t> decode_utf8(std::string_view s) {
  std::vector<std::uint32_t> cps;
  cps.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    DISTILL_CHECK(len != 0 && i + len <= s.size(), "NpyArray::from_string(): text is not valid UTF-8 (byte ", i, ")");
    std::uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      DISTILL_CHECK((b & 0xC0) == 0x80, "NpyArray::from_string(): text is not valid UTF-8 (byte ", i + k, ")");
      cp = (cp << 6) | (b & 0x3F);
    }
    DISTILL_CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF), "NpyArray::from_string(): text is not valid UTF-8 (byte ", i, ")");
    cps.push_back(cp);
    i += len;
  }
  return cps;
}
}  // namespace detail

/**
 * WHAT THIS OBJECT REPRESENTS
 *   One NumPy array, type-erased: its dtype, its shape (C order) and its raw little-endian bytes. This is
 *   what load_npz returns for each key and what save_npz takes, so arrays of different types (float images,
 *   int64 labels, a metadata string) travel together.
 *
 *   invariant: bytes.size() == numel(shape) * itemsize() (checked by validate(), by the parsers and by
 *   every save).
 */
struct NpyArray {
  DType dtype = DType::float32;
  Shape shape;
  std::vector<std::byte> bytes;
  std::size_t string_length = 0;  //!< unicode only: characters per element (the n of '<U<n>')

  //! Number of elements.
  std::size_t size() const { return numel(shape); }
  //! Bytes per element.
  std::size_t itemsize() const {
    switch (dtype) {
      case DType::uint8: return 1;
      case DType::int32: return 4;
      case DType::int64: return 8;
      case DType::float32: return 4;
      case DType::float64: return 8;
      case DType::unicode: return 4 * string_length;
    }
    return 0;
  }
  //! NumPy's type string: '<f4', '<f8', '<i8', '<i4', '|u1', '<U<n>'.
  std::string descr() const {
    switch (dtype) {
      case DType::uint8: return "|u1";
      case DType::int32: return "<i4";
      case DType::int64: return "<i8";
      case DType::float32: return "<f4";
      case DType::float64: return "<f8";
      case DType::unicode: return "<U" + std::to_string(string_length);
    }
    return "?";
  }

  /**
   * Checks that bytes.size() matches shape and dtype.
   * @throw invalid_argument otherwise.
   */
  void validate(std::string_view where = "NpyArray::validate()") const {
    std::size_t n = 1;
    bool overflow = false;
    for (auto d : shape) overflow = overflow || detail::mul_overflows(n, d, n);
    std::size_t need = 0;
    overflow = overflow || detail::mul_overflows(n, itemsize(), need);
    DISTILL_CHECK(!overflow && bytes.size() == need, where, ": array of dtype ", descr(), " and shape ", show(shape), " has ",
                  bytes.size(), " data bytes, expected ", overflow ? std::string("a size that fits in memory") : std::to_string(need));
  }

  //! An array that owns a copy of `values` with the given shape (numel(shape) == values.size()).
  template <class T>
  static NpyArray from_values(std::span<const T> values, Shape shape) {
    DISTILL_CHECK(numel(shape) == values.size(), "NpyArray::from_values(): shape ", show(shape), " needs ", numel(shape),
                  " values, got ", values.size());
    NpyArray a;
    a.dtype = dtype_of<T>();
    a.shape = std::move(shape);
    a.bytes.resize(values.size() * sizeof(T));
    for (std::size_t i = 0; i < values.size(); ++i) detail::store_le_value(a.bytes.data() + i * sizeof(T), values[i]);
    return a;
  }
  template <class T>
  static NpyArray from_values(const std::vector<T>& values, Shape shape) {
    return from_values(std::span<const T>(values), std::move(shape));
  }
  //! A 1-d array holding `values`.
  template <class T>
  static NpyArray from_values(const std::vector<T>& values) {
    return from_values(std::span<const T>(values), Shape{values.size()});
  }
  //! A float32 / float64 array with the tensor's shape and values.
  template <std::floating_point T>
  static NpyArray from_tensor(const Tensor<T>& t) {
    return from_values(t.span(), t.shape());
  }
  /**
   * A 1-d unicode array of one string ('<U<n>', shape (1,)), which NumPy loads without allow_pickle:
   * `str(np.load(f)["method"][0])`.
   * @throw invalid_argument when `utf8` is not valid UTF-8.
   */
  static NpyArray from_string(std::string_view utf8) {
    const auto cps = detail::decode_utf8(utf8);
    NpyArray a;
    a.dtype = DType::unicode;
    a.shape = {1};
    a.string_length = std::max<std::size_t>(cps.size(), 1);  // NumPy has no '<U0' for a non-empty array
    a.bytes.assign(a.string_length * 4, std::byte{0});
    for (std::size_t i = 0; i < cps.size(); ++i) detail::store_le_value(a.bytes.data() + 4 * i, cps[i]);
    return a;
  }

  /**
   * The elements converted to T (uint8_t, int32_t, int64_t, float or double), in C order.
   * Numbers convert like static_cast, except that a float converted to an integer type must be a whole
   * number in range (so soft labels are never silently truncated to hard ones).
   * @throw invalid_argument for a unicode array or a float that is not an exact integer of T.
   */
  template <class T>
  std::vector<T> to_vector() const {
    validate("NpyArray::to_vector()");
    std::vector<T> out(size());
    switch (dtype) {
      case DType::uint8: convert<std::uint8_t>(out); break;
      case DType::int32: convert<std::int32_t>(out); break;
      case DType::int64: convert<std::int64_t>(out); break;
      case DType::float32: convert<float>(out); break;
      case DType::float64: convert<double>(out); break;
      case DType::unicode:
        DISTILL_THROW(invalid_argument, "NpyArray::to_vector(): array holds unicode strings (", descr(),
                      "), expected a numeric dtype; use as_string()");
    }
    return out;
  }

  /**
   * The array as T: a Tensor<T> of the same shape when T is float or double, else a std::vector<T>
   * (for integer labels, `as<std::int64_t>()`).
   * @throw invalid_argument as to_vector().
   */
  template <class T>
  auto as() const {
    if constexpr (std::is_floating_point_v<T>) {
      if (dtype == dtype_of<T>()) {  // the common case: one copy, no per-element conversion
        validate("NpyArray::as()");
        Tensor<T> t = Tensor<T>::empty(shape);
        if constexpr (std::endian::native == std::endian::little) {
          if (!bytes.empty()) std::memcpy(t.data(), bytes.data(), bytes.size());
        } else {
          for (std::size_t i = 0; i < t.size(); ++i) t[i] = detail::load_le_value<T>(bytes.data() + i * sizeof(T));
        }
        return t;
      }
      const auto v = to_vector<T>();
      return Tensor<T>(shape, std::span<const T>(v));
    } else {
      return to_vector<T>();
    }
  }

  /**
   * The text of a one-element unicode array (what from_string makes), or the bytes of a 1-d uint8 array.
   * @throw invalid_argument for any other array.
   */
  std::string as_string() const {
    validate("NpyArray::as_string()");
    if (dtype == DType::uint8 && shape.size() == 1) return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    DISTILL_CHECK(dtype == DType::unicode && size() == 1, "NpyArray::as_string(): array has dtype ", descr(), " and shape ",
                  show(shape), ", expected one unicode string ('<U', 1 element) or a 1-d uint8 array");
    std::string out;
    for (std::size_t i = 0; i < string_length; ++i) {
      const auto cp = detail::load_le_value<std::uint32_t>(bytes.data() + 4 * i);
      if (cp == 0) break;  // NumPy pads shorter strings with NULs
      DISTILL_CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF), "NpyArray::as_string(): character ", i, " is ", cp,
                    ", not a Unicode code point");
      detail::append_utf8(out, cp);
    }
    return out;
  }

  bool operator==(const NpyArray&) const = default;

 private:
  template <class S, class T>
  void convert(std::vector<T>& out) const {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const S v = detail::load_le_value<S>(bytes.data() + i * sizeof(S));
      if constexpr (std::is_floating_point_v<S> && std::is_integral_v<T>) {
        // Exact-integer check in long double, where T's bounds are exact; NaN fails every comparison.
        const long double x = static_cast<long double>(v);
        const long double lo = static_cast<long double>(std::numeric_limits<T>::min());
        const long double hi = static_cast<long double>(std::numeric_limits<T>::max()) + 1.0L;
        DISTILL_CHECK(x >= lo && x < hi && std::trunc(x) == x, "NpyArray::to_vector(): element ", i, " is ", v,
                      ", which is not an exact ", dtype_name(dtype_of<T>()), " value");
      } else if constexpr (std::is_integral_v<S> && std::is_integral_v<T>) {
        DISTILL_CHECK(std::in_range<T>(v), "NpyArray::to_vector(): element ", i, " is ", static_cast<long long>(v),
                      ", out of range for ", dtype_name(dtype_of<T>()));
      }
      out[i] = static_cast<T>(v);
    }
  }
};

namespace detail {

//! A cursor over the NPY header dict text; every error names the file.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, std::string_view name) : s_(text), name_(name) {}

  NpyArray parse() {
    NpyArray a;
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      // A repeated key would leave fields of the first value behind (e.g. a '<U' length under a later '|u1').
      if ((key == "descr" && have_descr) || (key == "fortran_order" && have_fortran) || (key == "shape" && have_shape))
        fail("repeats the header key '" + key + "'");
      if (key == "descr") {
        if (peek() == '[') fail("has a structured dtype (descr is a list); only plain numeric and '<U' dtypes are supported");
        parse_descr(parse_string(), a);
        have_descr = true;
      } else if (key == "fortran_order") {
        if (s_.substr(i_, 4) == "True") {
          fail("is stored in Fortran order (fortran_order: True); save it from NumPy in C order, e.g. np.ascontiguousarray(a)");
        } else if (s_.substr(i_, 5) == "False") {
          i_ += 5;
        } else {
          fail("has a fortran_order value that is neither True nor False");
        }
        have_fortran = true;
      } else if (key == "shape") {
        a.shape = parse_shape();
        have_shape = true;
      } else {
        fail("has an unexpected header key '" + key + "', expected only 'descr', 'fortran_order' and 'shape'");
      }
      skip_ws();
      if (peek() == ',') {
        ++i_;
      } else if (peek() != '}') {
        fail("has a malformed header dict (expected ',' or '}' at header byte " + std::to_string(i_) + ")");
      }
    }
    for (; i_ < s_.size(); ++i_)
      if (s_[i_] != ' ' && s_[i_] != '\n' && s_[i_] != '\0' && s_[i_] != '\t' && s_[i_] != '\r')
        fail("has unexpected text after the header dict");
    if (!have_descr || !have_fortran || !have_shape) fail("header lacks one of the keys 'descr', 'fortran_order', 'shape'");
    return a;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { DISTILL_THROW(io_error, "NPY ", quoted(name_), " ", what); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("has a malformed header dict (expected '") + c + "' at header byte " + std::to_string(i_) + ")");
    ++i_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("has a malformed header dict (expected a quoted string at header byte " + std::to_string(i_) + ")");
    const auto end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) fail("has a malformed header dict (unterminated string)");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  std::size_t parse_uint() {
    if (peek() < '0' || peek() > '9') fail("has a malformed shape (expected a non-negative integer at header byte " + std::to_string(i_) + ")");
    std::size_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      const std::size_t digit = static_cast<std::size_t>(peek() - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10) fail("has a shape extent too large for this machine");
      v = v * 10 + digit;
      ++i_;
    }
    if (peek() == 'L') ++i_;  // Python 2 long literal, as in very old files
    return v;
  }
  Shape parse_shape() {
    expect('(');
    Shape shape;
    for (;;) {
      skip_ws();
      if (peek() == ')') {
        ++i_;
        break;
      }
      if (shape.size() >= 64) fail("has a shape with more than 64 dimensions");
      shape.push_back(parse_uint());
      skip_ws();
      if (peek() == ',') {
        ++i_;
      } else if (peek() != ')') {
        fail("has a malformed shape tuple (expected ',' or ')' at header byte " + std::to_string(i_) + ")");
      }
    }
    return shape;
  }
  void parse_descr(const std::string& d, NpyArray& a) {
    if (d.size() < 2) fail("has an unsupported dtype '" + d + "'");
    const char order = d[0];
    const std::string code = d.substr(1);
    if (order == '>' && code != "u1" && code != "i1" && code != "b1") {
      fail("has big-endian dtype '" + d + "'; only little-endian is supported (convert with a.astype(a.dtype.newbyteorder('<')))");
    }
    if (order != '<' && order != '|' && order != '=' && order != '>') fail("has an unsupported dtype '" + d + "'");
    if (order == '=' && std::endian::native != std::endian::little) fail("has native-endian dtype '" + d + "' on a big-endian machine");
    if (code == "f4") a.dtype = DType::float32;
    else if (code == "f8") a.dtype = DType::float64;
    else if (code == "i8") a.dtype = DType::int64;
    else if (code == "i4") a.dtype = DType::int32;
    else if (code == "u1" || code == "b1") a.dtype = DType::uint8;
    else if (code[0] == 'U') {
      a.dtype = DType::unicode;
      std::size_t n = 0;
      for (std::size_t k = 1; k < code.size(); ++k) {
        if (code[k] < '0' || code[k] > '9' || n > (std::size_t(1) << 40)) fail("has an unsupported dtype '" + d + "'");
        n = n * 10 + static_cast<std::size_t>(code[k] - '0');
      }
      if (code.size() == 1) fail("has an unsupported dtype '" + d + "'");
      a.string_length = n;
    } else if (code == "O") {
      fail("holds Python objects (dtype 'O'), which need pickle; distill reads only plain numeric and '<U' arrays");
    } else {
      fail("has unsupported dtype '" + d + "'; supported: '<f4', '<f8', '<i8', '<i4', '|u1', '|b1', '<U<n>'");
    }
  }

  std::string_view s_;
  std::string_view name_;
  std::size_t i_ = 0;
};

//! The header bytes (magic, version, length, dict, padding) for `a`; data follows directly.
inline Bytes npy_header(const NpyArray& a) {
  std::string dict = "{'descr': '" + a.descr() + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(a.shape[i]);
  dict += a.shape.size() == 1 ? ",), }" : "), }";  // Python's one-tuple needs its comma: (5,)
  // Pad with spaces and a final '\n' so the data starts on a 64-byte boundary (what NumPy writes); version
  // 1.0 while the header length fits its uint16 field, else 2.0.
  auto padded_total = [&](std::size_t prefix) { return (prefix + dict.size() + 1 + 63) / 64 * 64; };
  const bool v1 = padded_total(10) - 10 <= 65535;
  const std::size_t prefix = v1 ? 10 : 12;
  const std::size_t total = padded_total(prefix);
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  if (dict.size() > 0xFFFFFFFFu) DISTILL_THROW(invalid_argument, "save_npy(): header of ", dict.size(), " bytes is too long");
  Bytes out;
  out.reserve(total);
  for (char c : std::string_view("\x93NUMPY", 6)) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{static_cast<unsigned char>(v1 ? 1 : 2)});
  out.push_back(std::byte{0});
  if (v1) {
    store_le(out, static_cast<std::uint16_t>(dict.size()));
  } else {
    store_le(out, static_cast<std::uint32_t>(dict.size()));
  }
  for (char c : dict) out.push_back(static_cast<std::byte>(c));
  return out;
}

}  // namespace detail

/**
 * Parses a whole `.npy` file held in memory.
 * @param name  the file name, for messages.
 * @throw io_error on a bad magic string, an unknown version, a malformed or truncated header, an unsupported
 *        dtype (big-endian, structured, object), Fortran order, or a data size that does not match the shape.
 */
inline NpyArray parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  using detail::quoted;
  static constexpr unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0) {
    if (bytes.size() < 10 && bytes.size() >= 1 && std::to_integer<unsigned char>(bytes[0]) == 0x93) {
      DISTILL_THROW(io_error, "NPY ", quoted(name), " is truncated: ", bytes.size(), " bytes, too short for the NPY preamble");
    }
    DISTILL_THROW(io_error, "NPY ", quoted(name), " does not start with the NPY magic string \\x93NUMPY (is this a .npy file?)");
  }
  const unsigned major = std::to_integer<unsigned>(bytes[6]);
  if (major < 1 || major > 3) {
    DISTILL_THROW(io_error, "NPY ", quoted(name), " has format version ", major, ".", std::to_integer<unsigned>(bytes[7]),
                  ", expected 1.0, 2.0 or 3.0");
  }
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = detail::load_le<std::uint16_t>(bytes.data() + 8);
    prefix = 10;
  } else {
    if (bytes.size() < 12) DISTILL_THROW(io_error, "NPY ", quoted(name), " is truncated: too short for a version-2 header length");
    header_len = detail::load_le<std::uint32_t>(bytes.data() + 8);
    prefix = 12;
  }
  if (header_len > bytes.size() - prefix) {
    DISTILL_THROW(io_error, "NPY ", quoted(name), " is truncated: header declares ", header_len, " bytes but only ",
                  bytes.size() - prefix, " follow");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), header_len);
  NpyArray a = detail::NpyHeaderParser(text, name).parse();
  const std::size_t offset = prefix + header_len;
  const std::size_t available = bytes.size() - offset;
  // numel with a zero extent is 0 whatever the others are; otherwise check the product as it grows.
  std::size_t need = 0;
  if (std::find(a.shape.begin(), a.shape.end(), std::size_t(0)) == a.shape.end()) {
    std::size_t count = 1;
    bool overflow = false;
    for (auto d : a.shape) overflow = overflow || detail::mul_overflows(count, d, count);
    overflow = overflow || detail::mul_overflows(count, a.itemsize(), need);
    if (overflow || need > available) {
      DISTILL_THROW(io_error, "NPY ", quoted(name), " is truncated: header declares dtype ", a.descr(), " and shape ", show(a.shape),
                    overflow ? std::string(" (more bytes than fit in memory)") : " (" + std::to_string(need) + " bytes)",
                    " but only ", available, " data bytes follow the header");
    }
  }
  if (need != available) {
    DISTILL_THROW(io_error, "NPY ", quoted(name), " has ", available - need, " unexpected trailing bytes after the ", need,
                  " data bytes of shape ", show(a.shape));
  }
  a.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset), bytes.end());
  return a;
}

/**
 * The bytes of a `.npy` file for `a` (header + data), as np.save would write them.
 * @throw invalid_argument when a's bytes do not match its shape and dtype.
 */
inline std::vector<std::byte> serialize_npy(const NpyArray& a) {
  a.validate("io::serialize_npy()");
  auto out = detail::npy_header(a);
  out.insert(out.end(), a.bytes.begin(), a.bytes.end());
  return out;
}

/**
 * Saves one array as `.npy` (atomically: a temporary file renamed into place).
 * @throw invalid_argument when a's bytes do not match its shape; io_error when the file cannot be written.
 */
inline void save_npy(const std::filesystem::path& path, const NpyArray& a) {
  a.validate("io::save_npy()");
  detail::atomic_write(path, "io::save_npy()", [&](detail::AtomicFile& f) {
    f.write_all(detail::npy_header(a));
    f.write_all(a.bytes);
  });
}

//! Saves a tensor as a float32 / float64 `.npy` file (atomically). @throw io_error when it cannot be written.
template <std::floating_point T>
void save_npy(const std::filesystem::path& path, const Tensor<T>& t) {
  const NpyArray a{dtype_of<T>(), t.shape(), {}, 0};
  detail::atomic_write(path, "io::save_npy()", [&](detail::AtomicFile& f) {
    f.write_all(detail::npy_header(a));
    if constexpr (std::endian::native == std::endian::little) {
      f.write(t.data(), t.size() * sizeof(T));
    } else {
      f.write_all(NpyArray::from_tensor(t).bytes);
    }
  });
}

//! Loads a `.npy` file of any supported dtype. @throw io_error as parse_npy, or when the file is unreadable.
inline NpyArray load_npy_array(const std::filesystem::path& path) {
  const auto bytes = detail::read_file(path, "io::load_npy()");
  return parse_npy(bytes, path.string());
}

/**
 * Loads a numeric `.npy` file as a Tensor<T> (any numeric dtype is converted to T).
 * @throw io_error as load_npy_array, or when the file holds strings.
 */
template <std::floating_point T = float>
Tensor<T> load_npy(const std::filesystem::path& path) {
  const auto a = load_npy_array(path);
  if (a.dtype == DType::unicode) {
    DISTILL_THROW(io_error, "io::load_npy(): NPY '", path.string(), "' holds strings (", a.descr(), "), expected a numeric array");
  }
  return a.as<T>();
}

}  // namespace distill::io

#endif  // DISTILL_IO_NPY_HPP
