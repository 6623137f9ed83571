#!/usr/bin/env bash
# Installs every Debian 12 package hearth builds and tests with. Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git python3
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev                   # libFuzzer + ASan/UBSan for the GGUF fuzzer
  g++-aarch64-linux-gnu qemu-user             # the Raspberry Pi's arm64 path, run under qemu
  libcpp-httplib-dev libtomlplusplus-dev curl # hearth serve: HTTP, --config; curl for its tests
  libcpp-httplib0.11:arm64                    # the arm64 cross build links httplib's arm64 library
  libc6:arm64 libstdc++6:arm64                # one consistent arm64 runtime (ld.so + libc) for qemu
  libcurl4-openssl-dev                        # hearth pull (libcurl)
  libcurl4-openssl-dev:arm64                  # ... and its arm64 headers + library for the cross build
  libsqlite3-dev libsqlite3-dev:arm64         # the RAG store (SQLite with FTS5), both architectures
  dpkg-dev                                    # dpkg-shlibdeps: the .deb's Depends (scripts/dist-arm64.sh)
)
# The arm64 runtime of cpp-httplib (and its libssl/zlib/brotli) comes from Debian's arm64
# archive through multiarch: the cross linker and qemu both look in /usr/lib/aarch64-linux-gnu.
# libcurl4-openssl-dev is Multi-Arch: same, so its amd64 and arm64 packages co-install (apt
# upgrades the amd64 libcurl4 to the same version if it is older).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO dpkg --add-architecture arm64
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Node.js and npm run the client tests (the official openai and ollama npm packages); a machine
# that already has them (e.g. from NodeSource) keeps its own.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
