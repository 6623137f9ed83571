# Cross-compile for 64-bit Raspberry Pi OS (Debian 12 arm64) with Debian's g++-aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Tests run under user-mode qemu; the CPU model is chosen per test run (cortex-a72 / max).
# No -L /usr/aarch64-linux-gnu: the guest's ld.so and libraries both come from the host's arm64
# multiarch tree (libc6:arm64 ...). That prefix would pair the cross sysroot's ld.so with the
# multiarch libc.so.6 — two glibc builds whose private layouts differ (pthread_create loops).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
