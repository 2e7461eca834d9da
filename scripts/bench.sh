#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One benchmark round: builds the network-pass benchmarks in Release, runs them and the PyTorch references back to
# back with the same number of threads, and prints one table:
#
#   pass | distill ms | PyTorch ms | ratio | fraction of the GEMM peak (measured in the same run)
#
# for the unrolled-GD outer step (LeNet, 10 images, 1 × 3, real batch 1024), LeNet and ConvNet-3 forward + backward
# at batch 256, ConvNet-3 forward at batch 256, and the KIP step at 10 × 5000.
#
#   scripts/bench.sh                       # threads = OMP_NUM_THREADS, else all cores
#   DISTILL_BENCH_THREADS=1 scripts/bench.sh
#   DISTILL_BENCH_BUILD=build-bench scripts/bench.sh --profile   # + the per-op tape profile of each taped pass
#
# Environment: DISTILL_BENCH_BUILD (build directory, default <repo>/build-bench), DISTILL_BENCH_THREADS (default:
# OMP_NUM_THREADS, else every core), DISTILL_BENCH_JOBS (parallel compile jobs, default 1), PYTHON (default: the
# python3 that imports torch). PyTorch runs with the OpenMP OpenBLAS when it is installed (libopenblas0-openmp, see
# DESIGN.md) and reports the threads it used; without torch the PyTorch column says so and the distill column is
# still measured. Needs what scripts/setup.sh installs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILL_BENCH_BUILD:-$here/build-bench}"
cores="$(getconf _NPROCESSORS_ONLN)"  # not nproc: it follows OMP_NUM_THREADS
threads="${DISTILL_BENCH_THREADS:-${OMP_NUM_THREADS:-$cores}}"
jobs="${DISTILL_BENCH_JOBS:-1}"
# The first python3 that has torch (a virtual environment's python3 may shadow the system one that has it).
python="${PYTHON:-}"
if [ -z "$python" ]; then
  python=python3
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then python="$p"; break; fi
  done
fi
profile=""
for arg in "$@"; do
  case "$arg" in
    --profile) profile="--profile" ;;
    *) echo "bench.sh: unknown argument '$arg' (only --profile)" >&2; exit 2 ;;
  esac
done

export OMP_NUM_THREADS="$threads"
cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
family="$(lscpu 2>/dev/null | sed -n 's/^CPU family: *//p' | head -1)"
model="$(lscpu 2>/dev/null | sed -n 's/^Model: *//p' | head -1)"
cpu="${cpu:-unknown CPU}${family:+ (family $family, model $model)}"
echo "bench.sh: $cores cores, $cpu; $threads thread(s) for distill and PyTorch; build in $build"

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDISTILL_CUDA=OFF >/dev/null  # no CUDA needed here
fi
cmake --build "$build" -j"$jobs" --target bench_nets bench_unrolled_step bench_kernel >/dev/null

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# distill: the float GEMM peak is measured once, by the first program, and handed to the others, so every fraction
# in the table is against the same number from this run.
echo "bench.sh: distill benchmarks (Eigen backend, float)"
"$build/benchmarks/nn/bench_nets" $profile \
  --benchmark_filter='BM_(gemm_reference|LeNet_train_step|ConvNet3_forward|ConvNet3_train_step)<Eigen32>' \
  --benchmark_out="$out/nets.json" --benchmark_out_format=json >/dev/null 2>"$out/nets.err" || {
  cat "$out/nets.err" >&2; exit 1; }
peak="$(sed -n 's/.*"gemm_peak_gflops": "\([0-9.]*\)".*/\1/p' "$out/nets.json" | head -1)"
export DISTILL_GEMM_PEAK_GFLOPS="$peak"
"$build/benchmarks/synthetic/bench_unrolled_step" $profile \
  --benchmark_filter='BM_unrolled_outer_step<Eigen32>/recompute:0' \
  --benchmark_out="$out/unrolled.json" --benchmark_out_format=json >/dev/null 2>"$out/unrolled.err" || {
  cat "$out/unrolled.err" >&2; exit 1; }
"$build/benchmarks/kernels/bench_kernel" --benchmark_filter='BM_KipStep<Eigen32>/10/5000' \
  --benchmark_out="$out/kip.json" --benchmark_out_format=json >/dev/null 2>"$out/kip.err" || {
  cat "$out/kip.err" >&2; exit 1; }
if [ -n "$profile" ]; then grep -v '^distill: float GEMM peak' "$out/nets.err" "$out/unrolled.err" | sed 's/^[^:]*\.err://'; fi

# PyTorch, right after, with the same threads.
has_torch=0
if "$python" -c 'import torch' >/dev/null 2>&1; then
  has_torch=1
  blas=/usr/lib/x86_64-linux-gnu/openblas-openmp
  if [ -d "$blas" ]; then export LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
  echo "bench.sh: PyTorch references"
  "$python" "$here/benchmarks/pytorch_reference.py" --batch 256 --repeats 5 >"$out/torch_nets.txt"
  "$python" "$here/benchmarks/pytorch_unrolled_reference.py" --outer-steps 20 --warmup 2 >"$out/torch_unrolled.txt"
  "$python" "$here/benchmarks/pytorch_kip_reference.py" --steps 30 >"$out/torch_kip.txt"
else
  echo "bench.sh: PyTorch is not installed for $python ('import torch' fails): the PyTorch and ratio columns are" \
       "left empty. Install it (Debian: python3-torch, with libopenblas0-openmp) to get the ratios."
fi

"$python" - "$out" "$has_torch" "$cpu" "$threads" <<'EOF'
import json, re, sys, os
out, has_torch, cpu, threads = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4]

def bench(file, pattern):
    data = json.load(open(os.path.join(out, file)))
    for b in data["benchmarks"]:
        if re.search(pattern, b["name"]) and b.get("run_type", "iteration") == "iteration":
            unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
            return b["real_time"] * unit, b.get("GFLOPS", 0.0) / 1e9, float(data["context"].get("gemm_peak_gflops", 0))
    raise SystemExit(f"bench.sh: no benchmark matching {pattern} in {file}")

def torch_ms(file, pattern, scale=1.0):
    if not has_torch:
        return None
    m = re.search(pattern, open(os.path.join(out, file)).read())
    return float(m.group(1)) * scale if m else None

rows = [
    ("unrolled-GD outer step (LeNet, 10 images, 1 x 3, real batch 1024)",
     bench("unrolled.json", r"BM_unrolled_outer_step<Eigen32>/recompute:0"),
     torch_ms("torch_unrolled.txt", r"\(([0-9.]+) s per outer step", 1e3)),
    ("LeNet forward + backward, batch 256", bench("nets.json", r"BM_LeNet_train_step<Eigen32>/256"),
     torch_ms("torch_nets.txt", r"LeNet forward\+backward: ([0-9.]+) ms")),
    ("ConvNet-3 forward + backward, batch 256", bench("nets.json", r"BM_ConvNet3_train_step<Eigen32>/256"),
     torch_ms("torch_nets.txt", r"ConvNet-3 forward\+backward: ([0-9.]+) ms")),
    ("ConvNet-3 forward, batch 256", bench("nets.json", r"BM_ConvNet3_forward<Eigen32>/256"),
     torch_ms("torch_nets.txt", r"ConvNet-3 forward: ([0-9.]+) ms")),
    ("KIP step 10 x 5000", bench("kip.json", r"BM_KipStep<Eigen32>/10/5000"),
     torch_ms("torch_kip.txt", r"KIP step, 10 support x 5000 targets: ([0-9.]+) ms")),
]
peak = rows[0][1][2]
torch_threads = ""
if has_torch:
    m = re.search(r"threads ([0-9]+)", open(os.path.join(out, "torch_nets.txt")).read())
    torch_threads = f" (PyTorch reports {m.group(1)})" if m else ""
print()
print(f"CPU: {cpu}, {threads} thread(s) each{torch_threads}; float GEMM peak {peak:.1f} GFLOP/s measured in this run")
print()
print("| pass | distill ms | PyTorch ms | ratio | fraction of the GEMM peak |")
print("|---|---|---|---|---|")
for name, (ms, gflops, pk), tms in rows:
    frac = f"{gflops / pk:.2f}" if pk > 0 and gflops > 0 else "-"
    t = f"{tms:.1f}" if tms else "(no torch)" if not has_torch else "(not found)"
    ratio = f"**{tms / ms:.2f}x**" if tms else "-"
    print(f"| {name} | {ms:.1f} | {t} | {ratio} | {frac} |")
print()
print("ratio = PyTorch ms / distill ms (above 1: distill is faster). PyTorch times are best-of-5 (nets) or means"
      " over 20 (unrolled) / 30 (KIP) steps; distill times are Google Benchmark means.")
EOF
