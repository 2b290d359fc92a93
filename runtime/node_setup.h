// The start of every node's main: load and validate the topology, set up
// logging with the node's role and id, and install the stop-signal handlers.
// Errors come back as one line for the caller to print before exiting.
//
// Call once, from main, before any thread starts.
#ifndef SCOREPIPE_RUNTIME_NODE_SETUP_H_
#define SCOREPIPE_RUNTIME_NODE_SETUP_H_

#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

// `log_level_override`, when not empty, wins over the topology's logging.level.
Result<Topology> SetUpNode(std::string_view role, std::string_view id, const std::string& config_path,
                           const std::string& log_level_override);

// Serves `registry` as the node's /metrics endpoint (with /livez and
// /readyz) on the role's port of topology.metrics ("bridge", "ventilator",
// "sink"; "worker" takes metrics.worker_port + `slot` - 1 for a slot
// 1..kWorkerMetricsPorts, else the first free port of its range), for the
// rest of the process's life. Logs where
// ("metrics on http://<address>:<port>/metrics"); a port that cannot be had
// is logged as an error and the node works on without metrics. Returns the
// port, or 0 when off or failed.
int ServeNodeMetrics(std::string_view role, const Topology& topology,
                     std::shared_ptr<prometheus::Registry> registry, int slot = 0);

// The metrics port of worker `slot` (1..kWorkerMetricsPorts) under `metrics`.
int WorkerMetricsPort(const MetricsConfig& metrics, int slot);

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_NODE_SETUP_H_
