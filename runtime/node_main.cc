#include "runtime/node_main.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "runtime/node.h"
#include "runtime/node_setup.h"

namespace scorepipe {

int NodeMain(int argc, char** argv, const NodeProgram& program) {
  CLI::App app{program.about};
  std::string config_path;
  std::string log_level;
  std::string id = program.default_id ? program.default_id() : HostName();
  app.add_option("-c,--config", config_path, "topology YAML (see config/local.yaml)")->required();
  if (!program.id_help.empty()) app.add_option("--id", id, program.id_help);
  app.add_option("--log-level", log_level, "overrides logging.level: trace|debug|info|warn|error|off");
  CLI11_PARSE(app, argc, argv);

  auto topology = SetUpNode(program.role, id, config_path, log_level);
  if (!topology.ok()) {
    std::fprintf(stderr, "scorepipe-%s: %s\n", program.role.c_str(), topology.status().message().c_str());
    return 2;
  }
  zmq::context_t context;
  const Status status = program.run(topology.value(), id, context);
  if (!status.ok()) {
    spdlog::critical("{}", status.message());
    return 1;
  }
  return 0;
}

}  // namespace scorepipe
