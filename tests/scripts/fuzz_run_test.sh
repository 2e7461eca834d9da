#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz/run.sh's settings: each bad one exits 2 with a message naming it, before anything is compiled or created
# (the build folder it was given must not appear). Runs in well under a second: nothing is built.
#
#   bash tests/scripts/fuzz_run_test.sh <repo>/fuzz/run.sh
set -uo pipefail
script="$1"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/distill-fuzz-test.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
failures=0

# expect_exit_2 <message substring> <env assignments...> -- <targets...>
expect_exit_2() {
  local want="$1"; shift
  local env=()
  while [ "$1" != "--" ]; do env+=("$1"); shift; done
  shift
  local build="$scratch/build" out rc
  out="$(env DISTILL_FUZZ_BUILD="$build" "${env[@]}" bash "$script" "$@" 2>&1)"; rc=$?
  if [ "$rc" -ne 2 ]; then echo "FAIL: ${env[*]} $* exited $rc, not 2: $out"; failures=$((failures + 1)); fi
  if [[ "$out" != *"$want"* ]]; then echo "FAIL: ${env[*]} $*: no '$want' in: $out"; failures=$((failures + 1)); fi
  if [ -e "$build" ]; then echo "FAIL: ${env[*]} $* created $build"; failures=$((failures + 1)); rm -rf "$build"; fi
}

expect_exit_2 "DISTILL_FUZZ_SECONDS=-5 is not a positive integer" DISTILL_FUZZ_SECONDS=-5 -- npy
expect_exit_2 "DISTILL_FUZZ_SECONDS=0 is not a positive integer" DISTILL_FUZZ_SECONDS=0 -- npy
expect_exit_2 "DISTILL_FUZZ_SECONDS=1.5 is not a positive integer" DISTILL_FUZZ_SECONDS=1.5 -- npy
expect_exit_2 "DISTILL_FUZZ_JOBS=x is not a positive integer" DISTILL_FUZZ_JOBS=x -- npy
expect_exit_2 "DISTILL_FUZZ_JOBS=0 is not a positive integer" DISTILL_FUZZ_JOBS=0 -- npy
expect_exit_2 "no target 'csv'" -- npy csv
expect_exit_2 "no target '../x'" -- ../x

if [ "$failures" -eq 0 ]; then echo "fuzz/run.sh: every bad setting exits 2 before building"; fi
exit $((failures > 0))
