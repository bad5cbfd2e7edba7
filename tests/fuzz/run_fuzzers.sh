#!/usr/bin/env bash
# Runs every libFuzzer binary of a MNEMO_FUZZ build for a bounded time and reports executions.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS_PER_TARGET (default 30)]
# Each target starts from the committed seed corpus (tests/fuzz/corpus/<target>) plus the
# regressions, and grows a working corpus in BUILD_DIR/fuzz-work/<target> (never in the source
# tree).  A crash stops the run with a non-zero exit; the input is kept as
# BUILD_DIR/fuzz-work/<target>/crash-*: fix the bug, then copy the input into
# tests/fuzz/regressions/<target>/ so fuzz_replay_<target> keeps it fixed.
# MNEMO_FUZZ_SEED (default 1) fixes libFuzzer's random seed: CI explores the same inputs on the
# same code, so its verdict does not depend on luck; 0 asks for a fresh seed (scripts/test.sh
# --long, and any exploratory run — see tests/fuzz/regressions/README.md).
set -euo pipefail
build_dir=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
seed=${MNEMO_FUZZ_SEED:-1}
source_dir=$(cd "$(dirname "$0")" && pwd)
status=0
summary=()
for target in frame dispatch key_codec rest_mapper; do
  binary="$build_dir/tests/fuzz/mnemo_fuzz_$target"
  if [ ! -x "$binary" ]; then
    summary+=("$target: not built, skipped")
    continue
  fi
  work="$build_dir/fuzz-work/$target"
  mkdir -p "$work/corpus"
  log="$work/fuzz.log"
  seeds=("$source_dir/corpus/$target")
  [ -d "$source_dir/regressions/$target" ] && seeds+=("$source_dir/regressions/$target")
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$binary" -seed="$seed" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    summary+=("$target: $runs executions in ${seconds}s, coverage $cov edges, no crash")
  else
    status=1
    summary+=("$target: FAILED (see $log)")
    tail -60 "$log"
  fi
done
echo "== Fuzzing summary"
printf '  %s\n' "${summary[@]}"
exit $status
