// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_OPS_SHAPE_HPP
#define DISTILL_AUTODIFF_OPS_SHAPE_HPP

/**
 * @file
 * Operations that move values without arithmetic: reshape, permute/transpose, slice, concat, and row gather with
 * its adjoint scatter-add. Each pair is the other's gradient, so any order of derivative works.
 */

#include <algorithm>
#include <numeric>
#include <vector>

#include "distill/autodiff/tape.hpp"

namespace distill::ad {

//! The same values with another shape (no copy).
template <Backend B>
Var<B> reshape(const Var<B>& x, Shape shape) {
  DISTILL_CHECK(numel(shape) == x.size(), "reshape(): cannot reshape ", show(x.shape()), " to ", show(shape));
  return make_result<B>(x.value().reshape(shape), {x},
                        [in_shape = x.shape()](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{reshape(g, in_shape)};
                        },
                        "reshape");
}

//! [N, ...] -> [N, prod(...)].
template <Backend B>
Var<B> flatten(const Var<B>& x) {
  DISTILL_CHECK(x.rank() >= 1, "flatten(): needs rank >= 1");
  const std::size_t n = x.shape(0);
  return reshape(x, Shape{n, n ? x.size() / n : 0});
}

namespace detail {
template <class T>
Tensor<T> permute_values(const Tensor<T>& x, const std::vector<std::size_t>& perm) {
  const Shape& in = x.shape();
  const std::size_t r = in.size();
  Shape out_shape(r);
  for (std::size_t i = 0; i < r; ++i) out_shape[i] = in[perm[i]];
  auto out = Tensor<T>::empty(out_shape);
  if (out.size() == 0) return out;
  std::vector<std::size_t> in_strides(r, 1);
  for (std::size_t i = r - 1; i-- > 0;) in_strides[i] = in_strides[i + 1] * in[i + 1];
  std::vector<std::size_t> stride(r);  // input stride of each output axis
  for (std::size_t i = 0; i < r; ++i) stride[i] = in_strides[perm[i]];
  const std::size_t inner = out_shape[r - 1], inner_stride = stride[r - 1];
  const std::size_t rows = out.size() / inner;
  // Each output row is independent: parallel over rows for big tensors.
#pragma omp parallel for schedule(static) if (out.size() > (1u << 18))
  for (std::size_t row = 0; row < rows; ++row) {
    std::size_t rem = row, off = 0;
    for (std::size_t k = r - 1; k-- > 0;) {
      off += (rem % out_shape[k]) * stride[k];
      rem /= out_shape[k];
    }
    const T* src = x.data() + off;
    T* dst = out.data() + row * inner;
    if (inner_stride == 1) std::copy_n(src, inner, dst);
    else
      for (std::size_t j = 0; j < inner; ++j) dst[j] = src[j * inner_stride];
  }
  return out;
}
}  // namespace detail

//! Axes reordered: out.shape[i] = x.shape[perm[i]].
template <Backend B>
Var<B> permute(const Var<B>& x, std::vector<std::size_t> perm) {
  DISTILL_CHECK(perm.size() == x.rank(), "permute(): perm has ", perm.size(), " axes but x has ", x.rank());
  std::vector<std::size_t> inverse(perm.size(), perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    DISTILL_CHECK(perm[i] < perm.size() && inverse[perm[i]] == perm.size(), "permute(): perm is not a permutation");
    inverse[perm[i]] = i;
  }
  return make_result<B>(detail::permute_values(x.value(), perm), {x},
                        [inverse](const Var<B>&, const Var<B>& g) { return std::vector<Var<B>>{permute(g, inverse)}; },
                        "permute");
}

//! The transpose of a matrix.
template <Backend B>
Var<B> transpose(const Var<B>& x) {
  DISTILL_CHECK(x.rank() == 2, "transpose(): needs a matrix, got ", show(x.shape()));
  return permute(x, {1, 0});
}

template <Backend B>
Var<B> pad_slice(const Var<B>& g, std::size_t axis, std::size_t begin, std::size_t full);

//! Elements [begin, end) along `axis`.
template <Backend B>
Var<B> slice(const Var<B>& x, std::size_t axis, std::size_t begin, std::size_t end) {
  using T = typename B::Scalar;
  DISTILL_CHECK(axis < x.rank(), "slice(): axis ", axis, " out of range for ", show(x.shape()));
  DISTILL_CHECK(begin <= end && end <= x.shape(axis), "slice(): range [", begin, ", ", end, ") outside axis ", axis,
                " of size ", x.shape(axis));
  Shape s = x.shape();
  const std::size_t outer = std::accumulate(s.begin(), s.begin() + std::ptrdiff_t(axis), std::size_t(1), std::multiplies<>());
  const std::size_t inner = std::accumulate(s.begin() + std::ptrdiff_t(axis) + 1, s.end(), std::size_t(1), std::multiplies<>());
  const std::size_t full = s[axis];
  s[axis] = end - begin;
  auto out = Tensor<T>::empty(s);
  for (std::size_t o = 0; o < outer; ++o)
    std::copy_n(x.value().data() + (o * full + begin) * inner, (end - begin) * inner, out.data() + o * (end - begin) * inner);
  return make_result<B>(std::move(out), {x},
                        [axis, begin, full](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{pad_slice(g, axis, begin, full)};
                        },
                        "slice");
}

//! The adjoint of slice: g placed at [begin, begin + g.shape[axis]) of zeros whose axis has size `full`.
template <Backend B>
Var<B> pad_slice(const Var<B>& g, std::size_t axis, std::size_t begin, std::size_t full) {
  using T = typename B::Scalar;
  Shape s = g.shape();
  const std::size_t len = s[axis];
  DISTILL_CHECK(begin + len <= full, "pad_slice(): slice does not fit");
  const std::size_t outer = std::accumulate(s.begin(), s.begin() + std::ptrdiff_t(axis), std::size_t(1), std::multiplies<>());
  const std::size_t inner = std::accumulate(s.begin() + std::ptrdiff_t(axis) + 1, s.end(), std::size_t(1), std::multiplies<>());
  s[axis] = full;
  Tensor<T> out(s);
  for (std::size_t o = 0; o < outer; ++o)
    std::copy_n(g.value().data() + o * len * inner, len * inner, out.data() + (o * full + begin) * inner);
  return make_result<B>(std::move(out), {g},
                        [axis, begin, len](const Var<B>&, const Var<B>& gg) {
                          return std::vector<Var<B>>{slice(gg, axis, begin, begin + len)};
                        },
                        "pad_slice");
}

//! Joins tensors along `axis`; all other extents must agree.
template <Backend B>
Var<B> concat(const std::vector<Var<B>>& xs, std::size_t axis) {
  using T = typename B::Scalar;
  DISTILL_CHECK(!xs.empty(), "concat(): no tensors given");
  Shape s = xs[0].shape();
  DISTILL_CHECK(axis < s.size(), "concat(): axis ", axis, " out of range for ", show(s));
  std::size_t total = 0;
  for (const auto& x : xs) {
    Shape t = x.shape();
    DISTILL_CHECK(t.size() == s.size(), "concat(): ranks differ: ", show(s), " vs ", show(t));
    t[axis] = s[axis];
    DISTILL_CHECK(t == s, "concat(): shapes ", show(xs[0].shape()), " and ", show(x.shape()), " differ off axis ", axis);
    total += x.shape(axis);
  }
  const std::size_t outer = std::accumulate(s.begin(), s.begin() + std::ptrdiff_t(axis), std::size_t(1), std::multiplies<>());
  const std::size_t inner = std::accumulate(s.begin() + std::ptrdiff_t(axis) + 1, s.end(), std::size_t(1), std::multiplies<>());
  s[axis] = total;
  auto out = Tensor<T>::empty(s);
  std::size_t at = 0;
  std::vector<std::size_t> starts;
  for (const auto& x : xs) {
    const std::size_t len = x.shape(axis);
    for (std::size_t o = 0; o < outer; ++o)
      std::copy_n(x.value().data() + o * len * inner, len * inner, out.data() + (o * total + at) * inner);
    starts.push_back(at);
    at += len;
  }
  return make_result<B>(std::move(out), xs,
                        [xs, starts, axis](const Var<B>&, const Var<B>& g) {
                          std::vector<Var<B>> gs;
                          for (std::size_t i = 0; i < xs.size(); ++i)
                            gs.push_back(xs[i].requires_grad() ? slice(g, axis, starts[i], starts[i] + xs[i].shape(axis)) : Var<B>{});
                          return gs;
                        },
                        "concat");
}

template <Backend B>
Var<B> scatter_add_rows(const Var<B>& g, std::vector<std::size_t> index, std::size_t rows);

/**
 * out[i] = x[index[i]] along the first axis (minibatch selection; with x reshaped to [n, 1], a flat gather).
 * @throw invalid_argument if an index is out of range.
 */
template <Backend B>
Var<B> gather_rows(const Var<B>& x, std::vector<std::size_t> index) {
  using T = typename B::Scalar;
  DISTILL_CHECK(x.rank() >= 1, "gather_rows(): x must have rank >= 1");
  const std::size_t rows = x.shape(0), width = rows ? x.size() / rows : 0;
  Shape s = x.shape();
  s[0] = index.size();
  auto out = Tensor<T>::empty(s);
  for (std::size_t i = 0; i < index.size(); ++i) {
    DISTILL_CHECK(index[i] < rows, "gather_rows(): index ", index[i], " out of range for ", rows, " rows");
    std::copy_n(x.value().data() + index[i] * width, width, out.data() + i * width);
  }
  return make_result<B>(std::move(out), {x},
                        [index = std::move(index), rows](const Var<B>&, const Var<B>& g) {
                          return std::vector<Var<B>>{scatter_add_rows(g, index, rows)};
                        },
                        "gather_rows");
}

//! The adjoint of gather_rows: out[index[i]] += g[i], out has `rows` rows.
template <Backend B>
Var<B> scatter_add_rows(const Var<B>& g, std::vector<std::size_t> index, std::size_t rows) {
  using T = typename B::Scalar;
  DISTILL_CHECK(g.rank() >= 1 && g.shape(0) == index.size(), "scatter_add_rows(): g has ", g.rank() ? g.shape(0) : 0,
                " rows but there are ", index.size(), " indices");
  const std::size_t width = index.empty() ? (g.rank() ? numel(Shape(g.shape().begin() + 1, g.shape().end())) : 1)
                                          : g.size() / index.size();
  Shape s = g.shape();
  s[0] = rows;
  Tensor<T> out(s);
  for (std::size_t i = 0; i < index.size(); ++i) {
    DISTILL_CHECK(index[i] < rows, "scatter_add_rows(): index ", index[i], " out of range for ", rows, " rows");
    B::axpby(T(1), g.value().data() + i * width, T(1), out.data() + index[i] * width, width);
  }
  return make_result<B>(std::move(out), {g},
                        [index = std::move(index)](const Var<B>&, const Var<B>& gg) {
                          return std::vector<Var<B>>{gather_rows(gg, index)};
                        },
                        "scatter_add_rows");
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_OPS_SHAPE_HPP
