// scorepipe-ventilator: spreads batches from the bridge over the workers.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "config/node_setup.h"
#include "ventilator/ventilator.h"

int main(int argc, char** argv) {
  CLI::App app{
      "scorepipe ventilator: receives transaction batches from the bridge and hands\n"
      "them to live workers as they ask for them (workers may join at any time).\n"
      "Tracks every worker by heartbeats and every batch until its worker is done;\n"
      "a dead worker's batches go to the others. Answers `scorepipe status`."};
  std::string config_path;
  std::string log_level;
  app.add_option("-c,--config", config_path, "topology YAML (see config/local.yaml)")->required();
  app.add_option("--log-level", log_level, "overrides logging.level: trace|debug|info|warn|error|off");
  CLI11_PARSE(app, argc, argv);

  auto topology = scorepipe::SetUpNode("ventilator", scorepipe::HostName(), config_path, log_level);
  if (!topology.ok()) {
    fprintf(stderr, "scorepipe-ventilator: %s\n", topology.status().message().c_str());
    return 2;
  }
  zmq::context_t context;
  scorepipe::Ventilator ventilator(*topology, context);
  if (auto s = ventilator.Bind(); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  scorepipe::ServeNodeMetrics("ventilator", *topology, ventilator.registry());
  return ventilator.Run().ok() ? 0 : 1;
}
