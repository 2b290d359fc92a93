#!/usr/bin/env bash
# Builds everything (warnings are errors), runs the static checks
# (scripts/lint.sh: clang-format, the layers, clang-tidy) and every test with
# ctest, then a short libFuzzer run of every fuzz target (scripts/fuzz.sh,
# clang).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh -DSCOREPIPE_WERROR=ON
bash scripts/lint.sh
(cd build && ctest --output-on-failure -j 2 --timeout 600)
bash scripts/fuzz.sh 10
