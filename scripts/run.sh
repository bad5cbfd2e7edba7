#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job.
# Until mnemod exists (issue "wire protocol, mnemod…") the main job is the engine demo: it opens
# ./data (creating it on first run), writes a conversation with messages and reads it back.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build" -DMNEMO_BUILD_TESTS=OFF -DMNEMO_BUILD_BENCH=OFF >/dev/null
exec "$root/build/engine/mnemo-demo" --data "${MNEMO_DATA:-$root/data}" "$@"
