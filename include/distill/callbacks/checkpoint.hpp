// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_CHECKPOINT_HPP
#define DISTILL_CALLBACKS_CHECKPOINT_HPP

#include <cstddef>
#include <filesystem>
#include <string>

#include "distill/callbacks/state.hpp"
#include "distill/core/error.hpp"

namespace distill::callbacks {

/**
 * Saves the method's state every `every` steps (and at the end), so that a long run can be resumed.
 *
 * `Checkpoint{.path = "kip_ckpt.npz", .every = 500}`.
 *
 * Checkpoint decides *when*; the method decides *what* and *how*: it puts a save function into
 * TrainingState::save_checkpoint, which writes atomically (temporary file + rename, the io layer's job), so a
 * crash during a save leaves the previous checkpoint intact. Resuming is the method's job too: pass the same
 * path as the method's `.resume_from` option and it continues from the saved step.
 *
 * A `{step}` in the path is replaced by the step number ("ckpt_{step}.npz" keeps every checkpoint); without
 * it each save replaces the previous one.
 *
 * @throw distill::invalid_argument from on_begin when path is empty, and from the first save when the method
 *        offers no save_checkpoint (it does not support checkpoints).
 */
struct Checkpoint {
  std::filesystem::path path{};  //!< where to save; "{step}" is replaced by the step number
  std::size_t every = 1000;    //!< save every this many steps (0: only at the end)
  bool at_end = true;          //!< also save when training ends (early stop included), if not just saved

  // Progress, readable after training (reset by on_begin).
  std::size_t saves = 0;                 //!< number of saves made
  std::size_t last_saved_step = 0;       //!< state.step of the latest save
  std::filesystem::path last_path{};     //!< path of the latest save

  void on_begin(TrainingState&) {
    DISTILL_CHECK(!path.empty(), "Checkpoint: path is empty, expected a file to save to");
    saves = 0;
    last_saved_step = 0;
    last_path.clear();
  }

  void on_step(TrainingState& s) {
    if (every != 0 && s.step != 0 && s.step % every == 0) save(s);
  }

  void on_end(TrainingState& s) {
    if (at_end && (saves == 0 || last_saved_step != s.step)) save(s);
  }

  //! The path for a save at `step`: `path` with "{step}" replaced.
  std::filesystem::path path_for(std::size_t step) const {
    std::string p = path.string();
    const std::string key = "{step}";
    for (auto pos = p.find(key); pos != std::string::npos; pos = p.find(key, pos)) {
      const std::string n = std::to_string(step);
      p.replace(pos, key.size(), n);
      pos += n.size();
    }
    return p;
  }

 private:
  void save(TrainingState& s) {
    DISTILL_CHECK(static_cast<bool>(s.save_checkpoint), "Checkpoint: this method does not support checkpoints ",
                  "(TrainingState::save_checkpoint is empty", s.phase.empty() ? "" : " in phase \"", s.phase,
                  s.phase.empty() ? "" : "\"", ")");
    last_path = path_for(s.step);
    s.save_checkpoint(last_path);
    ++saves;
    last_saved_step = s.step;
  }
};

}  // namespace distill::callbacks

#endif  // DISTILL_CALLBACKS_CHECKPOINT_HPP
