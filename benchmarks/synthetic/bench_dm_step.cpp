// SPDX-License-Identifier: MIT
// One iteration of distribution matching (Zhao, Bilen 2023) at the paper's MNIST setting: 10 images per class,
// a real batch of 256 per class, siamese DSA ('color_crop_cutout_scale_rotate'), a fresh ConvNet-3 (width 128,
// instance norm, average pooling) per iteration. Times what Dm::fit does in one step — the network's init, the
// class-by-class DSA draws, real embeddings and synthetic embeddings with their gradient (Dm::loss_and_grad) and
// the SGD update — and reports GFLOP/s and the fraction of the float GEMM peak measured in the same run.
//
//   build/benchmarks/synthetic/bench_dm_step --benchmark_counters_tabular=true
//
// The PyTorch reference for the same iteration is benchmarks/synthetic/pytorch_dm_reference.py.
//
// Flops counted (convolutions only; the classifier is not used): the real side is a forward pass of
// 10 · 256 images, 2 · MACs each; the synthetic side is a forward pass of 100 images and its backward to the
// images (the input gradient of every layer, the first included; no weight gradients): 4 · MACs each.
#include <benchmark/benchmark.h>

#include <vector>

#include "../bench_gemm_peak.cpp"
#include "../net_flops.hpp"
#include "random_batches.hpp"
#include "distill/nn.hpp"
#include "distill/synthetic/dm.hpp"

namespace syn = distill::synthetic;
using Eigen32 = distill::EigenBackend<float>;
#if DISTILL_HAS_XTENSOR
using Xt32 = distill::XtensorBackend<float>;
#endif
using T = float;

namespace {

constexpr std::size_t kClasses = 10, kIpc = 10, kRealPerClass = 256;

double convnet3_embed_macs(double n) {
  using distill::bench::conv_macs;
  return conv_macs(n, 1, 128, 28, 3) + conv_macs(n, 128, 128, 14, 3) + conv_macs(n, 128, 128, 7, 3);
}

double dm_iteration_flops() {
  return 2 * convnet3_embed_macs(double(kClasses * kRealPerClass)) + 4 * convnet3_embed_macs(double(kClasses * kIpc));
}

template <class B>
void BM_dm_iteration(benchmark::State& state) {
  const distill::nn::ConvNet net{.channels = 1, .classes = kClasses, .image_size = 28};
  syn::Dm<distill::nn::ConvNet, B> dm{net, {.images_per_class = kIpc, .batch_real = kRealPerClass}};
  const syn::Dsa dsa{syn::default_dsa_strategy(1)};
  distill::Rng rng(0);
  const auto real = distill::bench::random_class_batches<B>(rng, kClasses, kRealPerClass);
  auto images = distill::bench::random_images<B>(rng, kClasses * kIpc);
  distill::nn::Sgd sgd{.lr = 1.0, .momentum = 0.5};
  distill::nn::Sgd::State<T> sgd_state;
  std::vector<syn::DsaDraw> draws(kClasses);
  auto iteration = [&] {
    const auto theta = net.init<B>(rng);
    for (auto& d : draws) d = dsa.draw(rng, 28, 28);
    auto lg = dm.loss_and_grad(theta, images, real, dsa, draws);
    sgd.step(sgd_state, {&images}, {&lg.grad});
    benchmark::DoNotOptimize(images.data());
    benchmark::ClobberMemory();
  };
  iteration();  // fills the buffer pool, as the first iteration of a run does
  for (auto _ : state) iteration();
  distill::bench::report_flops(state, dm_iteration_flops());
}

}  // namespace

BENCHMARK_TEMPLATE(BM_dm_iteration, Eigen32)->Unit(benchmark::kMillisecond)->UseRealTime();
#if DISTILL_HAS_XTENSOR
BENCHMARK_TEMPLATE(BM_dm_iteration, Xt32)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
DISTILL_BENCHMARK_MAIN();
