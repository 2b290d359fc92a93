// scorepipe-worker: scores batches from the ventilator; start as many as you
// like, on any host that reaches the ventilator and the sink.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "config/node_setup.h"
#include "worker/model_watcher.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  CLI::App app{"scorepipe worker: connects to the ventilator, turns each transaction into the\n"
               "model's features, scores whole batches with the model and sends results to the sink.\n"
               "Start more of them, on any host, at any time, to scale out."};
  std::string config_path;
  std::string log_level;
  std::string id = scorepipe::DefaultWorkerId();
  app.add_option("-c,--config", config_path, "topology YAML (see config/local.yaml)")->required();
  app.add_option("--id", id, "worker id shown in logs and results feed (default: host-pid)");
  app.add_option("--log-level", log_level, "overrides logging.level: trace|debug|info|warn|error|off");
  CLI11_PARSE(app, argc, argv);

  auto topology = scorepipe::SetUpNode("worker", id, config_path, log_level);
  if (!topology.ok()) {
    fprintf(stderr, "scorepipe-worker: %s\n", topology.status().message().c_str());
    return 2;
  }
  // A registry model: its live version now, or the newest before it that
  // loads (logged); the worker follows the live version from here.
  auto model = scorepipe::LoadModelOf(topology->model);
  if (!model.ok()) {
    spdlog::critical("cannot load the model: {}", model.status().message());
    return 1;
  }
  topology->model = model->loaded.config;
  zmq::context_t context;
  scorepipe::Worker worker(*topology, context, std::move(model->loaded.scorer), id);
  if (auto s = worker.Connect(); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  scorepipe::ServeNodeMetrics("worker", *topology, worker.registry());
  return worker.Run().ok() ? 0 : 1;
}
