#!/usr/bin/env bash
# README command 1: install what is missing, build, and run mnemod on ./data, listening on
# 127.0.0.1:7420 (protected mode until an API key exists: `build/server/cli/mnemo keys create --data
# ./data --kind service`), with the REST sidecar mnemo-rest beside it on 127.0.0.1:8080
# (MNEMO_REST_LISTEN to change; MNEMO_REST_SERVICE_KEY when mnemod has keys).  JWTs are checked
# with MNEMO_REST_JWT_SECRET, or with a secret generated once into build/rest-jwt-secret.
# Ctrl-C / SIGTERM stop both gracefully; the script exits when either process dies.  Extra
# arguments go to mnemod (see `mnemod --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
# Only the programs this script runs; the configuration is command 2's, so neither rebuilds the other's work.
MNEMO_TARGETS="mnemod mnemo-rest mnemo-cli" "$root/scripts/build.sh" "$root/build" >/dev/null

secret_file="$root/build/rest-jwt-secret"
if [ -z "${MNEMO_REST_JWT_SECRET:-}" ]; then
  [ -s "$secret_file" ] || (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$secret_file")
  MNEMO_REST_JWT_SECRET=$(cat "$secret_file")
  export MNEMO_REST_JWT_SECRET
  echo "run.sh: mnemo-rest JWT secret in $secret_file; a token for user alice:" \
       "MNEMO_REST_JWT_SECRET=\$(cat $secret_file) $root/build/clients/rest/mnemo-rest --issue-token alice" >&2
fi

port_file=$(mktemp -u "${TMPDIR:-/tmp}/mnemod-port.XXXXXX")
"$root/build/server/mnemod" --data "${MNEMO_DATA:-$root/data}" --port-file "$port_file" "$@" &
mnemod_pid=$!
rest_pid=
stop_all() { kill -TERM $mnemod_pid $rest_pid 2>/dev/null || true; }
trap stop_all INT TERM
for _ in $(seq 1 600); do  # mnemod writes its port once listening (bounded: 60 s)
  [ -s "$port_file" ] && break
  kill -0 $mnemod_pid 2>/dev/null || break
  sleep 0.1
done
if [ ! -s "$port_file" ]; then
  stop_all
  wait $mnemod_pid || exit $?
  exit 1
fi
mnemod_port=$(cat "$port_file")
rm -f "$port_file"
"$root/build/clients/rest/mnemo-rest" --listen "${MNEMO_REST_LISTEN:-127.0.0.1:8080}" \
  --upstream "127.0.0.1:$mnemod_port" &
rest_pid=$!
status=0
wait -n $mnemod_pid $rest_pid || status=$?
stop_all
wait || true
exit $status
