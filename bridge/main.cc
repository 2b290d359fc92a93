// scorepipe-bridge: drains the input queue into the cluster.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "bridge/bridge.h"
#include "config/node_setup.h"

int main(int argc, char** argv) {
  CLI::App app{"scorepipe bridge: takes transactions from the input queue (Redis) in batches,\n"
               "validates them against the upstream schema, dead-letters bad ones with the\n"
               "reason, and sends valid batches to the ventilator."};
  std::string config_path;
  std::string log_level;
  app.add_option("-c,--config", config_path, "topology YAML (see config/local.yaml)")->required();
  app.add_option("--log-level", log_level, "overrides logging.level: trace|debug|info|warn|error|off");
  CLI11_PARSE(app, argc, argv);

  auto topology = scorepipe::SetUpNode("bridge", scorepipe::HostName(), config_path, log_level);
  if (!topology.ok()) {
    fprintf(stderr, "scorepipe-bridge: %s\n", topology.status().message().c_str());
    return 2;
  }
  auto queue = scorepipe::OpenQueue(topology->queue);
  if (!queue.ok()) {
    spdlog::critical("{}", queue.status().message());
    return 1;
  }
  zmq::context_t context;
  scorepipe::Bridge bridge(*topology, context, std::move(queue.value()));
  scorepipe::ServeNodeMetrics("bridge", *topology, bridge.registry());
  if (auto s = bridge.Connect(); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  scorepipe::Status status = bridge.Run();
  if (!status.ok()) spdlog::error("{}", status.message());
  return status.ok() ? 0 : 1;
}
