// `scorepipe push`: synthetic upstream transactions into the topology's
// input queue, the way the upstream's producers push (local_cluster/
// synthetic_push.h does the pushing).
#ifndef SCOREPIPE_CLI_PUSH_COMMAND_H_
#define SCOREPIPE_CLI_PUSH_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/command.h"

namespace scorepipe {

struct PushOptions {
  std::string config_path;  // topology YAML: queue.* says where to push
  size_t count = 1000;      // transactions, 1..100000000
  uint64_t seed = 1;        // of the synthetic stream
  int64_t first_id = 1;     // "id" of the first transaction, then counting up
  size_t chunk = 10000;     // transactions per Queue::Push
};

// Pushes, printing a progress line about once a second, and stops early
// (exit code 1) on Ctrl-C. Returns the exit code: 0 pushed, 1 the queue
// failed or the push was interrupted, 2 the topology does not load.
int RunPush(const PushOptions& options);

// Registers `scorepipe push`.
Command AddPushCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_PUSH_COMMAND_H_
