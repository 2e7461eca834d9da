// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_HPP
#define DISTILL_CORESET_HPP

/**
 * @file
 * Coreset selection: the Selector concept, the SelectionView every selector reads, budgets and selections, and
 * every method (one header each).
 */

#include "distill/coreset/adaptive.hpp"
#include "distill/coreset/cal.hpp"
#include "distill/coreset/concepts.hpp"
#include "distill/coreset/craig.hpp"
#include "distill/coreset/deepfool.hpp"
#include "distill/coreset/forgetting.hpp"
#include "distill/coreset/gradmatch.hpp"
#include "distill/coreset/glister.hpp"
#include "distill/coreset/grand.hpp"
#include "distill/coreset/herding.hpp"
#include "distill/coreset/importance.hpp"
#include "distill/coreset/k_center_greedy.hpp"
#include "distill/coreset/random.hpp"
#include "distill/coreset/selection.hpp"
#include "distill/coreset/submodular.hpp"
#include "distill/coreset/uncertainty.hpp"
#include "distill/coreset/view.hpp"

#endif  // DISTILL_CORESET_HPP
