// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_DETAIL_ATOMIC_FILE_HPP
#define DISTILL_IO_DETAIL_ATOMIC_FILE_HPP

/**
 * @file
 * All-or-nothing file writes: every save in io/ goes through AtomicFile, so a crash, a full disk or an
 * exception halfway through a save never leaves a half-written file under the target name, and an older
 * file of that name survives a failed save untouched.
 *
 * The data goes to `<path>.tmp.<pid>.<n>` in the target's own directory (a rename is only atomic within one
 * file system), is flushed and fsync'ed, and then renamed over the target. If anything throws before
 * commit(), the destructor closes and removes the temporary file.
 */

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "distill/core/error.hpp"

#if defined(_WIN32)
#include <process.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace distill::io::detail {

//! The process id, for unique temporary names (two processes may save to one directory).
inline long current_pid() {
#if defined(_WIN32)
  return static_cast<long>(_getpid());
#else
  return static_cast<long>(::getpid());
#endif
}

//! `<path>.tmp.<pid>.<n>` with n unique within this process (two threads may save the same path).
inline std::filesystem::path temp_path_for(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter{0};
  std::filesystem::path tmp = target;
  tmp += ".tmp." + std::to_string(current_pid()) + "." + std::to_string(counter.fetch_add(1));
  return tmp;
}

/**
 * WHAT THIS OBJECT REPRESENTS
 *   A file being written under a temporary name that appears under its real name only on commit().
 *   Move-only. write() appends; commit() flushes, fsyncs, closes and renames; destruction without
 *   commit() removes the temporary file (so an exception thrown by the caller midway cleans up).
 */
class AtomicFile {
 public:
  /**
   * Creates `<target>.tmp.<pid>.<n>` next to `target`.
   * @param where  the public function name, for messages ("io::save_npz()").
   * @throw io_error when the temporary file cannot be created (missing directory, no permission).
   */
  AtomicFile(std::filesystem::path target, std::string where) : target_(std::move(target)), where_(std::move(where)) {
    DISTILL_CHECK(!target_.empty(), where_, ": path is empty, expected a file name");
    temp_ = temp_path_for(target_);
    file_ = std::fopen(temp_.c_str(), "wb");
    if (!file_) {
      DISTILL_THROW(io_error, where_, ": cannot create ", "'", temp_.string(), "' to write '", target_.string(), "': ",
                    std::strerror(errno));
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile(AtomicFile&& o) noexcept
      : target_(std::move(o.target_)), temp_(std::move(o.temp_)), where_(std::move(o.where_)),
        file_(std::exchange(o.file_, nullptr)), written_(o.written_), committed_(std::exchange(o.committed_, true)) {}
  AtomicFile& operator=(AtomicFile&&) = delete;

  ~AtomicFile() { discard(); }

  //! Appends `n` bytes. @throw io_error on a write error (disk full, ...).
  void write(const void* data, std::size_t n) {
    DISTILL_CHECK(file_ != nullptr, where_, ": write after commit to '", target_.string(), "'");
    if (n == 0) return;
    if (std::fwrite(data, 1, n, file_) != n) {
      DISTILL_THROW(io_error, where_, ": cannot write '", target_.string(), "' (temporary '", temp_.string(),
                    "'): ", std::strerror(errno));
    }
    written_ += n;
  }
  template <class Container>
  void write_all(const Container& c) {
    write(c.data(), c.size() * sizeof(*c.data()));
  }

  //! Bytes written so far (the offset of the next write).
  std::size_t tell() const { return written_; }
  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }

  /**
   * Flushes, fsyncs and closes the temporary file, then renames it over the target.
   * @throw io_error when any of these fails (the temporary file is removed first).
   */
  void commit() {
    DISTILL_CHECK(file_ != nullptr, where_, ": commit called twice for '", target_.string(), "'");
    bool ok = std::fflush(file_) == 0;
    int err = ok ? 0 : errno;
#if !defined(_WIN32)
    // fsync before rename: otherwise a power loss can leave the new name pointing at an empty file.
    if (ok && ::fsync(::fileno(file_)) != 0) ok = false, err = errno;
#endif
    if (std::fclose(std::exchange(file_, nullptr)) != 0 && ok) ok = false, err = errno;
    if (!ok) {
      remove_temp();
      DISTILL_THROW(io_error, where_, ": cannot write '", target_.string(), "': ", std::strerror(err));
    }
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) {
      remove_temp();
      DISTILL_THROW(io_error, where_, ": cannot rename '", temp_.string(), "' to '", target_.string(), "': ", ec.message());
    }
    committed_ = true;
#if !defined(_WIN32)
    // Make the rename itself durable; failure here is harmless for correctness, so it is not reported.
    const auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      (void)::fsync(fd);
      ::close(fd);
    }
#endif
  }

 private:
  void remove_temp() noexcept {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
  void discard() noexcept {
    if (committed_) return;
    if (file_) std::fclose(std::exchange(file_, nullptr));
    remove_temp();
    committed_ = true;
  }

  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::string where_;
  std::FILE* file_ = nullptr;
  std::size_t written_ = 0;
  bool committed_ = false;
};

/**
 * Writes `target` atomically: calls `fill(file)` with an AtomicFile, then commits. If `fill` throws, the
 * exception propagates and neither the target nor a temporary file is left behind.
 */
template <class Fill>
void atomic_write(const std::filesystem::path& target, std::string where, Fill&& fill) {
  AtomicFile file(target, std::move(where));
  std::forward<Fill>(fill)(file);
  file.commit();
}

}  // namespace distill::io::detail

#endif  // DISTILL_IO_DETAIL_ATOMIC_FILE_HPP
