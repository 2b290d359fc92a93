// `scorepipe check -c FILE`: a dry run. Loads the topology and looks at
// every file it names (cli/preflight.h) without starting anything, lists
// every problem, and exits 0 when there is none, 1 when there is any, 2 on
// a usage error.
#ifndef SCOREPIPE_CLI_CHECK_COMMAND_H_
#define SCOREPIPE_CLI_CHECK_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace scorepipe {

Command AddCheckCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_CHECK_COMMAND_H_
