// Every node program under a (fake) systemd: it sends READY=1 only once it
// can really work, pings the watchdog from its main loop, and says
// STOPPING=1 when a SIGTERM makes it drain. Real processes, real Redis.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/cluster_harness.h"
#include "tests/support/fake_service_manager.h"

namespace scorepipe {
namespace {

using std::chrono::milliseconds;
using testing::ClusterHarness;
using testing::FakeServiceManager;

constexpr long long kWatchdogUsec = 400000;  // pings expected every 200 ms or sooner
constexpr milliseconds kStarts{20000};       // generous: the machine may be loaded
constexpr milliseconds kPings{3000};

class ServiceNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = ClusterHarness::Create(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = std::move(cluster.value());
    ASSERT_TRUE(cluster_->WriteTopology().ok());
  }

  // Starts `role` with NOTIFY_SOCKET and WATCHDOG_USEC pointing at `manager`.
  ChildProcess Start(FakeServiceManager& manager, const std::string& role, std::vector<std::string> args = {}) {
    manager.Expose(kWatchdogUsec);
    Result<ChildProcess> child = cluster_->StartRole(role, args, role);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    EXPECT_TRUE(child.ok()) << child.status().message();
    return std::move(child.value());
  }

  std::unique_ptr<ClusterHarness> cluster_;
};

TEST_F(ServiceNotifyTest, EveryRoleSaysReadyPingsTheWatchdogAndSaysStopping) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> roles = {
      {"ventilator", {}}, {"sink", {}}, {"worker", {"--id", "w1"}}, {"bridge", {}}};
  for (const auto& [role, args] : roles) {
    SCOPED_TRACE(role);
    FakeServiceManager manager;
    ASSERT_TRUE(manager.error().empty()) << manager.error();
    ChildProcess node = Start(manager, role, args);
    std::string before;
    std::optional<std::string> ready = manager.WaitFor("READY=1", kStarts, &before);
    ASSERT_TRUE(ready.has_value()) << "no READY=1; got: " << before << "\n" << cluster_->LogTail(role);
    EXPECT_NE(ready->find("STATUS="), std::string::npos) << *ready;
    for (int ping = 0; ping < 3; ++ping) {
      EXPECT_TRUE(manager.WaitFor("WATCHDOG=1", kPings).has_value()) << "ping " << ping;
    }
    node.Signal(SIGTERM);
    EXPECT_TRUE(manager.WaitFor("STOPPING=1", kStarts).has_value());
    ASSERT_TRUE(node.WaitFor(kStarts));
    EXPECT_EQ(node.exit_code(), 0) << cluster_->LogTail(role);
  }
}

TEST_F(ServiceNotifyTest, SinkIsNotReadyUntilRedisAnswersButStaysAlive) {
  cluster_->StopRedis();
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  ChildProcess sink = Start(manager, "sink");
  std::string meanwhile;
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(1500), &meanwhile).has_value());
  EXPECT_NE(meanwhile.find("WATCHDOG=1"), std::string::npos) << "waiting for Redis is not hanging: " << meanwhile;
  ASSERT_TRUE(cluster_->RestartRedis().ok());
  EXPECT_TRUE(manager.WaitFor("READY=1", kStarts).has_value()) << cluster_->LogTail("sink");
  sink.Stop(kStarts);
}

TEST_F(ServiceNotifyTest, BridgeIsNotReadyUntilRedisAnswers) {
  cluster_->StopRedis();
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  ChildProcess bridge = Start(manager, "bridge");
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(1500)).has_value());
  ASSERT_TRUE(cluster_->RestartRedis().ok());
  EXPECT_TRUE(manager.WaitFor("READY=1", kStarts).has_value()) << cluster_->LogTail("bridge");
  bridge.Stop(kStarts);
}

}  // namespace
}  // namespace scorepipe
