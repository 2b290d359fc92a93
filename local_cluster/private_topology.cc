#include "local_cluster/private_topology.h"

#include <filesystem>
#include <set>
#include <system_error>

#include "local_cluster/local_redis.h"
#include "runtime/curve.h"
#include "runtime/node.h"

namespace scorepipe {

namespace fs = std::filesystem;

Topology PrivateTopology(Topology base, int redis_port, const std::string& dir) {
  base.queue.redis.host = "127.0.0.1";
  base.queue.redis.port = redis_port;
  base.queue.redis.db = 0;
  auto ipc = [&](const char* name) {
    std::string endpoint = "ipc://" + (fs::path(dir) / name).string();
    return Endpoint{endpoint, endpoint};
  };
  base.ventilator.workers = ipc("workers.ipc");
  base.ventilator.intake = ipc("intake.ipc");
  base.ventilator.heartbeat = ipc("heartbeat.ipc");
  base.ventilator.status = ipc("status.ipc");
  base.ventilator.gateways = ipc("gateways.ipc");
  base.sink.results = ipc("results.ipc");
  base.sink.publish = ipc("live.ipc");
  base.sink.status = ipc("sink-status.ipc");
  // Metrics on this host only, on ports free now (0, off, when none is
  // found): the head's roles apart from each other and from the workers' range.
  base.metrics.address = "127.0.0.1";
  std::set<int> taken;
  auto free_port = [&](auto acceptable) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      Result<int> port = FindFreePort();
      if (port.ok() && !taken.contains(port.value()) && acceptable(port.value())) {
        taken.insert(port.value());
        return port.value();
      }
    }
    return 0;
  };
  base.metrics.worker_port = free_port([](int port) { return port <= 65535 - (kWorkerMetricsPorts - 1); });
  const int workers_first = base.metrics.worker_port;
  auto outside_workers = [&](int port) {
    return port < workers_first || port >= workers_first + kWorkerMetricsPorts;
  };
  base.metrics.bridge_port = free_port(outside_workers);
  base.metrics.ventilator_port = free_port(outside_workers);
  base.metrics.sink_port = free_port(outside_workers);
  base.metrics.gateway_port = free_port(outside_workers);
  return base;
}

Result<SecurityConfig> SingleHostCurve(const std::string& dir) {
  const fs::path keys = fs::path(dir) / "keys";
  std::error_code error;
  fs::create_directories(keys / "authorized", error);
  if (error) return Status::Error("cannot create " + (keys / "authorized").string() + ": " + error.message());
  Result<CurveKeyPair> pair = NewCurveKeyPair();
  if (!pair.ok()) return pair.status();
  const std::string prefix = (keys / "head").string();
  if (Status s = WriteKeyPair(prefix, pair.value()); !s.ok()) return s;
  return SecurityConfig{SecurityMode::kCurve, prefix + ".key_secret", prefix + ".key",
                        (keys / "authorized").string()};
}

}  // namespace scorepipe
