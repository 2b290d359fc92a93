#!/usr/bin/env bash
# The main job on a fresh Debian machine: install what is missing, build, and
# run a local cluster on a private Redis with the demo model and synthetic
# transactions, showing results and throughput. Arguments go to `scorepipe demo`
# (see `build/bin/scorepipe demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec build/bin/scorepipe demo -c config/local.yaml "$@"
