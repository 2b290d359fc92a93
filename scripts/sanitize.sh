#!/usr/bin/env bash
# Builds everything with GCC, AddressSanitizer and UndefinedBehaviorSanitizer
# (-DSCOREPIPE_SANITIZE=ON: tests and node programs alike) in build-asan/, and
# runs the test suite there with ctest. Arguments go to ctest:
#
#   bash scripts/sanitize.sh                 # the whole suite
#   bash scripts/sanitize.sh -R proto_test   # some tests
#
# A memory error, a leak or undefined behaviour in any process fails the run,
# also in the node programs the tests start (whose own failure a test may not
# see: `scorepipe up` restarts a node that died). Every process writes its
# report to build-asan/sanitizer-logs/report.<program>.<pid> instead of
# stderr, and the script fails when that folder is not empty at the end,
# printing each report. Nothing is suppressed (no leak or error of a
# third-party library showed up) and no test is left out: the fault and bench
# tests run under ASan within their time limits.
#
# On 2 cores: the first build takes 47 CPU minutes of compiling (54 minutes
# on a machine shared with other work); the 778 tests then take about 6.
# Not in scripts/test.sh (CI's time budget): run it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh >/dev/null
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ \
  -DSCOREPIPE_SANITIZE=ON >/dev/null
cmake --build build-asan -j 2

logs="$PWD/build-asan/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# Both runtimes write to one place: with GCC, libubsan sets the report path
# through libasan's __sanitizer_set_report_path (the symbol is interposed),
# but prints its own "runtime error" lines to stderr whatever log_path says,
# so a node's would land only in its log. abort_on_error makes undefined
# behaviour end in abort(), and handle_abort makes ASan report that abort,
# with the stack through the UBSan handler, into the report folder.
# halt_on_error: the first error ends the process. log_exe_name: report
# files name the program, not only its pid.
report="$logs/report"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:handle_abort=1:check_initialization_order=1:strict_init_order=1:log_path=$report:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$report:log_exe_name=1"

status=0
(cd build-asan && ctest --output-on-failure -j 2 --timeout 1200 "$@") || status=$?

reports=("$logs"/*)
if [ -e "${reports[0]}" ]; then
  for file in "${reports[@]}"; do
    echo "=== $file"
    head -80 "$file"
  done
  echo "sanitize: ${#reports[@]} sanitizer report(s) in $logs" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitize: ctest failed (exit $status), no sanitizer report" >&2
  exit "$status"
fi
echo "sanitize: no memory error, leak or undefined behaviour"
