// `scorepipe install`: puts one host's part of a cluster in place for
// systemd. It writes the programs of the roles the host runs, their units
// (systemd/: one per role, the worker as a template, the drop-in every
// scorepipe-* unit shares, and scorepipe.target), the sysusers.d file that
// declares the `scorepipe` system user, the topology (validated first) with
// its model files next to it, the README, and creates the user. Files are
// replaced atomically (written beside, then renamed), so a running node's
// program is never half-written; an installed topology that differs is only
// replaced with `force`.
//
// `root` stages everything under another folder (as DESTDIR does), e.g. to
// build a package or an image. A staged root holds no key and no user: every
// host made from it gets the user from the sysusers.d file at boot and makes
// its own key pair at the first start of a node unit (SetUpHostKeys, run by
// each unit's ExecStartPre as `scorepipe keys`). Only an install on the live
// host ("/") creates the user and this host's keys at once.
//
// Free functions; any thread (one install at a time per root; SetUpHostKeys
// may run in many processes at once, see there).
#ifndef SCOREPIPE_CLI_INSTALL_COMMAND_H_
#define SCOREPIPE_CLI_INSTALL_COMMAND_H_

#include <string>
#include <vector>

#include "cli/command.h"
#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

enum class InstallRole {
  kBridge,      // scorepipe-bridge.service
  kVentilator,  // scorepipe-ventilator.service
  kSink,        // scorepipe-sink.service
  kWorker,      // scorepipe-worker@.service, one instance per worker
  kGateway,     // scorepipe-gateway.service: HTTP in, a client of the head like a worker
};

// Role names as the command takes them: bridge, ventilator, sink, worker,
// gateway, head (bridge + ventilator + sink), all (every role: one host runs
// the whole cluster). Each role once, in that order; an unknown name is an
// error that lists the allowed ones.
Result<std::vector<InstallRole>> ParseInstallRoles(const std::vector<std::string>& names);
const char* InstallRoleName(InstallRole role);

// Whether a host with `roles` is a head: it runs a server of the links
// (bridge, ventilator or sink) and so holds the server key and the
// authorized-keys folder. Workers and gateways only connect to the head.
bool IsHeadHost(const std::vector<InstallRole>& roles);

struct InstallOptions {
  std::string config_path;            // the topology to install
  std::vector<InstallRole> roles;     // non-empty
  std::string root = "/";             // staging root; absolute
  std::string prefix = "/usr/local";  // programs in prefix/bin; absolute
  std::string bin_dir;                // where the built programs are
  bool force = false;                 // replace an installed topology that differs
  bool create_user = true;            // the `scorepipe` system user (root "/" only)
};

// The user the node units run as (User= in the shared drop-in), who must own
// each host's key pair.
inline constexpr const char* kServiceUser = "scorepipe";

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

struct HostKeysReport {
  std::vector<std::string> written;     // the key files and folders made now (none when all were there)
  std::string public_key;               // this host's public key (Z85); empty for security.mode none
  std::vector<std::string> next_steps;  // what the operator must still copy between hosts
};

// This host's CURVE keys for `security` (nothing for security.mode none):
// the key pair at security.secret_key, made when missing and never
// replaced; on a head (`head`), also the server key file (its own public
// key) and the authorized-keys folder, when missing. Files it makes belong
// to the calling process's user; with an `owner`, the pair's files are
// given to that user (also a pair that was there, e.g. left root-owned by
// an older install), and a chown that fails is an error naming the file and
// the user, with a pair made now removed again. The key folder keeps its
// owner (root on a real host), so the nodes cannot replace keys in it.
//
// Holds an exclusive lock (flock) on the key pair's folder while it looks
// and writes, so that the units of one host starting at once make one pair.
Result<HostKeysReport> SetUpHostKeys(const SecurityConfig& security, bool head, const std::string& owner);

// Registers `scorepipe install`.
Command AddInstallCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_INSTALL_COMMAND_H_
