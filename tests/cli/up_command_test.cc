// `scorepipe up` and the node programs as an operator runs them, on a real
// cluster with a private redis-server: SIGHUP after logrotate renamed the
// logs (every process keeps running and writes on to new files at the old
// paths), a cluster that cannot work (a head node that exits at once on
// every start) ending `up` with an error that names it, and `up --gateway`:
// its gateway in `scorepipe status`, restarted when killed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "local_cluster/child_process.h"
#include "local_cluster/local_redis.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/paced_producer.h"
#include "tests/support/run_command.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kWorkers = 2;

class UpCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = ClusterHarness::Create(kWorkers);
    ASSERT_TRUE(created.ok()) << created.status().message();
    h_ = std::move(created.value());
  }

  // Pushes `n` more transactions and waits until all have their answer.
  void PushAndWait(size_t n) {
    const long long before = h_->Outputs();
    PacedProducer producer(h_->topology().queue, /*seed=*/++seed_, n, milliseconds(200));
    producer.Start();
    ASSERT_TRUE(producer.Join().ok());
    ASSERT_TRUE(h_->WaitForOutputs(before + static_cast<long long>(n), seconds(60))) << Logs();
  }

  // Every log file of the cluster: up.log and one per node.
  std::vector<std::string> LogNames() const {
    std::vector<std::string> names = {"up", "sink", "ventilator", "bridge"};
    for (int i = 1; i <= kWorkers; ++i) names.push_back("worker-" + std::to_string(i));
    return names;
  }
  std::string LogPath(const std::string& name) const {
    return (h_->dir() / "logs" / (name + ".log")).string();
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string Logs() const {
    std::string out;
    for (const std::string& name : LogNames()) out += h_->LogTail(name, 10) + "\n";
    return out;
  }

  std::unique_ptr<ClusterHarness> h_;
  uint64_t seed_ = 17;
};

TEST_F(UpCommandTest, SighupAfterTheLogsWereRenamedKeepsEveryNodeRunningAndWritingToNewFiles) {
  ASSERT_TRUE(h_->StartUp().ok());
  ASSERT_NO_FATAL_FAILURE(PushAndWait(500));

  // logrotate without copytruncate: rename, then SIGHUP `up`.
  for (const std::string& name : LogNames()) fs::rename(LogPath(name), LogPath(name) + ".1");
  ASSERT_EQ(kill(h_->up().pid(), SIGHUP), 0);
  const std::string passed_on =
      "SIGHUP: log reopened; passed on to " + std::to_string(3 + kWorkers) + " running nodes";
  ASSERT_TRUE(
      WaitUntil([&] { return Read(LogPath("up")).find(passed_on) != std::string::npos; }, seconds(10)))
      << "up did not reopen its log and pass the SIGHUP on; it is "
      << (h_->up().Running() ? std::string("running")
                             : "gone with exit code " + std::to_string(h_->up().exit_code().value_or(-1)))
      << "\n"
      << Read(LogPath("up") + ".1");
  ASSERT_TRUE(h_->up().Running());

  // The cluster works on, with the same processes.
  ASSERT_NO_FATAL_FAILURE(PushAndWait(500));
  h_->up().Signal(SIGTERM);
  ASSERT_TRUE(h_->up().WaitFor(seconds(60))) << Logs();
  EXPECT_EQ(h_->up().exit_code(), 0) << Logs();

  const std::string up_log = Read(LogPath("up"));
  EXPECT_THAT(up_log, Not(HasSubstr("exited with code"))) << "a node died";
  EXPECT_THAT(up_log, HasSubstr("all nodes stopped"));
  EXPECT_THAT(Read(LogPath("up") + ".1"), HasSubstr("started bridge (pid "));
  for (const std::string& name : LogNames()) {
    if (name == "up") continue;
    // Its stop line went to the new file at the old path; the renamed one
    // kept what it wrote before.
    EXPECT_THAT(Read(LogPath(name)), HasSubstr(" stopped: ")) << name;
    const std::string before = Read(LogPath(name) + ".1");
    EXPECT_FALSE(before.empty()) << name;
    EXPECT_THAT(before, Not(HasSubstr(" stopped: "))) << name;
  }
}

TEST_F(UpCommandTest, ANodeProgramReopensItsLogOnSighupAndStillDrainsOnSigterm) {
  Result<ChildProcess> ventilator = h_->StartRole("ventilator", {}, "ventilator");
  ASSERT_TRUE(ventilator.ok()) << ventilator.status().message();
  ASSERT_TRUE(
      WaitUntil([&] { return Read(LogPath("ventilator")).find("ventilator: intake") != std::string::npos; },
                seconds(30)))
      << h_->LogTail("ventilator");

  fs::rename(LogPath("ventilator"), LogPath("ventilator") + ".1");
  ventilator->Signal(SIGHUP);
  // SIGHUP (1) is handled before SIGTERM (15) when both are pending.
  ventilator->Signal(SIGTERM);
  ASSERT_TRUE(ventilator->WaitFor(seconds(30)));
  EXPECT_EQ(ventilator->exit_code(), 0) << "129: SIGHUP killed it\n" << Read(LogPath("ventilator") + ".1");
  EXPECT_THAT(Read(LogPath("ventilator")), HasSubstr("ventilator stopped: "));
  const std::string before = Read(LogPath("ventilator") + ".1");
  EXPECT_THAT(before, HasSubstr("ventilator: intake"));
  EXPECT_THAT(before, Not(HasSubstr("ventilator stopped: ")));
}

TEST_F(UpCommandTest, UpStopsWithAnErrorNamingTheBridgeWhenItExitsAtOnceOnEveryStart) {
  // A program directory as `up` finds it beside itself, with a bridge that
  // cannot start: nothing can work without it.
  const fs::path bin = h_->dir() / "bin";
  fs::create_directories(bin);
  fs::copy_file(ClusterHarness::BinDir() + "/scorepipe", bin / "scorepipe");
  for (const char* role : {"sink", "ventilator", "worker"}) {
    fs::create_symlink(ClusterHarness::BinDir() + "/scorepipe-" + role,
                       bin / (std::string("scorepipe-") + role));
  }
  std::ofstream(bin / "scorepipe-bridge") << "#!/bin/sh\necho 'bridge: a broken build' >&2\nexit 3\n";
  fs::permissions(bin / "scorepipe-bridge", fs::perms::owner_all, fs::perm_options::add);
  ASSERT_TRUE(h_->WriteTopology().ok());

  const std::string logs = (h_->dir() / "logs").string();
  Result<ChildProcess> up = ChildProcess::Start(
      {(bin / "scorepipe").string(), "up", "-c", h_->topology_path(), "--log-dir", logs}, logs + "/up.log");
  ASSERT_TRUE(up.ok()) << up.status().message();
  ASSERT_TRUE(up->WaitFor(seconds(60))) << "up went on with a bridge that cannot start\n" << Logs();
  EXPECT_EQ(up->exit_code(), 1);
  const std::string up_log = Read(LogPath("up"));
  EXPECT_THAT(up_log,
              HasSubstr("bridge cannot start: it exited 5 times in a row within 3000 ms of its start"));
  EXPECT_THAT(up_log, HasSubstr("last exit code 3"));
  EXPECT_THAT(up_log, HasSubstr("see its log " + LogPath("bridge") + " (last line: bridge: a broken build)"));
  EXPECT_THAT(up_log, HasSubstr("all nodes stopped"));
}

// A bad key file (here a secret key open to everyone, and a server key that
// is not there) stops `up` before any node starts: every problem at its
// topology key, once, instead of nodes restarting over and over.
TEST_F(UpCommandTest, UpChecksTheKeyFilesBeforeItStartsAnyNode) {
  Topology& t = h_->topology();
  ASSERT_EQ(t.security.mode, SecurityMode::kCurve);
  ASSERT_EQ(::chmod(t.security.secret_key.c_str(), 0644), 0);
  t.security.server_key = (h_->dir() / "keys" / "nowhere.key").string();
  ASSERT_TRUE(h_->WriteTopology().ok());
  const std::string logs = (h_->dir() / "logs").string();
  Result<ChildProcess> up = ChildProcess::Start(
      {ClusterHarness::BinDir() + "/scorepipe", "up", "-c", h_->topology_path(), "--log-dir", logs},
      logs + "/up.log");
  ASSERT_TRUE(up.ok()) << up.status().message();
  ASSERT_TRUE(up->WaitFor(seconds(30))) << Logs();
  EXPECT_EQ(up->exit_code(), 1);
  const std::string up_log = Read(LogPath("up"));
  EXPECT_THAT(up_log, HasSubstr(h_->topology_path() + ":"));
  EXPECT_THAT(up_log, HasSubstr(": security.secret_key: secret key file " + t.security.secret_key +
                                " is readable by others; chmod 600 it"));
  EXPECT_THAT(up_log, HasSubstr(": security.server_key: cannot read key file " + t.security.server_key));
  EXPECT_THAT(up_log, HasSubstr("not starting: 2 problems"));
  EXPECT_THAT(up_log, Not(HasSubstr("started "))) << "no node was started";
  EXPECT_FALSE(fs::exists(LogPath("bridge")));
}

// `up --gateway` runs a gateway beside the cluster: `scorepipe status` shows
// it (one link per event-loop thread), a gateway killed with -9 is started
// again and shown anew, and up stops it with the rest.
TEST_F(UpCommandTest, UpWithGatewayRunsOneThatStatusShowsAndRestartsIt) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok());
  h_->topology().gateway.port = port.value();
  h_->topology().gateway.security = GatewaySecurity::kNone;
  h_->topology().gateway.threads = 2;
  ASSERT_TRUE(h_->WriteTopology().ok());
  const std::string logs = (h_->dir() / "logs").string();
  Result<ChildProcess> up = ChildProcess::Start({ClusterHarness::BinDir() + "/scorepipe", "up", "-c",
                                                 h_->topology_path(), "--log-dir", logs, "--gateway"},
                                                logs + "/up.log");
  ASSERT_TRUE(up.ok()) << up.status().message();
  const pid_t first = h_->WaitForNodeStart("gateway", 0, seconds(30));
  ASSERT_NE(first, 0) << Read(LogPath("up"));

  // The gateway's line in `scorepipe status --json`, once it shows `pid`.
  const auto shown = [&](pid_t pid) {
    std::string out;
    RunCommand({ClusterHarness::BinDir() + "/scorepipe", "status", "-c", h_->topology_path(), "--json"},
               logs + "/status.log", &out);
    return out.find("\"gateways\":[{\"id\":") != std::string::npos &&
           out.find("\"pid\":" + std::to_string(pid) + ",\"links\":2,") != std::string::npos;
  };
  EXPECT_TRUE(WaitUntil([&] { return shown(first); }, seconds(30))) << Read(logs + "/status.log");
  std::string table;
  RunCommand({ClusterHarness::BinDir() + "/scorepipe", "status", "-c", h_->topology_path()},
             logs + "/table.log", &table);
  EXPECT_THAT(table, HasSubstr("GATEWAY"));

  ASSERT_EQ(kill(first, SIGKILL), 0);
  const pid_t second = h_->WaitForNodeStart("gateway", first, seconds(30));
  ASSERT_NE(second, 0) << Read(LogPath("up"));
  EXPECT_TRUE(WaitUntil([&] { return shown(second); }, seconds(30))) << Read(logs + "/status.log");

  up->Signal(SIGTERM);
  ASSERT_TRUE(up->WaitFor(seconds(60)));
  EXPECT_EQ(up->exit_code(), 0) << Read(LogPath("up"));
  const std::string up_log = Read(LogPath("up"));
  EXPECT_THAT(up_log, HasSubstr("all nodes stopped"));
  EXPECT_NE(kill(second, 0), 0) << "the gateway was stopped with the rest";
}

// A gateway host's check asks the running head once, through CURVE with
// this host's key, as a gateway does.
TEST_F(UpCommandTest, CheckForAGatewayHostAsksTheRunningHead) {
  ASSERT_EQ(h_->topology().security.mode, SecurityMode::kCurve);
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok());
  h_->topology().gateway.port = port.value();
  h_->topology().gateway.security = GatewaySecurity::kNone;
  ASSERT_TRUE(h_->StartUp().ok());
  ASSERT_NO_FATAL_FAILURE(PushAndWait(100));
  std::string out;
  EXPECT_EQ(RunCommand({ClusterHarness::BinDir() + "/scorepipe", "check", "-c", h_->topology_path(), "--role",
                        "gateway"},
                       (h_->dir() / "check.log").string(), &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("ok for a gateway"));
}

}  // namespace
}  // namespace scorepipe::testing
