#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on) in build-fuzz/, and runs each for SECONDS
# (default 10) from its seed corpus in tests/fuzz/corpus/<target>/. A crash,
# a leak or undefined behaviour fails the script and leaves the input that
# caused it in build-fuzz/findings/<target>/. New inputs the fuzzer finds go
# to build-fuzz/corpus/<target>/, not to the checked-in seeds.
#
#   bash scripts/fuzz.sh                   # the short run the test suite does
#   bash scripts/fuzz.sh 3600              # an hour per target
#   bash scripts/fuzz.sh 60 fuzz_topology  # one target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(fuzz_transaction_parser fuzz_codec fuzz_topology fuzz_feature_spec fuzz_labelled_file); fi

bash scripts/setup.sh >/dev/null
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DSCOREPIPE_FUZZ=ON -DSCOREPIPE_BUILD_TESTS=OFF -DSCOREPIPE_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j 2 --target fuzz_transaction_parser fuzz_codec fuzz_topology fuzz_feature_spec fuzz_labelled_file

for target in "${targets[@]}"; do
  corpus="build-fuzz/corpus/$target"
  findings="build-fuzz/findings/$target"
  mkdir -p "$corpus" "$findings"
  echo "fuzzing $target for ${seconds}s (seeds: tests/fuzz/corpus/$target)"
  # `timeout`: a finding whose report takes forever (a huge heap) still ends the run.
  if ! timeout $((seconds * 2 + 120)) build-fuzz/bin/"$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" \
      -rss_limit_mb=2048 "$corpus" "tests/fuzz/corpus/$target" >"build-fuzz/$target.log" 2>&1; then
    tail -40 "build-fuzz/$target.log"
    echo "fuzz: $target FAILED; the input is in $findings/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$target.log" | grep -o '[0-9]*$' || echo '?')
  echo "  $target: $runs inputs, no crash, leak or undefined behaviour"
done
