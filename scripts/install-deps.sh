#!/usr/bin/env bash
# Installs the Debian packages mnemo builds, tests and runs with (SPEC §1).
# Idempotent and quiet when everything is already present; needs root (or sudo) otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev librocksdb-dev libflatbuffers-dev flatbuffers-compiler
  libxsimd-dev libfaiss-dev libhnswlib-dev
  libbenchmark-dev libgtest-dev libgmock-dev
  nlohmann-json3-dev libspdlog-dev libcli11-dev
  python3 python3-flatbuffers python3-pytest python3-numpy
  clang libclang-rt-14-dev clang-format clang-tidy
  python3-venv python3-pip python3-setuptools python3-wheel
  python3-dev pybind11-dev python3-pybind11
  postgresql-15 libpq-dev python3-matplotlib
  python3-fastapi python3-uvicorn python3-uvloop python3-httptools python3-httpx
  python3-sqlalchemy python3-asyncpg
  libicu-dev libstemmer-dev libxapian-dev manpages manpages-zh
  etcd-server etcd-client
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
