#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch reference for benchmarks/nn/bench_nets.cpp: forward+backward images/s of the same LeNet and ConvNet-3
(batch 256, 1x28x28, float32, CPU), plus ConvNet-3 forward alone and a GEMM of the same shape as bench_nets'
reference, so the two programs can be compared as a ratio on one machine.

Run it with the OpenMP OpenBLAS and two threads (Debian python3-torch + libopenblas0-openmp):

    OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
        /usr/bin/python3 benchmarks/pytorch_reference.py [--batch 256] [--repeats 5]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """The Dataset Distillation paper's LeNet (== distill::nn::LeNet)."""

    def __init__(self, channels=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


class ConvNet(nn.Module):
    """DC/DSA/DM ConvNet-3 (== distill::nn::ConvNet{}): [conv3x3 -> instancenorm -> relu -> avgpool2] x 3 -> linear."""

    def __init__(self, channels=1, classes=10, width=128, depth=3, size=28):
        super().__init__()
        layers = []
        for d in range(depth):
            layers += [nn.Conv2d(channels if d == 0 else width, width, 3, padding=1),
                       nn.GroupNorm(width, width, affine=True), nn.ReLU(inplace=True), nn.AvgPool2d(2, 2)]
            size //= 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * size * size, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def conv_macs(n, c, o, hw, k):
    return n * o * hw * hw * c * k * k


def step_flops(macs):
    # Same count as bench_nets.cpp: forward 2·MACs; backward 2·MACs (weights) + 2·MACs (inputs, not the first layer).
    return sum(2 * m * (2 if i == 0 else 3) for i, m in enumerate(macs))


def timeit(fn, repeats):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n = args.batch
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {n}")
    x = torch.rand(n, 1, 28, 28)
    y = torch.arange(n) % 10

    a, b = torch.rand(128, 1152), torch.rand(1152, 196 * 32)
    t = timeit(lambda: a @ b, args.repeats)
    print(f"gemm 128x1152x{196 * 32}: {2 * 128 * 1152 * 196 * 32 / t / 1e9:.1f} GFLOP/s")

    nets = {
        "LeNet": (LeNet(), step_flops([conv_macs(n, 1, 6, 28, 5), conv_macs(n, 6, 16, 10, 5), n * 400 * 120, n * 120 * 84,
                                       n * 84 * 10])),
        "ConvNet-3": (ConvNet(), step_flops([conv_macs(n, 1, 128, 28, 3), conv_macs(n, 128, 128, 14, 3),
                                             conv_macs(n, 128, 128, 7, 3), n * 1152 * 10])),
    }
    for name, (net, flops) in nets.items():
        def step():
            net.zero_grad(set_to_none=True)
            F.cross_entropy(net(x), y).backward()
        t = timeit(step, args.repeats)
        print(f"{name} forward+backward: {t * 1e3:.1f} ms/batch, {n / t:.1f} images/s, {flops / t / 1e9:.2f} GFLOP/s")
    net = nets["ConvNet-3"][0]
    with torch.no_grad():
        t = timeit(lambda: net(x), args.repeats)
    print(f"ConvNet-3 forward: {t * 1e3:.1f} ms/batch, {n / t:.1f} images/s")


if __name__ == "__main__":
    main()
