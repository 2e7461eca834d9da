#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How far a fixed number of inner steps from a random LeNet init can get on *real* MNIST batches, per update rule.

Unrolled-GD distillation from random inits (Wang et al. 2018, 10 steps x 3 epochs) learns data for 30 inner steps
from a fresh Xavier-normal init. This script trains the same LeNet (== distill::nn::LeNet with
WeightInit::xavier_normal: biases 0) for those 30 steps on real minibatches instead, with plain SGD (the paper's
inner rule), SGD with momentum 0.9, and Adam, over a grid of constant learning rates, and prints the test accuracy
(mean +- std over --inits inits). It is a reference point for what the inner rule allows, not a distillation:

    /usr/bin/python3 benchmarks/pytorch_thirty_steps_ceiling.py [--steps 30] [--batch 1024] [--inits 4]

Measured on the 2-core Zen 5 (1 thread): SGD best 65.54 +- 10.20 % (lr 0.1), momentum 78.85 +- 2.86 % (lr 0.01),
Adam 93.82 +- 0.90 % (lr 0.01). distill_unrolled --inner adam gets 88 % from 100 distilled images.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_mnist(folder):
    def idx(name, offset):
        with open(os.path.join(folder, name), "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8)[offset:]

    x_train = idx("train-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    y_train = idx("train-labels-idx1-ubyte", 8).astype(np.int64)
    x_test = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    y_test = idx("t10k-labels-idx1-ubyte", 8).astype(np.int64)
    mean, std = x_train.mean(), x_train.std()  # the scalar standardisation distill_unrolled uses
    as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    return (as_tensor((x_train - mean) / std), as_tensor(y_train), as_tensor((x_test - mean) / std), as_tensor(y_test))


class LeNet(nn.Module):
    """conv 1->6 5x5 pad 2, relu, pool, conv 6->16 5x5, relu, pool, 400-120-84-10; Xavier-normal weights, zero biases."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2).flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist", default=os.path.join(os.environ.get("DISTILL_DATA", "data"), "mnist"))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--inits", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x_train, y_train, x_test, y_test = load_mnist(args.mnist)
    rules = {
        "sgd": (lambda p, lr: torch.optim.SGD(p, lr=lr), [0.01, 0.03, 0.1, 0.3]),
        "momentum 0.9": (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9), [0.003, 0.01, 0.03, 0.1]),
        "adam": (lambda p, lr: torch.optim.Adam(p, lr=lr), [0.001, 0.003, 0.01, 0.03]),
    }
    print(f"LeNet, {args.steps} steps of batch {args.batch} from Xavier-normal inits, test accuracy over {args.inits} inits")
    for name, (make, rates) in rules.items():
        for lr in rates:
            accs = []
            for seed in range(args.inits):
                torch.manual_seed(seed)
                net = LeNet()
                opt = make(net.parameters(), lr)
                gen = torch.Generator().manual_seed(100 + seed)
                for _ in range(args.steps):
                    i = torch.randint(0, len(y_train), (args.batch,), generator=gen)
                    loss = F.cross_entropy(net(x_train[i]), y_train[i])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    accs.append(100 * (net(x_test).argmax(1) == y_test).float().mean().item())
            print(f"  {name:13s} lr {lr:<6g} {np.mean(accs):6.2f} +- {np.std(accs):5.2f} %", flush=True)


if __name__ == "__main__":
    main()
