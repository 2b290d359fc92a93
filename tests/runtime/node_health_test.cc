// What a node's /livez and /readyz say (runtime/node_health.h), by state.
#include "runtime/node_health.h"

#include <gtest/gtest.h>

namespace scorepipe {
namespace {

using Clock = NodeHealth::Clock;

TEST(NodeHealthTest, AStartingNodeIsLiveAndNotReady) {
  NodeHealth health;
  const NodeHealth::Report r = health.Check();
  EXPECT_TRUE(r.live);
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.ready_reason, "starting");
  EXPECT_EQ(r.live_reason, "starting");
}

TEST(NodeHealthTest, AStartedNodeIsReadyAndSaysWhatItDoes) {
  NodeHealth health;
  health.Started("scoring with model demo-1");
  const NodeHealth::Report r = health.Check();
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.ready_reason, "scoring with model demo-1");
}

TEST(NodeHealthTest, AnOpenProblemMakesItUnreadyUntilItsOwnerClearsIt) {
  NodeHealth health;
  health.Started("taking from redis");
  health.SetProblem("queue", "unavailable: connection refused");
  health.SetProblem("links", "the ventilator refused this host's key");
  NodeHealth::Report r = health.Check();
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.ready_reason,
            "links: the ventilator refused this host's key; queue: unavailable: connection refused");
  health.SetProblem("queue", "");
  r = health.Check();
  EXPECT_FALSE(r.ready) << "the link problem is still open";
  EXPECT_EQ(r.ready_reason, "links: the ventilator refused this host's key");
  health.SetProblem("links", "");
  EXPECT_TRUE(health.Check().ready);
  health.SetProblem("nothing", "");  // clearing what is not open is harmless
  EXPECT_TRUE(health.Check().ready);
}

TEST(NodeHealthTest, AProblemBeforeTheStartIsNamedBesideStarting) {
  NodeHealth health;
  health.SetProblem("queue", "unavailable");
  EXPECT_EQ(health.Check().ready_reason, "starting; queue: unavailable");
  health.Started("writing results");
  EXPECT_FALSE(health.Check().ready);
}

TEST(NodeHealthTest, AStoppingNodeIsNotReadyButStillLive) {
  NodeHealth health;
  health.Started("handing batches");
  health.Beat();
  health.Stopping();
  const NodeHealth::Report r = health.Check();
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.ready_reason, "stopping");
  EXPECT_TRUE(r.live);
}

TEST(NodeHealthTest, ALoopThatStopsTurningIsNotLiveFromTheStallLimitOn) {
  NodeHealth health;
  const Clock::time_point beat = Clock::now();
  health.Beat(beat);
  EXPECT_TRUE(health.Check(beat).live);
  EXPECT_TRUE(health.Check(beat + NodeHealth::kStallAfter).live);
  const NodeHealth::Report stalled = health.Check(beat + NodeHealth::kStallAfter + std::chrono::seconds(1));
  EXPECT_FALSE(stalled.live);
  EXPECT_EQ(stalled.live_reason, "the main loop has not turned for 16 s");
  health.Beat(beat + std::chrono::seconds(20));
  EXPECT_TRUE(health.Check(beat + std::chrono::seconds(21)).live);
}

}  // namespace
}  // namespace scorepipe
