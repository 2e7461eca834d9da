// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORESET_GRAND_HPP
#define DISTILL_CORESET_GRAND_HPP

/**
 * @file
 * GraNd and EL2N (Paul, Ganguli, Dziugaite 2021, Deep Learning on a Data Diet: Finding Important Examples Early in
 * Training, NeurIPS; arXiv:2107.07075): score each example early in training, averaged over a few independently
 * initialised proxies (ViewOptions::proxy_nets, trained for proxy_epochs), and keep the highest scores.
 *
 *   EL2N_i  = E_nets ‖p_i − y_i‖₂                       (the error vector's norm)
 *   GraNd_i = E_nets ‖∂ℓ_i/∂[W, b]‖₂ = E ‖p_i − y_i‖₂ · ‖[h_i, 1]‖₂
 *             (the last layer's gradient in closed form, a rank-one outer product (p − y) ⊗ [h, 1], whose norm is
 *             the product of the two norms; DeepCore scores GraNd on the last layer too)
 */

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "distill/coreset/selection.hpp"
#include "distill/coreset/view.hpp"

namespace distill::coreset {

//! EL2N or GraNd scores of every example, averaged over the view's proxy_nets proxies.
template <class T>
std::vector<double> error_norm_scores(SelectionView<T>& view, bool gradient) {
  const std::size_t n = view.size(), nets = view.options().proxy_nets;
  std::vector<double> score(n, 0.0);
  for (std::size_t r = 0; r < nets; ++r) {
    const Tensor<T> e = view.errors(r);
    const std::size_t k = e.shape(1);
    Tensor<T> h;
    if (gradient) h = view.inputs(r);
    for (std::size_t i = 0; i < n; ++i) {
      double se = 0;
      for (std::size_t c = 0; c < k; ++c) se += double(e[i * k + c]) * double(e[i * k + c]);
      double v = std::sqrt(se);
      if (gradient) {
        const std::size_t f = h.shape(1);
        double sh = 0;
        for (std::size_t c = 0; c < f; ++c) sh += double(h[i * f + c]) * double(h[i * f + c]);
        v *= std::sqrt(sh);
      }
      score[i] += v / double(nets);
    }
  }
  return score;
}

/// EL2N: the error norm early in training (see the file comment).
struct El2n {
  std::uint64_t seed = 0;  //!< order of ties
  std::string name() const { return "el2n"; }
  //! @throw invalid_argument on a bad budget, or a view without a proxy model
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "El2n::select()");
    return select_top(pools, error_norm_scores(view, false), seed);
  }
};

/// GraNd: the last-layer gradient norm early in training (see the file comment).
struct Grand {
  std::uint64_t seed = 0;  //!< order of ties
  std::string name() const { return "grand"; }
  //! @throw invalid_argument on a bad budget, or a view without a proxy model with features()
  template <class T>
  Selection select(SelectionView<T>& view, const Budget& budget) const {
    const auto pools = make_pools(view.data().labels, view.num_classes(), budget, "Grand::select()");
    return select_top(pools, error_norm_scores(view, true), seed);
  }
};

}  // namespace distill::coreset

#endif  // DISTILL_CORESET_GRAND_HPP
