// `scorepipe install`: puts one host's part of a cluster in place for
// systemd. It writes the programs of the roles the host runs, their units
// (systemd/: one per role, the worker as a template, the drop-in every
// scorepipe-* unit shares, and scorepipe.target), the topology (validated
// first) with its model files next to it, the README, and creates the
// `scorepipe` system user. Files are replaced atomically (written beside,
// then renamed), so a running node's program is never half-written; an
// installed topology that differs is only replaced with `force`.
//
// `root` stages everything under another folder (as DESTDIR does), e.g. to
// build a package or to test; the user is created only when root is "/".
//
// Free functions; any thread (one install at a time per root).
#ifndef SCOREPIPE_CLI_INSTALL_H_
#define SCOREPIPE_CLI_INSTALL_H_

#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

enum class InstallRole {
  kBridge,      // scorepipe-bridge.service
  kVentilator,  // scorepipe-ventilator.service
  kSink,        // scorepipe-sink.service
  kWorker,      // scorepipe-worker@.service, one instance per worker
};

// Role names as the command takes them: bridge, ventilator, sink, worker,
// head (bridge + ventilator + sink), all. Each role once, in that order; an
// unknown name is an error that lists the allowed ones.
Result<std::vector<InstallRole>> ParseInstallRoles(const std::vector<std::string>& names);
const char* InstallRoleName(InstallRole role);

struct InstallOptions {
  std::string config_path;                  // the topology to install
  std::vector<InstallRole> roles;           // non-empty
  std::string root = "/";                   // staging root; absolute
  std::string prefix = "/usr/local";        // programs in prefix/bin; absolute
  std::string bin_dir;                      // where the built programs are
  bool force = false;                       // replace an installed topology that differs
  bool create_user = true;                  // the `scorepipe` system user (root "/" only)
};

struct InstallReport {
  std::vector<std::string> written;     // every file written, as seen from root
  std::vector<std::string> next_steps;  // the systemctl commands to run next
  bool user_created = false;
};

// The topology goes to /etc/scorepipe/topology.yaml, its model files to
// /etc/scorepipe/models/<folder of the model file>/ (read-only to the
// nodes under the units' ProtectSystem=strict), with the installed
// topology pointing at them.
Result<InstallReport> Install(const InstallOptions& options);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_INSTALL_H_
