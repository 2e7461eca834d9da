// SPDX-License-Identifier: MIT
// Tape memory of a k-step unrolled SGD loop (Wang et al. 2018's inner loop) versus k, for LeNet at batch 64:
//   θ_{t+1} = θ_t − η ∇θ CE(net(θ_t, x̃), ỹ)   (create_graph), then the outer loss CE(net(θ_k, x), y)
// and its hypergradient w.r.t. x̃ and η. Prints one table row per k (nodes and bytes of node outputs, after
// the forward unroll and after the hypergradient). Runs in a few seconds.
#include <chrono>
#include <cstdio>

#include "distill/nn.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
using B = distill::EigenBackend<float>;
using T = float;

int main() {
  const nn::LeNet model{};
  const std::size_t batch = 64;
  distill::Rng rng(0);
  const auto theta0 = model.init<B>(rng);
  auto x_syn = distill::Tensor<T>::empty({batch, 1, 28, 28}), x_real = distill::Tensor<T>::empty({batch, 1, 28, 28});
  B::random_uniform(rng, x_syn.data(), x_syn.size(), T(0), T(1));
  B::random_uniform(rng, x_real.data(), x_real.size(), T(0), T(1));
  std::vector<std::int64_t> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = std::int64_t(i % 10);

  std::printf("LeNet, batch %zu, float; parameters: %zu scalars (%.2f MB)\n", batch, theta0.count(),
              double(theta0.count() * sizeof(T)) / 1e6);
  std::printf("%4s %12s %16s %12s %16s %10s\n", "k", "nodes(unroll)", "MB(unroll)", "nodes(+grad)", "MB(+grad)", "seconds");
  for (std::size_t k : {1, 2, 4, 8}) {
    const auto t0 = std::chrono::steady_clock::now();
    ad::Tape<B> tape;
    const auto xs = tape.variable(x_syn);
    const auto eta = tape.variable(distill::Tensor<T>::scalar(T(0.01)));
    auto theta = nn::variables(tape, theta0);
    for (std::size_t s = 0; s < k; ++s) {
      const auto loss = nn::cross_entropy(model.forward<B>(theta, xs), labels);
      const auto g = ad::grad(loss, theta, {.create_graph = true});
      for (std::size_t i = 0; i < theta.size(); ++i) theta[i] = ad::sub(theta[i], ad::mul(eta, g[i]));
    }
    const auto outer = nn::cross_entropy(model.forward<B>(theta, ad::Var<B>(x_real)), labels);
    const std::size_t nodes_unroll = tape.size(), bytes_unroll = tape.value_bytes();
    const auto hyper = ad::grad(outer, {xs, eta});
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%4zu %12zu %16.1f %12zu %16.1f %10.2f\n", k, nodes_unroll, double(bytes_unroll) / 1e6, tape.size(),
                double(tape.value_bytes()) / 1e6, secs);
    if (!hyper[0].value().all_finite()) return 1;
  }
  return 0;
}
