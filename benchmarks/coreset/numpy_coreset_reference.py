#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Straightforward NumPy versions of the coreset selectors that bench_coreset.cpp times, on the same problem:
k-center greedy and herding choosing 600 of the 60,000 MNIST training images on raw 784-d float32 pixels (global
budget), each step one vectorised pass (X @ c with precomputed norms: already far faster than DeepCore's loops),
CRAIG and GradMatch (per class, 60 of 6,000; CRAIG: lazy-greedy facility location on last-layer gradient distances computed from
the two factors e = p - y and h~ = [h, 1] as (E E^T) * (H H^T)) with random factors of the shapes an MLP 784-32-10
proxy gives (timing only); GradMatch: OMP with the non-negative ridge on the explicit n x K(F+1) gradients).

    OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/coreset/numpy_coreset_reference.py [--data data/mnist]
"""
import argparse
import gzip
import heapq
import os
import time

import numpy as np


def load_mnist(folder):
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                raw = f.read()
            return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    print("MNIST not found under", folder, "-> 60000 random 8-bit images")
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(60000, 784)).astype(np.float32) / 255.0


def k_center_greedy(x, k, first=0):
    norms = np.einsum("ij,ij->i", x, x)
    mind = np.full(len(x), np.inf, dtype=np.float32)
    chosen = [first]
    for _ in range(k - 1):
        c = chosen[-1]
        d = norms - 2 * (x @ x[c]) + norms[c]
        np.minimum(mind, d, out=mind)
        mind[chosen] = -1
        chosen.append(int(np.argmax(mind)))
    return chosen


def herding(x, k):
    norms = np.einsum("ij,ij->i", x, x).astype(np.float64)
    mu = x.mean(0, dtype=np.float64)
    m = x @ mu.astype(np.float32)
    a = np.zeros(len(x))
    chosen = []
    mask = np.zeros(len(x), dtype=bool)
    for t in range(1, k + 1):
        v = norms - 2 * t * m + 2 * a
        v[mask] = np.inf
        u = int(np.argmin(v))
        chosen.append(u)
        mask[u] = True
        a += x @ x[u]
    return chosen


def facility_location_lazy(sim, k):
    n = len(sim)
    cur = np.zeros(n, dtype=np.float32)
    heap = [(-float(g), j) for j, g in enumerate(sim.sum(1))]
    heapq.heapify(heap)
    picks = []
    while len(picks) < k:
        _, j = heapq.heappop(heap)
        g = float(np.maximum(sim[j] - cur, 0).sum())
        if not heap or g >= -heap[0][0]:
            picks.append(j)
            np.maximum(cur, sim[j], out=cur)
        else:
            heapq.heappush(heap, (-g, j))
    return picks


def craig_class(e, h, k):
    g = (e @ e.T) * (h @ h.T)
    d = np.diag(g)
    dist = np.sqrt(np.maximum(d[:, None] + d[None, :] - 2 * g, 0))
    sim = dist.max() - dist
    picks = facility_location_lazy(sim, k)
    weights = np.bincount(np.argmax(sim[:, picks], axis=1), minlength=k)
    return picks, weights


def nonneg_ridge(a, y, w, sweeps=500, tol=1e-12):
    for _ in range(sweeps):
        moved = 0.0
        for i in range(len(y)):
            v = max(0.0, (y[i] - a[i] @ w + a[i, i] * w[i]) / a[i, i])
            moved = max(moved, abs(v - w[i]))
            w[i] = v
        if moved <= tol * max(np.abs(w).max(), 1e-300):
            break
    return w


def gradmatch_class(e, h, k, lam=0.01):
    """OMP with the non-negative ridge on explicit per-sample gradients g_i = e_i (x) h_i (n x K(F+1))."""
    g = (e[:, :, None] * h[:, None, :]).reshape(len(e), -1).astype(np.float64)
    b = g.sum(0)
    ridge = lam * np.mean(np.einsum("ij,ij->i", g, g))
    picks, w, r = [], np.zeros(0), b.copy()
    for _ in range(k):
        c = g @ r
        c[picks] = -np.inf
        picks.append(int(np.argmax(c)))
        gs = g[picks]
        a = gs @ gs.T + ridge * np.eye(len(picks))
        w = nonneg_ridge(a, gs @ b, np.append(w, 0.0))
        r = b - w @ gs
    return picks, w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data", "mnist"))
    ap.add_argument("--k", type=int, default=600)
    args = ap.parse_args()
    x = load_mnist(args.data)
    for name, f in (("k_center_greedy", lambda: k_center_greedy(x, args.k)), ("herding", lambda: herding(x, args.k))):
        t0 = time.perf_counter()
        f()
        print(f"numpy {name} {args.k} of {len(x)}: {time.perf_counter() - t0:.2f} s")
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(10):  # 10 classes of 6,000
        p = rng.dirichlet(np.ones(10), size=6000).astype(np.float32)
        e = p - np.eye(10, dtype=np.float32)[rng.integers(0, 10, 6000)]
        h = np.concatenate([rng.random((6000, 32), dtype=np.float32), np.ones((6000, 1), np.float32)], 1)
        craig_class(e, h, args.k // 10)
    print(f"numpy craig {args.k} of 60000 (per class): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    for _ in range(10):
        p = rng.dirichlet(np.ones(10), size=6000).astype(np.float32)
        e = p - np.eye(10, dtype=np.float32)[rng.integers(0, 10, 6000)]
        h = np.concatenate([rng.random((6000, 32), dtype=np.float32), np.ones((6000, 1), np.float32)], 1)
        gradmatch_class(e, h, args.k // 10)
    print(f"numpy gradmatch {args.k} of 60000 (per class): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
