#!/usr/bin/env bash
# Runs every libFuzzer binary of a MNEMO_FUZZ build for a bounded time and reports executions.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS_PER_TARGET (default 30)]
# Each target starts from the committed seed corpus (tests/fuzz/corpus/<target>) plus the
# regressions, and grows a working corpus in BUILD_DIR/fuzz-work/<target> (never in the source
# tree).  A crash stops the run with a non-zero exit; the input is kept as
# BUILD_DIR/fuzz-work/<target>/crash-*: fix the bug, then copy the input into
# tests/fuzz/regressions/<target>/ so fuzz_replay_<target> keeps it fixed.
# MNEMO_FUZZ_JOBS (default: the number of cores) targets run at a time.
# MNEMO_FUZZ_SEED (default 1) fixes libFuzzer's random seed: CI explores the same inputs on the
# same code, so its verdict does not depend on luck; 0 asks for a fresh seed (scripts/test.sh
# --long, and any exploratory run — see tests/fuzz/regressions/README.md).
set -euo pipefail
build_dir=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
seed=${MNEMO_FUZZ_SEED:-1}
source_dir=$(cd "$(dirname "$0")" && pwd)
jobs=${MNEMO_FUZZ_JOBS:-$(nproc)}
targets=(frame dispatch key_codec rest_mapper)

# fuzz_one TARGET: runs one target; its one-line verdict goes to BUILD_DIR/fuzz-work/TARGET/verdict.
fuzz_one() {
  local target=$1
  local binary="$build_dir/tests/fuzz/mnemo_fuzz_$target" work="$build_dir/fuzz-work/$target"
  mkdir -p "$work/corpus"
  local log="$work/fuzz.log" verdict="$work/verdict"
  if [ ! -x "$binary" ]; then
    echo "$target: not built, skipped" >"$verdict"
    return 0
  fi
  local seeds=("$source_dir/corpus/$target")
  [ -d "$source_dir/regressions/$target" ] && seeds+=("$source_dir/regressions/$target")
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$binary" -seed="$seed" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" >"$log" 2>&1; then
    local runs cov
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    echo "$target: $runs executions in ${seconds}s, coverage $cov edges, no crash" >"$verdict"
  else
    echo "$target: FAILED (see $log)" >"$verdict"
    return 1
  fi
}

# Each target is one single-threaded process: $jobs of them run side by side (one per core).
# The seed fixes each target's inputs whatever runs beside it; only the execution count varies.
status=0
pids=()
for target in "${targets[@]}"; do
  rm -f "$build_dir/fuzz-work/$target/verdict"
  fuzz_one "$target" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

echo "== Fuzzing summary"
for target in "${targets[@]}"; do
  verdict="$build_dir/fuzz-work/$target/verdict"
  echo "  $(cat "$verdict" 2>/dev/null || echo "$target: no verdict")"
  if grep -q FAILED "$verdict" 2>/dev/null; then tail -60 "$build_dir/fuzz-work/$target/fuzz.log"; fi
done
exit $status
