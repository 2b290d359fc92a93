#!/usr/bin/env bash
# Installs every Debian package scorepipe needs to build, test and run, when
# missing. Safe to run again; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libeigen3-dev libspdlog-dev libyaml-cpp-dev
  libhiredis-dev libxgboost-dev libcli11-dev libsimdjson-dev
  # sd_notify (Type=notify units) and systemd-analyze (the unit tests)
  libsystemd-dev systemd
  # every node's /metrics, /livez and /readyz (civetweb); the tests scrape them with cpp-httplib
  prometheus-cpp-dev libcivetweb-dev
  # queue.kind http-mq: libcurl is its client; cpp-httplib serves the tests'
  # stand-in for it and scrapes /metrics
  libcurl4-openssl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # the gateway: its HTTP server (Boost.Beast/Asio) and TLS (OpenSSL); the
  # tests speak to it with curl and make certificates with openssl; the
  # benchmark loads it with wrk and h2load
  libboost-dev libssl-dev openssl curl wrk nghttp2-client
  # the fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizers
  clang libclang-rt-14-dev
  # scripts/lint.sh: the formatting check and the chosen clang-tidy checks
  clang-format clang-tidy
  redis-server
  # the prediction archive (issue 21): the archiver's client is libpq; the
  # tests and the demo start their own PostgreSQL server (initdb in a
  # temporary folder, run as the postgres user the package creates)
  postgresql libpq-dev
  # tests/training/training_reference.py: Python XGBoost (and numpy), the
  # reference that `scorepipe train`'s XGBoost must match
  python3-xgboost python3-numpy
  # the fault tests: network namespaces, veth links and tc (iproute2), packet
  # loss where the kernel has no netem (iptables)
  iproute2 iptables
  # evaluate_sklearn_test: `scorepipe evaluate`'s figures against scikit-learn's
  # (tests/cli/sklearn_metrics.py runs under Debian's /usr/bin/python3)
  python3 python3-sklearn
  # monitoring/: promtool checks the alerting rules and the Prometheus
  # configuration and runs the rules' unit tests (tests/monitoring/); its
  # monitoring_check.py reads the rules with PyYAML. Installing prometheus
  # enables its service; where no systemd runs, it just is not started.
  prometheus python3-yaml
  # tests/support/upstream_oracle/oracle.mjs: the upstream's own checks (V8's
  # Date.parse, its zod TransactionSchema) that the timestamp tests compare with;
  # npm below (NodeSource's nodejs brings its own)
  nodejs
  # the Debian package (scripts/package.sh, tests/packaging/): man pages from
  # --help, dpkg-shlibdeps and dpkg-buildflags, lintian; the tests also run
  # the completion under bash-completion, check the logrotate file with
  # logrotate, and read the programs' libraries with objdump (binutils)
  help2man dpkg-dev lintian bash-completion logrotate binutils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v npm >/dev/null; then
  echo "setup: installing npm"
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm
fi

# zod, pinned by its package-lock.json, for the oracle's --message mode; again
# only when the installed copy does not match the lock.
oracle="$(cd "$(dirname "$0")/.." && pwd)/tests/support/upstream_oracle"
if ! cmp -s "$oracle/package-lock.json" "$oracle/node_modules/.installed-lock.json" 2>/dev/null; then
  echo "setup: npm ci in $oracle"
  npm ci --prefix "$oracle" --no-audit --no-fund --silent
  cp "$oracle/package-lock.json" "$oracle/node_modules/.installed-lock.json"
fi
