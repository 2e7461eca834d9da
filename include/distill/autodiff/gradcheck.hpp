// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_GRADCHECK_HPP
#define DISTILL_AUTODIFF_GRADCHECK_HPP

/**
 * @file
 * Finite-difference checking of reverse-mode gradients (first and second order).
 *
 * The derivative along each checked coordinate is the 6-point central stencil
 *   f'(x) ≈ [−f(x−3h) + 9f(x−2h) − 45f(x−h) + 45f(x+h) − 9f(x+2h) + f(x+3h)] / 60h,
 * with h = ε^(1/7)·max(1, |x|) (stan's finite_diff_gradient), compared by the relative error
 * |a − b| / max(|a| + |b|, tiny), which is well defined when a ≈ −b. Use double precision.
 */

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "distill/autodiff/grad.hpp"
#include "distill/autodiff/ops/reduce.hpp"
#include "distill/core/rng.hpp"

namespace distill::ad {

struct GradcheckOptions {
  std::size_t max_coordinates = 100;  //!< per input: all coordinates of small tensors, this many random ones otherwise
  std::uint64_t seed = 0;             //!< picks the random coordinates
  double tiny = 1e-7;                 //!< floor of the relative error's denominator
};

struct GradcheckResult {
  double max_rel_error = 0;
  double max_abs_error = 0;
  std::size_t worst_input = 0, worst_index = 0;
  double worst_analytic = 0, worst_numeric = 0;
  std::size_t checked = 0;
};

/**
 * Compares grad(f(xs), xs) with central finite differences.
 * @param f      callable `(const std::vector<Var<B>>&) -> Var<B>` returning a one-element Var; it must build its
 *               result only from its arguments (it is called on fresh tapes at perturbed points)
 * @param inputs the point at which to check
 */
template <Backend B, class F>
GradcheckResult gradcheck(F&& f, const std::vector<Tensor<typename B::Scalar>>& inputs, GradcheckOptions opt = {}) {
  using T = typename B::Scalar;
  auto evaluate = [&](const std::vector<Tensor<T>>& point) {
    Tape<B> tape;
    std::vector<Var<B>> vars;
    for (const auto& t : point) vars.push_back(tape.variable(t));
    const Var<B> y = f(vars);
    DISTILL_CHECK(y.size() == 1, "gradcheck(): f must return one element, got ", show(y.shape()));
    return double(y.item());
  };

  std::vector<Tensor<T>> point;
  for (const auto& t : inputs) point.push_back(t.clone());
  std::vector<Tensor<T>> analytic;
  {
    Tape<B> tape;
    std::vector<Var<B>> vars;
    for (const auto& t : point) vars.push_back(tape.variable(t));
    for (const auto& g : grad(f(vars), vars)) analytic.push_back(g.value().clone());
  }

  GradcheckResult r;
  Rng rng(opt.seed);
  const double eps7 = std::pow(double(std::numeric_limits<T>::epsilon()), 1.0 / 7.0);
  for (std::size_t in = 0; in < point.size(); ++in) {
    std::vector<std::size_t> coords(point[in].size());
    std::iota(coords.begin(), coords.end(), std::size_t(0));
    if (coords.size() > opt.max_coordinates) {
      rng.shuffle(coords);
      coords.resize(opt.max_coordinates);
    }
    for (std::size_t c : coords) {
      T& x = point[in][c];
      const T x0 = x;
      const double h = eps7 * std::max(1.0, std::abs(double(x0)));
      auto at = [&](double k) {
        x = T(double(x0) + k * h);
        const double v = evaluate(point);
        x = x0;
        return v;
      };
      const double numeric = (-at(-3) + 9 * at(-2) - 45 * at(-1) + 45 * at(1) - 9 * at(2) + at(3)) / (60 * h);
      const double a = analytic[in][c];
      const double abs_err = std::abs(a - numeric);
      const double rel = abs_err / std::max(std::abs(a) + std::abs(numeric), opt.tiny);
      ++r.checked;
      r.max_abs_error = std::max(r.max_abs_error, abs_err);
      if (rel > r.max_rel_error || r.checked == 1) {
        r.max_rel_error = std::max(r.max_rel_error, rel);
        r.worst_input = in;
        r.worst_index = c;
        r.worst_analytic = a;
        r.worst_numeric = numeric;
      }
    }
  }
  return r;
}

/**
 * Second-order check: compares the gradient of ⟨∇f(xs), v⟩ (computed with create_graph) against finite
 * differences of the first-order gradient. `directions` holds one v per input.
 */
template <Backend B, class F>
GradcheckResult gradcheck_second_order(F&& f, const std::vector<Tensor<typename B::Scalar>>& inputs,
                                       const std::vector<Tensor<typename B::Scalar>>& directions, GradcheckOptions opt = {}) {
  DISTILL_CHECK(directions.size() == inputs.size(), "gradcheck_second_order(): need one direction per input (",
                inputs.size(), "), got ", directions.size());
  auto directional = [&](const std::vector<Var<B>>& xs) {
    const auto gs = grad(f(xs), xs, {.create_graph = true});
    Var<B> total = dot(gs[0], Var<B>(directions[0]));
    for (std::size_t i = 1; i < gs.size(); ++i) total = add(total, dot(gs[i], Var<B>(directions[i])));
    return total;
  };
  return gradcheck<B>(directional, inputs, opt);
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_GRADCHECK_HPP
