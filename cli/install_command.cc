#include "cli/install_command.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/embedded_files.h"
#include "config/topology.h"
#include "config/topology_writer.h"
#include "durable/dir.h"
#include "durable/file_lock.h"
#include "durable/file_util.h"
#include "local_cluster/child_process.h"
#include "runtime/curve.h"
#include "runtime/node.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUser = kServiceUser;
constexpr const char* kConfigDir = "/etc/scorepipe";
constexpr const char* kUnitDir = "/etc/systemd/system";
// Vendor sysusers.d: systemd-sysusers creates the user at boot from it.
constexpr const char* kSysusersFile = "/usr/lib/sysusers.d/scorepipe.conf";
// The paths the units in systemd/ are written for; replaced by the prefix.
constexpr std::string_view kShippedBinDir = "/usr/local/bin/";
constexpr std::string_view kShippedDocDir = "/usr/local/share/doc/scorepipe/";

const std::vector<std::pair<std::string, std::vector<InstallRole>>> kRoleNames = {
    {"bridge", {InstallRole::kBridge}},
    {"ventilator", {InstallRole::kVentilator}},
    {"sink", {InstallRole::kSink}},
    {"worker", {InstallRole::kWorker}},
    {"gateway", {InstallRole::kGateway}},
    {"head", {InstallRole::kBridge, InstallRole::kVentilator, InstallRole::kSink}},
    {"all",
     {InstallRole::kBridge, InstallRole::kVentilator, InstallRole::kSink, InstallRole::kWorker,
      InstallRole::kGateway}},
};
constexpr const char* kRoleList = "bridge, ventilator, sink, worker, gateway, head, all";

std::string UnitName(InstallRole role) {
  return role == InstallRole::kWorker ? "scorepipe-worker@.service"
                                      : std::string("scorepipe-") + InstallRoleName(role) + ".service";
}

std::string_view Embedded(std::string_view path) {
  for (const EmbeddedFile& f : kEmbeddedFiles) {
    if (f.path == path) return f.contents;
  }
  return {};
}

std::string ReplaceAll(std::string text, std::string_view from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Writes `contents` to `path` by atomic replace, so that no reader (nor a
// running program) ever sees half of it, nor does the disk after a crash.
// The file gets exactly `mode`, whatever the umask (the nodes run as
// another user). The temporary file beside it has a fixed name: one install
// at a time, and the next one writes over what a crash left.
Status WriteAtomically(const fs::path& path, std::string_view contents, mode_t mode) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) return Status::Error("cannot create " + path.parent_path().string() + ": " + error.message());
  return ReplaceFile(path.string(), contents, FileOptions{.mode = mode, .exact_mode = true},
                     path.filename().string() + ".scorepipe-new");
}

// Installs files under `root`, recording what it wrote.
class Writer {
 public:
  Writer(const std::string& root, InstallReport* report) : root_(root), report_(report) {}

  fs::path Under(const std::string& absolute) const { return root_ / fs::path(absolute).relative_path(); }

  Status Write(const std::string& absolute, std::string_view contents, mode_t mode) {
    if (Status s = WriteAtomically(Under(absolute), contents, mode); !s.ok()) return s;
    report_->written.push_back(absolute);
    return Status::Ok();
  }

 private:
  fs::path root_;
  InstallReport* report_;
};

constexpr mode_t kProgram = 0755;  // rwxr-xr-x
constexpr mode_t kData = 0644;     // rw-r--r--

Status CreateUser(InstallReport* report) {
  if (getpwnam(kUser) != nullptr) return Status::Ok();
  Result<ChildProcess> useradd =
      ChildProcess::Start({"/usr/sbin/useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                           "/var/lib/scorepipe", "--shell", "/usr/sbin/nologin", kUser});
  if (!useradd.ok()) return useradd.status().WithContext("creating the system user " + std::string(kUser));
  useradd->WaitFor(std::chrono::seconds(60));
  if (useradd->exit_code() != 0) {
    return Status::Error("creating the system user " + std::string(kUser) + ": useradd exited with " +
                         std::to_string(useradd->exit_code().value_or(-1)));
  }
  report->user_created = true;
  return Status::Ok();
}

}  // namespace

const char* InstallRoleName(InstallRole role) {
  switch (role) {
    case InstallRole::kBridge:
      return "bridge";
    case InstallRole::kVentilator:
      return "ventilator";
    case InstallRole::kSink:
      return "sink";
    case InstallRole::kWorker:
      return "worker";
    case InstallRole::kGateway:
      return "gateway";
  }
  return "?";
}

bool IsHeadHost(const std::vector<InstallRole>& roles) {
  return std::any_of(roles.begin(), roles.end(), [](InstallRole role) {
    return role != InstallRole::kWorker && role != InstallRole::kGateway;
  });
}

Result<std::vector<InstallRole>> ParseInstallRoles(const std::vector<std::string>& names) {
  std::vector<InstallRole> roles;
  for (const std::string& name : names) {
    auto it =
        std::find_if(kRoleNames.begin(), kRoleNames.end(), [&](const auto& r) { return r.first == name; });
    if (it == kRoleNames.end()) {
      return Status::Error("unknown role '" + name + "'; allowed: " + kRoleList);
    }
    for (InstallRole role : it->second) {
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
    }
  }
  if (roles.empty()) return Status::Error(std::string("no role given; allowed: ") + kRoleList);
  std::sort(roles.begin(), roles.end());
  return roles;
}

namespace {

// The keys whose values are paths, resolved against the topology file's
// folder when relative.
const char* const kPathKeys[] = {"model.path",
                                 "model.features",
                                 "model.registry",
                                 "queue.journal_dir",
                                 "queue.redis.password_file",
                                 "security.secret_key",
                                 "security.server_key",
                                 "security.authorized_keys",
                                 "gateway.tls_cert_file",
                                 "gateway.tls_key_file",
                                 "gateway.tokens_file",
                                 "gateway.admin_tokens_file"};

std::string PathValue(const Topology& t, std::string_view key) {
  if (key == "model.path") return t.model.path;
  if (key == "model.features") return t.model.features;
  if (key == "model.registry") return t.model.registry;
  if (key == "queue.journal_dir") return t.queue.journal_dir;
  if (key == "queue.redis.password_file") return t.queue.redis.password_file;
  if (key == "security.secret_key") return t.security.secret_key;
  if (key == "security.server_key") return t.security.server_key;
  if (key == "gateway.tls_cert_file") return t.gateway.tls_cert_file;
  if (key == "gateway.tls_key_file") return t.gateway.tls_key_file;
  if (key == "gateway.tokens_file") return t.gateway.tokens_file;
  if (key == "gateway.admin_tokens_file") return t.gateway.admin_tokens_file;
  return t.security.authorized_keys;
}

// The operator's own topology text, comments and layout kept, with the
// model files pointing at their installed copies and every path absolute
// (the installed file lives in another folder, and relative paths start at
// the file's folder). Checked by loading it back: it must read as
// `installed` does.
Result<std::string> InstalledTopologyText(const std::string& original_path, const Topology& installed,
                                          const std::string& installed_path) {
  Result<std::string> original = ReadWholeFile(original_path);
  if (!original.ok()) return original.status();
  Result<Topology> reread =
      LoadTopologyString(original.value(), original_path, fs::absolute(original_path).parent_path().string());
  if (!reread.ok()) return reread.status();
  std::map<std::string, std::string> values;
  for (const char* key : kPathKeys) {
    if (!reread->spots.contains(key)) continue;
    values[key] = PathValue(installed, key);  // absolute: the loader resolved it
  }
  Result<std::string> text = RewriteTopologyValues(original.value(), reread.value(), values);
  if (!text.ok()) return text.status();
  const std::string header = "# Installed by `scorepipe install` from " +
                             fs::absolute(original_path).string() +
                             " (model paths point at the installed copies; relative paths made absolute)\n";
  const std::string result = header + text.value();
  Result<Topology> check =
      LoadTopologyString(result, installed_path, fs::path(installed_path).parent_path().string());
  if (!check.ok()) return check.status().WithContext("the rewritten topology does not load");
  if (TopologyToYaml(check.value()) != TopologyToYaml(installed)) {
    return Status::Error("the rewritten topology does not read as the one being installed");
  }
  return result;
}

// What an install writes, read and checked in full before the first write,
// so that a refused install writes nothing.
struct PlannedFile {
  std::string absolute;
  std::string contents;
  mode_t mode;
};

}  // namespace

Result<InstallReport> Install(const InstallOptions& options) {
  if (options.roles.empty()) return Status::Error("install: no role given");
  for (const std::string* path : {&options.root, &options.prefix}) {
    if (!fs::path(*path).is_absolute())
      return Status::Error("install: '" + *path + "' is not an absolute path");
  }
  // A topology that does not load is refused before anything is written.
  Result<Topology> loaded = LoadTopologyFile(options.config_path);
  if (!loaded.ok()) return loaded.status().WithContext("install");
  Topology topology = loaded.value();

  InstallReport report;
  Writer writer(options.root, &report);
  const std::string bin = (fs::path(options.prefix) / "bin").string();
  std::vector<PlannedFile> plan;
  auto plan_copy = [&](const std::string& from, const std::string& to, mode_t mode) -> Status {
    Result<std::string> contents = ReadWholeFile(from);
    if (!contents.ok()) return contents.status();
    plan.push_back({to, std::move(contents.value()), mode});
    return Status::Ok();
  };

  // Programs.
  std::vector<std::string> programs = {"scorepipe"};
  for (InstallRole role : options.roles)
    programs.push_back(std::string("scorepipe-") + InstallRoleName(role));
  for (const std::string& program : programs) {
    const fs::path built = fs::path(options.bin_dir) / program;
    if (!fs::exists(built)) return Status::Error("install: " + built.string() + " is missing: build first");
    if (Status s = plan_copy(built.string(), bin + "/" + program, kProgram); !s.ok())
      return s.WithContext("install");
  }

  // Model files, and the topology pointing at them. A registry model stays
  // where the registry is: every host reads it there (shared or synced).
  const std::string model_dir =
      std::string(kConfigDir) + "/models/" + fs::path(topology.model.path).parent_path().filename().string();
  for (std::string* file : {&topology.model.path, &topology.model.features}) {
    if (!topology.model.registry.empty()) break;
    const std::string installed = model_dir + "/" + fs::path(*file).filename().string();
    if (Status s = plan_copy(*file, installed, kData); !s.ok()) {
      const char* key = file == &topology.model.path ? "model.path" : "model.features";
      return s.WithContext("install: " + KeyPlace(loaded.value(), key));
    }
    *file = installed;
  }
  const std::string config_file = std::string(kConfigDir) + "/topology.yaml";
  Result<std::string> config_text =
      InstalledTopologyText(options.config_path, topology, writer.Under(config_file).string());
  if (!config_text.ok()) return config_text.status().WithContext("install: " + options.config_path);
  if (fs::exists(writer.Under(config_file))) {
    Result<std::string> present = ReadWholeFile(writer.Under(config_file).string());
    if (!present.ok()) return present.status().WithContext("install");
    if (present.value() != config_text.value() && !options.force) {
      return Status::Error(
          "install: " + writer.Under(config_file).string() +
          " exists and differs from the one being installed; --force replaces it (the old one "
          "is kept as topology.yaml.old)");
    }
    if (present.value() != config_text.value())
      plan.push_back({config_file + ".old", present.value(), kData});
  }
  plan.push_back({config_file, config_text.value(), kData});

  // Units, the drop-in they share, the target, and the README and docs they
  // link to.
  const std::string doc_dir = (fs::path(options.prefix) / "share/doc/scorepipe").string() + "/";
  auto unit_text = [&](std::string_view shipped) {
    return ReplaceAll(ReplaceAll(std::string(shipped), kShippedBinDir, bin + "/"), kShippedDocDir, doc_dir);
  };
  std::vector<std::string> units;
  for (InstallRole role : options.roles) units.push_back(UnitName(role));
  units.push_back("scorepipe-.service.d/10-scorepipe.conf");
  units.push_back("scorepipe.target");
  for (const std::string& unit : units) {
    const std::string_view shipped = Embedded("systemd/" + unit);
    if (shipped.empty())
      return Status::Error("install: systemd/" + unit + " was not built into this program");
    plan.push_back({std::string(kUnitDir) + "/" + unit, unit_text(shipped), kData});
  }
  for (const EmbeddedFile& f : kEmbeddedFiles) {
    if (f.path == "README.md" || f.path.starts_with("docs/")) {
      plan.push_back({doc_dir + std::string(f.path), std::string(f.contents), kData});
    }
  }
  plan.push_back({kSysusersFile, std::string(Embedded("systemd/sysusers.d/scorepipe.conf")), kData});

  for (const PlannedFile& file : plan) {
    if (Status s = writer.Write(file.absolute, file.contents, file.mode); !s.ok())
      return s.WithContext("install");
  }

  const bool system_root = fs::equivalent(options.root, "/");
  if (options.create_user && system_root) {
    if (Status s = CreateUser(&report); !s.ok()) return s.WithContext("install");
  }
  if (topology.security.mode == SecurityMode::kCurve) {
    const bool head = IsHeadHost(options.roles);
    if (system_root) {
      // This host's keys now, so that the next steps can name its public key;
      // they must belong to the nodes' user, or no node could read them.
      Result<HostKeysReport> keys = SetUpHostKeys(topology.security, head, kUser);
      if (!keys.ok()) return keys.status().WithContext("install: keys");
      report.written.insert(report.written.end(), keys->written.begin(), keys->written.end());
      report.next_steps.insert(report.next_steps.end(), keys->next_steps.begin(), keys->next_steps.end());
    } else {
      // A staged root may become many hosts: a key in it would be shared by
      // all of them, and owned by whoever staged it. Each host makes its own.
      report.next_steps.push_back(
          "no keys staged: each host makes its own pair at " + topology.security.secret_key +
          " at the first start of a scorepipe unit (or run `" + bin + "/scorepipe keys --role " +
          (head ? "head" : InstallRoleName(options.roles.front())) + " --owner " + kUser +
          "` there as root), then prints what to copy");
    }
  }

  report.next_steps.push_back("systemctl daemon-reload");
  std::string enable = "systemctl enable --now scorepipe.target";
  for (InstallRole role : options.roles) {
    if (role != InstallRole::kWorker && role != InstallRole::kGateway)
      enable += std::string(" scorepipe-") + InstallRoleName(role) + ".service";
  }
  report.next_steps.push_back(enable);
  const auto runs = [&](InstallRole role) {
    return std::find(options.roles.begin(), options.roles.end(), role) != options.roles.end();
  };
  if (runs(InstallRole::kWorker)) {
    report.next_steps.push_back("systemctl enable --now scorepipe-worker@{1.." +
                                std::to_string(topology.workers.count) +
                                "}.service   # one per worker (workers.count)");
  }
  if (runs(InstallRole::kGateway)) {
    report.next_steps.push_back(
        "systemctl enable --now scorepipe-gateway.service   # HTTP on gateway.port; first `scorepipe check "
        "--role gateway -c " +
        config_file + "` (its TLS and token files)");
  }
  return report;
}

namespace {

// Gives `path` to `user` unless it is already theirs.
Status GiveTo(const std::string& path, const struct passwd& user) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return Status::Error("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (info.st_uid == user.pw_uid && info.st_gid == user.pw_gid) return Status::Ok();
  if (::chown(path.c_str(), user.pw_uid, user.pw_gid) != 0) {
    return Status::Error("cannot give " + path + " to the user " + user.pw_name + ": " +
                         std::strerror(errno) + " (run this as root, or as " + user.pw_name +
                         " without an owner)");
  }
  return Status::Ok();
}

}  // namespace

Result<HostKeysReport> SetUpHostKeys(const SecurityConfig& security, bool head, const std::string& owner) {
  HostKeysReport report;
  if (security.mode != SecurityMode::kCurve) return report;
  const struct passwd* found = nullptr;
  struct passwd user {};
  std::string user_name;
  if (!owner.empty()) {
    found = getpwnam(owner.c_str());
    if (found == nullptr) {
      return Status::Error("the user " + owner + " who must own " + security.secret_key +
                           " does not exist (`scorepipe install` creates " + kUser + ")");
    }
    user = *found;
    user_name = owner;  // getpwnam's buffer is overwritten by the next lookup
    user.pw_name = user_name.data();
  }

  const std::string& secret = security.secret_key;
  const std::string public_key = PublicKeyPathOf(secret);
  const fs::path folder = fs::path(secret).parent_path();
  std::error_code error;
  if (!fs::is_directory(folder)) {
    fs::create_directories(folder, error);
    if (error) return Status::Error("cannot create " + folder.string() + ": " + error.message());
    report.written.push_back(folder.string() + "/");
  }
  Result<FileLock> lock = FileLock::Take(folder.string());
  if (!lock.ok()) return lock.status();

  if (!fs::exists(secret)) {
    if (!secret.ends_with(kSecretKeySuffix)) {
      return Status::Error(
          "security.secret_key " + secret +
          " does not exist and does not end in .key_secret, so no key pair can be made for it; "
          "name it <name>.key_secret, or make it with `scorepipe keygen`");
    }
    Result<CurveKeyPair> pair = NewCurveKeyPair();
    if (!pair.ok()) return pair.status();
    if (Status s = WriteKeyPair(secret.substr(0, secret.size() - kSecretKeySuffix.size()), pair.value());
        !s.ok()) {
      return s.WithContext("security.secret_key");
    }
    if (found != nullptr) {
      for (const std::string& path : {secret, public_key}) {
        if (Status s = GiveTo(path, user); !s.ok()) {
          // Never used: the next attempt makes a new pair rather than keep one
          // that the nodes cannot read.
          fs::remove(secret, error);
          fs::remove(public_key, error);
          return s;
        }
      }
    }
    report.written.push_back(secret);
    report.written.push_back(public_key);
  } else if (found != nullptr) {
    for (const std::string& path : {secret, public_key}) {
      if (!fs::exists(path)) continue;
      if (Status s = GiveTo(path, user); !s.ok()) return s;
    }
  }
  Result<CurveKeyPair> own = ReadKeyPair(secret);
  if (!own.ok()) return own.status().WithContext("security.secret_key");
  report.public_key = own->public_key;

  if (head) {
    if (!fs::exists(security.server_key)) {
      if (Status s = WriteAtomically(security.server_key, own->public_key + "\n", kData); !s.ok()) return s;
      report.written.push_back(security.server_key);
    }
    if (!fs::is_directory(security.authorized_keys)) {
      fs::create_directories(security.authorized_keys, error);
      if (error) return Status::Error("cannot create " + security.authorized_keys + ": " + error.message());
      report.written.push_back(security.authorized_keys + "/");
    }
    report.next_steps.push_back("copy " + security.server_key + " (this head's public key " +
                                own->public_key + ") to " + security.server_key +
                                " on every worker and gateway host");
    report.next_steps.push_back(
        "authorize each worker and gateway host here: copy its public key (its install or "
        "`scorepipe keys` prints it) to " +
        security.authorized_keys + "/<host>.key; until then the head refuses it");
    return report;  // a head's own key is always let in
  }
  if (!fs::exists(security.server_key)) {
    report.next_steps.push_back("copy the head's public key to " + security.server_key);
  }
  report.next_steps.push_back("authorize this host on the head: copy " + public_key + " to " +
                              security.authorized_keys + "/" + HostName() + ".key there (public key " +
                              own->public_key + ")");
  return report;
}

Command AddInstallCommand(CLI::App& app) {
  struct State {
    InstallOptions options;
    std::vector<std::string> roles;
    bool no_user = false;
  };
  auto state = std::make_shared<State>();
  CLI::App* install = app.add_subcommand("install",
                                         "put this host's part of a cluster in place for systemd: programs, "
                                         "units, topology, models, user, keys");
  install
      ->add_option("--role", state->roles,
                   "what this host runs: bridge, ventilator, sink, worker, gateway, head, all (every role)")
      ->required()
      ->delimiter(',');
  install->add_option("-c,--config", state->options.config_path, "the cluster's topology YAML")
      ->required()
      ->check(CLI::ExistingFile);
  install->add_option("--prefix", state->options.prefix, "programs go to PREFIX/bin")->capture_default_str();
  install->add_option("--root", state->options.root, "stage everything under this folder (like DESTDIR)")
      ->capture_default_str();
  install->add_flag("--force", state->options.force,
                    "replace an installed topology that differs (kept as .old)");
  install->add_flag("--no-user", state->no_user, "do not create the `scorepipe` system user");
  install->footer(
      "Writes (under --root):\n"
      "  PREFIX/bin/scorepipe and scorepipe-<role> for each role\n"
      "  /etc/systemd/system/scorepipe-<role>.service (the worker as scorepipe-worker@.service),\n"
      "    scorepipe-.service.d/10-scorepipe.conf (what every node unit shares: Type=notify,\n"
      "    WatchdogSec, Restart=always, hardening) and scorepipe.target\n"
      "  /etc/scorepipe/topology.yaml (validated first): your file as you wrote it, comments\n"
      "    included, with the model paths pointing at /etc/scorepipe/models/<model folder>/ and\n"
      "    every other path made absolute: the keys, the password file and the gateway's TLS\n"
      "    and token files stay where it names them (put them there, readable by `scorepipe`)\n"
      "  PREFIX/share/doc/scorepipe/README.md and the docs/ it links to\n"
      "  /usr/lib/sysusers.d/scorepipe.conf (declares the system user `scorepipe`)\n"
      "When --root is / it also creates the user and, for security.mode curve, this host's key\n"
      "pair (`scorepipe keys`), given to `scorepipe`: a chown that fails is an error. A staged\n"
      "root (--root DIR, for a package or an image) holds no user and no key: each host gets\n"
      "the user from sysusers.d at boot and makes its own keys at the first start of a node\n"
      "unit. Then it prints the systemctl commands that start the roles. Run it again to\n"
      "upgrade: programs and units are replaced atomically, keys are kept. Everything is read\n"
      "and checked before the first file is written: a refused install writes nothing. Exit\n"
      "code: 0 installed, 1 refused or a file could not be written, 2 bad usage or a topology\n"
      "that does not load.");
  return {install, [state] {
            InstallOptions& options = state->options;
            auto roles = ParseInstallRoles(state->roles);
            if (!roles.ok()) {
              std::fprintf(stderr, "scorepipe install: %s\n", roles.status().message().c_str());
              return 2;
            }
            options.roles = roles.value();
            options.bin_dir = BinDir();
            options.create_user = !state->no_user;
            if (auto topology = LoadTopologyFile(options.config_path); !topology.ok()) {
              std::fprintf(stderr, "scorepipe install: %s\n", topology.status().message().c_str());
              return 2;
            }
            auto report = Install(options);
            if (!report.ok()) {
              std::fprintf(stderr, "scorepipe install: %s\n", report.status().message().c_str());
              return 1;
            }
            std::printf("installed under %s:\n", options.root.c_str());
            for (const std::string& file : report->written) std::printf("  %s\n", file.c_str());
            if (report->user_created) std::printf("created the system user scorepipe\n");
            std::printf("next:\n");
            for (const std::string& step : report->next_steps) std::printf("  %s\n", step.c_str());
            return 0;
          }};
}

}  // namespace scorepipe
