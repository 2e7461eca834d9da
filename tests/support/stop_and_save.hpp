// SPDX-License-Identifier: MIT
// A test callback that interrupts a resumable method: at step `at` it saves the method's checkpoint to `path`
// (through TrainingState::save_checkpoint) and asks to stop, so a test can resume and compare with a full run.
#ifndef DISTILL_TESTS_SUPPORT_STOP_AND_SAVE_HPP
#define DISTILL_TESTS_SUPPORT_STOP_AND_SAVE_HPP

#include <cstddef>
#include <filesystem>

#include "distill/callbacks/state.hpp"

struct StopAndSave {
  std::filesystem::path path;
  std::size_t at = 7;
  bool on_step(distill::callbacks::TrainingState& s) const {
    if (s.step != at) return false;
    s.save_checkpoint(path);
    return true;
  }
};

#endif  // DISTILL_TESTS_SUPPORT_STOP_AND_SAVE_HPP
