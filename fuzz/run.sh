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
# DISTILL_FUZZ_JOBS (targets compiled and run at once, default 1; each fuzzer runs on one core). A setting that is
# not a positive integer, or a target with no fuzz/fuzz_<target>.cpp, exits 2 before anything is built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${DISTILL_FUZZ_SECONDS:-30}"
cxx="${CXX_FUZZ:-${CXX:-clang++}}"
case "$cxx" in *clang*) ;; *) cxx=clang++ ;; esac  # libFuzzer needs clang
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(idx npy npz)
jobs="${DISTILL_FUZZ_JOBS:-1}"
# Bad settings exit 2 before anything is built or created.
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: DISTILL_FUZZ_JOBS=$jobs is not a positive integer" >&2; exit 2; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: DISTILL_FUZZ_SECONDS=$seconds is not a positive integer" >&2; exit 2; }
for t in "${targets[@]}"; do
  [[ "$t" =~ ^[a-z0-9_]+$ && -f "$here/fuzz/fuzz_$t.cpp" ]] || {
    echo "fuzz: no target '$t' (fuzz/fuzz_$t.cpp); targets: idx npy npz" >&2
    exit 2
  }
done
build="${DISTILL_FUZZ_BUILD:-$(mktemp -d "${TMPDIR:-/tmp}/distill-fuzz.XXXXXX")}"
mkdir -p "$build"

flags=(-std=c++20 -g -O1 -I "$here/include" -I /usr/include/eigen3)
san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

echo "fuzz: building in $build"
"$cxx" "${flags[@]}" "$here/fuzz/make_seeds.cpp" -o "$build/make_seeds" -lz
rm -rf "$build/seeds"
"$build/make_seeds" "$build/seeds"

# Runs "$@" for each target, at most $jobs at once; returns non-zero when any of them failed.
for_each_target() {
  local t failed=0 running=0
  for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then wait -n || failed=1; running=$((running - 1)); fi
    "$@" "$t" &
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
  return $failed
}

compile() { "$cxx" "${flags[@]}" "${san[@]}" "$here/fuzz/fuzz_$1.cpp" -o "$build/fuzz_$1" -lz; }
for_each_target compile || { echo "fuzz: a fuzzer did not compile" >&2; exit 1; }

# One target's run; its report goes to $build/report_$t, printed in target order once all have run.
fuzz_one() {
  local t="$1" corpus="$build/corpus_$1"
  mkdir -p "$corpus" "$build/artifacts_$t"
  {
    echo "fuzz: fuzz_$t, up to ${seconds}s"
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
      return 1
    fi
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -n 2 || true
    echo "fuzz: fuzz_$t OK"
  } >"$build/report_$t" 2>&1
}

echo "fuzz: running ${targets[*]} for ${seconds}s each, $jobs at once"
status=0
for_each_target fuzz_one || status=1
for t in "${targets[@]}"; do cat "$build/report_$t"; done
exit $status
