// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_DETAIL_STREAM_STATS_HPP
#define DISTILL_CORESET_DETAIL_STREAM_STATS_HPP

/**
 * @file
 * What a streaming greedy selector read, for the benchmarks' bytes-per-step and bandwidth figures.
 */

#include <cstddef>

namespace distill::coreset {

//! Counted by the streaming greedy selectors (k-center greedy, herding) when given a pointer to one.
struct StreamStats {
  std::size_t steps = 0;      //!< greedy steps that made a pass over the data
  std::size_t rows_read = 0;  //!< feature rows read by those passes (pruned rows are not read)
  std::size_t bytes_read = 0; //!< rows_read · bytes per row
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_DETAIL_STREAM_STATS_HPP
