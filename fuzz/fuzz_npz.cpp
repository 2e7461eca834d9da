// SPDX-License-Identifier: MIT
// libFuzzer target: NPZ (ZIP) parsing from arbitrary bytes: stored and deflate entries, ZIP64 fields,
// directory offsets. distill exceptions are fine; anything else is a bug. See fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <span>

#include "distill/io/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto arrays = distill::io::parse_npz(bytes, "fuzz.npz");
    for (const auto& [key, a] : arrays) {
      a.validate();
      if (key.empty()) __builtin_trap();
    }
  } catch (const distill::io_error&) {
  } catch (const distill::invalid_argument&) {
  }
  return 0;
}
