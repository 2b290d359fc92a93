#include "gateway/gateway_main.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "gateway/gateway.h"
#include "runtime/node.h"
#include "runtime/node_health.h"
#include "runtime/node_setup.h"
#include "runtime/service_notify.h"

namespace scorepipe {
namespace {

// Every connection is a descriptor: take what the hard limit allows.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::warn("cannot raise the open-file limit");
}

Status RunGateways(Topology& topology, const NodeIdentity& node, zmq::context_t& context) {
  RaiseOpenFileLimit();
  if (topology.gateway.threads == 0) {
    topology.gateway.threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
  }
  auto budget = std::make_shared<ConnectionBudget>(static_cast<size_t>(topology.gateway.max_connections));
  auto registry = std::make_shared<prometheus::Registry>();
  GatewayMetrics metrics(*registry);
  std::vector<std::unique_ptr<Gateway>> shards;
  for (int shard = 0; shard < topology.gateway.threads; ++shard) {
    auto gateway = std::make_unique<Gateway>(topology, context, node.id, shard, budget, metrics);
    if (Status s = gateway->Start(); !s.ok()) return s;
    shards.push_back(std::move(gateway));
  }
  ServeNodeMetrics("gateway", topology, registry);
  const GatewayConfig& g = topology.gateway;
  spdlog::info("gateway: {}://{}:{} -> {} ({} thread{}, batches of up to {} after {} us)",
               g.security == GatewaySecurity::kTls ? "https" : "http", g.address, shards[0]->port(),
               topology.ventilator.gateways.connect, g.threads, g.threads == 1 ? "" : "s",
               std::min(g.max_batch_size, topology.bridge.batch_size), g.max_queue_delay_us);
  ProcessHealth().Started("serving HTTP");
  NotifyReady("serving HTTP on port " + std::to_string(shards[0]->port()));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < shards.size(); ++i) threads.emplace_back([&, i] { (void)shards[i]->Run(); });
  Status status = shards[0]->Run();
  for (std::thread& t : threads) t.join();
  NotifyStopping();
  ProcessHealth().Stopping();
  return status;
}

}  // namespace

NodeProgram GatewayProgram() {
  return NodeProgram{
      .role = "gateway",
      .about =
          "scorepipe gateway: online scoring over HTTP (the Open Inference Protocol and the\n"
          "upstream's JSON) into the cluster's workers, with dynamic batching.",
      .id_help = "",
      .default_id = nullptr,
      .slot_help = "",
      .run = RunGateways,
  };
}

}  // namespace scorepipe
