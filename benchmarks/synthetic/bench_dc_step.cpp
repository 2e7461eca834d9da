// SPDX-License-Identifier: MIT
// One outer iteration of dataset condensation with gradient matching (Zhao, Mopuri, Bilen 2021) at the paper's
// MNIST setting for 1 image per class: a fresh ConvNet-3 (width 128, instance norm, average pooling), a real batch
// of 256 per class, one matching step (the paper's loops for 1 image per class: no network steps between matching
// steps), SGD (lr 0.1, momentum 0.5) on the images. Times what Dc::fit does in one iteration — the network's init,
// per class the real gradient and the synthetic gradient with its second-order backward to the images
// (Dc::loss_and_grad), the SGD update — and reports GFLOP/s and the fraction of the float GEMM peak measured in the
// same run. With --dsa-style arguments it would be DSA's iteration; this one is DC's (no augmentation).
//
//   build/benchmarks/synthetic/bench_dc_step --benchmark_counters_tabular=true   # --profile: time per op kind
//
// The PyTorch reference for the same iteration is benchmarks/synthetic/pytorch_dc_reference.py.
//
// Flops counted (convolutions and the classifier): the real side is one training step's forward and backward of
// 10 · 256 images (net_flops.hpp's convnet3_flops: no input gradient for the first layer); the synthetic side, 10
// images, is a forward, a backward with create_graph, and the backward of that backward to the weights' inputs and
// the images, counted as twice a training step with every layer's input gradient — small beside the real side.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "../bench_gemm_peak.cpp"
#include "../net_flops.hpp"
#include "random_batches.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/dc.hpp"

namespace syn = distill::synthetic;
using Eigen32 = distill::EigenBackend<float>;
#if DISTILL_HAS_XTENSOR
using Xt32 = distill::XtensorBackend<float>;
#endif
using T = float;

namespace {

constexpr std::size_t kClasses = 10, kIpc = 1, kRealPerClass = 256;

double dc_iteration_flops() {
  using distill::bench::convnet3_flops;
  return convnet3_flops(double(kClasses * kRealPerClass)) + 2 * convnet3_flops(double(kClasses * kIpc));
}

template <class B>
void BM_dc_iteration(benchmark::State& state) {
  const distill::nn::ConvNet net{.channels = 1, .classes = kClasses, .image_size = 28};
  const syn::Dc<distill::nn::ConvNet, B> dc{net, {.images_per_class = kIpc, .batch_real = kRealPerClass}};
  const syn::Dsa none{"none"};
  distill::Rng rng(0);
  const auto real = distill::bench::random_class_batches<B>(rng, kClasses, kRealPerClass);
  auto images = distill::bench::random_images<B>(rng, kClasses * kIpc);
  distill::nn::Sgd sgd{.lr = 0.1, .momentum = 0.5};
  distill::nn::Sgd::State<T> sgd_state;
  const std::vector<syn::DsaDraw> draws(kClasses);
  auto iteration = [&] {
    const auto theta = net.init<B>(rng);
    auto lg = dc.loss_and_grad(theta, images, real, none, draws);
    sgd.step(sgd_state, {&images}, {&lg.grad});
    benchmark::DoNotOptimize(images.data());
    benchmark::ClobberMemory();
  };
  iteration();  // fills the buffer pool, as the first iteration of a run does
  distill::bench::profile_passes(std::string("DC iteration, 1 image per class, ") + std::string(B::name), iteration, 1);
  for (auto _ : state) iteration();
  distill::bench::report_flops(state, dc_iteration_flops());
}

}  // namespace

BENCHMARK_TEMPLATE(BM_dc_iteration, Eigen32)->Unit(benchmark::kMillisecond)->UseRealTime();
#if DISTILL_HAS_XTENSOR
BENCHMARK_TEMPLATE(BM_dc_iteration, Xt32)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
DISTILL_BENCHMARK_MAIN();
