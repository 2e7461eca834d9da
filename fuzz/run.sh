#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the io/ parser fuzzers (libFuzzer + ASan + UBSan) and runs each for DISTILL_FUZZ_SECONDS seconds
# (default 30) from a generated seed corpus of small valid files. Exits non-zero on any crash, sanitizer
# report, leak, out-of-memory, or an exception that is not one of distill's.
#
#   fuzz/run.sh                          # all three targets, 30 s each
#   DISTILL_FUZZ_SECONDS=300 fuzz/run.sh npz
#
# Environment: DISTILL_FUZZ_BUILD (build dir, default a fresh temp dir), CXX (default clang++),
# DISTILL_FUZZ_JOBS (parallel compiles, default 1).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${DISTILL_FUZZ_SECONDS:-30}"
cxx="${CXX_FUZZ:-${CXX:-clang++}}"
case "$cxx" in *clang*) ;; *) cxx=clang++ ;; esac  # libFuzzer needs clang
build="${DISTILL_FUZZ_BUILD:-$(mktemp -d "${TMPDIR:-/tmp}/distill-fuzz.XXXXXX")}"
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(idx npy npz)
mkdir -p "$build"

flags=(-std=c++20 -g -O1 -I "$here/include" -I /usr/include/eigen3)
san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

echo "fuzz: building in $build"
"$cxx" "${flags[@]}" "$here/fuzz/make_seeds.cpp" -o "$build/make_seeds" -lz
rm -rf "$build/seeds"
"$build/make_seeds" "$build/seeds"
for t in "${targets[@]}"; do
  "$cxx" "${flags[@]}" "${san[@]}" "$here/fuzz/fuzz_$t.cpp" -o "$build/fuzz_$t" -lz
done

status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus_$t"
  mkdir -p "$corpus" "$build/artifacts_$t"
  echo "fuzz: running fuzz_$t for ${seconds}s"
  # -seed: a fixed mutation sequence by default, so CI replays what passed here; DISTILL_FUZZ_SEED=0 (random)
  # and a longer DISTILL_FUZZ_SECONDS for a real hunt.
  # -rss_limit_mb / -malloc_limit_mb: a parser that believes a forged size and allocates gigabytes fails
  # here, which is the point. -timeout: a single input may not take more than 10 s (no hangs).
  if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$build/fuzz_$t" "$corpus" "$build/seeds/$t" -max_total_time="$seconds" -seed="${DISTILL_FUZZ_SEED:-1}" -rss_limit_mb=2048 \
       -malloc_limit_mb=1024 -timeout=10 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts_$t/" >"$build/fuzz_$t.log" 2>&1; then
    echo "fuzz: fuzz_$t FAILED; log: $build/fuzz_$t.log; reproducer(s):"
    ls "$build/artifacts_$t" || true
    tail -n 40 "$build/fuzz_$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -n 2 || true
    echo "fuzz: fuzz_$t OK"
  fi
done
exit $status
