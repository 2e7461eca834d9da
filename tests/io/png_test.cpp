// SPDX-License-Identifier: MIT
// Tests for include/distill/io/png.hpp: grid layout, scaling, the written PNG's header (and pixels when
// stb_image is there to decode them), bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "distill/io/png.hpp"
#include "io_test_support.hpp"

#if __has_include(<stb/stb_image.h>)
#define DISTILL_TEST_HAVE_STB_IMAGE 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb/stb_image.h>
#pragma GCC diagnostic pop
#endif

namespace dd = distill;
namespace io = distill::io;
using Catch::Matchers::Contains;
using iotest::Bytes;

namespace {
struct PngHeader {
  std::uint32_t width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
};
std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::to_integer<std::uint32_t>(b[at]) << 24) | (std::to_integer<std::uint32_t>(b[at + 1]) << 16) |
         (std::to_integer<std::uint32_t>(b[at + 2]) << 8) | std::to_integer<std::uint32_t>(b[at + 3]);
}
//! Checks the 8-byte PNG signature and reads the IHDR chunk (which must come first).
PngHeader read_png_header(const Bytes& b) {
  REQUIRE(b.size() > 33);
  const Bytes signature = iotest::to_bytes({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
  REQUIRE(Bytes(b.begin(), b.begin() + 8) == signature);
  REQUIRE(be32(b, 8) == 13);  // IHDR length
  REQUIRE(std::string(reinterpret_cast<const char*>(b.data()) + 12, 4) == "IHDR");
  return {be32(b, 16), be32(b, 20), std::to_integer<int>(b[24]), std::to_integer<int>(b[25])};
}
}  // namespace

TEMPLATE_TEST_CASE("png: a grey grid has the expected size and pixels", "[io][png]", float, double) {
  using T = TestType;
  iotest::TempDir dir;
  // 5 images of 3x2, image i filled with value i (global scaling maps 0 -> 0 and 4 -> 255).
  dd::Tensor<T> images({5, 1, 3, 2});
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t k = 0; k < 6; ++k) images[i * 6 + k] = static_cast<T>(i);
  io::write_png_grid(dir / "g.png", images, {.columns = 3, .padding = 1, .pad_value = 0.5});
  REQUIRE(dir.entries() == std::vector<std::string>{"g.png"});
  const auto h = read_png_header(iotest::read_bytes(dir / "g.png"));
  // 3 columns x 2 rows of 2x3 cells with 1 px padding: width 3*(2+1)+1, height 2*(3+1)+1.
  REQUIRE(h.width == 10);
  REQUIRE(h.height == 9);
  REQUIRE(h.bit_depth == 8);
  REQUIRE(h.color_type == 0);  // greyscale

  const auto img = io::render_grid(images, {.columns = 3, .padding = 1, .pad_value = 0.5});
  REQUIRE(img.width == 10);
  REQUIRE(img.pixels[0] == 128);                 // padding
  REQUIRE(img.pixels[1 * 10 + 1] == 0);          // image 0
  REQUIRE(img.pixels[1 * 10 + 4] == 64);         // image 1: round(255 / 4)
  REQUIRE(img.pixels[5 * 10 + 4] == 255);        // image 4 (row 1, column 1)
  REQUIRE(img.pixels[5 * 10 + 7] == 128);        // the empty sixth cell stays padding
#ifdef DISTILL_TEST_HAVE_STB_IMAGE
  int w = 0, hh = 0, comp = 0;
  const auto file = iotest::read_bytes(dir / "g.png");
  unsigned char* decoded = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(file.data()), static_cast<int>(file.size()),
                                                 &w, &hh, &comp, 0);
  REQUIRE(decoded != nullptr);
  REQUIRE(w == 10);
  REQUIRE(hh == 9);
  REQUIRE(comp == 1);
  REQUIRE(std::vector<std::uint8_t>(decoded, decoded + 90) == img.pixels);
  stbi_image_free(decoded);
#else
  WARN("stb_image.h not available: PNG pixels not decoded, only the header checked");
#endif
}

TEST_CASE("png: RGB, per-image scaling, upscale and rows by label", "[io][png]") {
  iotest::TempDir dir;
  SECTION("RGB images keep their channels") {
    dd::Tensor<float> rgb({1, 3, 1, 1}, {1.0f, 0.0f, 0.5f});
    const auto img = io::render_grid(rgb, {.scaling = io::Scaling::clamp, .padding = 0});
    REQUIRE(img.channels == 3);
    REQUIRE(img.pixels == std::vector<std::uint8_t>{255, 0, 128});
    io::write_png_grid(dir / "rgb.png", rgb, {.upscale = 4});
    const auto h = read_png_header(iotest::read_bytes(dir / "rgb.png"));
    REQUIRE(h.color_type == 2);  // truecolour
    REQUIRE(h.width == 6);       // 1 * 4 + 2 * 1 padding
  }
  SECTION("per-image scaling stretches each image to 0..255") {
    dd::Tensor<float> t({2, 1, 1, 2}, {0.0f, 0.1f, 10.0f, 20.0f});
    const auto img = io::render_grid(t, {.columns = 2, .scaling = io::Scaling::per_image, .padding = 0});
    REQUIRE(img.pixels == std::vector<std::uint8_t>{0, 255, 0, 255});
    const auto global = io::render_grid(t, {.columns = 2, .scaling = io::Scaling::global, .padding = 0});
    REQUIRE(global.pixels == std::vector<std::uint8_t>{0, 1, 128, 255});
  }
  SECTION("a constant image is shown as its (clamped) value, not stretched") {
    dd::Tensor<float> t({1, 1, 2, 2}, 0.0f);
    REQUIRE(io::render_grid(t, {.scaling = io::Scaling::per_image, .padding = 0}).pixels == std::vector<std::uint8_t>(4, 0));
  }
  SECTION("upscale repeats pixels") {
    dd::Tensor<float> t({1, 1, 1, 2}, {0.0f, 1.0f});
    const auto img = io::render_grid(t, {.padding = 0, .upscale = 2});
    REQUIRE(img.width == 4);
    REQUIRE(img.height == 2);
    REQUIRE(img.pixels == std::vector<std::uint8_t>{0, 0, 255, 255, 0, 0, 255, 255});
  }
  SECTION("rows_by_label puts class k on row k") {
    dd::Tensor<float> t({4, 1, 1, 1}, {0.0f, 1.0f, 0.5f, 0.25f});
    const auto img = io::render_grid(t, {.rows_by_label = {2, 0, 2, 2}, .scaling = io::Scaling::clamp, .padding = 0, .pad_value = 0.0});
    // Classes 0, 1 (absent: an empty row), 2; three columns (the largest class).
    REQUIRE(img.width == 3);
    REQUIRE(img.height == 3);
    REQUIRE(img.pixels == std::vector<std::uint8_t>{255, 0, 0, /* class 1 */ 0, 0, 0, /* class 2 */ 0, 128, 64});
    const auto wrapped = io::render_grid(t, {.columns = 2, .rows_by_label = {2, 0, 2, 2}, .padding = 0});
    REQUIRE(wrapped.height == 4);  // class 2 needs two rows of two
  }
}

TEST_CASE("png: [N, 3, H, W] images are written as colour PNGs, scaled over all three channels together", "[io][png][rgb]") {
  iotest::TempDir dir;
  // Two 2x2 RGB images in channel planes [C, H, W]. Image 0: red ramps 0..1, green is 0.5, blue ramps 0..0.25.
  // Image 1 is image 0 times 4, so global scaling shows it 4x brighter, per-image scaling the same as image 0.
  dd::Tensor<float> t({2, 3, 2, 2});
  const float r[4] = {0.0f, 1.0f / 3, 2.0f / 3, 1.0f}, b[4] = {0.0f, 0.25f / 3, 0.5f / 3, 0.25f};
  for (std::size_t i = 0; i < 2; ++i) {
    const float k = i == 0 ? 1.0f : 4.0f;
    for (std::size_t p = 0; p < 4; ++p) {
      t.at(i, 0, p / 2, p % 2) = k * r[p];
      t.at(i, 1, p / 2, p % 2) = k * 0.5f;
      t.at(i, 2, p / 2, p % 2) = k * b[p];
    }
  }
  // Expected bytes of image 0 after its own min..max (0..1) stretch, interleaved R G B per pixel, row-major.
  const std::vector<std::uint8_t> image0 = {0, 128, 0, 85, 128, 21, 170, 128, 43, 255, 128, 64};
  auto cell = [](const io::Image8& img, std::size_t col) {  // the 2x2 cell at grid column `col` (padding 0)
    std::vector<std::uint8_t> out;
    for (std::size_t y = 0; y < 2; ++y)
      for (std::size_t x = 0; x < 2; ++x)
        for (std::size_t ch = 0; ch < 3; ++ch) out.push_back(img.pixels[(y * img.width + col * 2 + x) * 3 + ch]);
    return out;
  };
  SECTION("per-image: one min..max per image over its three channels keeps the hue (blue is not stretched to 255)") {
    const auto img = io::render_grid(t, {.columns = 2, .scaling = io::Scaling::per_image, .padding = 0});
    REQUIRE(img.channels == 3);
    REQUIRE(img.width == 4);
    REQUIRE(img.height == 2);
    CHECK(cell(img, 0) == image0);
    CHECK(cell(img, 1) == image0);
  }
  SECTION("global: one min..max over the whole batch keeps brightness comparable") {
    const auto img = io::render_grid(t, {.columns = 2, .scaling = io::Scaling::global, .padding = 0});
    std::vector<std::uint8_t> dim0(12);  // image 0 scaled into 0..1/4 of the batch range 0..4
    for (std::size_t q = 0; q < 12; ++q) dim0[q] = static_cast<std::uint8_t>(std::lround(image0[q] / 4.0));
    const auto got = cell(img, 0);
    for (std::size_t q = 0; q < 12; ++q) CHECK(std::abs(int(got[q]) - int(dim0[q])) <= 1);
    CHECK(cell(img, 1) == image0);  // image 1 spans the batch's range
  }
  SECTION("the file is truecolour and decodes to the rendered pixels") {
    const io::GridOptions opt{.columns = 2, .scaling = io::Scaling::per_image, .padding = 1, .upscale = 2, .pad_value = 0.0};
    io::write_png_grid(dir / "rgb.png", t, opt);
    const auto file = iotest::read_bytes(dir / "rgb.png");
    const auto h = read_png_header(file);
    REQUIRE(h.color_type == 2);  // truecolour RGB
    REQUIRE(h.bit_depth == 8);
    REQUIRE(h.width == 2 * (2 * 2 + 1) + 1);
    REQUIRE(h.height == 2 * 2 + 2);
    const auto img = io::render_grid(t, opt);
#ifdef DISTILL_TEST_HAVE_STB_IMAGE
    int w = 0, hh = 0, comp = 0;
    unsigned char* decoded = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(file.data()), static_cast<int>(file.size()),
                                                   &w, &hh, &comp, 0);
    REQUIRE(decoded != nullptr);
    REQUIRE(comp == 3);
    REQUIRE(std::size_t(w) == img.width);
    REQUIRE(std::size_t(hh) == img.height);
    CHECK(std::vector<std::uint8_t>(decoded, decoded + img.pixels.size()) == img.pixels);
    // Upscaled pixel (1, 1) of image 0 (its last pixel: R 255, G 128, B 64) at rows/columns 1 + 2..3.
    const unsigned char* px = decoded + ((1 + 3) * w + (1 + 3)) * 3;
    CHECK(std::vector<int>{px[0], px[1], px[2]} == std::vector<int>{255, 128, 64});
    stbi_image_free(decoded);
#else
    WARN("stb_image.h not available: RGB PNG pixels not decoded, only the header checked");
#endif
  }
}

TEST_CASE("png: bad input is refused", "[io][png]") {
  iotest::TempDir dir;
  const auto f = dir / "x.png";
  REQUIRE_THROWS_WITH(io::write_png_grid(f, dd::Tensor<float>({2, 2, 3, 3})), Contains("2 channels") && Contains("1 (grey) or 3 (RGB)"));
  REQUIRE_THROWS_WITH(io::write_png_grid(f, dd::Tensor<float>({2, 9})), Contains("[N, C, H, W]"));
  REQUIRE_THROWS_AS(io::write_png_grid(f, dd::Tensor<float>({0, 1, 3, 3})), dd::invalid_argument);
  dd::Tensor<float> nan({1, 1, 2, 2}, 0.0f);
  nan[3] = std::nanf("");
  REQUIRE_THROWS_WITH(io::write_png_grid(f, nan), Contains("NaN"));
  dd::Tensor<float> ok({2, 1, 2, 2});
  REQUIRE_THROWS_WITH(io::write_png_grid(f, ok, {.rows_by_label = {1}}), Contains("1 labels for 2 images"));
  REQUIRE_THROWS_WITH(io::write_png_grid(f, ok, {.rows_by_label = {1, -1}}), Contains("rows_by_label[1] is -1"));
  REQUIRE_THROWS_WITH(io::write_png_grid(f, ok, {.upscale = 0}), Contains("upscale"));
  REQUIRE_THROWS_WITH(io::write_png_grid(f, ok, {.upscale = 100000}), Contains("too large"));
  REQUIRE(dir.entries().empty());
  iotest::require_io_error([&] { io::write_png_grid(dir / "missing_dir" / "x.png", ok); }, {"missing_dir"});
}
