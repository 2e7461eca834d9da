// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_LOSS_PRINTER_HPP
#define DISTILL_CALLBACKS_LOSS_PRINTER_HPP

#include <cstddef>
#include <iostream>
#include <ostream>

#include "distill/callbacks/detail/format.hpp"
#include "distill/callbacks/state.hpp"

namespace distill::callbacks {

/**
 * Prints the loss and metrics every `every` steps and at the end of every epoch, one line each:
 * `step 100/1000  loss 0.2345  acc 0.91`. A plain log, for when a progress bar is too chatty or too quiet.
 *
 * `LossPrinter{.every = 50, .out = &std::cout}`. It never asks to stop.
 */
struct LossPrinter {
  std::size_t every = 100;       //!< print every this many steps (0: never on steps)
  bool epochs = true;            //!< also print at the end of each epoch
  std::ostream* out = &std::cerr;  //!< where to print (must outlive the printer; null prints nothing)

  void on_step(TrainingState& s) const {
    if (out == nullptr || every == 0 || s.step % every != 0) return;
    *out << (s.phase.empty() ? "" : s.phase + " ") << "step " << s.step;
    if (s.total_steps) *out << '/' << s.total_steps;
    print_values(s);
  }

  void on_epoch_end(TrainingState& s) const {
    if (out == nullptr || !epochs) return;
    *out << (s.phase.empty() ? "" : s.phase + " ") << "epoch " << s.epoch;
    if (s.total_epochs) *out << '/' << s.total_epochs;
    print_values(s);
  }

 private:
  void print_values(const TrainingState& s) const {
    const auto values = detail::format_values(s);
    *out << (values.empty() ? "" : "  ") << values << '\n';
  }
};

}  // namespace distill::callbacks

#endif  // DISTILL_CALLBACKS_LOSS_PRINTER_HPP
