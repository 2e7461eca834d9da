#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch reference for one iteration of distribution matching (Zhao, Bilen 2023) at the paper's MNIST setting:
10 images per class, a real batch of 256 per class, siamese DSA, a freshly initialised ConvNet-3 (width 128,
instance norm, ReLU, average pooling) per iteration, SGD (lr 1, momentum 0.5) on the images. The iteration is
written as VICO-UoE/DatasetCondensation's main_DM.py does it (network parameters frozen, embed() of the real batch
detached, the synthetic batch through autograd), with the DSA functions of its utils.py (aug_mode 'S': one group
per call, all of a batch's numbers equal to the first image's in siamese mode; copied from a clone of the first, which
this PyTorch refuses to write over itself when the batch has one image).

Compare with the C++ side on the same machine, back to back, with the same number of threads:

    OMP_NUM_THREADS=1 build/benchmarks/synthetic/bench_dm_step --benchmark_counters_tabular=true
    OMP_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 benchmarks/synthetic/pytorch_dm_reference.py --threads 1
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ParamDiffAug:
    def __init__(self):
        self.prob_flip = 0.5
        self.ratio_scale = 1.2
        self.ratio_rotate = 15.0
        self.ratio_crop_pad = 0.125
        self.ratio_cutout = 0.5
        self.brightness = 1.0
        self.saturation = 2.0
        self.contrast = 0.5
        self.latestseed = -1
        self.Siamese = False


def set_seed(p):
    if p.latestseed != -1:
        torch.random.manual_seed(p.latestseed)
        p.latestseed += 1


def rand_scale(x, p):
    r = p.ratio_scale
    set_seed(p)
    sx = torch.rand(x.shape[0]) * (r - 1.0 / r) + 1.0 / r
    set_seed(p)
    sy = torch.rand(x.shape[0]) * (r - 1.0 / r) + 1.0 / r
    theta = torch.tensor([[[sx[i], 0, 0], [0, sy[i], 0]] for i in range(x.shape[0])], dtype=torch.float)
    if p.Siamese:
        theta[:] = theta[0].clone()
    grid = F.affine_grid(theta, x.shape, align_corners=True)
    return F.grid_sample(x, grid, align_corners=True)


def rand_rotate(x, p):
    set_seed(p)
    t = (torch.rand(x.shape[0]) - 0.5) * 2 * p.ratio_rotate / 180 * float(np.pi)
    theta = torch.tensor([[[torch.cos(t[i]), torch.sin(-t[i]), 0], [torch.sin(t[i]), torch.cos(t[i]), 0]]
                          for i in range(x.shape[0])], dtype=torch.float)
    if p.Siamese:
        theta[:] = theta[0].clone()
    grid = F.affine_grid(theta, x.shape, align_corners=True)
    return F.grid_sample(x, grid, align_corners=True)


def rand_flip(x, p):
    set_seed(p)
    f = torch.rand(x.size(0), 1, 1, 1)
    if p.Siamese:
        f[:] = f[0].clone()
    return torch.where(f < p.prob_flip, x.flip(3), x)


def rand_brightness(x, p):
    set_seed(p)
    b = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype)
    if p.Siamese:
        b[:] = b[0].clone()
    return x + (b - 0.5) * p.brightness


def rand_saturation(x, p):
    m = x.mean(dim=1, keepdim=True)
    set_seed(p)
    s = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype)
    if p.Siamese:
        s[:] = s[0].clone()
    return (x - m) * (s * p.saturation) + m


def rand_contrast(x, p):
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    set_seed(p)
    c = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype)
    if p.Siamese:
        c[:] = c[0].clone()
    return (x - m) * (c + p.contrast) + m


def rand_crop(x, p):
    sx, sy = int(x.size(2) * p.ratio_crop_pad + 0.5), int(x.size(3) * p.ratio_crop_pad + 0.5)
    set_seed(p)
    tx = torch.randint(-sx, sx + 1, size=[x.size(0), 1, 1])
    set_seed(p)
    ty = torch.randint(-sy, sy + 1, size=[x.size(0), 1, 1])
    if p.Siamese:
        tx[:] = tx[0].clone()
        ty[:] = ty[0].clone()
    gb, gx, gy = torch.meshgrid(torch.arange(x.size(0)), torch.arange(x.size(2)), torch.arange(x.size(3)), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, x.size(2) + 1)
    gy = torch.clamp(gy + ty + 1, 0, x.size(3) + 1)
    xp = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return xp.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def rand_cutout(x, p):
    cs = int(x.size(2) * p.ratio_cutout + 0.5), int(x.size(3) * p.ratio_cutout + 0.5)
    set_seed(p)
    ox = torch.randint(0, x.size(2) + (1 - cs[0] % 2), size=[x.size(0), 1, 1])
    set_seed(p)
    oy = torch.randint(0, x.size(3) + (1 - cs[1] % 2), size=[x.size(0), 1, 1])
    if p.Siamese:
        ox[:] = ox[0].clone()
        oy[:] = oy[0].clone()
    gb, gx, gy = torch.meshgrid(torch.arange(x.size(0)), torch.arange(cs[0]), torch.arange(cs[1]), indexing="ij")
    gx = torch.clamp(gx + ox - cs[0] // 2, min=0, max=x.size(2) - 1)
    gy = torch.clamp(gy + oy - cs[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


AUGMENT_FNS = {"color": [rand_brightness, rand_saturation, rand_contrast], "crop": [rand_crop],
               "cutout": [rand_cutout], "flip": [rand_flip], "scale": [rand_scale], "rotate": [rand_rotate]}


def diff_augment(x, strategy, seed, p):
    p.Siamese = seed != -1
    p.latestseed = seed
    groups = strategy.split("_")
    set_seed(p)
    g = groups[torch.randint(0, len(groups), size=(1,)).item()]
    for f in AUGMENT_FNS[g]:
        x = f(x, p)
    return x.contiguous()


class ConvNet(nn.Module):
    """ConvNet-3 of the DC code (instancenorm = GroupNorm(width, width), ReLU, avg pooling); embed() = features.
    (pytorch_dc_reference.py uses it too, with the classifier: forward().)"""

    def __init__(self, channel=1, classes=10, width=128, depth=3, im_size=28):
        super().__init__()
        layers, c, s = [], channel, im_size
        for _ in range(depth):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.GroupNorm(width, width, affine=True), nn.ReLU(inplace=True),
                       nn.AvgPool2d(2, 2)]
            c, s = width, s // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * s * s, classes)

    def embed(self, x):
        return self.features(x).reshape(x.size(0), -1)

    def forward(self, x):
        return self.classifier(self.embed(x))


def time_iterations(iteration, warmup, iterations):
    """Runs iteration() `warmup` times untimed, then `iterations` times; returns the seconds of each timed one."""
    for _ in range(warmup):
        iteration()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--batch-real", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--strategy", default="color_crop_cutout_scale_rotate")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    classes = 10
    real = [torch.randn(6000, 1, 28, 28) for _ in range(classes)]  # stand-ins for MNIST's classes (compute only)
    image_syn = torch.randn(classes * args.ipc, 1, 28, 28, requires_grad=True)
    opt = torch.optim.SGD([image_syn], lr=1.0, momentum=0.5)
    param = ParamDiffAug()

    def iteration():
        net = ConvNet()
        net.train()
        for q in net.parameters():
            q.requires_grad = False
        loss = torch.tensor(0.0)
        for c in range(classes):
            img_real = real[c][torch.randperm(6000)[:args.batch_real]]
            img_syn = image_syn[c * args.ipc:(c + 1) * args.ipc]
            seed = int(time.time() * 1000) % 100000
            img_real = diff_augment(img_real, args.strategy, seed, param)
            img_syn = diff_augment(img_syn, args.strategy, seed, param)
            out_real = net.embed(img_real).detach()
            out_syn = net.embed(img_syn)
            loss = loss + torch.sum((out_real.mean(0) - out_syn.mean(0)) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    times = time_iterations(iteration, args.warmup, args.iterations)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s): DM iteration at {args.ipc} images per class, "
          f"real batch {args.batch_real} per class, DSA '{args.strategy}': median {np.median(times):.3f} s, "
          f"min {min(times):.3f} s over {len(times)} iterations")


if __name__ == "__main__":
    main()
