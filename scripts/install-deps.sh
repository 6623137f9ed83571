#!/usr/bin/env bash
# Installs every Debian 12 package hearth builds and tests with. Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git python3
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev                   # libFuzzer + ASan/UBSan for the GGUF fuzzer
  g++-aarch64-linux-gnu qemu-user             # the Raspberry Pi's arm64 path, run under qemu
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
