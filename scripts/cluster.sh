#!/usr/bin/env bash
# A local 3-node cluster on loopback: 3 etcd members and 3 mnemod nodes (n1, n2, n3) that elect
# their primary through them.  Each process keeps its data and log under DIR (default
# ./cluster-data): DIR/etcd-<i>/ and DIR/n<i>/ (mnemod's log: DIR/n<i>.log).  Ports: etcd clients
# on BASE+1..3 and peers on BASE+11..13 (BASE = MNEMO_CLUSTER_ETCD_BASE, default 23790), mnemod
# on 127.0.0.1:7421..7423 (MNEMO_CLUSTER_PORT_BASE, default 7420).  It builds mnemod and the CLI
# if needed (not the dependencies: run command 1 or 2 once first), prints `mnemo cluster status`
# once a primary is elected, and runs until Ctrl-C / SIGTERM, which stops every process; it also
# stops everything when any process dies.  With MNEMO_CLUSTER_CHECK=1 it exits (status 0) right
# after printing the status: the smoke test uses that.  Extra arguments go to every mnemod.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${1:-cluster-data}")
shift || true
etcd_base=${MNEMO_CLUSTER_ETCD_BASE:-23790}
port_base=${MNEMO_CLUSTER_PORT_BASE:-7420}
etcd_bin=$(command -v etcd || true)
if [ -z "$etcd_bin" ]; then
  echo "cluster.sh: etcd not found (scripts/install-deps.sh installs Debian's etcd-server)" >&2
  exit 2
fi
if [ -z "${MNEMO_BUILD_DIR:-}" ]; then
  MNEMO_TARGETS="mnemod mnemo-cli" "$root/scripts/build.sh" "$root/build" >/dev/null
fi
build=${MNEMO_BUILD_DIR:-$root/build}
mkdir -p "$dir"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap 'stop_all; exit 130' INT TERM

initial=""
client_urls=""
for i in 1 2 3; do
  initial+="${initial:+,}e$i=http://127.0.0.1:$((etcd_base + 10 + i))"
  client_urls+="${client_urls:+,}http://127.0.0.1:$((etcd_base + i))"
done
state=new
[ -d "$dir/etcd-1/member" ] && state=existing
for i in 1 2 3; do
  "$etcd_bin" --name "e$i" --data-dir "$dir/etcd-$i" \
    --listen-client-urls "http://127.0.0.1:$((etcd_base + i))" \
    --advertise-client-urls "http://127.0.0.1:$((etcd_base + i))" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_base + 10 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_base + 10 + i))" \
    --initial-cluster "$initial" --initial-cluster-state "$state" \
    --initial-cluster-token mnemo-local >"$dir/etcd-$i.log" 2>&1 &
  pids+=($!)
done

healthy=0
for _ in $(seq 1 200); do  # bounded: 20 s
  healthy=0
  for i in 1 2 3; do
    ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$((etcd_base + i))" \
      --command-timeout=1s endpoint health >/dev/null 2>&1 && healthy=$((healthy + 1))
  done
  [ "$healthy" -eq 3 ] && break
  sleep 0.1
done
if [ "$healthy" -ne 3 ]; then
  echo "cluster.sh: etcd did not become healthy; see $dir/etcd-*.log" >&2
  stop_all
  exit 1
fi

nodes=""
for i in 1 2 3; do
  port=$((port_base + i))
  nodes+="${nodes:+,}127.0.0.1:$port"
  "$build/server/mnemod" --data "$dir/n$i" --listen "127.0.0.1:$port" --etcd "$client_urls" \
    --cluster local --node-id "n$i" "$@" >"$dir/n$i.log" 2>&1 &
  pids+=($!)
done

status_out=""
for _ in $(seq 1 300); do  # bounded: 30 s
  if status_out=$("$build/server/cli/mnemo" cluster status --etcd "$client_urls" --cluster local \
      --nodes "$nodes" 2>&1) && grep -q "^primary: .* at " <<<"$status_out"; then
    break
  fi
  status_out=""
  sleep 0.1
done
if [ -z "$status_out" ]; then
  echo "cluster.sh: no primary was elected; see $dir/n*.log" >&2
  stop_all
  exit 1
fi
echo "$status_out"
echo "cluster.sh: etcd $client_urls; mnemod $nodes; data and logs in $dir" >&2
if [ "${MNEMO_CLUSTER_CHECK:-0}" = 1 ]; then
  stop_all
  exit 0
fi
status=0
wait -n "${pids[@]}" || status=$?
echo "cluster.sh: a process exited (status $status); stopping the others" >&2
stop_all
exit "$status"
