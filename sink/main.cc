// scorepipe-sink: writes the workers' results back to the queue.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "config/node_setup.h"
#include "sink/sink.h"

int main(int argc, char** argv) {
  CLI::App app{"scorepipe sink: gathers results from every worker, writes them to the output\n"
               "queue in the upstream result format and republishes them on a live PUB feed."};
  std::string config_path;
  std::string log_level;
  app.add_option("-c,--config", config_path, "topology YAML (see config/local.yaml)")->required();
  app.add_option("--log-level", log_level, "overrides logging.level: trace|debug|info|warn|error|off");
  CLI11_PARSE(app, argc, argv);

  auto topology = scorepipe::SetUpNode("sink", scorepipe::HostName(), config_path, log_level);
  if (!topology.ok()) {
    fprintf(stderr, "scorepipe-sink: %s\n", topology.status().message().c_str());
    return 2;
  }
  auto queue = scorepipe::OpenQueue(topology->queue);
  if (!queue.ok()) {
    spdlog::critical("{}", queue.status().message());
    return 1;
  }
  zmq::context_t context;
  scorepipe::Sink sink(*topology, context, std::move(queue.value()));
  if (auto s = sink.Bind(); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  scorepipe::ServeNodeMetrics("sink", *topology, sink.registry());
  scorepipe::Status status = sink.Run();
  if (!status.ok()) spdlog::error("{}", status.message());
  return status.ok() ? 0 : 1;
}
