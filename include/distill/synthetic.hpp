// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_SYNTHETIC_HPP
#define DISTILL_SYNTHETIC_HPP

// Dataset distillation: unrolled gradient descent (Wang et al. 2018), KIP and Label Solve (Nguyen et al. 2021).
#include "distill/synthetic/augment.hpp"
#include "distill/synthetic/dc.hpp"
#include "distill/synthetic/dm.hpp"
#include "distill/synthetic/dsa.hpp"
#include "distill/synthetic/expert_trajectories.hpp"
#include "distill/synthetic/frepo.hpp"
#include "distill/synthetic/kip.hpp"
#include "distill/synthetic/kip_loss.hpp"
#include "distill/synthetic/label_solve.hpp"
#include "distill/synthetic/mtt.hpp"
#include "distill/synthetic/unrolled_gd.hpp"
#include "distill/synthetic/unrolled_hypergradient.hpp"
#include "distill/synthetic/unrolled_steps.hpp"

#endif  // DISTILL_SYNTHETIC_HPP
