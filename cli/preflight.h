// What `scorepipe check` and `scorepipe up` look at before any node starts:
// the files a loaded topology names, for the roles that run on this host.
// Each problem is one line placed at its topology key
// ("cluster.yaml:88: model.path: ... is a directory"), so that an operator
// fixes them all in one go instead of meeting them one restart at a time.
//
// Reads files only: nothing is started, bound or connected. Any thread.
#ifndef SCOREPIPE_CLI_PREFLIGHT_H_
#define SCOREPIPE_CLI_PREFLIGHT_H_

#include <string>
#include <vector>

#include "config/topology.h"

namespace scorepipe {

// Which nodes this host runs.
struct PreflightScope {
  bool head = true;    // bridge, ventilator, sink: the servers' keys, the queue's password file
  bool worker = true;  // workers: the client keys, the model
};

// Every problem found: key files (runtime/link_security.h
// CheckSecurityFiles), the model (it is loaded with its features, as a
// worker loads it, registry versions included), queue.redis.password_file.
// Empty when all is well.
std::vector<std::string> Preflight(const Topology& topology, PreflightScope scope);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_PREFLIGHT_H_
