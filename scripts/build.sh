#!/usr/bin/env bash
# Configures and builds mnemo.  Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Release with -O2, Ninja, ccache when present, parallel jobs = cores.
# MNEMO_TARGETS="a b" builds only those targets (the configuration stays the same, so a later
# full build reuses everything).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-"$root/build"}
shift || true

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

cmake -S "$root" -B "$build_dir" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for target in ${MNEMO_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" --parallel "$(nproc)" "${targets[@]}"
