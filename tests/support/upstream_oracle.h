// The upstream's own verdicts for tests: runs
// tests/support/upstream_oracle/oracle.mjs (its protocol is described there)
// under /usr/bin/node with TZ=UTC on a list of strings.
//
// Stateless functions; any thread may call them (each run is a process).
#ifndef SCOREPIPE_TESTS_SUPPORT_UPSTREAM_ORACLE_H_
#define SCOREPIPE_TESTS_SUPPORT_UPSTREAM_ORACLE_H_

#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe::testing {

inline constexpr const char* kNodePath = "/usr/bin/node";

// Whether node is installed (scripts/setup.sh installs it); tests skip
// without it.
bool UpstreamOracleAvailable();

// The oracle's output lines (without the newline), one per input, in order.
// `mode` is "--date" or "--message". An error when node fails or answers a
// different number of lines.
Result<std::vector<std::string>> RunUpstreamOracle(const std::string& mode,
                                                   const std::vector<std::string>& inputs);

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_UPSTREAM_ORACLE_H_
