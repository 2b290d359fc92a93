#include "cli/up_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/preflight.h"
#include "local_cluster/supervisor.h"
#include "runtime/node.h"
#include "runtime/node_setup.h"

namespace scorepipe {
namespace {

struct UpOptions {
  std::string config_path;
  std::string log_dir;
  std::string log_level;
  bool gateway = false;
};

int RunUp(const UpOptions& options) {
  auto topology = SetUpNode("up", HostName(), options.config_path, options.log_level);
  if (!topology.ok()) {
    std::fprintf(stderr, "scorepipe up: %s\n", topology.status().message().c_str());
    return 2;
  }
  // A bad key file or a model that cannot load would only make nodes fail
  // and restart over and over: say so now, every problem at once.
  PreflightScope scope;
  scope.gateway = options.gateway;  // its TLS and token files too
  if (std::vector<std::string> problems = Preflight(*topology, scope); !problems.empty()) {
    for (const std::string& problem : problems) spdlog::critical("{}", problem);
    spdlog::critical("not starting: {} problem{} (`scorepipe check -c {}` lists them again)", problems.size(),
                     problems.size() == 1 ? "" : "s", options.config_path);
    return 1;
  }
  if (!options.log_dir.empty()) std::filesystem::create_directories(options.log_dir);
  SupervisorOptions supervisor_options{std::filesystem::absolute(options.config_path).string(), BinDir(),
                                       options.log_dir, options.log_level, options.gateway};
  Supervisor supervisor(supervisor_options, *topology);
  Status status = supervisor.Run();
  if (!status.ok()) spdlog::critical("{}", status.message());
  return status.ok() ? 0 : 1;
}

}  // namespace

Command AddUpCommand(CLI::App& app) {
  auto options = std::make_shared<UpOptions>();
  CLI::App* up =
      app.add_subcommand("up",
                         "run bridge, ventilator, sink and workers.count workers on this host "
                         "(and a gateway with --gateway); "
                         "restarts a node that dies (a slot that keeps dying backs off, up to 10 s); "
                         "SIGHUP reopens the log files; Ctrl-C stops all cleanly");
  up->add_option("-c,--config", options->config_path, "topology YAML")->required()->check(CLI::ExistingFile);
  up->add_option("--log-dir", options->log_dir,
                 "write each node's log to DIR/<node>.log, reopened on SIGHUP (default: this terminal)");
  up->add_option("--log-level", options->log_level, "overrides logging.level for every node");
  up->add_flag("--gateway", options->gateway,
               "also run a gateway (online scoring over HTTP on gateway.port; docs/gateway.md): started "
               "last, stopped first, restarted like the others; its TLS and token files are checked first");
  return {up, [options] { return RunUp(*options); }};
}

}  // namespace scorepipe
