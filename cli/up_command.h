// `scorepipe up`: runs bridge, ventilator, sink and workers.count workers
// (and with --gateway a gateway) on this host under the supervisor
// (local_cluster/supervisor.h), restarting a node that dies, until Ctrl-C or
// SIGTERM.
#ifndef SCOREPIPE_CLI_UP_COMMAND_H_
#define SCOREPIPE_CLI_UP_COMMAND_H_

#include "cli/command.h"

namespace scorepipe {

Command AddUpCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_UP_COMMAND_H_
