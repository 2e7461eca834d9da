#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch reference for KIP (Nguyen, Chen, Lee 2021): the depth-3 FC ReLU NTK in closed form (the arc-cosine
recursion, neural-tangents' NTK parameterisation with sigma_w^2 = 2, sigma_b^2 = 0, the same formulas as
distill::kernels::FcNtk), one KIP step (kernel ridge regression on the support, MSE on a target batch, autograd
backward to the support images and labels, Adam), and the test-vs-train kernel matrix. float32, written the
straightforward way: the depth recursion runs as whole-matrix tensor ops, the n x n solve in float64.

Run it next to the C++ benchmark on the same machine, back to back (not at the same time):

    build/benchmarks/kernels/bench_kernel
    OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 benchmarks/pytorch_kip_reference.py [--full-matrix]

--full-matrix also times the 10,000 x 60,000 test-vs-train matrix (about 2.4 GB of output, tens of seconds).
"""
import argparse
import math
import time

import torch


def fc_ntk(x1, x2, depth=3, weight_var=2.0, bias_var=0.0):
    """NTK of serial(Dense, Relu) x depth, Dense: the arc-cosine recursion over whole matrices."""
    d = x1.shape[1]
    q1 = weight_var * (x1 * x1).sum(1) / d + bias_var
    q2 = weight_var * (x2 * x2).sum(1) / d + bias_var
    k = weight_var * (x1 @ x2.T) / d + bias_var
    ntk = k
    for _ in range(depth):
        norms = torch.sqrt(q1[:, None] * q2[None, :])
        c = torch.clamp(k / norms, -1.0, 1.0)
        theta = torch.acos(c)
        k_relu = norms / (2 * math.pi) * (torch.sin(theta) + (math.pi - theta) * c)
        dot_relu = (math.pi - theta) / (2 * math.pi)
        k_next = weight_var * k_relu + bias_var
        ntk = k_next + weight_var * ntk * dot_relu
        k = k_next
        q1 = weight_var * q1 / 2 + bias_var
        q2 = weight_var * q2 / 2 + bias_var
    return ntk


def kip_loss(xs, ys, xt, yt, reg=1e-6):
    kss = fc_ntk(xs, xs).double()
    kts = fc_ntk(xt, xs)
    n = kss.shape[0]
    lam = reg * torch.trace(kss) / n
    alpha = torch.linalg.solve(kss + lam * torch.eye(n, dtype=torch.float64), ys.double())
    pred = kts.double() @ alpha
    return 0.5 * ((pred - yt.double()) ** 2).mean()


def time_kip_step(n, m, steps, gen):
    d, c = 784, 10
    xs = torch.randn(n, d, generator=gen).requires_grad_()
    ys = (torch.nn.functional.one_hot(torch.arange(n) % c, c).float() - 0.1).requires_grad_()
    xt = torch.randn(m, d, generator=gen)
    yt = torch.nn.functional.one_hot(torch.arange(m) % c, c).float() - 0.1
    opt = torch.optim.Adam([xs, ys], lr=0.01)

    def step():
        opt.zero_grad()
        loss = kip_loss(xs, ys, xt, yt)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def time_matrix(n1, n2, gen, block=2000):
    d = 784
    x1 = torch.randn(n1, d, generator=gen)
    x2 = torch.randn(n2, d, generator=gen)
    with torch.no_grad():
        t0 = time.perf_counter()
        out = torch.empty(n1, n2)
        for i in range(0, n1, block):
            out[i:i + block] = fc_ntk(x1[i:i + block], x2)
        total = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(0, n1, block):
            out[i:i + block] = x1[i:i + block] @ x2.T
        gemm = time.perf_counter() - t0
    return total, gemm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--full-matrix", action="store_true")
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32")
    for n in (10, 100):
        s = time_kip_step(n, 5000, args.steps, gen)
        print(f"KIP step, {n} support x 5000 targets: {1000 * s:.1f} ms")
    shapes = [(2000, 10000)] + ([(10000, 60000)] if args.full_matrix else [])
    for n1, n2 in shapes:
        total, gemm = time_matrix(n1, n2, gen)
        flops = 2.0 * n1 * n2 * 784
        print(f"NTK matrix {n1} x {n2} x 784: {total:.2f} s ({flops / total / 1e9:.1f} GFLOP/s of its GEMM), "
              f"GEMM alone {gemm:.2f} s ({flops / gemm / 1e9:.1f} GFLOP/s), ratio {total / gemm:.2f}")


if __name__ == "__main__":
    main()
