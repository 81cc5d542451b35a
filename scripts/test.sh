#!/bin/sh
# Installs the dependencies, then builds and runs the whole test suite twice: a normal build
# and one under AddressSanitizer + UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
jobs=$(nproc)
BUILD_DIR=build BUILD_TYPE=RelWithDebInfo sh scripts/build.sh
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 300
BUILD_DIR=build-asan BUILD_TYPE=Debug sh scripts/build.sh -DVIGIL_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 600
