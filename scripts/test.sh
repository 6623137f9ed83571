#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   1. x86-64 build + unit tests (every ISA level this CPU runs, forced through HEARTH_ISA)
#   2. arm64 cross build, the kernel and engine tests under qemu-aarch64 as a Pi 4 (cortex-a72)
#      and the kernel tests as a Pi 5-class CPU (max); every suite with HEARTH_SLOW_TESTS=1
#   3. the arm64 .deb (scripts/dist-arm64.sh, reusing build-arm64) checked by tests/dist/deb_test.sh
#   4. the GGUF reader fuzzer (clang, ASan+UBSan) for a bounded time over the shared models
# Env: HEARTH_TEST_MODELS (default ../shared/models), FUZZ_SECONDS (default 60),
#      HEARTH_SLOW_TESTS=1: the slow tier too (the whole suite under qemu as a Pi 4, not only
#      the kernel and engine suites).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Test loads must neither leave packed-weight caches in the home folder nor read one
# (model/pack_cache.h); the cache's own tests use a temporary folder.
export HEARTH_PACK_CACHE=0
scripts/install-deps.sh
jobs=$(nproc)

echo "== x86-64 build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure)

echo "== hearth serve against real clients (openai and ollama npm packages, curl; x86 only)"
# npm ci installs exactly package-lock.json; node --test runs every tests/clients/*.test.mjs.
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
HEARTH_BIN="$root/build/hearth" timeout 600 node --test --test-concurrency=1 tests/clients/

echo "== arm64 cross build, tests under qemu-aarch64"
cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64.cmake" -DHEARTH_BUILD_BENCH=OFF >/dev/null
# Under qemu (~20x slower than native) CI runs what the arm64 code path changes: the kernel and
# engine suites (tests/CMakeLists.txt: kernels, ops, quantisation, the forward passes against
# llama.cpp's references, runtime, tokenizers, sampling, the GGUF reader, the Pi's /sys
# readers) as a Pi 4, and the kernels again as a Pi 5-class CPU. The server, router, RAG,
# Wyoming and CLI suites are architecture-neutral code already run natively above;
# HEARTH_SLOW_TESTS=1 builds and runs them under qemu too.
# qemu loads the guest's ld.so and libraries from the host's arm64 multiarch tree (libc6:arm64,
# libstdc++6:arm64, pulled in with libcpp-httplib's arm64 package). No QEMU_LD_PREFIX: pointing it
# at the cross sysroot mixes that ld.so (glibc 2.36-8cross1) with the multiarch libc.so.6 (a later
# 2.36 update), whose private stack-cache layouts differ — pthread_create then loops forever once a
# thread stack is reused.
kernels='*VecDot*:ArmKernels.*:Dispatch.*:Matmul.*:ThreadPool.*:Attention.*:Accumulate*:TileDot.*:PackedGemm.*'
if [ "${HEARTH_SLOW_TESTS:-0}" = 1 ]; then
  cmake --build build-arm64 -j "$jobs"
  echo "-- qemu-aarch64 -cpu cortex-a72: all tests (HEARTH_SLOW_TESTS=1)"
  QEMU_CPU=cortex-a72 qemu-aarch64 build-arm64/tests/hearth_tests --gtest_brief=1
else
  cmake --build build-arm64 -j "$jobs" --target hearth_cli hearth_engine_tests
  echo "-- qemu-aarch64 -cpu cortex-a72: kernel and engine tests"
  QEMU_CPU=cortex-a72 qemu-aarch64 build-arm64/tests/hearth_engine_tests --gtest_brief=1
fi
echo "-- qemu-aarch64 -cpu max (dotprod): kernel tests"
QEMU_CPU=max qemu-aarch64 build-arm64/tests/hearth_engine_tests --gtest_brief=1 --gtest_filter="$kernels"

echo "== the Raspberry Pi package: dist/hearth_<version>_arm64.deb from build-arm64, checked with dpkg-deb"
BUILD_DIR=build-arm64 NATIVE_HEARTH=build/hearth tests/dist/deb_test.sh

echo "== GGUF reader fuzzer (libFuzzer, ASan+UBSan)"
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
echo "all test stages passed"
