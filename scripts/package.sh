#!/usr/bin/env bash
# Builds the Debian package (packaging/) in build-deb/ and prints its path:
# a Release build for the prefix /usr with Debian's hardening flags
# (dpkg-buildflags), of the programs and their man pages only (no tests, no
# benchmarks), packed by cpack. Extra arguments go to the CMake configure
# step. Install the package with `sudo apt install ./build-deb/scorepipe_*.deb`
# (docs/operations.md "Install from the Debian package").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2

# Debian's flags for what it packages: fortified functions, stack
# protector, format checks, full RELRO. Its -O2 and -g go: the Release
# build's -O3 optimizes, and cpack strips the programs.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
export DEB_CXXFLAGS_MAINT_STRIP="-g -O2"
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS)"

cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DSCOREPIPE_BUILD_TESTS=OFF -DSCOREPIPE_BUILD_BENCH=OFF -DSCOREPIPE_PACKAGE=ON \
  "-DCMAKE_CXX_FLAGS=$cxxflags" "-DCMAKE_EXE_LINKER_FLAGS=$ldflags" "$@" >&2
cmake --build build-deb -j "$(nproc)" >&2
rm -f build-deb/scorepipe_*.deb
(cd build-deb && cpack --config CPackConfig.cmake) >&2
package=$(ls build-deb/scorepipe_*.deb)
echo "$PWD/$package"
