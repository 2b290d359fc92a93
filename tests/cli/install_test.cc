// `scorepipe install` into a staging root: what a host gets for its roles,
// that the installed units pass `systemd-analyze verify` (with the host's
// own systemd units beside them), that a staged root holds no key, and that
// it refuses what it should. `scorepipe keys`, the step with which each host
// makes its own keys, run as the units run it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/install_command.h"
#include "config/topology.h"
#include "local_cluster/child_process.h"
#include "runtime/curve.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using testing::ClusterHarness;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/scorepipe-install-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    options_.config_path = ClusterHarness::SourceDir() + "/config/local.yaml";
    options_.root = root_.string();
    options_.bin_dir = ClusterHarness::BinDir();
    options_.create_user = false;
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<InstallReport> InstallRoles(const std::vector<std::string>& names) {
    Result<std::vector<InstallRole>> roles = ParseInstallRoles(names);
    if (!roles.ok()) return roles.status();
    options_.roles = roles.value();
    return Install(options_);
  }

  fs::path Under(const std::string& absolute) const { return root_ / fs::path(absolute).relative_path(); }

  // systemd-analyze verify on `units` of the staging root, with the host's
  // systemd units linked in (sysinit.target and friends); returns its exit
  // code, its output in `output`.
  int Verify(const std::vector<std::string>& units, std::string* output) {
    fs::create_directories(root_ / "usr/lib/systemd");
    std::error_code ignored;
    fs::create_directory_symlink("/lib/systemd/system", root_ / "usr/lib/systemd/system", ignored);
    std::vector<std::string> argv = {"/usr/bin/systemd-analyze", "verify", "--root=" + root_.string()};
    argv.insert(argv.end(), units.begin(), units.end());
    const std::string log = (root_ / "verify.log").string();
    fs::remove(log, ignored);
    Result<ChildProcess> verify = ChildProcess::Start(argv, log);
    if (!verify.ok()) {
      *output = verify.status().message();
      return -1;
    }
    verify->WaitFor(std::chrono::seconds(60));
    *output = Read(log);
    return verify->exit_code().value_or(-1);
  }

  fs::path root_;
  InstallOptions options_;
};

TEST_F(InstallTest, AHeadAndWorkerHostGetsProgramsUnitsTopologyAndModels) {
  Result<InstallReport> report = InstallRoles({"head", "worker"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  for (const char* program :
       {"scorepipe", "scorepipe-bridge", "scorepipe-ventilator", "scorepipe-sink", "scorepipe-worker"}) {
    const fs::path path = Under(std::string("/usr/local/bin/") + program);
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, static_cast<fs::perms>(0755)) << path;
  }
  for (const char* unit :
       {"scorepipe-bridge.service", "scorepipe-ventilator.service", "scorepipe-sink.service",
        "scorepipe-worker@.service", "scorepipe.target", "scorepipe-.service.d/10-scorepipe.conf"}) {
    EXPECT_TRUE(fs::exists(Under(std::string("/etc/systemd/system/") + unit))) << unit;
  }
  const std::string dropin = Read(Under("/etc/systemd/system/scorepipe-.service.d/10-scorepipe.conf"));
  for (const char* setting : {"Type=notify", "WatchdogSec=", "Restart=always", "ProtectSystem=strict",
                              "NoNewPrivileges=yes", "PrivateTmp=yes", "LimitNOFILE=", "User=scorepipe"}) {
    EXPECT_NE(dropin.find(setting), std::string::npos) << setting;
  }

  // The installed topology loads, and points at the installed model files.
  Result<Topology> installed = LoadTopologyFile(Under("/etc/scorepipe/topology.yaml").string());
  ASSERT_TRUE(installed.ok()) << installed.status().message();
  EXPECT_EQ(installed->model.path, "/etc/scorepipe/models/demo/model.json");
  EXPECT_EQ(installed->model.features, "/etc/scorepipe/models/demo/features.yaml");
  EXPECT_EQ(Read(Under(installed->model.path)),
            Read(ClusterHarness::SourceDir() + "/models/demo/model.json"));
  EXPECT_TRUE(fs::exists(Under(installed->model.features)));

  ASSERT_EQ(report->next_steps.size(), 3u);
  EXPECT_EQ(report->next_steps[0], "systemctl daemon-reload");
  EXPECT_NE(report->next_steps[2].find("scorepipe-worker@{1..2}"), std::string::npos)
      << report->next_steps[2];
}

TEST_F(InstallTest, ARegistryModelStaysInItsRegistry) {
  const fs::path config = root_ / "registry-topology.yaml";
  std::ofstream(config)
      << "model: {registry: /var/lib/scorepipe/models, name: fraud}\nsecurity: {mode: none}\n";
  options_.config_path = config.string();
  Result<InstallReport> report = InstallRoles({"worker"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  Result<Topology> installed = LoadTopologyFile(Under("/etc/scorepipe/topology.yaml").string());
  ASSERT_TRUE(installed.ok()) << installed.status().message();
  EXPECT_EQ(installed->model.registry, "/var/lib/scorepipe/models");
  EXPECT_EQ(installed->model.name, "fraud");
  EXPECT_EQ(installed->model.path, "");
  EXPECT_FALSE(fs::exists(Under("/etc/scorepipe/models")));
}

TEST_F(InstallTest, TheInstalledUnitsPassSystemdAnalyzeVerify) {
  Result<InstallReport> report = InstallRoles({"all"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  std::string output;
  EXPECT_EQ(Verify({"scorepipe-bridge.service", "scorepipe-ventilator.service", "scorepipe-sink.service",
                    "scorepipe-worker@1.service", "scorepipe-worker@7.service", "scorepipe-gateway.service",
                    "scorepipe.target"},
                   &output),
            0)
      << output;
  EXPECT_EQ(output, "") << "warnings count as failures";

  // The check can fail: a unit naming a program that is not there, and an
  // unknown key in the shared drop-in.
  fs::remove(Under("/usr/local/bin/scorepipe-sink"));
  EXPECT_NE(Verify({"scorepipe-sink.service"}, &output), 0) << output;
  std::ofstream(Under("/etc/systemd/system/scorepipe-.service.d/10-scorepipe.conf"), std::ios::app)
      << "Bogus=1\n";
  Verify({"scorepipe-bridge.service"}, &output);
  EXPECT_NE(output.find("Bogus"), std::string::npos) << output;
}

TEST_F(InstallTest, AWorkerHostGetsNoHeadRoles) {
  options_.prefix = "/opt/scorepipe";
  Result<InstallReport> report = InstallRoles({"worker"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(fs::exists(Under("/opt/scorepipe/bin/scorepipe-worker")));
  EXPECT_FALSE(fs::exists(Under("/opt/scorepipe/bin/scorepipe-bridge")));
  EXPECT_FALSE(fs::exists(Under("/etc/systemd/system/scorepipe-bridge.service")));
  const std::string unit = Read(Under("/etc/systemd/system/scorepipe-worker@.service"));
  EXPECT_NE(unit.find("ExecStart=/opt/scorepipe/bin/scorepipe-worker "), std::string::npos) << unit;
  std::string output;
  EXPECT_EQ(Verify({"scorepipe-worker@1.service"}, &output), 0) << output;
}

// A gateway host is a client of the head, as a worker host is: its program
// and unit only, its TLS and token files named by absolute paths where the
// operator put them (not copied), and a next step that enables it.
TEST_F(InstallTest, AGatewayHostGetsItsProgramAndUnitAndNoHeadRoles) {
  const fs::path config = root_ / "mine" / "cluster.yaml";
  fs::create_directories(config.parent_path());
  std::ofstream(config) << "model: {path: " << ClusterHarness::SourceDir()
                        << "/models/demo/model.json, features: " << ClusterHarness::SourceDir()
                        << "/models/demo/features.yaml}\n"
                           "security: {mode: none}\n"
                           "gateway: {security: tls, tls_cert_file: tls/gw.crt, tls_key_file: tls/gw.pem, "
                           "tokens_file: tls/tokens}\n";
  options_.config_path = config.string();
  Result<InstallReport> report = InstallRoles({"gateway"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(fs::exists(Under("/usr/local/bin/scorepipe-gateway")));
  EXPECT_TRUE(fs::exists(Under("/usr/local/bin/scorepipe")));
  for (const char* other : {"bridge", "ventilator", "sink", "worker"}) {
    EXPECT_FALSE(fs::exists(Under(std::string("/usr/local/bin/scorepipe-") + other))) << other;
  }
  EXPECT_FALSE(fs::exists(Under("/etc/systemd/system/scorepipe-worker@.service")));
  const std::string unit = Read(Under("/etc/systemd/system/scorepipe-gateway.service"));
  EXPECT_NE(unit.find("ExecStart=/usr/local/bin/scorepipe-gateway -c /etc/scorepipe/topology.yaml\n"),
            std::string::npos)
      << unit;
  EXPECT_NE(unit.find("\nLimitNOFILE=262144\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("WantedBy=scorepipe.target"), std::string::npos) << unit;

  Result<Topology> installed = LoadTopologyFile(Under("/etc/scorepipe/topology.yaml").string());
  ASSERT_TRUE(installed.ok()) << installed.status().message();
  EXPECT_EQ(installed->gateway.tls_cert_file, (root_ / "mine/tls/gw.crt").string());
  EXPECT_EQ(installed->gateway.tls_key_file, (root_ / "mine/tls/gw.pem").string());
  EXPECT_EQ(installed->gateway.tokens_file, (root_ / "mine/tls/tokens").string());

  std::string steps;
  for (const std::string& step : report->next_steps) steps += step + "\n";
  EXPECT_NE(steps.find("systemctl enable --now scorepipe-gateway.service"), std::string::npos) << steps;
  EXPECT_NE(steps.find("scorepipe check --role gateway"), std::string::npos) << steps;
  EXPECT_EQ(steps.find("scorepipe-bridge"), std::string::npos) << steps;
  std::string output;
  EXPECT_EQ(Verify({"scorepipe-gateway.service"}, &output), 0) << output;
  EXPECT_EQ(output, "") << "warnings count as failures";
}

// Staged with CURVE, a gateway host is told to make a client's keys.
TEST_F(InstallTest, AStagedGatewayHostMakesAClientsKeys) {
  options_.config_path = ClusterHarness::SourceDir() + "/config/cluster.example.yaml";
  Result<InstallReport> report = InstallRoles({"gateway"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  std::string steps;
  for (const std::string& step : report->next_steps) steps += step + "\n";
  EXPECT_NE(steps.find("scorepipe keys --role gateway --owner scorepipe"), std::string::npos) << steps;
}

TEST_F(InstallTest, ADifferentInstalledTopologyIsReplacedOnlyWithForce) {
  ASSERT_TRUE(InstallRoles({"worker"}).ok());
  ASSERT_TRUE(InstallRoles({"worker"}).ok()) << "the same topology again: an upgrade";
  const fs::path installed = Under("/etc/scorepipe/topology.yaml");
  const std::string first = Read(installed);
  options_.config_path = ClusterHarness::SourceDir() + "/config/cluster.example.yaml";
  Result<InstallReport> refused = InstallRoles({"worker"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos) << refused.status().message();
  EXPECT_EQ(Read(installed), first);
  options_.force = true;
  ASSERT_TRUE(InstallRoles({"worker"}).ok());
  EXPECT_NE(Read(installed), first);
  EXPECT_EQ(Read(Under("/etc/scorepipe/topology.yaml.old")), first);
}

TEST_F(InstallTest, ATopologyThatDoesNotLoadWritesNothing) {
  const fs::path bad = root_ / "bad.yaml";
  std::ofstream(bad) << "queue:\n  kind: carrier-pigeon\n";
  options_.config_path = bad.string();
  Result<InstallReport> refused = InstallRoles({"head"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("queue.kind"), std::string::npos) << refused.status().message();
  EXPECT_FALSE(fs::exists(Under("/usr/local/bin/scorepipe")));
  EXPECT_FALSE(fs::exists(Under("/etc")));
}

// The installed topology is the operator's file, comments and layout kept:
// only the paths change (the model files to their installed copies, every
// path absolute), and it reads as the topology being installed.
TEST_F(InstallTest, TheInstalledTopologyKeepsTheOperatorsText) {
  const fs::path config = root_ / "mine" / "cluster.yaml";
  fs::create_directories(config.parent_path());
  fs::copy_file(ClusterHarness::SourceDir() + "/models/demo/model.json", root_ / "mine" / "model.json");
  fs::copy_file(ClusterHarness::SourceDir() + "/models/demo/features.yaml", root_ / "mine" / "features.yaml");
  std::ofstream(config) << "# our fraud cluster, v7\n"
                           "queue:\n"
                           "  kind: redis-list   # the upstream pushes here\n"
                           "  input: 'tx-in'\n"
                           "model: {path: model.json, features: \"features.yaml\", version: v7}  # mine\n"
                           "security:\n"
                           "  mode: none\n";
  options_.config_path = config.string();
  Result<InstallReport> report = InstallRoles({"worker"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  const std::string text = Read(Under("/etc/scorepipe/topology.yaml"));
  EXPECT_EQ(text, "# Installed by `scorepipe install` from " + config.string() +
                      " (model paths point at the installed copies; relative paths made absolute)\n"
                      "# our fraud cluster, v7\n"
                      "queue:\n"
                      "  kind: redis-list   # the upstream pushes here\n"
                      "  input: 'tx-in'\n"
                      "model: {path: /etc/scorepipe/models/mine/model.json, features: "
                      "/etc/scorepipe/models/mine/features.yaml, version: v7}  # mine\n"
                      "security:\n"
                      "  mode: none\n");
  Result<Topology> installed = LoadTopologyFile(Under("/etc/scorepipe/topology.yaml").string());
  ASSERT_TRUE(installed.ok()) << installed.status().message();
  EXPECT_EQ(installed->queue.input, "tx-in");
  EXPECT_EQ(installed->model.version, "v7");
  EXPECT_EQ(installed->model.name, "mine");

  // The shipped example, full of comments, keeps every one of them.
  options_.config_path = ClusterHarness::SourceDir() + "/config/local.yaml";
  options_.force = true;
  report = InstallRoles({"worker"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  const std::string local = Read(options_.config_path);
  const std::string again = Read(Under("/etc/scorepipe/topology.yaml"));
  std::istringstream lines(local);
  for (std::string line; std::getline(lines, line);) {
    const size_t comment = line.find("  # ");
    if (line.rfind("#", 0) == 0 || comment != std::string::npos) {
      const std::string part = line.rfind("#", 0) == 0 ? line : line.substr(comment);
      EXPECT_NE(again.find(part), std::string::npos) << part;
    }
  }
  EXPECT_NE(again.find("path: /etc/scorepipe/models/demo/model.json"), std::string::npos) << again;
}

// Everything is read and checked first: a refusal at any step leaves the
// root as it was.
TEST_F(InstallTest, ARefusedInstallWritesNothing) {
  const fs::path config = root_ / "topology.yaml";
  std::ofstream(config) << "model: {path: " << (root_ / "gone.json").string()
                        << ", features: " << ClusterHarness::SourceDir()
                        << "/models/demo/features.yaml}\nsecurity: {mode: none}\n";
  options_.config_path = config.string();
  Result<InstallReport> refused = InstallRoles({"all"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("model.path"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("gone.json"), std::string::npos) << refused.status().message();
  EXPECT_FALSE(fs::exists(Under("/usr"))) << "no program was written";
  EXPECT_FALSE(fs::exists(Under("/etc")));

  // A differing topology without --force: not even the programs of the
  // other prefix are written.
  options_.config_path = ClusterHarness::SourceDir() + "/config/local.yaml";
  ASSERT_TRUE(InstallRoles({"worker"}).ok());
  options_.config_path = ClusterHarness::SourceDir() + "/config/cluster.example.yaml";
  options_.prefix = "/opt/other";
  ASSERT_FALSE(InstallRoles({"worker"}).ok());
  EXPECT_FALSE(fs::exists(Under("/opt/other")));
}

TEST_F(InstallTest, TheDocsTheReadmeLinksToAreInstalledBesideIt) {
  ASSERT_TRUE(InstallRoles({"worker"}).ok());
  const std::string readme = Read(Under("/usr/local/share/doc/scorepipe/README.md"));
  for (const char* doc : {"architecture", "configuration", "gateway", "models", "operations"}) {
    const std::string path = std::string("docs/") + doc + ".md";
    EXPECT_NE(readme.find(path), std::string::npos) << "the README links to " << path;
    EXPECT_EQ(Read(Under("/usr/local/share/doc/scorepipe/" + path)),
              Read(ClusterHarness::SourceDir() + "/" + path))
        << path;
  }
}

TEST(ParseInstallRolesTest, GroupsExpandOnceAndUnknownNamesAreRefused) {
  Result<std::vector<InstallRole>> roles = ParseInstallRoles({"worker", "head", "sink"});
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(roles.value(), (std::vector<InstallRole>{InstallRole::kBridge, InstallRole::kVentilator,
                                                     InstallRole::kSink, InstallRole::kWorker}));
  Result<std::vector<InstallRole>> unknown = ParseInstallRoles({"broker"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'broker'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("gateway"), std::string::npos) << unknown.status().message();
  EXPECT_FALSE(ParseInstallRoles({}).ok());
}

// `all` is every role one host can run, the gateway included; `head` is the
// three servers of the links, so not the gateway, which connects to them.
TEST(ParseInstallRolesTest, AllHoldsTheGatewayAndHeadDoesNot) {
  Result<std::vector<InstallRole>> all = ParseInstallRoles({"all"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value(),
            (std::vector<InstallRole>{InstallRole::kBridge, InstallRole::kVentilator, InstallRole::kSink,
                                      InstallRole::kWorker, InstallRole::kGateway}));
  Result<std::vector<InstallRole>> head = ParseInstallRoles({"head"});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(std::count(head->begin(), head->end(), InstallRole::kGateway), 0);
  EXPECT_EQ(ParseInstallRoles({"gateway"}).value(), std::vector<InstallRole>{InstallRole::kGateway});
  EXPECT_STREQ(InstallRoleName(InstallRole::kGateway), "gateway");
}

TEST(IsHeadHostTest, OnlyTheServersOfTheLinksMakeAHead) {
  EXPECT_FALSE(IsHeadHost({InstallRole::kWorker}));
  EXPECT_FALSE(IsHeadHost({InstallRole::kGateway}));
  EXPECT_FALSE(IsHeadHost({InstallRole::kWorker, InstallRole::kGateway}));
  EXPECT_TRUE(IsHeadHost({InstallRole::kSink, InstallRole::kGateway}));
  EXPECT_TRUE(IsHeadHost({InstallRole::kVentilator}));
}

TEST(InstallCommandTest, PrintsWhatItWroteAndWhatToRunNext) {
  char dir[] = "/tmp/scorepipe-install-cmd-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string log = std::string(dir) + "/out.log";
  Result<ChildProcess> run = ChildProcess::Start(
      {ClusterHarness::BinDir() + "/scorepipe", "install", "--role", "worker", "-c",
       ClusterHarness::SourceDir() + "/config/local.yaml", "--root", std::string(dir) + "/root", "--no-user"},
      log);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->WaitFor(std::chrono::seconds(60)));
  const std::string out = Read(log);
  EXPECT_EQ(run->exit_code(), 0) << out;
  EXPECT_NE(out.find("/usr/local/bin/scorepipe-worker"), std::string::npos) << out;
  EXPECT_NE(out.find("systemctl daemon-reload"), std::string::npos) << out;

  Result<ChildProcess> bad =
      ChildProcess::Start({ClusterHarness::BinDir() + "/scorepipe", "install", "--role", "worker", "-c",
                           "/etc/hostname", "--root", std::string(dir) + "/root2"},
                          log);
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->WaitFor(std::chrono::seconds(60)));
  EXPECT_EQ(bad->exit_code(), 2) << Read(log);
  fs::remove_all(dir);
}

// A staged root (config/cluster.example.yaml, security.mode curve) may
// become many hosts: it holds no key at all, only what lets each host make
// its own (the units' first-start step) and the sysusers.d file that gives
// it the `scorepipe` user, which systemd-sysusers applies.
TEST_F(InstallTest, AStagedRootHoldsNoKeyAndDeclaresTheUser) {
  options_.config_path = ClusterHarness::SourceDir() + "/config/cluster.example.yaml";
  Result<InstallReport> report = InstallRoles({"all"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root_)) {
    const std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.ends_with(".key") || name.ends_with(".key_secret")) << entry.path();
  }
  EXPECT_FALSE(fs::exists(Under("/etc/scorepipe/keys")));
  std::string steps;
  for (const std::string& step : report->next_steps) steps += step + "\n";
  EXPECT_NE(steps.find("no keys staged"), std::string::npos) << steps;
  EXPECT_NE(steps.find("scorepipe keys --role head --owner scorepipe"), std::string::npos) << steps;

  const fs::path sysusers = Under("/usr/lib/sysusers.d/scorepipe.conf");
  ASSERT_TRUE(fs::exists(sysusers));
  const std::string log = (root_ / "sysusers.log").string();
  std::string out;
  ASSERT_EQ(testing::RunCommand({"/usr/bin/systemd-sysusers", "--root=" + root_.string()}, log, &out), 0)
      << out;
  EXPECT_EQ(out.find("scorepipe.conf:"), std::string::npos) << "sysusers found fault with a line: " << out;
  const std::string passwd = Read(Under("/etc/passwd"));
  const size_t line = passwd.find("scorepipe:x:");
  ASSERT_NE(line, std::string::npos) << passwd;
  const std::string entry = passwd.substr(line, passwd.find('\n', line) - line);
  EXPECT_TRUE(entry.ends_with(":/var/lib/scorepipe:/usr/sbin/nologin")) << entry;
  EXPECT_LT(std::stoi(entry.substr(std::string("scorepipe:x:").size())), 1000) << "a system user: " << entry;
  EXPECT_NE(Read(Under("/etc/group")).find("scorepipe:x:"), std::string::npos);
}

TEST_F(InstallTest, EachNodeUnitMakesTheHostsKeysBeforeItStarts) {
  options_.prefix = "/opt/scorepipe";
  ASSERT_TRUE(InstallRoles({"all"}).ok());
  for (const char* role : {"bridge", "ventilator", "sink", "worker", "gateway"}) {
    const std::string unit = Read(Under(std::string("/etc/systemd/system/scorepipe-") + role +
                                        (std::string(role) == "worker" ? "@" : "") + ".service"));
    const std::string step = std::string("ExecStartPre=+/opt/scorepipe/bin/scorepipe keys --role ") + role +
                             " --owner scorepipe -c /etc/scorepipe/topology.yaml\n";
    EXPECT_NE(unit.find(step), std::string::npos) << unit;
  }
}

// The first-start step (`scorepipe keys`, as the units run it) on a test
// host: its key folder in a temporary folder, named by a topology there.
class HostKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/scorepipe-keys-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    fs::permissions(dir_, static_cast<fs::perms>(0755));
    topology_ = WriteTopology(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A curve topology whose keys live in `host`/keys.
  static std::string WriteTopology(const fs::path& host) {
    const fs::path path = host / "topology.yaml";
    std::ofstream(path) << "model: {path: /etc/scorepipe/models/demo/model.json, features: "
                           "/etc/scorepipe/models/demo/features.yaml}\n"
                           "security:\n  mode: curve\n  secret_key: "
                        << (host / "keys/node.key_secret").string()
                        << "\n  server_key: " << (host / "keys/head.key").string()
                        << "\n  authorized_keys: " << (host / "keys/authorized").string() << "\n";
    fs::permissions(path, static_cast<fs::perms>(0644));
    return path.string();
  }

  // `scorepipe keys` with `args`, as `uid` (setpriv) when given; returns the
  // exit code, what it printed in *out.
  int Keys(const std::vector<std::string>& args, std::string* out, std::optional<uid_t> uid = std::nullopt,
           const std::string& topology = "") {
    std::vector<std::string> argv;
    if (uid) {
      argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(*uid), "--regid=" + std::to_string(*uid),
              "--clear-groups"};
    }
    argv.push_back(ClusterHarness::BinDir() + "/scorepipe");
    argv.push_back("keys");
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("-c");
    argv.push_back(topology.empty() ? topology_ : topology);
    const std::string log = (dir_ / ("keys-" + std::to_string(runs_++) + ".log")).string();
    return testing::RunCommand(argv, log, out);
  }

  static struct stat Stat(const fs::path& path) {
    struct stat info {};
    ::stat(path.c_str(), &info);
    return info;
  }

  fs::path Secret() const { return dir_ / "keys/node.key_secret"; }
  fs::path Public() const { return dir_ / "keys/node.key"; }

  static constexpr uid_t kNobody = 65534;
  fs::path dir_;
  std::string topology_;
  int runs_ = 0;
};

// As the units' `User=` would: run as an unprivileged user (nobody), the
// step makes a pair that user owns, the secret mode 0600; a second start
// keeps it.
TEST_F(HostKeysTest, RunAsTheNodesUserItMakesAPairThatUserOwnsAndKeepsIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run the step as another user";
  ASSERT_EQ(::chown(dir_.c_str(), kNobody, kNobody), 0);
  std::string out;
  ASSERT_EQ(Keys({"--role", "worker"}, &out, kNobody), 0) << out;
  for (const fs::path& file : {Secret(), Public()}) {
    EXPECT_EQ(Stat(file).st_uid, kNobody) << file;
    EXPECT_EQ(Stat(file).st_gid, kNobody) << file;
  }
  EXPECT_EQ(Stat(Secret()).st_mode & 0777, 0600u);
  Result<CurveKeyPair> pair = ReadKeyPair(Secret().string());
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  EXPECT_NE(out.find(pair->public_key), std::string::npos) << out;
  EXPECT_EQ(out.find(pair->secret_key), std::string::npos) << "the secret is never printed";
  EXPECT_NE(out.find("copy the head's public key to " + (dir_ / "keys/head.key").string()), std::string::npos)
      << out;

  ASSERT_EQ(Keys({"--role", "worker"}, &out, kNobody), 0) << out;
  EXPECT_NE(out.find("in place"), std::string::npos) << out;
  EXPECT_EQ(ReadKeyPair(Secret().string())->secret_key, pair->secret_key);
}

// As the units run it (as root, "+"): the pair goes to --owner; a pair an
// older install left owned by root is handed over too, and kept.
TEST_F(HostKeysTest, AsRootItGivesThePairToTheOwnerAlsoOneThatWasThere) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  std::string out;
  ASSERT_EQ(Keys({"--role", "worker", "--owner", "nobody"}, &out), 0) << out;
  EXPECT_EQ(Stat(Secret()).st_uid, kNobody);
  EXPECT_EQ(Stat(Public()).st_uid, kNobody);
  EXPECT_EQ(Stat(dir_ / "keys").st_uid, 0u) << "the folder stays root's: the nodes cannot replace keys in it";

  ASSERT_EQ(::chown(Secret().c_str(), 0, 0), 0);
  const std::string before = ReadKeyPair(Secret().string())->secret_key;
  ASSERT_EQ(Keys({"--role", "worker", "--owner", "nobody"}, &out), 0) << out;
  EXPECT_EQ(Stat(Secret()).st_uid, kNobody);
  EXPECT_EQ(ReadKeyPair(Secret().string())->secret_key, before);
}

// The bug this replaces gave up on the chown without a word. Now a step that
// cannot give the pair to its owner fails, says why, and leaves no pair
// behind for the next start to trip on.
TEST_F(HostKeysTest, AChownThatFailsIsAnErrorAndLeavesNoPair) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run the step as another user";
  ASSERT_EQ(::chown(dir_.c_str(), kNobody, kNobody), 0);
  std::string out;
  EXPECT_EQ(Keys({"--role", "worker", "--owner", "root"}, &out, kNobody), 1) << out;
  EXPECT_NE(out.find("cannot give " + Secret().string() + " to the user root: Operation not permitted"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(Secret()));
  EXPECT_FALSE(fs::exists(Public()));

  EXPECT_EQ(Keys({"--role", "worker", "--owner", "no-such-scorepipe-user"}, &out), 1) << out;
  EXPECT_NE(out.find("the user no-such-scorepipe-user who must own"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(Secret()));
}

// A gateway connects to the head as a worker does: `keys --role gateway`
// makes a client's pair, never the head's server key, and says what to copy.
TEST_F(HostKeysTest, AGatewayHostMakesAClientsPair) {
  std::string out;
  ASSERT_EQ(Keys({"--role", "gateway"}, &out), 0) << out;
  EXPECT_TRUE(fs::exists(Secret()));
  EXPECT_TRUE(fs::exists(Public()));
  EXPECT_FALSE(fs::exists(dir_ / "keys/head.key")) << "only the head's own key may be written there";
  EXPECT_FALSE(fs::exists(dir_ / "keys/authorized"));
  EXPECT_NE(out.find("authorize this host on the head"), std::string::npos) << out;
}

TEST_F(HostKeysTest, TwoHostsMakeTwoDifferentPairs) {
  for (const char* host : {"host-a", "host-b"}) fs::create_directories(dir_ / host);
  std::string out;
  ASSERT_EQ(Keys({"--role", "worker"}, &out, std::nullopt, WriteTopology(dir_ / "host-a")), 0) << out;
  ASSERT_EQ(Keys({"--role", "worker"}, &out, std::nullopt, WriteTopology(dir_ / "host-b")), 0) << out;
  Result<CurveKeyPair> a = ReadKeyPair((dir_ / "host-a/keys/node.key_secret").string());
  Result<CurveKeyPair> b = ReadKeyPair((dir_ / "host-b/keys/node.key_secret").string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key, b->public_key);
  EXPECT_NE(a->secret_key, b->secret_key);
}

// A head's nodes starting at once (and a host's workers) run the step
// together: they make one pair, and every one of them ends with it.
TEST_F(HostKeysTest, UnitsStartingAtOnceMakeOnePair) {
  std::vector<ChildProcess> steps;
  for (int i = 0; i < 6; ++i) {
    Result<ChildProcess> step =
        ChildProcess::Start({ClusterHarness::BinDir() + "/scorepipe", "keys", "--role",
                             i % 2 == 0 ? "worker" : "sink", "-c", topology_},
                            (dir_ / ("at-once-" + std::to_string(i) + ".log")).string());
    ASSERT_TRUE(step.ok()) << step.status().message();
    steps.push_back(std::move(step.value()));
  }
  int made = 0;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(steps[i].WaitFor(std::chrono::seconds(30)));
    const std::string out = Read(dir_ / ("at-once-" + std::to_string(i) + ".log"));
    EXPECT_EQ(steps[i].exit_code(), 0) << out;
    if (out.find(Secret().string() + "\n") != std::string::npos) ++made;
  }
  EXPECT_EQ(made, 1);
  Result<CurveKeyPair> pair = ReadKeyPair(Secret().string());
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  EXPECT_EQ(ReadKeyFile((dir_ / "keys/head.key").string()).value(), pair->public_key);
}

// On a head the pair is also the server's: the server key file holds its own
// public key, and the authorized-keys folder is there; a worker host writes
// no server key (only the head's may be there) and is told what to copy.
TEST_F(HostKeysTest, AHeadAlsoGetsTheServerKeyAndAWorkerIsToldWhatToCopy) {
  Result<Topology> topology = LoadTopologyFile(topology_);
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  Result<HostKeysReport> head = SetUpHostKeys(topology->security, true, "");
  ASSERT_TRUE(head.ok()) << head.status().message();
  Result<CurveKeyPair> pair = ReadKeyPair(Secret().string());
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  EXPECT_EQ(head->public_key, pair->public_key);
  EXPECT_EQ(ReadKeyFile((dir_ / "keys/head.key").string()).value(), pair->public_key);
  EXPECT_TRUE(fs::is_directory(dir_ / "keys/authorized"));
  ASSERT_EQ(head->next_steps.size(), 2u);
  EXPECT_NE(head->next_steps[0].find((dir_ / "keys/head.key").string()), std::string::npos);
  EXPECT_NE(head->next_steps[1].find("authorize each worker and gateway host here: copy its public key"),
            std::string::npos)
      << head->next_steps[1];
  EXPECT_NE(head->next_steps[1].find((dir_ / "keys/authorized").string() + "/<host>.key"), std::string::npos)
      << head->next_steps[1];

  fs::remove_all(dir_ / "keys");
  Result<HostKeysReport> worker = SetUpHostKeys(topology->security, false, "");
  ASSERT_TRUE(worker.ok()) << worker.status().message();
  EXPECT_NE(worker->public_key, pair->public_key);
  EXPECT_FALSE(fs::exists(dir_ / "keys/head.key")) << "only the head's own key may be written there";
  std::string steps;
  for (const std::string& step : worker->next_steps) steps += step + "\n";
  EXPECT_NE(steps.find("copy the head's public key to " + (dir_ / "keys/head.key").string()),
            std::string::npos)
      << steps;
  EXPECT_NE(steps.find((dir_ / "keys/authorized/").string()), std::string::npos) << steps;
  EXPECT_NE(steps.find(worker->public_key), std::string::npos) << steps;

  // security.mode none: nothing to make.
  SecurityConfig none;
  Result<HostKeysReport> nothing = SetUpHostKeys(none, true, "scorepipe");
  ASSERT_TRUE(nothing.ok()) << nothing.status().message();
  EXPECT_TRUE(nothing->written.empty());
}

}  // namespace
}  // namespace scorepipe
