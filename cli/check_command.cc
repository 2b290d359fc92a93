#include "cli/check_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/preflight.h"
#include "config/topology.h"

namespace scorepipe {
namespace {

struct CheckOptions {
  std::string config_path;
  std::string role = "all";
};

int RunCheck(const CheckOptions& options) {
  // The report is the output; what the loaders log on the way is not.
  spdlog::set_level(spdlog::level::warn);
  Result<Topology> topology = LoadTopologyFile(options.config_path);
  if (!topology.ok()) {
    std::printf("%s\n1 problem: the topology does not load, so its files were not looked at\n",
                topology.status().message().c_str());
    return 1;
  }
  PreflightScope scope;
  scope.head = options.role == "all" || options.role == "head";
  scope.worker = options.role == "all" || options.role == "worker";
  scope.gateway = options.role == "all" || options.role == "gateway";
  // A gateway host without the head: the head must be up, and reachable.
  scope.probe = options.role == "gateway";
  const std::vector<std::string> problems = Preflight(topology.value(), scope);
  for (const std::string& problem : problems) std::printf("%s\n", problem.c_str());
  const std::string what = options.role == "all"       ? "every role"
                           : options.role == "head"    ? "the head"
                           : options.role == "gateway" ? "a gateway"
                                                       : "a worker";
  if (problems.empty()) {
    const std::string looked_at = options.role == "gateway"
                                      ? "topology, key files, TLS and token files, features, port, the head"
                                      : "topology, key files, model";
    std::printf("%s: ok for %s (%s%s)\n", options.config_path.c_str(), what.c_str(), looked_at.c_str(),
                topology->security.mode == SecurityMode::kNone ? "; security.mode is none: plain links" : "");
    return 0;
  }
  std::printf("%zu problem%s in %s for %s\n", problems.size(), problems.size() == 1 ? "" : "s",
              options.config_path.c_str(), what.c_str());
  return 1;
}

}  // namespace

Command AddCheckCommand(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = app.add_subcommand(
      "check",
      "check a topology and the files it names (key files, model, password file) without starting anything");
  check->add_option("-c,--config", options->config_path, "topology YAML")->required();
  check
      ->add_option("--role", options->role,
                   "which nodes run on this host: head (bridge, ventilator, sink), worker, gateway, or all")
      ->check(CLI::IsMember({"all", "head", "worker", "gateway"}))
      ->capture_default_str();
  check->footer(
      "Lists every problem, each at its topology key (FILE:LINE: key: what), and exits 0 when there is\n"
      "none, 1 when there is any, 2 on a usage error. Nothing is started; the model is loaded as a worker\n"
      "loads it. A gateway's files: with gateway.security tls the certificate and key (PEM, a matching\n"
      "pair, not expired) and the tokens file (at least one token); the admin tokens file when set.\n"
      "Only --role gateway (a host whose head runs elsewhere) also touches the network: it binds\n"
      "gateway.address:port for a moment and sends the ventilator's gateway endpoint one heartbeat,\n"
      "as a gateway does, which must be answered within 2 s (so the head must be up, and with CURVE\n"
      "this host's key authorized there). Otherwise nothing is bound or connected.");
  return {check, [options] { return RunCheck(*options); }};
}

}  // namespace scorepipe
