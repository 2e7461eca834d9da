// SPDX-License-Identifier: MIT
// Time and peak memory of one MTT iteration (synthetic/mtt.hpp: N synthetic SGD steps from an expert's weights, the
// normalised parameter distance, its gradient w.r.t. the images and the log step size) against N, in both memory
// modes, at MNIST 1 image per class with ConvNet-3 (width 128, instance norm, the default DSA for one channel).
// Memory::full keeps the unrolled graph (activations × N); Memory::recompute keeps one set of weights per step and
// rebuilds each step's graph on the way back (parameters × N). Peak = the most bytes live tensors held at once
// (BufferPool), above what was live before the iteration. The expert segment is a fresh init and a perturbed copy:
// the cost does not depend on the weights' values.
//
//   bench_mtt [--steps 10,20,40,80] [--ipc 1] [--width 128] [--repeats 2] [--modes full,recompute]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "distill/nn.hpp"
#include "distill/synthetic/mtt.hpp"

namespace dd = distill;
namespace ds = distill::synthetic;
using B = dd::EigenBackend<float>;
using T = float;

int main(int argc, char** argv) {
  std::vector<std::size_t> step_counts{10, 20, 40, 80};
  std::size_t ipc = 1, width = 128, repeats = 2;
  std::vector<std::string> modes{"full", "recompute"};
  auto list = [](const std::string& v) {
    std::vector<std::string> out;
    std::stringstream ss(v);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
    return out;
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--steps") {
      step_counts.clear();
      for (const auto& s : list(v)) step_counts.push_back(std::stoul(s));
    } else if (a == "--ipc") ipc = std::stoul(v);
    else if (a == "--width") width = std::stoul(v);
    else if (a == "--repeats") repeats = std::max<std::size_t>(1, std::stoul(v));
    else if (a == "--modes") modes = list(v);
    else {
      std::fprintf(stderr, "bench_mtt: unknown option or value '%s %s'\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  const std::size_t classes = 10, n = classes * ipc;
  const dd::nn::ConvNet net{.channels = 1, .classes = classes, .width = width, .image_size = 28};
  dd::Rng rng(0);
  const auto start = net.init<B>(rng);
  auto target = start.clone();
  for (auto& t : target.tensors) B::random_normal(rng, t.data(), t.size(), T(0), T(0.01));
  dd::Tensor<T> images({n, 1, 28, 28});
  B::random_normal(rng, images.data(), images.size(), T(0), T(1));
  std::vector<std::int64_t> hard(n);
  for (std::size_t i = 0; i < n; ++i) hard[i] = std::int64_t(i / ipc);
  const dd::Tensor<T> targets = dd::nn::one_hot<T>(hard, classes);
  const ds::Dsa dsa{ds::default_dsa_strategy(1)};
  auto& pool = dd::BufferPool::instance();

  std::printf("MTT iteration, ConvNet-3 width %zu, MNIST %zu image(s) per class (%zu per step), DSA '%s', %zu "
              "parameters; seconds per iteration (best of %zu) and peak MB of live tensors\n",
              width, ipc, n, ds::default_dsa_strategy(1).c_str(), start.count(), repeats);
  std::printf("%8s", "steps");
  for (const auto& m : modes) std::printf("  %12s  %12s", (m + " s").c_str(), (m + " MB").c_str());
  std::printf("\n");
  for (const std::size_t steps : step_counts) {
    const ds::Mtt<dd::nn::ConvNet, B> mtt{net, {ds::ExpertTrajectory<T>{{start, target}, {}, {}, ""}},
                                          {.syn_steps = steps, .expert_epochs = 1, .max_start_epoch = 1}};
    dd::Rng draw_rng(steps);
    const auto draws = mtt.draw_steps(draw_rng, n, 28, 28, dsa);
    std::printf("%8zu", steps);
    std::vector<double> losses;
    for (const auto& m : modes) {
      const auto memory = m == "full" ? ds::Memory::full : ds::Memory::recompute;
      double best = 1e300, mb = 0;
      try {
        for (std::size_t r = 0; r < repeats; ++r) {
          pool.reset_peak();
          const std::size_t base = pool.in_use_bytes();
          const auto t0 = std::chrono::steady_clock::now();
          const auto lg = mtt.loss_and_grad(images, targets, std::log(0.01), start, target, draws, dsa, memory);
          best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
          mb = double(pool.peak_bytes() - base) / 1e6;
          if (r == 0) losses.push_back(lg.loss);
        }
        std::printf("  %12.3f  %12.1f", best, mb);
      } catch (const std::bad_alloc&) {
        std::printf("  %12s  %12s", "-", "out of mem");
      }
      std::fflush(stdout);
    }
    const bool agree = losses.size() < 2 || std::abs(losses[0] - losses[1]) <= 1e-4 * std::abs(losses[0]);
    std::printf("%s\n", agree ? "" : "  (losses differ!)");
  }
}
