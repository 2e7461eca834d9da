// SPDX-License-Identifier: MIT
// One knowledge-distillation training step of the paper's MNIST nets (Hinton, Vinyals, Dean 2015), float, batch 128:
// teacher 784-1200-1200-10 forward (evaluation mode, no tape: what a student step costs when the inputs are jittered
// and the teacher's logits cannot be cached), student 784-800-800-10 forward + backward on the T²-scaled soft
// cross-entropy at T = 20 plus 0.1 × the hard-label one, and the SGD update; both backends. Also the step with the
// teacher's logits cached (student only). Reports images/s, GFLOP/s and the fraction of the float GEMM peak
// measured in the same run.
//
//   OMP_NUM_THREADS=1 build/benchmarks/knowledge/bench_kd_step --benchmark_counters_tabular=true
//
// The PyTorch reference is benchmarks/knowledge/pytorch_kd_reference.py (same nets, same step, same batch).
#include <benchmark/benchmark.h>

#include "../bench_gemm_peak.cpp"
#include "distill/knowledge.hpp"
#include "distill/nn.hpp"

namespace ad = distill::ad;
namespace nn = distill::nn;
namespace kd = distill::knowledge;
using Eigen32 = distill::EigenBackend<float>;
#if DISTILL_HAS_XTENSOR
using Xt32 = distill::XtensorBackend<float>;
#endif
using T = float;

namespace {

/// Multiply-adds of an MLP's linear layers for n examples.
double mlp_macs(double n, const std::vector<std::size_t>& w) {
  double m = 0;
  for (std::size_t i = 0; i + 1 < w.size(); ++i) m += n * double(w[i]) * double(w[i + 1]);
  return m;
}

/**
 * FLOPs of one distillation step: teacher forward (2·MACs) + student forward (2·MACs) and backward (weight
 * gradients 2·MACs, input gradients 2·MACs except for the first layer, whose input is the data). Elementwise work
 * (ReLU, softmax, SGD) is O(activations + parameters), about 1 % here, and not counted.
 */
double kd_step_flops(double n, bool with_teacher) {
  const std::vector<std::size_t> teacher{784, 1200, 1200, 10}, student{784, 800, 800, 10};
  const double first = n * 784 * 800;
  const double student_flops = 2 * mlp_macs(n, student) * 3 - 2 * first;
  return student_flops + (with_teacher ? 2 * mlp_macs(n, teacher) : 0);
}

template <class B>
void BM_kd_step(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  const bool with_teacher = state.range(1) != 0;
  const nn::Mlp teacher{.widths = {784, 1200, 1200, 10}}, student{.widths = {784, 800, 800, 10}};
  distill::Rng rng(0);
  const auto tp = teacher.template init<B>(rng);
  auto sp = student.template init<B>(rng);
  auto x = distill::Tensor<T>::empty({n, 1, 28, 28});
  B::random_uniform(rng, x.data(), x.size(), T(0), T(1));
  std::vector<std::int64_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = std::int64_t(i % 10);
  const kd::KdObjective objective{.temperature = 20, .soft_weight = 1, .hard_weight = 0.1};
  const nn::Sgd sgd{.lr = 0.01, .momentum = 0.9};
  nn::Sgd::State<T> sgd_state;
  std::vector<distill::Tensor<T>*> param_ptrs;
  for (auto& t : sp.tensors) param_ptrs.push_back(&t);
  const distill::Tensor<T> cached = kd::logits_of<B>(teacher, tp, x);
  auto step = [&] {
    const distill::Tensor<T> v = with_teacher ? kd::logits_of<B>(teacher, tp, x) : cached;
    ad::Tape<B> tape;
    const auto theta = nn::variables(tape, sp);
    const auto loss = kd::kd_loss(student.template forward<B>(theta, ad::Var<B>(x)), ad::Var<B>(v), labels, objective);
    const auto grads = ad::grad(loss, theta);
    std::vector<const distill::Tensor<T>*> grad_ptrs;
    for (const auto& g : grads) grad_ptrs.push_back(&g.value());
    sgd.step(sgd_state, param_ptrs, grad_ptrs, 0.01);
    benchmark::DoNotOptimize(sp.tensors.back().data());
    benchmark::ClobberMemory();
  };
  step();  // fills the buffer pool, as the first step of a training run does
  for (auto _ : state) step();
  state.SetLabel(with_teacher ? "teacher fwd + student fwd/bwd + SGD" : "cached teacher logits");
  state.counters["images/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
  distill::bench::report_flops(state, kd_step_flops(double(n), with_teacher));
}

}  // namespace

BENCHMARK_TEMPLATE(BM_kd_step, Eigen32)->Args({128, 1})->Args({128, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
#if DISTILL_HAS_XTENSOR
BENCHMARK_TEMPLATE(BM_kd_step, Xt32)->Args({128, 1})->Args({128, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
DISTILL_BENCHMARK_MAIN();
