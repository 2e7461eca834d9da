// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_KNOWLEDGE_SPECIALISTS_HPP
#define DISTILL_KNOWLEDGE_SPECIALISTS_HPP

/**
 * @file
 * A generalist with specialists (Hinton, Vinyals, Dean 2015, §5–6):
 *
 *   1. clusters   P ← the generalist's probabilities on the training set, [N, K]
 *                 C ← E[p_a p_b], [K, K]  (classes that are confused together get probability on the same examples;
 *                      the paper's covariance, without the common offset: see confusable_clusters)
 *                 S_1 … S_M ← k-means (k-means++ start, best of 10) on the rows of C, each with its diagonal entry
 *                 replaced by its largest off-diagonal one and scaled to unit length; clusters of one class dropped
 *   2. specialist m, for each cluster S_m (|S_m| + 1 outputs: its classes and a "dustbin" for all others):
 *                 θ_m ← the generalist's weights; the output rows of S_m copied, the dustbin row their mean
 *                 D_m ← every example of S_m, and as many others drawn at random, labelled dustbin
 *                 train θ_m on D_m with soft targets from the generalist collapsed to S_m + dustbin (probabilities
 *                 of S_m and the sum of the rest, at temperature T) plus hard labels — the soft targets keep the
 *                 specialist from overfitting its small set (§6)
 *   3. inference  k ← the generalist's `top_classes` most probable classes;  A ← the specialists whose S_m meets k
 *                 q ← softmax(z) with z minimising  KL(p_g ‖ q) + Σ_{m ∈ A} KL(p_m ‖ collapse_m(q))   (eq. 5)
 *                 by gradient descent from z = log p_g (q = p_g when A is empty)
 *
 * The generalist's model M must end in a linear layer whose parameters are the last two tensors, weight [K, h]
 * and bias [K] (nn::Mlp, LeNet and ConvNet do); with_classes() makes the same model with another class count.
 */

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "distill/core.hpp"
#include "distill/frame/seed.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/knowledge/distill.hpp"
#include "distill/knowledge/soft_targets.hpp"
#include "distill/nn/params.hpp"

namespace distill::knowledge {

/// The same model with `classes` outputs: sets its `classes` field, or the last of its `widths` (nn::Mlp).
template <class M>
M with_classes(M model, std::size_t classes) {
  if constexpr (requires { model.classes = classes; }) {
    model.classes = classes;
  } else {
    static_assert(requires { model.widths.back() = classes; },
                  "knowledge::with_classes: M needs a `classes` field or a `widths` vector whose last entry is the "
                  "number of classes");
    model.widths.back() = classes;
  }
  return model;
}

/// How the specialists are found, trained and combined (file comment).
struct SpecialistOptions {
  std::size_t clusters = 3;             //!< M: k-means clusters of the classes (one-class clusters get none)
  std::size_t kmeans_iterations = 100;  //!< Lloyd iterations at most
  double temperature = 2;               //!< T of the generalist's soft targets for the specialists
  double hard_weight = 1;               //!< weight of the hard-label term beside the T²-scaled soft term
  FitOptions fit{.epochs = 5, .lr = 0.01};  //!< each specialist's training (it starts from the generalist)
  std::size_t top_classes = 2;          //!< n: specialists are active when their classes meet the generalist's top n
  std::size_t combine_steps = 100;      //!< gradient steps on z for eq. 5
  std::uint64_t seed = 0;               //!< k-means start and the dustbin examples

  //! @throw invalid_argument naming the bad field.
  void validate(const char* where) const {
    DISTILL_CHECK(clusters > 0, where, ": clusters is 0, expected at least 1");
    DISTILL_CHECK(kmeans_iterations > 0, where, ": kmeans_iterations is 0, expected at least 1");
    DISTILL_CHECK(top_classes > 0, where, ": top_classes is 0, expected at least 1");
    DISTILL_CHECK(combine_steps > 0, where, ": combine_steps is 0, expected at least 1");
    KdObjective{.temperature = temperature, .soft_weight = 1, .hard_weight = hard_weight}.validate(where);
    fit.validate(where);
  }
};

/// Softmax of each row of `logits` [N, K] at temperature T, in double.
template <std::floating_point T>
std::vector<double> probabilities(const Tensor<T>& logits, double temperature = 1) {
  const std::size_t n = logits.shape(0), k = logits.shape(1);
  std::vector<double> p(n * k);
  for (std::size_t i = 0; i < n; ++i) {
    const T* z = logits.data() + i * k;
    double top = -std::numeric_limits<double>::infinity(), sum = 0;
    for (std::size_t c = 0; c < k; ++c) top = std::max(top, double(z[c]) / temperature);
    for (std::size_t c = 0; c < k; ++c) sum += p[i * k + c] = std::exp(double(z[c]) / temperature - top);
    for (std::size_t c = 0; c < k; ++c) p[i * k + c] /= sum;
  }
  return p;
}

/**
 * The confusable clusters of `probs` [n, k] (row-major, each row a distribution): each class is described by its
 * row of the co-prediction matrix E[p_a p_b] (below), and the rows are clustered by k-means with a k-means++ start,
 * the best of `restarts` starts (least within-cluster squared distance). Each cluster's classes are ascending,
 * clusters are ordered by their first class, and clusters of a single class are left out (a specialist for one
 * class would only repeat the generalist).
 *
 * The paper clusters the covariance of the predictions. When the probabilities of K classes sum to one, every
 * pair's covariance carries about the same negative offset −E[p_a]·E[p_b], which swamps the few confusions, so the
 * rows here are the second moment E[p_a p_b] (the covariance without that offset: how much probability a and b get
 * on the same examples). A class's own entry would dominate every distance, so it is replaced by the row's largest
 * other entry, and each row is scaled to unit length: two classes confused with each other then have rows that
 * peak at the same two places.
 * @throw invalid_argument when probs is not n × k with n ≥ 2, clusters > k, or restarts is 0
 */
inline std::vector<std::vector<std::size_t>> confusable_clusters(const std::vector<double>& probs, std::size_t k,
                                                                 std::size_t clusters, std::size_t iterations, Rng& rng,
                                                                 std::size_t restarts = 10) {
  const char* where = "knowledge::confusable_clusters()";
  DISTILL_CHECK(k > 0 && probs.size() % k == 0 && probs.size() / k >= 2, where, ": ", probs.size(),
                " probabilities do not make at least 2 rows of ", k, " classes");
  DISTILL_CHECK(clusters <= k, where, ": ", clusters, " clusters of ", k, " classes");
  DISTILL_CHECK(restarts > 0, where, ": restarts is 0, expected at least 1");
  const std::size_t n = probs.size() / k;
  std::vector<double> rows(k * k, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t b = 0; b < k; ++b) rows[a * k + b] += probs[i * k + a] * probs[i * k + b] / double(n);
  for (std::size_t a = 0; a < k; ++a) {
    double top = 0, norm = 0;
    for (std::size_t b = 0; b < k; ++b)
      if (b != a) top = std::max(top, rows[a * k + b]);
    if (k > 1) rows[a * k + a] = top;
    for (std::size_t b = 0; b < k; ++b) norm += rows[a * k + b] * rows[a * k + b];
    if (norm > 0)
      for (std::size_t b = 0; b < k; ++b) rows[a * k + b] /= std::sqrt(norm);
  }
  auto dist2 = [&](const double* x, const double* y) {
    double d = 0;
    for (std::size_t j = 0; j < k; ++j) d += (x[j] - y[j]) * (x[j] - y[j]);
    return d;
  };
  // One k-means run: the assignment of each class and its within-cluster squared distance.
  auto run = [&]() {
    // k-means++: the first centre at random, each next one drawn in proportion to the squared distance to the nearest
    std::vector<double> centres;
    centres.reserve(clusters * k);
    const std::size_t first = rng.uniform_int(k);
    centres.insert(centres.end(), rows.begin() + std::ptrdiff_t(first * k), rows.begin() + std::ptrdiff_t((first + 1) * k));
    std::vector<double> nearest(k);
    for (std::size_t m = 1; m < clusters; ++m) {
      double total = 0;
      for (std::size_t a = 0; a < k; ++a) {
        nearest[a] = std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < m; ++c) nearest[a] = std::min(nearest[a], dist2(&rows[a * k], &centres[c * k]));
        total += nearest[a];
      }
      std::size_t pick = 0;
      if (total > 0) {
        double u = rng.uniform() * total;
        while (pick + 1 < k && (u -= nearest[pick]) > 0) ++pick;
      }
      centres.insert(centres.end(), rows.begin() + std::ptrdiff_t(pick * k), rows.begin() + std::ptrdiff_t((pick + 1) * k));
    }
    // Lloyd's iterations until no class changes cluster
    std::vector<std::size_t> of(k, clusters);
    for (std::size_t it = 0; it < iterations; ++it) {
      bool moved = false;
      for (std::size_t a = 0; a < k; ++a) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < clusters; ++c)
          if (dist2(&rows[a * k], &centres[c * k]) < dist2(&rows[a * k], &centres[best * k])) best = c;
        moved |= best != of[a];
        of[a] = best;
      }
      if (!moved) break;
      for (std::size_t c = 0; c < clusters; ++c) {
        std::size_t count = 0;
        std::vector<double> sum(k, 0.0);
        for (std::size_t a = 0; a < k; ++a)
          if (of[a] == c) {
            ++count;
            for (std::size_t j = 0; j < k; ++j) sum[j] += rows[a * k + j];
          }
        if (count > 0)  // an empty cluster keeps its centre
          for (std::size_t j = 0; j < k; ++j) centres[c * k + j] = sum[j] / double(count);
      }
    }
    double inertia = 0;
    for (std::size_t a = 0; a < k; ++a) inertia += dist2(&rows[a * k], &centres[of[a] * k]);
    return std::pair{of, inertia};
  };
  auto best = run();
  for (std::size_t r = 1; r < restarts; ++r) {
    auto next = run();
    if (next.second < best.second) best = std::move(next);
  }
  const std::vector<std::size_t>& of = best.first;
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t a = 0; a < k; ++a) {  // ascending classes: the clusters come out ordered by their first class
    if (std::count(of.begin(), of.end(), of[a]) < 2) continue;
    bool seen = false;
    for (const auto& members : out) seen |= of[members.front()] == of[a];
    if (seen) continue;
    std::vector<std::size_t> members;
    for (std::size_t b = 0; b < k; ++b)
      if (of[b] == of[a]) members.push_back(b);
    out.push_back(members);
  }
  return out;
}

/// One specialist: its classes (ascending; output j is classes[j], the last output the dustbin) and parameters.
template <std::floating_point T>
struct Specialist {
  std::vector<std::size_t> classes;
  nn::Params<T> params;

  std::size_t outputs() const { return classes.size() + 1; }
  //! p's mass on this specialist's classes, then the rest (the dustbin): the distribution it predicts.
  std::vector<double> collapse(const double* p, std::size_t k) const {
    std::vector<double> out(outputs(), 0.0);
    double inside = 0;
    for (std::size_t j = 0; j < classes.size(); ++j) inside += out[j] = p[classes[j]];
    double total = 0;
    for (std::size_t c = 0; c < k; ++c) total += p[c];
    out.back() = std::max(0.0, total - inside);
    return out;
  }
};

/**
 * Eq. 5's objective for one example and its gradient with respect to the logits z of q = softmax(z):
 * KL(p_g ‖ q) + Σ_m KL(p_m ‖ collapse_m(q)). For a specialist's class c the gradient is q_c − p_m,c; for a class
 * outside its set, q_c − p_m,dustbin · q_c / q_rest (the dustbin's mass shared in proportion to q).
 * @param special  (specialist, its predicted distribution) pairs: the active specialists
 * @return the objective; `grad` receives ∂/∂z
 */
template <std::floating_point T>
double combination_objective(const std::vector<double>& z, const double* p_general,
                             const std::vector<std::pair<const Specialist<T>*, const double*>>& special,
                             std::vector<double>& grad) {
  const std::size_t k = z.size();
  double top = *std::max_element(z.begin(), z.end()), sum = 0;
  std::vector<double> q(k), log_q(k);
  for (std::size_t c = 0; c < k; ++c) sum += q[c] = std::exp(z[c] - top);
  for (std::size_t c = 0; c < k; ++c) {
    log_q[c] = z[c] - top - std::log(sum);
    q[c] /= sum;
  }
  auto kl_term = [](double p, double log_p_model) { return p > 0 ? p * (std::log(p) - log_p_model) : 0.0; };
  double f = 0;
  grad.assign(k, 0.0);
  for (std::size_t c = 0; c < k; ++c) {
    f += kl_term(p_general[c], log_q[c]);
    grad[c] += q[c] - p_general[c];
  }
  for (const auto& [s, p] : special) {
    double rest = 0;
    std::vector<bool> inside(k, false);
    for (std::size_t j = 0; j < s->classes.size(); ++j) {
      const std::size_t c = s->classes[j];
      inside[c] = true;
      f += kl_term(p[j], log_q[c]);
      grad[c] += q[c] - p[j];
    }
    for (std::size_t c = 0; c < k; ++c)
      if (!inside[c]) rest += q[c];
    const double dust = p[s->classes.size()];
    const double log_rest = std::log(std::max(rest, std::numeric_limits<double>::min()));
    f += kl_term(dust, log_rest);
    for (std::size_t c = 0; c < k; ++c)
      if (!inside[c]) grad[c] += q[c] - (rest > 0 ? dust * q[c] / rest : 0.0);
  }
  return f;
}

/**
 * The full distribution q of eq. 5 for one example: gradient descent on z from log p_g, with the step size
 * 1 / (1 + |active|) (each KL term's Hessian in z is at most the identity's size), `steps` steps.
 */
template <std::floating_point T>
std::vector<double> combine(const double* p_general, std::size_t k,
                            const std::vector<std::pair<const Specialist<T>*, const double*>>& special, std::size_t steps) {
  std::vector<double> q(p_general, p_general + k);
  if (special.empty()) return q;
  std::vector<double> z(k), grad;
  for (std::size_t c = 0; c < k; ++c) z[c] = std::log(std::max(p_general[c], 1e-30));
  const double rate = 1.0 / double(1 + special.size());
  for (std::size_t it = 0; it < steps; ++it) {
    (void)combination_objective(z, p_general, special, grad);
    for (std::size_t c = 0; c < k; ++c) z[c] -= rate * grad[c];
  }
  const double top = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (std::size_t c = 0; c < k; ++c) sum += q[c] = std::exp(z[c] - top);
  for (double& v : q) v /= sum;
  return q;
}

/**
 * A generalist and its specialists.
 *
 * @code
 * dd::nn::Mlp net{.widths = {784, 512, 512, 10}};
 * dd::knowledge::SpecialistEnsemble<dd::nn::Mlp, float> ens{net, generalist_params, {.clusters = 3}};
 * ens.fit(train);                           // clusters, then one specialist per cluster of two or more classes
 * auto probs = ens.predict(test.images);    // [N, K] rows of q (eq. 5)
 * @endcode
 */
template <class M, std::floating_point T, class B = void>
class SpecialistEnsemble {
  using BB = detail::backend_or_default<B, T>;
  DISTILL_REQUIRE_BACKEND(BB, "distill::knowledge::SpecialistEnsemble");
  DISTILL_REQUIRE_MODEL(M, BB, "distill::knowledge::SpecialistEnsemble");

 public:
  SpecialistEnsemble(M generalist, nn::Params<T> generalist_params, SpecialistOptions options = {})
      : model_(std::move(generalist)), general_(std::move(generalist_params)), options_(std::move(options)) {
    options_.validate("SpecialistEnsemble");
    DISTILL_CHECK(general_.size() >= 2 && general_.tensors.back().rank() == 1 &&
                      general_.tensors[general_.size() - 2].rank() == 2 &&
                      general_.tensors[general_.size() - 2].shape(0) == general_.tensors.back().size(),
                  "SpecialistEnsemble: the generalist's last two parameters must be an output layer's weight [K, h] "
                  "and bias [K]");
  }

  const std::vector<Specialist<T>>& specialists() const { return specialists_; }
  std::size_t classes() const { return general_.tensors.back().size(); }

  /**
   * Finds the clusters on `train` and trains one specialist for each (file comment, steps 1 and 2).
   * @param callbacks  passed to each specialist's training (phase "kd_specialist")
   * @throw invalid_argument when the data's classes differ from the generalist's, or as knowledge::fit
   */
  template <class... Callbacks>
  void fit(const LabeledData<T>& train, Callbacks&&... callbacks) {
    const char* where = "SpecialistEnsemble::fit()";
    train.validate(where);
    DISTILL_CHECK(train.num_classes == classes(), where, ": the data have ", train.num_classes,
                  " classes, the generalist ", classes());
    const std::size_t k = classes();
    const Tensor<T> logits = logits_of<BB>(model_, general_, train.images);
    Rng rng = frame::stream_rng(options_.seed, frame::Stream::init);
    const auto clusters =
        confusable_clusters(probabilities(logits), k, options_.clusters, options_.kmeans_iterations, rng);
    specialists_.clear();
    for (const auto& members : clusters) specialists_.push_back(train_one(train, logits, members, rng, callbacks...));
  }

  /**
   * q of eq. 5 for every row of `images`: [N, K] probabilities, in double.
   */
  std::vector<double> predict(const Tensor<T>& images) const {
    const std::size_t k = classes(), n = images.shape(0);
    const std::vector<double> p_general = probabilities(logits_of<BB>(model_, general_, images));
    std::vector<std::vector<double>> p_special;
    for (const auto& s : specialists_)
      p_special.push_back(probabilities(logits_of<BB>(with_classes(model_, s.outputs()), s.params, images)));
    std::vector<double> out(n * k);
    std::vector<std::size_t> order(k);
    for (std::size_t i = 0; i < n; ++i) {
      const double* pg = &p_general[i * k];
      std::iota(order.begin(), order.end(), std::size_t(0));
      const std::size_t top = std::min(options_.top_classes, k);
      std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(top), order.end(),
                        [&](std::size_t a, std::size_t b) { return pg[a] > pg[b]; });
      std::vector<std::pair<const Specialist<T>*, const double*>> active;
      for (std::size_t m = 0; m < specialists_.size(); ++m) {
        const auto& cls = specialists_[m].classes;
        const bool meets = std::any_of(order.begin(), order.begin() + std::ptrdiff_t(top), [&](std::size_t c) {
          return std::binary_search(cls.begin(), cls.end(), c);
        });
        if (meets) active.emplace_back(&specialists_[m], &p_special[m][i * specialists_[m].outputs()]);
      }
      const auto q = combine(pg, k, active, options_.combine_steps);
      std::copy(q.begin(), q.end(), out.begin() + std::ptrdiff_t(i * k));
    }
    return out;
  }

 private:
  // Step 2 for one cluster: the generalist's weights with the cluster's output rows and a dustbin row, trained on
  // the cluster's examples and as many others, against the collapsed soft targets and the hard labels.
  template <class... Callbacks>
  Specialist<T> train_one(const LabeledData<T>& train, const Tensor<T>& general_logits,
                          const std::vector<std::size_t>& members, Rng& rng, Callbacks&&... callbacks) const {
    const std::size_t k = classes(), out = members.size() + 1;
    Specialist<T> s{members, general_.clone()};
    // the head: the members' rows of the generalist's weight and bias, then their mean as the dustbin
    const Tensor<T>& w = general_.tensors[general_.size() - 2];
    const Tensor<T>& b = general_.tensors.back();
    const std::size_t h = w.shape(1);
    Tensor<T> head_w({out, h}), head_b({out});
    for (std::size_t j = 0; j < members.size(); ++j) {
      std::copy_n(w.data() + members[j] * h, h, head_w.data() + j * h);
      head_b[j] = b[members[j]];
    }
    for (std::size_t c = 0; c < k; ++c) {
      if (std::binary_search(members.begin(), members.end(), c)) continue;
      for (std::size_t x = 0; x < h; ++x) head_w[members.size() * h + x] += w[c * h + x] / T(k - members.size());
      head_b[members.size()] += b[c] / T(k - members.size());
    }
    head_b[members.size()] += T(std::log(double(k - members.size())));  // the dustbin stands for k − |S| classes
    s.params.tensors[s.params.size() - 2] = head_w;
    s.params.tensors.back() = head_b;

    // the data: every example of the cluster, and as many of the rest at random, labelled dustbin
    std::vector<std::size_t> inside, outside;
    for (std::size_t i = 0; i < train.size(); ++i)
      (std::binary_search(members.begin(), members.end(), std::size_t(train.labels[i])) ? inside : outside).push_back(i);
    DISTILL_CHECK(!inside.empty() && !outside.empty(), "SpecialistEnsemble::fit(): cluster ", show_classes(members),
                  " leaves no examples inside or outside it");
    rng.shuffle(outside);
    outside.resize(std::min(outside.size(), inside.size()));
    std::vector<std::size_t> rows = inside;
    rows.insert(rows.end(), outside.begin(), outside.end());
    std::sort(rows.begin(), rows.end());
    LabeledData<T> data = train.subset(rows);
    data.num_classes = out;
    for (auto& y : data.labels) {
      const auto at = std::lower_bound(members.begin(), members.end(), std::size_t(y));
      y = at != members.end() && *at == std::size_t(y) ? std::int64_t(at - members.begin()) : std::int64_t(members.size());
    }
    // the soft targets: the generalist's distribution at T collapsed to the cluster and the dustbin, as logits
    // whose softmax at T is that distribution (T · log p)
    const double temp = options_.temperature;
    Tensor<T> gathered;
    frame::gather_rows(general_logits, std::span<const std::size_t>(rows), gathered);
    const std::vector<double> p = probabilities(gathered, temp);
    Tensor<T> targets({rows.size(), out});
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto collapsed = s.collapse(&p[i * k], k);
      for (std::size_t j = 0; j < out; ++j)
        targets[i * out + j] = T(temp * std::log(std::max(collapsed[j], 1e-30)));
    }
    Tensor<T> batch_targets;
    auto teacher = [&](const Tensor<T>&, std::span<const std::size_t> idx) -> Tensor<T> {
      batch_targets = Tensor<T>();
      frame::gather_rows(targets, idx, batch_targets);
      return batch_targets;
    };
    FitOptions fit = options_.fit;
    DISTILL_CHECK(fit.jitter == 0, "SpecialistEnsemble: fit.jitter must be 0 (the soft targets are computed once)");
    knowledge::fit<BB>(with_classes(model_, out), s.params, data, teacher,
                       KdObjective{.temperature = temp, .soft_weight = 1, .hard_weight = options_.hard_weight}, fit,
                       "kd_specialist", callbacks...);
    return s;
  }

  static std::string show_classes(const std::vector<std::size_t>& c) {
    std::string s = "{";
    for (std::size_t j = 0; j < c.size(); ++j) s += (j ? ", " : "") + std::to_string(c[j]);
    return s + "}";
  }

  M model_;
  nn::Params<T> general_;
  SpecialistOptions options_;
  std::vector<Specialist<T>> specialists_;
};

/// Errors of the arg-max of `probs` [N, K] against `data`'s labels, overall and per class (as count_errors).
template <std::floating_point T>
ErrorCount count_errors(const std::vector<double>& probs, const LabeledData<T>& data) {
  DISTILL_CHECK(probs.size() == data.size() * data.num_classes, "knowledge::count_errors(): ", probs.size(),
                " probabilities for ", data.size(), " examples of ", data.num_classes, " classes");
  return detail::count_argmax_errors(probs.data(), data);
}

}  // namespace distill::knowledge

#endif  // DISTILL_KNOWLEDGE_SPECIALISTS_HPP
