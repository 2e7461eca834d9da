// SPDX-License-Identifier: MIT
// libFuzzer target: NPY parsing from arbitrary bytes, plus the conversions a caller would run on the result
// and a write/re-read round trip. distill exceptions are fine; anything else is a bug. See fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <span>

#include "distill/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto a = distill::io::parse_npy(bytes, "fuzz.npy");
    a.validate();  // the parser's promise: bytes match shape and dtype
    if (a.dtype == distill::io::DType::unicode) {
      try {
        (void)a.as_string();
      } catch (const distill::invalid_argument&) {
      }
    } else {
      try {
        (void)a.as<double>();
        (void)a.as<std::int64_t>();
      } catch (const distill::invalid_argument&) {
      }
    }
    // What distill writes it must read back identically.
    const auto again = distill::io::parse_npy(distill::io::serialize_npy(a), "fuzz-roundtrip.npy");
    if (!(again == a)) __builtin_trap();
  } catch (const distill::io_error&) {
  } catch (const distill::invalid_argument&) {
  }
  return 0;
}
