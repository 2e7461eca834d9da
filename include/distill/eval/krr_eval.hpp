// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_EVAL_KRR_EVAL_HPP
#define DISTILL_EVAL_KRR_EVAL_HPP

/**
 * @file
 * KRR evaluation of a (distilled) support set: fit kernel ridge regression on the support, predict a test set,
 * report the accuracy of the argmax. This is how KIP and Label Solve sets are scored in Nguyen, Chen, Lee 2021.
 *
 * Test rows are processed in batches, so memory is O(batch · n) for n support points, whatever the test size.
 * The support's n×n system is solved in double.
 */

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "distill/core.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/kernels/concepts.hpp"
#include "distill/kernels/detail/cholesky.hpp"
#include "distill/kernels/krr.hpp"

namespace distill::eval {

/// Options of krr_accuracy.
struct KrrEvalOptions {
  double reg = 1e-6;              //!< λ = reg · tr(K_ss)/n
  std::size_t batch_size = 2000;  //!< test rows per kernel block
};

/// The result of krr_accuracy.
struct KrrEvalResult {
  double accuracy = 0;  //!< fraction of test rows whose argmax prediction is the label
  double mse = 0;       //!< mean over rows and classes of (prediction − centred one-hot)²
  std::size_t count = 0;
};

/**
 * KRR test accuracy of a support set (X_s, Y_s) on (X_test, labels); inputs must already be in the same
 * (e.g. standardised) space.
 * @tparam B  a Backend (e.g. EigenBackend<float>) whose double twin runs the n×n solve
 * @tparam K  a kernels::Kernel on B and on its double twin
 * @param ys  [n, C] regression targets (centred one-hot or learned labels)
 * @param normalize  optional per-row transform applied to each test batch before the kernel (in place)
 * @throw invalid_argument on shape mismatches; numerical_error when K_ss + λI is not positive definite
 */
template <class B, class K>
KrrEvalResult krr_accuracy(const K& kernel, const Tensor<typename B::Scalar>& xs, const Tensor<typename B::Scalar>& ys,
                           const Tensor<typename B::Scalar>& xtest, const std::vector<std::int64_t>& labels,
                           KrrEvalOptions options = {},
                           const std::function<void(Tensor<typename B::Scalar>&)>& normalize = {}) {
  DISTILL_REQUIRE_BACKEND(B, "distill::eval::krr_accuracy");
  DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::eval::krr_accuracy");
  using T = typename B::Scalar;
  using BD = kernels::detail::rebind_scalar_t<B, double>;
  DISTILL_CHECK(ys.rank() == 2 && xs.rank() >= 2 && ys.shape(0) == xs.shape(0), "krr_accuracy(): support ",
                show(xs.shape()), " and labels ", show(ys.shape()), " do not match, expected [n, ...] and [n, C]");
  DISTILL_CHECK(xtest.rank() >= 2 && xtest.shape(0) == labels.size(), "krr_accuracy(): test images ",
                show(xtest.shape()), " and ", labels.size(), " labels do not match");
  DISTILL_CHECK(options.batch_size > 0, "krr_accuracy(): batch_size is 0, expected at least 1");
  const std::size_t n = xs.shape(0), c = ys.shape(1), total = labels.size();
  const Tensor<double> xs_d = xs.template cast<double>();
  const auto chol = kernels::factor_ridge<K, BD>(kernel.template gram<BD>(xs_d, xs_d), options.reg, "krr_accuracy()");
  const Tensor<double> alpha = chol.solve(ys.template cast<double>());

  KrrEvalResult res;
  res.count = total;
  std::size_t correct = 0;
  double sq = 0;
  for (std::size_t b0 = 0; b0 < total; b0 += options.batch_size) {
    const std::size_t b1 = std::min(total, b0 + options.batch_size), m = b1 - b0;
    Tensor<T> batch = xtest.rows(b0, b1);
    if (normalize) {
      batch = batch.clone();
      normalize(batch);
    }
    const Tensor<double> kb = kernel.template gram<B>(batch, xs).template cast<double>();  // [m, n]
    Tensor<double> pred({m, c});
    BD::gemm(Gemm<double>{.m = m, .n = c, .k = n, .a = kb.data(), .lda = n, .b = alpha.data(), .ldb = c,
                          .c = pred.data(), .ldc = c});
    for (std::size_t i = 0; i < m; ++i) {
      const double* p = pred.data() + i * c;
      const auto label = std::size_t(labels[b0 + i]);
      correct += std::size_t(std::max_element(p, p + c) - p) == label;
      for (std::size_t k = 0; k < c; ++k) {
        const double e = p[k] - ((k == label ? 1.0 : 0.0) - 1.0 / double(c));
        sq += e * e;
      }
    }
  }
  res.accuracy = total ? double(correct) / double(total) : 0.0;
  res.mse = total ? sq / double(total * c) : 0.0;
  return res;
}

/**
 * KRR test accuracy of a DistilledSet on raw test data: the test images are mapped into the set's space with its
 * mean/stddev, and hard labels become centred one-hot targets (soft labels are used as they are).
 */
template <class B = DefaultBackend<float>, class K>
KrrEvalResult krr_accuracy(const K& kernel, const io::DistilledSet<typename B::Scalar>& set,
                           const LabeledData<typename B::Scalar>& test, KrrEvalOptions options = {}) {
  DISTILL_REQUIRE_BACKEND(B, "distill::eval::krr_accuracy");
  DISTILL_REQUIRE_KERNEL_FLOAT_AND_DOUBLE(K, B, "distill::eval::krr_accuracy");
  using T = typename B::Scalar;
  set.validate("krr_accuracy()");
  test.validate("krr_accuracy()");
  const std::size_t classes = set.classes();
  DISTILL_CHECK(test.num_classes <= classes, "krr_accuracy(): the test set has ", test.num_classes,
                " classes but the support set ", classes);
  const Tensor<T> ys = set.has_soft_labels() ? set.labels : kernels::centred_one_hot<T>(set.hard_labels(), classes);
  const std::size_t channels = set.images.shape(1);
  const Tensor<T> mean = set.mean, stddev = set.stddev;
  auto normalize = [&](Tensor<T>& batch) {
    if (mean.size() == 0) return;
    const std::size_t rows = batch.shape(0), per = rows ? batch.size() / (rows * channels) : 0;
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t ch = 0; ch < channels; ++ch) {
        T* p = batch.data() + (i * channels + ch) * per;
        const T mu = mean[ch], inv = T(1) / stddev[ch];
        for (std::size_t k = 0; k < per; ++k) p[k] = (p[k] - mu) * inv;
      }
  };
  return krr_accuracy<B>(kernel, set.images, ys, test.images, test.labels, options, normalize);
}

}  // namespace distill::eval

#endif  // DISTILL_EVAL_KRR_EVAL_HPP
