// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_GRAD_HPP
#define DISTILL_AUTODIFF_GRAD_HPP

#include <vector>

#include "distill/autodiff/ops/broadcast.hpp"
#include "distill/autodiff/tape.hpp"

namespace distill::ad {

/// Options of grad().
struct GradOptions {
  /// Record the backward pass on the tape, so the returned gradients can be differentiated again
  /// (Hessian-vector products, hypergradients through unrolled optimisation steps).
  bool create_graph = false;
};

/**
 * Reverse-mode gradients of y with respect to each of xs.
 *
 * @param y     a Var on a tape; a one-element Var unless `seed` is given
 * @param xs    the Vars to differentiate with respect to (variables or intermediate results of the same tape)
 * @param opt   {.create_graph = true} records the backward pass so that the gradients are differentiable
 * @param seed  the vector of the vector-Jacobian product (same shape as y); default 1
 * @return one gradient per x, with x's shape; zeros where y does not depend on x
 * @throw invalid_argument if y is not a scalar and no seed is given, or shapes do not match
 */
template <Backend B>
std::vector<Var<B>> grad(const Var<B>& y, const std::vector<Var<B>>& xs, GradOptions opt = {}, const Var<B>& seed = {}) {
  using T = typename B::Scalar;
  DISTILL_CHECK(y.defined(), "grad(): y is an undefined Var");
  std::vector<Var<B>> result(xs.size());
  auto zeros = [&](std::size_t k) { return Var<B>(Tensor<T>(xs[k].shape())); };
  if (!y.requires_grad()) {
    for (std::size_t k = 0; k < xs.size(); ++k) result[k] = zeros(k);
    return result;
  }
  Tape<B>& tape = *y.tape();
  const auto n = std::size_t(y.index()) + 1;

  Var<B> start;
  if (seed.defined()) {
    DISTILL_CHECK(seed.shape() == y.shape(), "grad(): seed has shape ", show(seed.shape()), " but y has ", show(y.shape()));
    start = seed;
  } else {
    DISTILL_CHECK(y.size() == 1, "grad(): y has shape ", show(y.shape()), "; pass a seed to differentiate a non-scalar");
    start = Var<B>(Tensor<T>(y.shape(), T(1)));
  }

  // Only nodes on a path from some x to y need a backward call.
  std::vector<char> reach(n, 0), wanted(n, 0);
  for (const auto& x : xs) {
    DISTILL_CHECK(x.tape() == nullptr || x.tape() == &tape, "grad(): an x lives on a different tape than y");
    if (x.tape() && std::size_t(x.index()) < n) reach[std::size_t(x.index())] = wanted[std::size_t(x.index())] = 1;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (reach[i]) continue;
    for (const auto& in : tape.node(std::int64_t(i)).inputs)
      if (in.tape() == &tape && reach[std::size_t(in.index())]) {
        reach[i] = 1;
        break;
      }
  }

  std::vector<Var<B>> grads(n);
  grads[n - 1] = start;
  typename Tape<B>::RecordingGuard guard(tape, opt.create_graph);
  for (std::size_t i = n; i-- > 0;) {
    if (!reach[i] || !grads[i].defined()) continue;
    const Node<B>& node = tape.node(std::int64_t(i));  // deque: stays valid while backward appends nodes
    if (node.backward) {
      Profile* profile = detail::active_profile;
      if (profile) [[unlikely]]
        profile->lap("grad bookkeeping", 0);
      const std::vector<Var<B>> gs = node.backward(tape.output_of(std::int64_t(i)), grads[i]);
      if (profile) [[unlikely]] {
        std::size_t bytes = grads[i].size();
        for (std::size_t k = 0; k < node.inputs.size(); ++k)
          bytes += node.inputs[k].size() + (gs[k].defined() ? gs[k].size() : 0);
        profile->lap(std::string(node.op) + " backward", bytes * sizeof(T));
      }
      for (std::size_t k = 0; k < node.inputs.size(); ++k) {
        const Var<B>& in = node.inputs[k];
        if (in.tape() != &tape || !gs[k].defined() || !reach[std::size_t(in.index())]) continue;
        DISTILL_ASSERT(gs[k].shape() == in.shape());
        Var<B>& acc = grads[std::size_t(in.index())];
        if (!acc.defined()) {
          acc = gs[k];
          continue;
        }
        acc = add(acc, gs[k]);
        if (profile) [[unlikely]]
          profile->lap("grad accumulate", 3 * acc.size() * sizeof(T));
      }
    }
    if (!wanted[i]) grads[i] = Var<B>{};  // free as we go
  }
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const bool has = xs[k].tape() && std::size_t(xs[k].index()) < n && grads[std::size_t(xs[k].index())].defined();
    result[k] = has ? grads[std::size_t(xs[k].index())] : zeros(k);
  }
  return result;
}

//! Gradient with respect to a single x.
template <Backend B>
Var<B> grad(const Var<B>& y, const Var<B>& x, GradOptions opt = {}) {
  return grad(y, std::vector<Var<B>>{x}, opt)[0];
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_GRAD_HPP
