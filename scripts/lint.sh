#!/usr/bin/env bash
# The static checks: formatting (clang-format, .clang-format), the floor plan
# (scripts/check_layers.py) and the chosen clang-tidy checks (.clang-tidy) on
# every source file outside tests/. Needs a configured build/ (for
# build/compile_commands.json): scripts/test.sh runs it after the build.
#
#   bash scripts/lint.sh            # all three; exit 1 on any finding
#   bash scripts/lint.sh --fix      # reformat the tree in place first
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files '*.cc' '*.h' | grep -v '^tests/fuzz/corpus/')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${sources[@]}"
fi

echo "lint: clang-format on ${#sources[@]} files"
unformatted=()
for f in "${sources[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "lint: not formatted as .clang-format says (bash scripts/lint.sh --fix reformats):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi

echo "lint: layers"
python3 scripts/check_layers.py

if [ ! -f build/compile_commands.json ]; then
  echo "lint: build/compile_commands.json is missing: run scripts/build.sh first" >&2
  exit 1
fi
mapfile -t tidy_sources < <(git ls-files '*.cc' | grep -v '^tests/')
echo "lint: clang-tidy on ${#tidy_sources[@]} files ($(nproc) at a time)"
# -Wno-unknown-warning-option: the build's GCC-only flags mean nothing to clang.
printf '%s\n' "${tidy_sources[@]}" |
  xargs -P "$(nproc)" -n 4 clang-tidy -p build --quiet --extra-arg=-Wno-unknown-warning-option 2>&1 |
  { grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter' || true; } \
  > build/clang-tidy.log || true
if grep -q -E 'warning:|error:|Error while processing' build/clang-tidy.log; then
  grep -E -A3 'warning:|error:|Error while processing' build/clang-tidy.log >&2
  echo "lint: clang-tidy found the above (build/clang-tidy.log)" >&2
  exit 1
fi
echo "lint: clean"
