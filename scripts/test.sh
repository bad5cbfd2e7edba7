#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test:
#   1. the Release build's full ctest suite;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build running the unit tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

jobs=$(nproc)
echo "== Release build"
"$root/scripts/build.sh" "$root/build"
echo "== Tests (Release)"
ctest --test-dir "$root/build" --output-on-failure --parallel "$jobs" --timeout 600

echo "== ASan+UBSan build"
"$root/scripts/build.sh" "$root/build-asan" -DMNEMO_SANITIZE=ON -DMNEMO_BUILD_BENCH=OFF
echo "== Tests (ASan+UBSan, unit label)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure --parallel "$jobs" --timeout 900 -L unit
