#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch reference for one outer iteration of dataset condensation with gradient matching (Zhao, Mopuri, Bilen
2021) at the paper's MNIST settings: a freshly initialised ConvNet-3 (width 128, instance norm, ReLU, average
pooling) per iteration, a real batch of 256 per class, the loops of get_loops() for the images per class (1: one
matching step and no network steps; 10: 10 matching steps with 50 network epochs on the synthetic set between
them), SGD (lr 0.1, momentum 0.5) on the images and (lr 0.01) on the network. The iteration is written as
VICO-UoE/DatasetCondensation's main.py does it: per class the real gradient (detached) and the synthetic gradient
with create_graph=True, the layer-wise distance of match_loss('ours') summed over the classes, one backward to the
images. With --dsa, DSA's iteration: the same siamese augmentation (pytorch_dm_reference.py's diff_augment) of a
class's real and synthetic batch before both gradients, and of the network's batches.

Compare with the C++ side on the same machine, back to back, with the same number of threads:

    OMP_NUM_THREADS=1 build/benchmarks/synthetic/bench_dc_step --benchmark_counters_tabular=true
    OMP_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 benchmarks/synthetic/pytorch_dc_reference.py --threads 1
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_dm_reference import ConvNet, ParamDiffAug, diff_augment, time_iterations  # noqa: E402  (the DC code's network, DSA)

LOOPS = {1: (1, 1), 10: (10, 50), 20: (20, 25), 30: (30, 20), 40: (40, 15), 50: (50, 10)}  # get_loops()


def distance_wb(gwr, gws):
    """The DC code's distance_wb: 1 - cosine per output unit, summed; rank-1 parameters (biases, norms) skipped."""
    shape = gwr.shape
    if len(shape) == 4:
        gwr = gwr.reshape(shape[0], -1)
        gws = gws.reshape(shape[0], -1)
    elif len(shape) == 1:
        return torch.tensor(0.0)
    return torch.sum(1 - torch.sum(gwr * gws, dim=-1) / (torch.norm(gwr, dim=-1) * torch.norm(gws, dim=-1) + 0.000001))


def match_loss(gw_syn, gw_real):
    return sum((distance_wb(r, s) for r, s in zip(gw_real, gw_syn)), torch.tensor(0.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--ipc", type=int, default=1, choices=sorted(LOOPS))
    ap.add_argument("--batch-real", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dsa", action="store_true", help="DSA's iteration (strategy color_crop_cutout_scale_rotate)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    classes, strategy = 10, "color_crop_cutout_scale_rotate"
    outer_loop, inner_loop = LOOPS[args.ipc]
    real = [torch.randn(6000, 1, 28, 28) for _ in range(classes)]  # stand-ins for MNIST's classes (compute only)
    image_syn = torch.randn(classes * args.ipc, 1, 28, 28, requires_grad=True)
    label_syn = torch.arange(classes).repeat_interleave(args.ipc)
    opt_img = torch.optim.SGD([image_syn], lr=0.1, momentum=0.5)
    criterion = nn.CrossEntropyLoss()
    param = ParamDiffAug()

    def iteration():
        net = ConvNet()
        net.train()
        params = list(net.parameters())
        opt_net = torch.optim.SGD(net.parameters(), lr=0.01)
        loss_avg = 0.0
        for ol in range(outer_loop):
            loss = torch.tensor(0.0)
            for c in range(classes):
                img_real = real[c][torch.randperm(6000)[:args.batch_real]]
                img_syn = image_syn[c * args.ipc:(c + 1) * args.ipc]
                if args.dsa:
                    seed = int(time.time() * 1000) % 100000
                    img_real = diff_augment(img_real, strategy, seed, param)
                    img_syn = diff_augment(img_syn, strategy, seed, param)
                lab = torch.full((args.batch_real,), c, dtype=torch.long)
                gw_real = [g.detach().clone() for g in torch.autograd.grad(criterion(net(img_real), lab), params)]
                lab_syn = torch.full((args.ipc,), c, dtype=torch.long)
                gw_syn = torch.autograd.grad(criterion(net(img_syn), lab_syn), params, create_graph=True)
                loss = loss + match_loss(gw_syn, gw_real)
            opt_img.zero_grad()
            loss.backward()
            opt_img.step()
            loss_avg += loss.item()
            if ol == outer_loop - 1:
                break
            # the network's epochs on a copy of the synthetic set (the DC code's epoch('train', ...), batch 256)
            x_all, y_all = image_syn.detach().clone(), label_syn
            for _ in range(inner_loop):
                order = torch.randperm(x_all.shape[0])
                for at in range(0, x_all.shape[0], 256):
                    idx = order[at:at + 256]
                    x = x_all[idx]
                    if args.dsa:
                        x = diff_augment(x, strategy, -1, param)
                    opt_net.zero_grad()
                    criterion(net(x), y_all[idx]).backward()
                    opt_net.step()
        return loss_avg / (classes * outer_loop)

    times = time_iterations(iteration, args.warmup, args.iterations)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s): {'DSA' if args.dsa else 'DC'} iteration at "
          f"{args.ipc} image(s) per class (loops {outer_loop}/{inner_loop}), real batch {args.batch_real} per class: "
          f"median {np.median(times):.3f} s, min {min(times):.3f} s over {len(times)} iterations")


if __name__ == "__main__":
    main()
