// The topology's checks (internal to config/): each field's rule from the
// schema (topology_schema.h), then the rules between fields (distinct queues
// and endpoints, timeouts in order, a model's files or a registry model). The
// YAML reader runs them after reading and places the problem at its line;
// ValidateTopology() runs them on a topology built in code.
//
// Stateless functions; any thread.
#ifndef SCOREPIPE_CONFIG_TOPOLOGY_CHECKS_H_
#define SCOREPIPE_CONFIG_TOPOLOGY_CHECKS_H_

#include <functional>
#include <optional>
#include <string>

#include "config/topology.h"
#include "config/topology_schema.h"

namespace scorepipe::topology_internal {

// Says whether the file being loaded set a key. A problem between two keys is
// reported at the one the file set, so the line shown is one the user wrote.
using InFile = std::function<bool(const std::string& key)>;

// The first problem with `t`, or nothing. Field rules come first, then the
// rules between fields.
std::optional<Problem> FindProblem(const Topology& t, const InFile& in_file);

}  // namespace scorepipe::topology_internal

#endif  // SCOREPIPE_CONFIG_TOPOLOGY_CHECKS_H_
