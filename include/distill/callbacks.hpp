// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CALLBACKS_HPP
#define DISTILL_CALLBACKS_HPP

/**
 * @file
 * The callbacks layer: what a training loop reports (TrainingState), how it calls a pack of callbacks
 * (invoke_on_begin / on_step / on_epoch_end / on_end), and the callbacks that ship with distill.
 *
 * @code
 * auto small = kip.fit(train, dd::callbacks::ProgressBar{}, dd::callbacks::EarlyStop{.patience = 10},
 *                      dd::callbacks::Checkpoint{.path = "kip.npz", .every = 500});
 * @endcode
 * Any object with some of the hooks is a callback; see callbacks/invoke.hpp.
 */

#include "distill/callbacks/checkpoint.hpp"
#include "distill/callbacks/early_stop.hpp"
#include "distill/callbacks/invoke.hpp"
#include "distill/callbacks/loss_printer.hpp"
#include "distill/callbacks/progress_bar.hpp"
#include "distill/callbacks/state.hpp"

#endif  // DISTILL_CALLBACKS_HPP
