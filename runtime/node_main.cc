#include "runtime/node_main.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "proto/build_info.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "runtime/node_setup.h"

namespace scorepipe {

int NodeMain(int argc, char** argv, const NodeProgram& program) {
  CLI::App app{program.about};
  std::string config_path;
  std::string log_level;
  std::string id = program.default_id ? program.default_id() : HostName();
  int slot = 0;
  app.add_option("-c,--config", config_path, "topology YAML (see config/local.yaml)")->required();
  if (!program.id_help.empty()) app.add_option("--id", id, program.id_help);
  app.add_option("--log-level", log_level, "overrides logging.level: trace|debug|info|warn|error|off");
  app.set_version_flag("--version", VersionLine("scorepipe-" + program.role),
                       "prints the version, the commit and the build type, and exits");
  if (!program.slot_help.empty()) {
    app.add_option("--slot", slot, program.slot_help)->check(CLI::Range(1, kWorkerMetricsPorts));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (CLI11's own
    // codes, 106 and up, say nothing to a service manager or a script).
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto topology = SetUpNode(program.role, id, config_path, log_level);
  if (!topology.ok()) {
    std::fprintf(stderr, "scorepipe-%s: %s\n", program.role.c_str(), topology.status().message().c_str());
    return 2;
  }
  // Key files first: a bad one would only fail the first link, or loop
  // through restarts; each problem names its topology key.
  const bool server = program.role == "ventilator" || program.role == "sink";
  if (std::vector<std::string> problems = CheckSecurityFiles(topology.value(), server); !problems.empty()) {
    for (const std::string& problem : problems) spdlog::critical("{}", problem);
    return 1;
  }
  zmq::context_t context;
  const Status status = program.run(topology.value(), NodeIdentity{id, slot}, context);
  if (!status.ok()) {
    spdlog::critical("{}", status.message());
    return 1;
  }
  return 0;
}

}  // namespace scorepipe
