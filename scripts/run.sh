#!/usr/bin/env bash
# README command 1: install what is missing, build, and run mnemod in the foreground on ./data,
# listening on 127.0.0.1:7420 (protected mode until an API key exists: `build/server/mnemo keys
# create --data ./data --kind service`).  Ctrl-C / SIGTERM shut it down gracefully.  Extra
# arguments go to mnemod (see `mnemod --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build" -DMNEMO_BUILD_TESTS=OFF -DMNEMO_BUILD_BENCH=OFF >/dev/null
exec "$root/build/server/mnemod" --data "${MNEMO_DATA:-$root/data}" "$@"
