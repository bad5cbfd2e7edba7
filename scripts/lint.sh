#!/usr/bin/env bash
# Runs clang-tidy 14 with the checks in .clang-tidy over mnemo's C++ sources, using the compile
# commands of a configured build (scripts/build.sh writes compile_commands.json).  Fails when a
# check fires (.clang-tidy makes every warning an error).
# Usage: scripts/lint.sh [BUILD_DIR] [FILE_REGEX...]   (default: build, every tracked *.cc)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-"$root/build"}
shift || true
if [ ! -f "$build_dir/compile_commands.json" ]; then
  echo "lint: $build_dir/compile_commands.json not found; run scripts/build.sh $build_dir first" >&2
  exit 2
fi
run_clang_tidy=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
if [ -z "$run_clang_tidy" ]; then
  echo "lint: run-clang-tidy not found (scripts/install-deps.sh installs clang-tidy)" >&2
  exit 2
fi
patterns=("$@")
if [ "${#patterns[@]}" -eq 0 ]; then
  # Every compiled source under the tree's folders (not the generated code in build dirs).
  patterns=("^$root/(base|engine|protocol|server|clients|tests|bench)/.*\.cc$")
fi
"$run_clang_tidy" -p "$build_dir" -quiet -j "${MNEMO_LINT_JOBS:-2}" "${patterns[@]}"
