// SPDX-License-Identifier: MIT
// Tests for include/distill/io/detail/atomic_file.hpp: saves are all-or-nothing, temporaries never linger.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "distill/io/detail/atomic_file.hpp"
#include "distill/io/npy.hpp"
#include "distill/io/npz.hpp"
#include "io_test_support.hpp"

namespace dd = distill;
namespace io = distill::io;
using Catch::Matchers::Contains;
using iotest::Bytes;

namespace {
void write_text(io::detail::AtomicFile& f, const std::string& s) { f.write(s.data(), s.size()); }
std::string read_text(const std::filesystem::path& p) {
  const auto b = iotest::read_bytes(p);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
}  // namespace

TEST_CASE("atomic_file: a committed write appears under the target name only", "[io][atomic]") {
  iotest::TempDir dir;
  const auto target = dir / "out.bin";
  {
    io::detail::AtomicFile f(target, "test");
    write_text(f, "hello ");
    write_text(f, "world");
    REQUIRE(f.tell() == 11);
    REQUIRE_FALSE(std::filesystem::exists(target));  // nothing under the real name before commit
    REQUIRE(std::filesystem::exists(f.temp_path()));
    REQUIRE(f.temp_path().parent_path() == target.parent_path());  // same directory: rename is atomic
    REQUIRE_THAT(f.temp_path().filename().string(), Contains("out.bin.tmp."));
    f.commit();
  }
  REQUIRE(read_text(target) == "hello world");
  REQUIRE(dir.entries() == std::vector<std::string>{"out.bin"});
  SECTION("temporary names are unique") {
    REQUIRE(io::detail::temp_path_for(target) != io::detail::temp_path_for(target));
  }
}

TEST_CASE("atomic_file: an exception midway leaves no file and no temporary", "[io][atomic]") {
  iotest::TempDir dir;
  const auto target = dir / "out.bin";
  SECTION("injected failure inside atomic_write") {
    REQUIRE_THROWS_AS(io::detail::atomic_write(target, "test",
                                               [](io::detail::AtomicFile& f) {
                                                 write_text(f, "half of the data");
                                                 throw std::runtime_error("injected failure");
                                               }),
                      std::runtime_error);
    REQUIRE(dir.entries().empty());
  }
  SECTION("a failed save keeps the old file intact") {
    io::detail::atomic_write(target, "test", [](io::detail::AtomicFile& f) { write_text(f, "old"); });
    REQUIRE_THROWS(io::detail::atomic_write(target, "test", [](io::detail::AtomicFile& f) {
      write_text(f, "new and partial");
      throw std::runtime_error("injected failure");
    }));
    REQUIRE(read_text(target) == "old");
    REQUIRE(dir.entries() == std::vector<std::string>{"out.bin"});
    std::filesystem::remove(target);  // so that the common check below (no leftovers) applies here too
  }
  SECTION("an NPZ save whose second array is invalid leaves nothing") {
    io::NpzWriter w(dir / "set.npz");
    w.add("good", dd::Tensor<float>({100}, 1.0f));
    const io::NpyArray bad{io::DType::float64, {4}, Bytes(3), 0};  // 3 bytes for 4 doubles
    REQUIRE_THROWS_AS(w.add("bad", bad), dd::invalid_argument);
    // The writer is abandoned (as when the exception unwinds the caller): it must clean up.
  }
  SECTION("save_npz with an invalid array") {
    std::map<std::string, io::NpyArray> m;
    m["a"] = io::NpyArray::from_tensor(dd::Tensor<float>({10}, 2.0f));
    m["b"] = io::NpyArray{io::DType::int64, {2}, Bytes(5), 0};
    REQUIRE_THROWS_AS(io::save_npz(dir / "m.npz", m), dd::invalid_argument);
  }
  SECTION("save_npy with an invalid array") {
    REQUIRE_THROWS_AS(io::save_npy(dir / "x.npy", io::NpyArray{io::DType::uint8, {7}, Bytes(6), 0}), dd::invalid_argument);
  }
  REQUIRE(dir.entries().empty());
}

TEST_CASE("atomic_file: unwritable targets raise io_error naming the path", "[io][atomic]") {
  iotest::TempDir dir;
  iotest::require_io_error([&] { io::save_npy(dir / "no_such_dir" / "x.npy", dd::Tensor<float>({2})); },
                           {"io::save_npy()", "no_such_dir", "x.npy"});
  // A directory already has the target name: the rename fails, and the temporary is removed.
  std::filesystem::create_directory(dir / "taken");
  std::filesystem::create_directory(dir / "taken" / "child");
  iotest::require_io_error([&] { io::save_npy(dir / "taken", dd::Tensor<float>({2})); }, {"taken", "rename"});
  REQUIRE(dir.entries() == std::vector<std::string>{"taken"});
}
