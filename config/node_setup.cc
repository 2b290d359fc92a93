#include "config/node_setup.h"

#include "proto/node.h"

namespace scorepipe {

Result<Topology> SetUpNode(std::string_view role, std::string_view id, const std::string& config_path,
                           const std::string& log_level_override) {
  Result<Topology> topology = LoadTopologyFile(config_path);
  if (!topology.ok()) return topology.status();
  const std::string& level = log_level_override.empty() ? topology->logging.level : log_level_override;
  if (Status s = InitLogging(role, id, level); !s.ok()) return s.WithContext("--log-level");
  InstallStopSignalHandlers();
  return topology;
}

}  // namespace scorepipe
