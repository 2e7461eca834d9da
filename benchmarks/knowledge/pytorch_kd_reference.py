# SPDX-License-Identifier: MIT
"""PyTorch 1.13 reference for benchmarks/knowledge/bench_kd_step.cpp: one knowledge-distillation step of the
paper's MNIST nets (Hinton, Vinyals, Dean 2015), float32, batch 128: teacher 784-1200-1200-10 forward under
no_grad, student 784-800-800-10 forward + backward on T^2 * CE(softmax(v/T), softmax(z/T)) + 0.1 * CE(y, z) at
T = 20, SGD step (momentum 0.9). Also the step with the teacher's logits cached.

    OMP_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
        /usr/bin/python3 benchmarks/knowledge/pytorch_kd_reference.py --threads 1

Prints ms per step, images/s and GFLOP/s with the same flop count as the C++ benchmark.
"""
import argparse
import time

import torch
import torch.nn.functional as F


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def macs(n, w):
    return sum(n * w[i] * w[i + 1] for i in range(len(w) - 1))


def kd_step_flops(n, with_teacher):
    student = 2 * macs(n, [784, 800, 800, 10]) * 3 - 2 * n * 784 * 800
    return student + (2 * macs(n, [784, 1200, 1200, 10]) if with_teacher else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=5.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    teacher, student = mlp([784, 1200, 1200, 10]).eval(), mlp([784, 800, 800, 10])
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.arange(a.batch) % 10
    T = 20.0
    with torch.no_grad():
        cached = teacher(x.flatten(1))

    def step(with_teacher):
        if with_teacher:
            with torch.no_grad():
                v = teacher(x.flatten(1))
        else:
            v = cached
        z = student(x.flatten(1))
        soft = -(F.softmax(v / T, dim=1) * F.log_softmax(z / T, dim=1)).sum(1).mean()
        loss = T * T * soft + 0.1 * F.cross_entropy(z, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch {a.batch}")
    for with_teacher in (True, False):
        for _ in range(5):
            step(with_teacher)
        steps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            step(with_teacher)
            steps += 1
        dt = (time.perf_counter() - t0) / steps
        label = "teacher fwd + student fwd/bwd + SGD" if with_teacher else "cached teacher logits"
        print(f"{label}: {1e3 * dt:.3f} ms/step, {a.batch / dt:.0f} images/s, "
              f"{kd_step_flops(a.batch, with_teacher) / dt / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
