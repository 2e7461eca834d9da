// SPDX-License-Identifier: MIT
// Flop counts of the evaluation nets' training steps, shared by the benchmarks that report GFLOP/s and the
// fraction of the GEMM peak (bench_nets, bench_unrolled_step).
#ifndef DISTILL_BENCHMARKS_NET_FLOPS_HPP
#define DISTILL_BENCHMARKS_NET_FLOPS_HPP

#include <cstddef>
#include <vector>

namespace distill::bench {

/// Multiply-adds of a convolution layer: N · O · OH · OW · C · k².
inline double conv_macs(double n, double c, double o, double out_hw, double k) {
  return n * o * out_hw * out_hw * c * k * k;
}

/**
 * FLOPs of one training step (forward + backward) of a net, counting only convolutions and linear layers
 * (everything else is O(activations), < 2 % here). Forward = 2·MACs; backward = 2·MACs for the weight gradient
 * + 2·MACs for the input gradient, except the first layer, whose input (the data) needs no gradient.
 * These are the direct convolution's flops. ConvNet-3's 128-channel layers run Winograd F(2×2, 3×3), which does
 * 2.25× fewer multiplies (1.56× on the 7×7 map), so their GFLOP/s and fraction_of_peak are effective rates and
 * can pass 1: they say how fast the step is against what the same flops would take at the GEMM peak.
 */
inline double step_flops(const std::vector<double>& macs) {
  double f = 0;
  for (std::size_t i = 0; i < macs.size(); ++i) f += 2 * macs[i] * (i == 0 ? 2 : 3);
  return f;
}

/// One ConvNet-3 training step on n MNIST-sized images.
inline double convnet3_flops(double n) {
  // 28×28 → conv 1→128 @28 → pool 14 → conv 128→128 @14 → pool 7 → conv 128→128 @7 → pool 3 → linear 1152→10
  return step_flops({conv_macs(n, 1, 128, 28, 3), conv_macs(n, 128, 128, 14, 3), conv_macs(n, 128, 128, 7, 3),
                     n * 1152 * 10});
}

/// One LeNet training step on n MNIST-sized images.
inline double lenet_flops(double n) {
  // conv 1→6 5×5 pad 2 @28 → pool 14 → conv 6→16 5×5 @10 → pool 5 → fc 400→120 → 120→84 → 84→10
  return step_flops({conv_macs(n, 1, 6, 28, 5), conv_macs(n, 6, 16, 10, 5), n * 400 * 120, n * 120 * 84, n * 84 * 10});
}

}  // namespace distill::bench

#endif  // DISTILL_BENCHMARKS_NET_FLOPS_HPP
