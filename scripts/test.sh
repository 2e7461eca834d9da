#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The project's test command: installs what is missing (scripts/setup.sh, idempotent), configures build/
# (Release), builds every default target, runs the whole ctest suite (unit, compile-fail and install tests),
# then the fuzzers for a short while if fuzz/run.sh exists. Exits non-zero on the first failure and always
# prints the elapsed time.
#
#   scripts/test.sh                         # everything, with $(nproc) jobs
#   DISTILL_JOBS=1 scripts/test.sh          # fewer jobs on a busy machine
#   DISTILL_FUZZ_SECONDS=5 scripts/test.sh  # shorter fuzzing (default 30; fuzz/run.sh reads it)
set -euo pipefail

start=$(date +%s)
finish() {
  local rc=$? elapsed=$(( $(date +%s) - start ))
  local verdict="passed"
  [ "$rc" -eq 0 ] || verdict="FAILED (exit $rc)"
  printf '\n== test.sh: %s in %dm%02ds\n' "$verdict" $((elapsed / 60)) $((elapsed % 60))
}
trap finish EXIT

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${DISTILL_JOBS:-$(nproc)}"
build="build"

echo "== setup"
scripts/setup.sh

echo "== configure ($build, Release)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release

echo "== build (-j$jobs)"
cmake --build "$build" -j"$jobs"

echo "== ctest (-j$jobs)"
# ctest ends with "N% tests passed, M tests failed out of T" and exits non-zero when any test fails.
ctest --test-dir "$build" --output-on-failure -j"$jobs"

if [ -f fuzz/run.sh ]; then
  export DISTILL_FUZZ_SECONDS="${DISTILL_FUZZ_SECONDS:-30}"
  export DISTILL_FUZZ_JOBS="${DISTILL_FUZZ_JOBS:-$jobs}"  # the fuzzers compile and run side by side
  export DISTILL_BUILD_DIR="$root/$build"
  echo "== fuzz (DISTILL_FUZZ_SECONDS=$DISTILL_FUZZ_SECONDS, DISTILL_FUZZ_JOBS=$DISTILL_FUZZ_JOBS)"
  bash fuzz/run.sh
fi
