// The start of every node's main: load and validate the topology, set up
// logging with the node's role and id, and install the stop-signal handlers.
// Errors come back as one line for the caller to print before exiting.
//
// Call once, from main, before any thread starts.
#ifndef SCOREPIPE_CONFIG_NODE_SETUP_H_
#define SCOREPIPE_CONFIG_NODE_SETUP_H_

#include <string>
#include <string_view>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

// `log_level_override`, when not empty, wins over the topology's logging.level.
Result<Topology> SetUpNode(std::string_view role, std::string_view id, const std::string& config_path,
                           const std::string& log_level_override);

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_NODE_SETUP_H_
