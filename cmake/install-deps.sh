#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages a lightq workflow needs, only those missing.
#   cmake/install-deps.sh test    build + tests (x86, aarch64 cross + qemu, sanitizers, clang)
#   cmake/install-deps.sh bench   benchmarks (+ optional peers oneDNN, OpenBLAS, XNNPACK)
# As root it runs apt-get; otherwise it prints the exact command and exits with status 1.
set -euo pipefail
what=${1:-test}

common=(cmake ninja-build g++ pkg-config libxsimd-dev python3)
case "$what" in
  test)  packages=("${common[@]}" doctest-dev clang g++-aarch64-linux-gnu qemu-user python3-venv) ;;
  bench) packages=("${common[@]}" libbenchmark-dev libdnnl-dev libopenblas-dev libxnnpack-dev python3-matplotlib) ;;
  *) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "lightq: not a Debian/Ubuntu system; install the equivalents of: ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "lightq: installing missing packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    exit 0
  fi
  echo "lightq: run this first, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
