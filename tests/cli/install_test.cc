// `scorepipe install` into a staging root: what a host gets for its roles,
// that the installed units pass `systemd-analyze verify` (with the host's
// own systemd units beside them), and that it refuses what it should.
#include "cli/install.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/child_process.h"
#include "config/topology.h"
#include "proto/curve.h"
#include "tests/support/cluster_harness.h"

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
  for (const char* program : {"scorepipe", "scorepipe-bridge", "scorepipe-ventilator", "scorepipe-sink",
                              "scorepipe-worker"}) {
    const fs::path path = Under(std::string("/usr/local/bin/") + program);
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, static_cast<fs::perms>(0755)) << path;
  }
  for (const char* unit : {"scorepipe-bridge.service", "scorepipe-ventilator.service", "scorepipe-sink.service",
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
  EXPECT_EQ(Read(Under(installed->model.path)), Read(ClusterHarness::SourceDir() + "/models/demo/model.json"));
  EXPECT_TRUE(fs::exists(Under(installed->model.features)));

  ASSERT_EQ(report->next_steps.size(), 3u);
  EXPECT_EQ(report->next_steps[0], "systemctl daemon-reload");
  EXPECT_NE(report->next_steps[2].find("scorepipe-worker@{1..2}"), std::string::npos) << report->next_steps[2];
}

TEST_F(InstallTest, ARegistryModelStaysInItsRegistry) {
  const fs::path config = root_ / "registry-topology.yaml";
  std::ofstream(config) << "model: {registry: /var/lib/scorepipe/models, name: fraud}\nsecurity: {mode: none}\n";
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
                    "scorepipe-worker@1.service", "scorepipe-worker@7.service", "scorepipe.target"},
                   &output),
            0)
      << output;
  EXPECT_EQ(output, "") << "warnings count as failures";

  // The check can fail: a unit naming a program that is not there, and an
  // unknown key in the shared drop-in.
  fs::remove(Under("/usr/local/bin/scorepipe-sink"));
  EXPECT_NE(Verify({"scorepipe-sink.service"}, &output), 0) << output;
  std::ofstream(Under("/etc/systemd/system/scorepipe-.service.d/10-scorepipe.conf"), std::ios::app) << "Bogus=1\n";
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

TEST(ParseInstallRolesTest, GroupsExpandOnceAndUnknownNamesAreRefused) {
  Result<std::vector<InstallRole>> roles = ParseInstallRoles({"worker", "head", "sink"});
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(roles.value(), (std::vector<InstallRole>{InstallRole::kBridge, InstallRole::kVentilator,
                                                     InstallRole::kSink, InstallRole::kWorker}));
  Result<std::vector<InstallRole>> unknown = ParseInstallRoles({"broker"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'broker'"), std::string::npos);
  EXPECT_FALSE(ParseInstallRoles({}).ok());
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

  Result<ChildProcess> bad = ChildProcess::Start(
      {ClusterHarness::BinDir() + "/scorepipe", "install", "--role", "worker", "-c", "/etc/hostname", "--root",
       std::string(dir) + "/root2"},
      log);
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->WaitFor(std::chrono::seconds(60)));
  EXPECT_EQ(bad->exit_code(), 2) << Read(log);
  fs::remove_all(dir);
}

// With security.mode curve (config/cluster.example.yaml): each host gets its
// own key pair, made once and never replaced; the head also gets the
// server's public key (its own) and the authorized-keys folder; the next
// steps say what to copy between hosts.
TEST_F(InstallTest, CurveTopologiesGetAKeyPairPerHostThatIsNeverReplaced) {
  options_.config_path = ClusterHarness::SourceDir() + "/config/cluster.example.yaml";
  Result<InstallReport> head = InstallRoles({"head"});
  ASSERT_TRUE(head.ok()) << head.status().message();
  const fs::path secret = Under("/etc/scorepipe/keys/node.key_secret");
  ASSERT_TRUE(fs::exists(secret));
  EXPECT_EQ(fs::status(secret).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  Result<CurveKeyPair> pair = ReadKeyPair(secret.string());
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  EXPECT_EQ(ReadKeyFile(Under("/etc/scorepipe/keys/head.key").string()).value(), pair->public_key)
      << "on the head, the server key is its own";
  EXPECT_TRUE(fs::is_directory(Under("/etc/scorepipe/keys/authorized")));
  std::string steps;
  for (const std::string& step : head->next_steps) steps += step + "\n";
  EXPECT_NE(steps.find("/etc/scorepipe/keys/head.key"), std::string::npos) << steps;

  // Installing again (an upgrade) keeps the pair: workers hold its public key.
  options_.force = true;
  ASSERT_TRUE(InstallRoles({"head"}).ok());
  EXPECT_EQ(ReadKeyPair(secret.string()).value().secret_key, pair->secret_key);

  // A worker host: its own pair, and the steps to authorize it on the head.
  fs::remove_all(root_ / "etc");
  Result<InstallReport> worker = InstallRoles({"worker"});
  ASSERT_TRUE(worker.ok()) << worker.status().message();
  Result<CurveKeyPair> worker_pair = ReadKeyPair(secret.string());
  ASSERT_TRUE(worker_pair.ok());
  EXPECT_NE(worker_pair->public_key, pair->public_key);
  EXPECT_FALSE(fs::exists(Under("/etc/scorepipe/keys/head.key"))) << "only the head's own key may be written there";
  steps.clear();
  for (const std::string& step : worker->next_steps) steps += step + "\n";
  EXPECT_NE(steps.find("copy the head's public key to /etc/scorepipe/keys/head.key"), std::string::npos) << steps;
  EXPECT_NE(steps.find("/etc/scorepipe/keys/authorized/"), std::string::npos) << steps;
  EXPECT_NE(steps.find(worker_pair->public_key), std::string::npos) << steps;
}

}  // namespace
}  // namespace scorepipe
