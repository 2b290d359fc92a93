#include "runtime/node_setup.h"

#include <spdlog/spdlog.h>

#include "runtime/link_security.h"
#include "runtime/metrics_endpoint.h"
#include "runtime/node.h"

namespace scorepipe {
namespace {

// The node's metrics endpoint, for the process's life (see ServeNodeMetrics).
// `used`: a static that is only written is otherwise dropped by the optimiser
// (GCC -O2), store and all, and the endpoint is then a leak to LeakSanitizer.
[[gnu::used]] MetricsEndpoint* g_metrics_endpoint = nullptr;

}  // namespace

Result<Topology> SetUpNode(std::string_view role, std::string_view id, const std::string& config_path,
                           const std::string& log_level_override) {
  Result<Topology> topology = LoadTopologyFile(config_path);
  if (!topology.ok()) return topology.status();
  const std::string& level = log_level_override.empty() ? topology->logging.level : log_level_override;
  const LogLineFormat format =
      topology->logging.format == LogFormat::kJson ? LogLineFormat::kJson : LogLineFormat::kText;
  if (Status s = InitLogging(role, id, level, format); !s.ok()) return s.WithContext("--log-level");
  InstallStopSignalHandlers();
  if (topology->security.mode == SecurityMode::kNone) spdlog::warn("{}", PlainLinksWarning());
  return topology;
}

int WorkerMetricsPort(const MetricsConfig& metrics, int slot) { return metrics.worker_port + slot - 1; }

int ServeNodeMetrics(std::string_view role, const Topology& topology,
                     std::shared_ptr<prometheus::Registry> registry, int slot) {
  const MetricsConfig& m = topology.metrics;
  const bool worker = role == "worker";
  const int port = worker                 ? m.worker_port
                   : role == "bridge"     ? m.bridge_port
                   : role == "ventilator" ? m.ventilator_port
                   : role == "sink"       ? m.sink_port
                   : role == "gateway"    ? m.gateway_port
                                          : 0;
  if (port == 0) {
    spdlog::info("metrics off (metrics.{}_port is 0)", role);
    return 0;
  }
  Result<std::unique_ptr<MetricsEndpoint>> endpoint =
      worker && slot == 0
          ? MetricsEndpoint::StartInRange(m.address, port, kWorkerMetricsPorts, std::move(registry))
          : MetricsEndpoint::Start(m.address, worker ? WorkerMetricsPort(m, slot) : port,
                                   std::move(registry));
  if (!endpoint.ok()) {
    spdlog::error("no metrics: {}", endpoint.status().message());
    return 0;
  }
  spdlog::info("metrics on {}", endpoint.value()->url());
  const int bound = endpoint.value()->port();
  // Kept for the process's life and deliberately not destroyed at exit (the
  // HTTP server's shutdown waits up to two seconds for nothing); held by a
  // static pointer, so that it stays reachable (no leak report).
  g_metrics_endpoint = endpoint.value().release();
  return bound;
}

}  // namespace scorepipe
