#include "cli/keys_command.h"

#include <cstdio>
#include <memory>

#include "cli/install_command.h"
#include "config/topology.h"
#include "runtime/curve.h"

namespace scorepipe {

int RunHostKeys(const HostKeysOptions& options) {
  Result<std::vector<InstallRole>> roles = ParseInstallRoles(options.role_names);
  if (!roles.ok()) {
    fprintf(stderr, "scorepipe keys: %s\n", roles.status().message().c_str());
    return 2;
  }
  Result<Topology> topology = LoadTopologyFile(options.config_path);
  if (!topology.ok()) {
    fprintf(stderr, "scorepipe keys: %s\n", topology.status().message().c_str());
    return 2;
  }
  if (topology->security.mode != SecurityMode::kCurve) {
    printf("security.mode is not curve in %s: no keys to make\n", options.config_path.c_str());
    return 0;
  }
  Result<HostKeysReport> keys = SetUpHostKeys(topology->security, IsHeadHost(roles.value()), options.owner);
  if (!keys.ok()) {
    fprintf(stderr, "scorepipe keys: %s\n", keys.status().message().c_str());
    return 1;
  }
  if (keys->written.empty()) {
    printf("this host's keys are in place (public key %s in %s)\n", keys->public_key.c_str(),
           PublicKeyPathOf(topology->security.secret_key).c_str());
    return 0;  // said at every start: no next steps again
  }
  printf("made:\n");
  for (const std::string& file : keys->written) printf("  %s\n", file.c_str());
  printf("public key %s\nnext:\n", keys->public_key.c_str());
  for (const std::string& step : keys->next_steps) printf("  %s\n", step.c_str());
  return 0;
}

Command AddKeygenCommand(CLI::App& app) {
  auto prefix = std::make_shared<std::string>();
  CLI::App* keygen =
      app.add_subcommand("keygen", "write a CURVE key pair for a node: PREFIX.key and PREFIX.key_secret");
  keygen->add_option("prefix", *prefix, "path without extension, e.g. /etc/scorepipe/keys/worker-host-1")
      ->required();
  keygen->footer(
      "Writes the public key to PREFIX.key and the secret key to PREFIX.key_secret (mode 0600),\n"
      "one Z85 line each; refuses to overwrite either. Copy PREFIX.key to the head node's\n"
      "authorized-keys folder to let this node in (docs/operations.md). Exit code: 0 written,\n"
      "1 not written (a file exists, or the folder is not writable).");
  return {keygen, [prefix] {
            auto pair = NewCurveKeyPair();
            Status written = pair.ok() ? WriteKeyPair(*prefix, pair.value()) : pair.status();
            if (!written.ok()) {
              std::fprintf(stderr, "scorepipe keygen: %s\n", written.message().c_str());
              return 1;
            }
            std::printf("wrote %s.key (public: %s) and %s.key_secret (secret, mode 0600)\n", prefix->c_str(),
                        pair->public_key.c_str(), prefix->c_str());
            return 0;
          }};
}

Command AddKeysCommand(CLI::App& app) {
  auto options = std::make_shared<HostKeysOptions>();
  CLI::App* keys = app.add_subcommand(
      "keys", "make this host's CURVE keys from the topology when missing (each node unit runs it at start)");
  keys->add_option("-c,--config", options->config_path, "the installed topology")->capture_default_str();
  keys->add_option("--role", options->role_names,
                   "what this host runs: bridge, ventilator, sink, worker, gateway, head, all")
      ->required()
      ->delimiter(',');
  keys->add_option("--owner", options->owner,
                   "give the key pair to this user (as root; the units give it to scorepipe)");
  keys->footer(
      "With security.mode curve: makes the key pair at security.secret_key when it is missing\n"
      "and never replaces one; on a head (any role but worker and gateway, which only connect\n"
      "to the head) also the server key file (its own public key) and the authorized-keys\n"
      "folder. The files belong to whoever runs it, or to --owner (also a pair that was\n"
      "there); a chown that fails is an error. Prints the\n"
      "public key and what to copy to which host. Runs at each start of a node unit\n"
      "(ExecStartPre), so a host made from a staged image makes its own keys at its first\n"
      "start. Exit code: 0 the keys are in place (or security.mode none), 1 not made or not\n"
      "given to --owner, 2 bad usage or a topology that does not load.");
  return {keys, [options] { return RunHostKeys(*options); }};
}

}  // namespace scorepipe
