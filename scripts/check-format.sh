#!/usr/bin/env bash
# Fails when a tracked C++ file (*.cc, *.h) differs from what clang-format (.clang-format at the
# root) makes of it, and lists those files.  `--fix` rewrites them instead.
# Usage: scripts/check-format.sh [--fix] [FILE...]   (no FILE: every tracked *.cc / *.h)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fix=0
if [ "${1:-}" = "--fix" ]; then
  fix=1
  shift
fi
clang_format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$clang_format" ]; then
  echo "check-format: clang-format not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cc' '*.h')
fi
if [ "$fix" -eq 1 ]; then
  "$clang_format" -i --style=file "${files[@]}"
  exit 0
fi
drifted=()
for file in "${files[@]}"; do
  if ! "$clang_format" --style=file --dry-run --Werror "$file" >/dev/null 2>&1; then
    drifted+=("$file")
  fi
done
if [ "${#drifted[@]}" -gt 0 ]; then
  echo "check-format: ${#drifted[@]} file(s) differ from clang-format's output:" >&2
  printf '  %s\n' "${drifted[@]}" >&2
  echo "check-format: run scripts/check-format.sh --fix FILE... to rewrite them" >&2
  exit 1
fi
echo "check-format: ${#files[@]} file(s) formatted"
