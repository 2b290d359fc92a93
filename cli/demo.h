// `scorepipe demo`: the whole pipeline on this machine with nothing set up.
//
// Starts a private redis-server on a free port, derives a topology from the
// given one (that Redis, private ipc:// endpoints in a temporary directory),
// runs `scorepipe up` on it, pushes synthetic transactions (and a few invalid
// messages, to show the dead-letter queue), prints the results arriving and
// the throughput, and stops everything it started.
//
// Run from the main thread.
#ifndef SCOREPIPE_CLI_DEMO_H_
#define SCOREPIPE_CLI_DEMO_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

struct DemoOptions {
  std::string config_path;      // the topology to start from (config/local.yaml)
  std::string bin_dir;          // where scorepipe and scorepipe-<role> are
  size_t transactions = 200000; // synthetic transactions to push
  int workers = 0;              // 0: the topology's workers.count
  uint64_t seed = 7;            // of the synthetic stream
  int timeout_s = 300;          // give up waiting for results after this
  bool keep_dir = false;        // keep the temporary directory (logs) afterwards
};

Status RunDemo(const DemoOptions& options);

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

#endif  // SCOREPIPE_CLI_DEMO_H_
