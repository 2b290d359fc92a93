// What `scorepipe check` and `scorepipe up` look at before any node starts:
// the files a loaded topology names, for the roles that run on this host.
// Each problem is one line placed at its topology key
// ("cluster.yaml:88: model.path: ... is a directory"), so that an operator
// fixes them all in one go instead of meeting them one restart at a time.
//
// Reads files only, unless the scope asks for the probes of a gateway host
// (below): then it also binds the gateway's port for a moment and asks the
// ventilator's gateway endpoint once. Nothing is started. Any thread.
#ifndef SCOREPIPE_CLI_PREFLIGHT_H_
#define SCOREPIPE_CLI_PREFLIGHT_H_

#include <chrono>
#include <string>
#include <vector>

#include "config/topology.h"

namespace scorepipe {

// Which nodes this host runs.
struct PreflightScope {
  bool head = true;    // bridge, ventilator, sink: the servers' keys, the queue's password file
  bool worker = true;  // workers: the client keys, the model
  // A gateway: the client keys, the model's features, and with
  // gateway.security tls its certificate and key (a matching pair, not
  // expired) and its tokens file (at least one token); the admin tokens
  // file when set. Off by default: `up` starts a gateway only when asked.
  bool gateway = false;
  // The probes of a host that runs a gateway without the head (whose head
  // must be up already): gateway.address:port can be bound now, and the
  // ventilator at ventilator.gateway_connect answers a gateway's heartbeat
  // within `probe_timeout` (through CURVE when on: this host's key must be
  // authorized there).
  bool probe = false;
  std::chrono::milliseconds probe_timeout{2000};
};

// Every problem found: key files (runtime/link_security.h
// CheckSecurityFiles), the model (it is loaded with its features, as a
// worker loads it, registry versions included), queue.redis.password_file,
// the gateway's files and probes (above). Empty when all is well.
std::vector<std::string> Preflight(const Topology& topology, PreflightScope scope);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_PREFLIGHT_H_
