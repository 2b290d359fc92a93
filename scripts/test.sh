#!/usr/bin/env bash
# Builds everything (warnings are errors) and runs every test with ctest,
# then a short libFuzzer run of every fuzz target (scripts/fuzz.sh, clang).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh -DSCOREPIPE_WERROR=ON
(cd build && ctest --output-on-failure -j 2 --timeout 600)
bash scripts/fuzz.sh 10
