#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch reference for one outer step of unrolled-GD dataset distillation (Wang et al. 2018) at the paper's MNIST
fixed-init setting: LeNet, 10 synthetic images (one per class), 1 step x 3 epochs with learned step sizes, a real
minibatch of 1024, Adam on the images and log step sizes. The same math as distill::synthetic::UnrolledGd, written
the way the original code does it (autograd.grad with create_graph=True through the inner steps).

Two ways to get the real minibatch:
  --loader tensor    (default) compute only: indices into a tensor already in memory.
  --loader original  the original code's input pipeline, for its wall time per outer step: torchvision's MNIST with
                     ToTensor + Normalize((0.1307,), (0.3081,)) per image, DataLoader(batch_size=1024, shuffle=True,
                     num_workers=8, pin_memory=True), as in ssnl/dataset-distillation (base_options.py, main.py).
                     Needs python3-torchvision and the MNIST IDX files (--mnist, default data/mnist).
Compare with the C++ side on the same machine, back to back:

    build/examples/distill_unrolled --steps 1 --epochs 3 --ipc 1 --theta fixed --outer-steps 200
    OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 benchmarks/pytorch_unrolled_reference.py [--outer-steps 200] [--loader original]
"""
import argparse
import os
import tempfile
import time

import torch
import torch.nn.functional as F


def lenet_params(gen):
    """The paper's LeNet (== distill::nn::LeNet): conv 1->6 5x5 pad 2, pool, conv 6->16 5x5, pool, 400-120-84-10."""
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]
    params = []
    for s in shapes:
        fan_in = 1
        for d in (s[1:] if len(s) > 1 else s):
            fan_in *= d
        bound = 1.0 / fan_in ** 0.5
        params.append(((torch.rand(s, generator=gen) * 2 - 1) * bound).requires_grad_())
    return params


def lenet(p, x):
    x = F.max_pool2d(F.relu(F.conv2d(x, p[0], p[1], padding=2)), 2)
    x = F.max_pool2d(F.relu(F.conv2d(x, p[2], p[3])), 2)
    x = F.relu(F.linear(x.flatten(1), p[4], p[5]))
    x = F.relu(F.linear(x, p[6], p[7]))
    return F.linear(x, p[8], p[9])


def original_batches(args):
    """Endless shuffled minibatches through the original code's torchvision pipeline (one pass after another)."""
    from torchvision import datasets, transforms  # only needed here

    root = tempfile.mkdtemp(prefix="mnist_root_")
    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw)
    for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        os.symlink(os.path.abspath(os.path.join(args.mnist, f)), os.path.join(raw, f))
    dataset = datasets.MNIST(root, train=True, download=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.real_batch, shuffle=True,
                                         num_workers=args.num_workers, pin_memory=True)
    while True:
        for batch in loader:
            yield batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outer-steps", type=int, default=200)
    ap.add_argument("--real-batch", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--loader", choices=["tensor", "original"], default="tensor")
    ap.add_argument("--num-workers", type=int, default=8, help="DataLoader workers for --loader original")
    ap.add_argument("--mnist", default=os.path.join(os.path.dirname(__file__), "..", "data", "mnist"))
    args = ap.parse_args()

    gen = torch.Generator().manual_seed(0)
    theta0 = lenet_params(gen)
    # Stand-in data with MNIST's shape; the speed does not depend on the pixel values.
    real_x = torch.randn(60000, 1, 28, 28, generator=gen)
    real_y = torch.randint(0, 10, (60000,), generator=gen)
    images = torch.randn(10, 1, 28, 28, generator=gen).requires_grad_()
    labels = torch.arange(10)
    log_lr = torch.full((args.epochs,), 0.02).log().requires_grad_()
    opt = torch.optim.Adam([images, log_lr], lr=0.01)

    if args.loader == "original":
        batches = original_batches(args)

        def real_batch():
            return next(batches)
    else:
        def real_batch():
            idx = torch.randint(0, real_x.shape[0], (args.real_batch,), generator=gen)
            return real_x[idx], real_y[idx]

    def outer_step():
        rx, ry = real_batch()
        theta = list(theta0)
        for e in range(args.epochs):
            loss = F.cross_entropy(lenet(theta, images), labels)
            grads = torch.autograd.grad(loss, theta, create_graph=True)
            theta = [w - log_lr[e].exp() * g for w, g in zip(theta, grads)]
        outer = F.cross_entropy(lenet(theta, rx), ry)
        opt.zero_grad()
        images.grad, log_lr.grad = torch.autograd.grad(outer, [images, log_lr])
        opt.step()
        return outer.item()

    for _ in range(args.warmup):
        outer_step()
    start = time.perf_counter()
    for _ in range(args.outer_steps):
        outer_step()
    seconds = time.perf_counter() - start
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads: {args.outer_steps} outer steps in "
          f"{seconds:.1f} s ({seconds / args.outer_steps:.4f} s per outer step; real batch {args.real_batch}, "
          f"1 step x {args.epochs} epochs, 10 images; loader: {args.loader}"
          + (f", {args.num_workers} workers)" if args.loader == "original" else ", compute only)"))


if __name__ == "__main__":
    main()
