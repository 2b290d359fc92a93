// Tests of local_cluster/supervisor.h's restart schedule: a slot that keeps dying
// waits longer each time, up to a cap, and a child that ran a while resets
// it. (`scorepipe up` itself, with real nodes: up_command_test.cc and the
// fault suite.)
#include "local_cluster/supervisor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace scorepipe {
namespace {

using std::chrono::milliseconds;

constexpr auto kQuick = milliseconds(400);  // an exit soon after the start
constexpr auto kLong = RestartBackoff::kQuickExit;

TEST(RestartBackoffTest, AChildThatRanAWhileIsRestartedAfterTheFirstDelay) {
  RestartBackoff backoff;
  EXPECT_EQ(backoff.OnExit(kLong), RestartBackoff::kFirstDelay);
  EXPECT_EQ(backoff.OnExit(std::chrono::hours(5)), RestartBackoff::kFirstDelay);
  EXPECT_EQ(backoff.quick_exits(), 0);
}

TEST(RestartBackoffTest, QuickExitsInARowDoubleTheDelayUpToTheCap) {
  RestartBackoff backoff;
  std::vector<long long> delays;
  for (int i = 0; i < 12; ++i) delays.push_back(backoff.OnExit(kQuick).count());
  EXPECT_EQ(delays, (std::vector<long long>{200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000, 10000,
                                            10000, 10000}));
  EXPECT_EQ(backoff.quick_exits(), 12);
}

TEST(RestartBackoffTest, TheDelayStaysAtTheCapHoweverLongTheSlotKeepsDying) {
  RestartBackoff backoff;
  for (int i = 0; i < 100000; ++i) backoff.OnExit(milliseconds(0));
  EXPECT_EQ(backoff.OnExit(milliseconds(0)), RestartBackoff::kMaxDelay);
}

TEST(RestartBackoffTest, AChildThatRanPastTheQuickExitWindowResetsTheBackoff) {
  RestartBackoff backoff;
  for (int i = 0; i < 8; ++i) backoff.OnExit(kQuick);
  ASSERT_EQ(backoff.OnExit(kQuick), RestartBackoff::kMaxDelay);
  EXPECT_EQ(backoff.OnExit(kLong), RestartBackoff::kFirstDelay);
  EXPECT_EQ(backoff.quick_exits(), 0);
  EXPECT_EQ(backoff.OnExit(kQuick), milliseconds(200));  // starts over
}

TEST(RestartBackoffTest, AnExitJustInsideTheWindowCountsAsQuick) {
  RestartBackoff backoff;
  EXPECT_EQ(backoff.OnExit(kLong - milliseconds(1)), milliseconds(200));
  EXPECT_EQ(backoff.quick_exits(), 1);
}

}  // namespace
}  // namespace scorepipe
