// ServiceNotifier against a fake service manager (a unix datagram socket in
// NOTIFY_SOCKET): what systemd would receive, and nothing outside systemd.
#include "runtime/service_notify.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "tests/support/fake_service_manager.h"

namespace scorepipe {
namespace {

using std::chrono::milliseconds;
using testing::FakeServiceManager;

constexpr milliseconds kArrives{2000};  // generous: the machine may be loaded
constexpr milliseconds kQuiet{150};

TEST(ServiceNotifierTest, ReadySendsReadyOnceThenOnlyTheStatus) {
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  manager.Expose();
  ServiceNotifier notifier;
  EXPECT_FALSE(notifier.ready());
  notifier.Ready("taking from redis");
  EXPECT_TRUE(notifier.ready());
  EXPECT_EQ(manager.Next(kArrives), "READY=1\nSTATUS=taking from redis");
  notifier.Ready("still taking");
  EXPECT_EQ(manager.Next(kArrives), "STATUS=still taking");
  notifier.Stopping();
  std::optional<std::string> stopping = manager.Next(kArrives);
  ASSERT_TRUE(stopping.has_value());
  EXPECT_EQ(stopping->rfind("STOPPING=1\n", 0), 0u) << *stopping;
}

TEST(ServiceNotifierTest, WatchdogIsPingedAtMostTwicePerInterval) {
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  manager.Expose(/*watchdog_usec=*/400000);
  ServiceNotifier notifier;
  EXPECT_EQ(notifier.watchdog_interval(), std::chrono::microseconds(400000));
  notifier.Alive();
  EXPECT_EQ(manager.Next(kArrives), "WATCHDOG=1");
  for (int i = 0; i < 100; ++i) notifier.Alive();  // a busy loop within half the interval
  EXPECT_EQ(manager.Next(kQuiet), std::nullopt) << "pinged again within half the interval";
  std::this_thread::sleep_for(milliseconds(200));  // half the interval has passed
  notifier.Alive();
  EXPECT_EQ(manager.Next(kArrives), "WATCHDOG=1");
}

TEST(ServiceNotifierTest, WithoutWatchdogSecAliveSendsNothing) {
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  manager.Expose(/*watchdog_usec=*/0);
  ServiceNotifier notifier;
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
  notifier.Alive();
  EXPECT_EQ(manager.Next(kQuiet), std::nullopt);
}

TEST(ServiceNotifierTest, AWatchdogMeantForAnotherProcessIsNotThisOnes) {
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  manager.Expose(/*watchdog_usec=*/400000);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  ServiceNotifier notifier;
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
  notifier.Alive();
  EXPECT_EQ(manager.Next(kQuiet), std::nullopt);
}

TEST(ServiceNotifierTest, OutsideSystemdEveryCallIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  ServiceNotifier notifier;
  notifier.Ready("ready");
  notifier.Status("status");
  notifier.Alive();
  notifier.Stopping();
  EXPECT_TRUE(notifier.ready());
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
}

}  // namespace
}  // namespace scorepipe
