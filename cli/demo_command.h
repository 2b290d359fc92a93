// `scorepipe demo`: the whole pipeline on this machine with nothing set up.
//
// Starts a private redis-server on a free port, derives a topology from the
// given one (that Redis, private ipc:// endpoints in a temporary directory),
// runs `scorepipe up` on it, pushes synthetic transactions (and a few invalid
// messages, to show the dead-letter queue), prints the results arriving and
// the throughput, and stops everything it started.
//
// Run from the main thread.
#ifndef SCOREPIPE_CLI_DEMO_COMMAND_H_
#define SCOREPIPE_CLI_DEMO_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/command.h"
#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

struct DemoOptions {
  std::string config_path;       // the topology to start from (FindDemoTopology when empty)
  std::string bin_dir;           // where scorepipe and scorepipe-<role> are
  size_t transactions = 200000;  // synthetic transactions to push
  int workers = 0;               // 0: the topology's workers.count
  uint64_t seed = 7;             // of the synthetic stream
  int timeout_s = 300;           // give up waiting for results after this
  bool keep_dir = false;         // keep the temporary directory (logs) afterwards
};

Status RunDemo(const DemoOptions& options);

// The topology `demo` starts from when -c is not given: config/local.yaml in
// the working directory (the repository), else the one of the source tree
// `bin_dir` was built in (<repo>/build/bin), else an installed one
// (<prefix>/share/scorepipe/config/local.yaml, /usr/share/scorepipe/...).
// The error lists where it looked and says how to go on.
Result<std::string> FindDemoTopology(const std::string& bin_dir);

// Registers `scorepipe demo`.
Command AddDemoCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_DEMO_COMMAND_H_
