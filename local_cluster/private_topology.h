// A cluster private to this host and this run: the demo, the benchmark and
// the integration tests start theirs from a topology made private here.
//
// Free functions; no state.
#ifndef SCOREPIPE_LOCAL_CLUSTER_PRIVATE_TOPOLOGY_H_
#define SCOREPIPE_LOCAL_CLUSTER_PRIVATE_TOPOLOGY_H_

#include <string>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

// `base` made private to this host: Redis at 127.0.0.1:`redis_port`, db 0, and
// every ZeroMQ endpoint an ipc:// socket in `dir`, and metrics on 127.0.0.1
// on free ports, so that it runs beside any other cluster without a port
// clash. The demo and the integration tests use it.
Topology PrivateTopology(Topology base, int redis_port, const std::string& dir);

// CURVE for a cluster on one host: a fresh key pair in `dir`/keys (head.key,
// head.key_secret) that every node shares, and an empty authorized-keys
// folder (the head's own key is always let in). The demo and the
// integration tests run with it, so their links are encrypted as a real
// cluster's are.
Result<SecurityConfig> SingleHostCurve(const std::string& dir);

}  // namespace scorepipe

#endif  // SCOREPIPE_LOCAL_CLUSTER_PRIVATE_TOPOLOGY_H_
