#!/usr/bin/env bash
# Configures and builds scorepipe (Release) into build/. Extra arguments go to
# the CMake configure step (e.g. -DSCOREPIPE_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
