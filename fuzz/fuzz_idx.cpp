// SPDX-License-Identifier: MIT
// libFuzzer target: IDX images and labels (raw and gzip) from arbitrary bytes. distill exceptions are the
// expected answer to bad input; anything else (a crash, a sanitizer report, std::bad_alloc, another
// exception type) is a bug. Build and run with fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <span>

#include "distill/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto t = distill::io::parse_idx_images<float>(bytes, "fuzz.idx");
    // Touch the result so the sanitizers check every element that was written.
    float sum = 0;
    for (float v : t) sum += v;
    if (!(sum >= 0)) __builtin_trap();  // pixels are in [0, 1]
  } catch (const distill::io_error&) {
  } catch (const distill::invalid_argument&) {
  }
  try {
    const auto labels = distill::io::parse_idx_labels(bytes, "fuzz.idx");
    for (auto l : labels)
      if (l < 0 || l > 255) __builtin_trap();
  } catch (const distill::io_error&) {
  } catch (const distill::invalid_argument&) {
  }
  return 0;
}
