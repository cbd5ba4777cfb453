# aarch64-linux-gnu.cmake — CMake toolchain file for cross-building lrq for
# 64-bit ARM Linux on an x86-64 Debian/Ubuntu host (scripts/neon-test.sh):
#   cmake -S . -B build-neon -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Needs Debian's gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (the
# compiler and the target's C library under /usr/aarch64-linux-gnu); the test
# binaries run through qemu-user (package qemu-user), which ctest calls via
# CMAKE_CROSSCOMPILING_EMULATOR, so `ctest` in the cross build directory runs
# them as if they were native.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LRQ_CROSS_PREFIX aarch64-linux-gnu CACHE STRING "GNU triplet of the cross tools")
set(CMAKE_C_COMPILER ${LRQ_CROSS_PREFIX}-gcc)
set(LRQ_CROSS_SYSROOT /usr/${LRQ_CROSS_PREFIX} CACHE PATH "The target's libraries (for qemu -L)")

# Libraries and headers come from the target's tree only; programs from the host.
set(CMAKE_FIND_ROOT_PATH ${LRQ_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# qemu-aarch64 runs the test binaries; -L points it at the target's dynamic
# loader and libc.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;${LRQ_CROSS_SYSROOT})
