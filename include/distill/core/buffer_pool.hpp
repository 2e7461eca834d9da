// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_BUFFER_POOL_HPP
#define DISTILL_CORE_BUFFER_POOL_HPP

/**
 * @file
 * The allocator behind Tensor storage: 64-byte aligned blocks, with freed large blocks kept for reuse.
 *
 * Why: a training or distillation step allocates the same large buffers (im2col matrices, activations of a whole
 * batch) every iteration. Returned to the OS and mapped again, each one costs a page fault per 4 KiB on first
 * touch — over a third of a LeNet step's time was spent in the kernel doing that. Keeping freed blocks of
 * ≥ 64 KiB in per-size free lists (PyTorch's caching allocator does the same) removes it. The cache is bounded
 * (DISTILL_POOL_LIMIT_MB, default 4096); `trim()` returns everything to the OS.
 *
 * It also counts bytes in use and their peak, which is how the benchmarks report memory.
 */

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace distill {

class BufferPool {
 public:
  static constexpr std::size_t alignment = 64;
  static constexpr std::size_t min_cached = std::size_t(64) << 10;

  //! The process-wide pool (never destroyed, so tensors in static storage can still free into it).
  static BufferPool& instance() {
    static BufferPool* pool = new BufferPool();
    return *pool;
  }

  void* acquire(std::size_t bytes) {
    bytes = round(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ += bytes;
      peak_ = std::max(peak_, in_use_);
      if (bytes >= min_cached) {
        auto it = free_.find(bytes);
        if (it != free_.end() && !it->second.empty()) {
          void* p = it->second.back();
          it->second.pop_back();
          cached_ -= bytes;
          return p;
        }
      }
    }
    return ::operator new(bytes, std::align_val_t{alignment});
  }

  void release(void* p, std::size_t bytes) noexcept {
    bytes = round(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ -= bytes;
      if (bytes >= min_cached && cached_ + bytes <= limit_) {
        try {
          free_[bytes].push_back(p);
          cached_ += bytes;
          return;
        } catch (...) {  // out of memory for the list itself: fall through and free
        }
      }
    }
    ::operator delete(p, std::align_val_t{alignment});
  }

  //! Returns every cached block to the system.
  void trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) ::operator delete(p, std::align_val_t{alignment});
    free_.clear();
    cached_ = 0;
  }

  //! Bytes held by live tensors now.
  std::size_t in_use_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_use_;
  }
  //! The most bytes live tensors held at once since the last reset_peak().
  std::size_t peak_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_ = in_use_;
  }
  std::size_t cached_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

 private:
  BufferPool() {
    if (const char* env = std::getenv("DISTILL_POOL_LIMIT_MB")) limit_ = std::size_t(std::strtoull(env, nullptr, 10)) << 20;
  }
  static std::size_t round(std::size_t bytes) { return (bytes + alignment - 1) / alignment * alignment; }

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t in_use_ = 0, peak_ = 0, cached_ = 0;
  std::size_t limit_ = std::size_t(4096) << 20;
};

}  // namespace distill

#endif  // DISTILL_CORE_BUFFER_POOL_HPP
