// `scorepipe keygen` (a CURVE key pair at a path) and `scorepipe keys` (this
// host's keys from the topology, made when missing; each node unit runs it
// at start). SetUpHostKeys (cli/install_command.h) does the work of `keys`.
#ifndef SCOREPIPE_CLI_KEYS_COMMAND_H_
#define SCOREPIPE_CLI_KEYS_COMMAND_H_

#include <string>
#include <vector>

#include "cli/command.h"

namespace scorepipe {

// `scorepipe keys`: SetUpHostKeys for the topology at `config_path`, a head
// when `role_names` hold a role other than worker and gateway (IsHeadHost). Prints what it made, the
// public key and the next steps. Returns the exit code: 0 the keys are in
// place, 1 they could not be made or given to `owner`, 2 bad roles or a
// topology that does not load.
struct HostKeysOptions {
  std::string config_path = "/etc/scorepipe/topology.yaml";
  std::vector<std::string> role_names;  // as ParseInstallRoles takes them
  std::string owner;                    // empty: the files stay the caller's
};
int RunHostKeys(const HostKeysOptions& options);

// Registers `scorepipe keygen` and `scorepipe keys`.
Command AddKeygenCommand(CLI::App& app);
Command AddKeysCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_KEYS_COMMAND_H_
