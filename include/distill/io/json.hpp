// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_JSON_HPP
#define DISTILL_IO_JSON_HPP

/**
 * @file
 * JsonObject: the one way distill writes JSON text (a distilled set's options_json, a checkpoint's record of the
 * run, the command lines' option dumps). Write-only and flat by design: keys in insertion order, values that are
 * numbers, booleans, strings, lists of numbers or nested objects.
 *
 * @code
 * io::JsonObject j;
 * j.add("images_per_class", 10).add("lr", 0.01).add("learn_labels", true).add("init", "real");
 * j.add("inner", io::JsonObject{}.add("rule", "adam").add("beta1", 0.9));
 * std::string text = j.str();   // {"images_per_class": 10, "lr": 0.01, ...}
 * @endcode
 *
 * Doubles are written with 17 significant digits (they read back to the same double); NaN and infinities,
 * which JSON cannot spell, are written as null.
 */

#include <cmath>
#include <concepts>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace distill::io {

class JsonObject {
 public:
  //! Adds `key: value` for a bool, a whole number, a floating-point number, a string, a list of numbers or an object.
  template <class V>
  JsonObject& add(std::string_view key, const V& value) {
    entries_.emplace_back(quote(key), encode(value));
    return *this;
  }

  //! True when nothing has been added.
  bool empty() const { return entries_.empty(); }

  //! The object as JSON text on one line: {"a": 1, "b": "x"}.
  std::string str() const {
    std::string out = "{";
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (i) out += ", ";
      out += entries_[i].first + ": " + entries_[i].second;
    }
    return out + "}";
  }

  //! A string as a JSON string literal, with quotes, backslashes and control characters escaped.
  static std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
      switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (static_cast<unsigned char>(ch) < 0x20) {
            const char* hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[(ch >> 4) & 0xf];
            out += hex[ch & 0xf];
          } else {
            out += ch;
          }
      }
    }
    return out + "\"";
  }

 private:
  static std::string encode(const JsonObject& o) { return o.str(); }
  static std::string encode(bool b) { return b ? "true" : "false"; }
  static std::string encode(const char* s) { return quote(s); }
  static std::string encode(const std::string& s) { return quote(s); }
  static std::string encode(std::string_view s) { return quote(s); }
  template <class N>
    requires(std::integral<N> && !std::same_as<N, bool>)
  static std::string encode(N n) {
    return std::to_string(n);
  }
  template <std::floating_point F>
  static std::string encode(F f) {
    if (!std::isfinite(f)) return "null";
    std::ostringstream o;
    o.precision(17);
    o << double(f);
    return o.str();
  }
  template <class N>
  static std::string encode(const std::vector<N>& list) {
    std::string out = "[";
    for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + encode(list[i]);
    return out + "]";
  }
  template <std::size_t K>
  static std::string encode(const char (&s)[K]) {
    return quote(std::string_view(s));
  }

  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace distill::io

#endif  // DISTILL_IO_JSON_HPP
