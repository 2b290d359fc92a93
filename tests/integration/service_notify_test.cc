// Every node program under a (fake) systemd: it sends READY=1 only once it
// can really work (its links up, its dependencies answering) and says in
// STATUS= what it waits for, pings the watchdog from its main loop, and says
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
  ChildProcess Start(FakeServiceManager& manager, const std::string& role,
                     std::vector<std::string> args = {}) {
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
  // In start order, each ready before the next starts (a node is ready only
  // once its links are up: the worker's and the bridge's need the head).
  const std::vector<std::pair<std::string, std::vector<std::string>>> roles = {
      {"sink", {}}, {"ventilator", {}}, {"worker", {"--id", "w1"}}, {"bridge", {}}};
  std::vector<std::unique_ptr<FakeServiceManager>> managers;
  std::vector<ChildProcess> nodes;
  for (const auto& [role, args] : roles) {
    SCOPED_TRACE(role);
    managers.push_back(std::make_unique<FakeServiceManager>());
    FakeServiceManager& manager = *managers.back();
    ASSERT_TRUE(manager.error().empty()) << manager.error();
    nodes.push_back(Start(manager, role, args));
    std::string before;
    std::optional<std::string> ready = manager.WaitFor("READY=1", kStarts, &before);
    ASSERT_TRUE(ready.has_value()) << "no READY=1; got: " << before << "\n" << cluster_->LogTail(role);
    EXPECT_NE(ready->find("STATUS="), std::string::npos) << *ready;
    for (int ping = 0; ping < 3; ++ping) {
      EXPECT_TRUE(manager.WaitFor("WATCHDOG=1", kPings).has_value()) << "ping " << ping;
    }
  }
  // Stopped in the order that drains: bridge, worker, ventilator, sink.
  for (size_t i = nodes.size(); i-- > 0;) {
    SCOPED_TRACE(roles[i].first);
    nodes[i].Signal(SIGTERM);
    EXPECT_TRUE(managers[i]->WaitFor("STOPPING=1", kStarts).has_value());
    ASSERT_TRUE(nodes[i].WaitFor(kStarts));
    EXPECT_EQ(nodes[i].exit_code(), 0) << cluster_->LogTail(roles[i].first);
  }
}

TEST_F(ServiceNotifyTest, AWorkerIsNotReadyUntilItsLinksAreUpAndItsStatusSaysWhy) {
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  ChildProcess worker = Start(manager, "worker", {"--id", "w1"});
  std::string meanwhile;
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(1500), &meanwhile).has_value()) << meanwhile;
  EXPECT_NE(meanwhile.find("STATUS=waiting for its links: the ventilator: no answer yet"), std::string::npos)
      << meanwhile;
  EXPECT_NE(meanwhile.find("the sink: not connected yet"), std::string::npos) << meanwhile;
  EXPECT_NE(meanwhile.find("WATCHDOG=1"), std::string::npos)
      << "waiting for the head is not hanging: " << meanwhile;
  Result<ChildProcess> sink = cluster_->StartRole("sink", {}, "sink");
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  meanwhile.clear();
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(1500), &meanwhile).has_value()) << meanwhile;
  Result<ChildProcess> ventilator = cluster_->StartRole("ventilator", {}, "ventilator");
  ASSERT_TRUE(ventilator.ok()) << ventilator.status().message();
  std::optional<std::string> ready = manager.WaitFor("READY=1", kStarts);
  ASSERT_TRUE(ready.has_value()) << cluster_->LogTail("worker");
  EXPECT_NE(ready->find("STATUS=scoring with model"), std::string::npos) << *ready;
  worker.Stop(kStarts);
}

TEST_F(ServiceNotifyTest, SinkIsNotReadyUntilRedisAnswersButStaysAlive) {
  cluster_->StopRedis();
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  ChildProcess sink = Start(manager, "sink");
  std::string meanwhile;
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(1500), &meanwhile).has_value());
  EXPECT_NE(meanwhile.find("WATCHDOG=1"), std::string::npos)
      << "waiting for Redis is not hanging: " << meanwhile;
  ASSERT_TRUE(cluster_->RestartRedis().ok());
  EXPECT_TRUE(manager.WaitFor("READY=1", kStarts).has_value()) << cluster_->LogTail("sink");
  sink.Stop(kStarts);
}

TEST_F(ServiceNotifyTest, BridgeIsNotReadyUntilRedisAnswers) {
  Result<ChildProcess> sink = cluster_->StartRole("sink", {}, "sink");
  Result<ChildProcess> ventilator = cluster_->StartRole("ventilator", {}, "ventilator");
  ASSERT_TRUE(sink.ok() && ventilator.ok());
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
