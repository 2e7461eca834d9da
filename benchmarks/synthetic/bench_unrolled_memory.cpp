// SPDX-License-Identifier: MIT
// Peak memory and time of one unrolled-GD hypergradient vs the number of unrolled steps, in both memory modes
// (LeNet, MNIST-sized synthetic and real batches). Memory::full grows with activations × steps,
// Memory::recompute with parameters × steps. Peak = the most bytes live tensors held at once (BufferPool).
//
// With --inner momentum / adam the unrolled update is heavy-ball momentum / Adam: the recompute mode then keeps θ and
// the momentum buffer / both moments per step.
//
//   bench_unrolled_memory [--steps 10,30,100,300] [--real-batch 256] [--ipc 1] [--inner sgd|momentum|adam]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "distill/nn.hpp"
#include "distill/synthetic/unrolled_gd.hpp"

namespace dd = distill;
using B = dd::EigenBackend<float>;
using T = float;

int main(int argc, char** argv) {
  std::vector<std::size_t> step_counts{10, 30, 100, 300};
  std::size_t real_batch = 256, ipc = 1;
  using Inner = dd::synthetic::InnerOptimizer;
  Inner inner;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--steps") {
      step_counts.clear();
      std::stringstream ss(v);
      for (std::string item; std::getline(ss, item, ',');) step_counts.push_back(std::stoul(item));
    } else if (a == "--real-batch") real_batch = std::stoul(v);
    else if (a == "--ipc") ipc = std::stoul(v);
    else if (a == "--inner") {
      try {
        inner.rule = Inner::rule_named(v);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_unrolled_memory: --inner: %s\n", e.what());
        return 2;
      }
    } else {
      std::fprintf(stderr, "bench_unrolled_memory: unknown option or value '%s %s'\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  const dd::nn::LeNet model{};
  dd::Rng rng(0);
  const auto theta0 = model.init<B>(rng);
  const std::size_t classes = 10, n = classes * ipc;
  std::vector<std::int64_t> labels, real_y(real_batch);
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t k = 0; k < ipc; ++k) labels.push_back(std::int64_t(c));
  for (std::size_t i = 0; i < real_batch; ++i) real_y[i] = std::int64_t(i % classes);
  dd::Tensor<T> real_x({real_batch, 1, 28, 28});
  B::random_normal(rng, real_x.data(), real_x.size(), T(0), T(1));
  auto& pool = dd::BufferPool::instance();

  std::printf("unrolled-GD hypergradient, LeNet, %zu synthetic images per step, real batch %zu, 1 epoch, inner %s\n", n,
              real_batch, Inner::rule_name(inner.rule));
  std::printf("%8s  %12s  %12s  %12s  %12s\n", "steps", "full MB", "full s", "recompute MB", "recompute s");
  for (std::size_t steps : step_counts) {
    std::vector<dd::Tensor<T>> images;
    for (std::size_t t = 0; t < steps; ++t) {
      dd::Tensor<T> im({n, 1, 28, 28});
      B::random_normal(rng, im.data(), im.size(), T(0), T(1));
      images.push_back(im);
    }
    dd::synthetic::UnrolledGdResult<T> set;
    set.images = images, set.labels = labels, set.steps = steps, set.epochs = 1, set.classes = classes, set.inner = inner;
    set.log_lr = dd::Tensor<T>({steps}, T(std::log(0.01)));
    double mb[2], sec[2], loss[2];
    for (int mode = 0; mode < 2; ++mode) {
      const auto memory = mode == 0 ? dd::synthetic::Memory::full : dd::synthetic::Memory::recompute;
      pool.reset_peak();
      const std::size_t base = pool.in_use_bytes();
      const auto t0 = std::chrono::steady_clock::now();
      const auto hg = dd::synthetic::unrolled_hypergradient<B>(
          model, {.set = set, .theta0 = theta0, .real_x = real_x, .real_y = real_y, .memory = memory});
      sec[mode] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      mb[mode] = double(pool.peak_bytes() - base) / 1e6;
      loss[mode] = hg.loss;
    }
    std::printf("%8zu  %12.1f  %12.3f  %12.1f  %12.3f%s\n", steps, mb[0], sec[0], mb[1], sec[1],
                std::abs(loss[0] - loss[1]) < 1e-4 ? "" : "  (losses differ!)");
    std::fflush(stdout);
  }
}
