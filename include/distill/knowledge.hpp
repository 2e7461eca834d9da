// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KNOWLEDGE_HPP
#define DISTILL_KNOWLEDGE_HPP

// The knowledge layer (Hinton, Vinyals, Dean 2015): soft targets and the distillation objective, dropout's
// training-mode forward, teacher and student training on the shared frame, soft labels for distilled sets.
#include "distill/knowledge/distill.hpp"
#include "distill/knowledge/dropout.hpp"
#include "distill/knowledge/soft_labels.hpp"
#include "distill/knowledge/soft_targets.hpp"
#include "distill/knowledge/specialists.hpp"

#endif  // DISTILL_KNOWLEDGE_HPP
