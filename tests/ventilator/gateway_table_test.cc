// The gateways the ventilator knows for `scorepipe status`, with a fake
// clock: links grouped by gateway process, heard from or forgotten.
#include "ventilator/gateway_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace scorepipe {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kForgetAfter{3000};

class GatewayTableTest : public ::testing::Test {
 protected:
  GatewayTable table{kForgetAfter};
  SteadyClock::time_point now = SteadyClock::time_point{} + std::chrono::hours(1);

  bool Beat(const std::string& routing_id, const std::string& id, int64_t pid,
            const std::string& host = "gw") {
    Heartbeat beat;
    beat.sender = id;
    beat.host = host;
    beat.pid = pid;
    return table.OnHeartbeat(routing_id, beat, now);
  }
};

TEST_F(GatewayTableTest, TheLinksOfOneGatewayProcessAreOneEntry) {
  EXPECT_TRUE(Beat("gw-a/0#1", "gw-a", 10));
  EXPECT_TRUE(Beat("gw-a/1#2", "gw-a", 10));
  EXPECT_FALSE(Beat("gw-a/0#1", "gw-a", 10)) << "known already";
  EXPECT_TRUE(Beat("gw-b/0#3", "gw-b", 20, "other-host"));
  EXPECT_EQ(table.links(), 3u);
  const auto gateways = table.Snapshot(now, {});
  ASSERT_EQ(gateways.size(), 2u);
  EXPECT_EQ(gateways[0].id, "gw-a");
  EXPECT_EQ(gateways[0].host, "gw");
  EXPECT_EQ(gateways[0].pid, 10);
  EXPECT_EQ(gateways[0].links, 2);
  EXPECT_EQ(gateways[1].id, "gw-b");
  EXPECT_EQ(gateways[1].host, "other-host");
  EXPECT_EQ(gateways[1].links, 1);
}

TEST_F(GatewayTableTest, ARestartedGatewayIsANewEntry) {
  Beat("gw-a/0#1", "gw-a", 10);
  Beat("gw-a/0#7", "gw-a", 11);
  const auto gateways = table.Snapshot(now, {});
  ASSERT_EQ(gateways.size(), 2u);
  EXPECT_EQ(gateways[0].pid, 10);
  EXPECT_EQ(gateways[1].pid, 11);
}

TEST_F(GatewayTableTest, CountsBatchesInFlightAndAnsweredPerGateway) {
  Beat("gw-a/0#1", "gw-a", 10);
  Beat("gw-a/1#2", "gw-a", 10);
  table.OnAnswered("gw-a/0#1");
  table.OnAnswered("gw-a/1#2");
  table.OnAnswered("gw-a/1#2");
  table.OnAnswered("unknown#9");  // a link never heard from: nothing to count it for
  const auto gateways =
      table.Snapshot(now, std::map<std::string, size_t>{{"gw-a/0#1", 3}, {"gw-a/1#2", 1}, {"gone#5", 4}});
  ASSERT_EQ(gateways.size(), 1u);
  EXPECT_EQ(gateways[0].batches_answered, 3);
  EXPECT_EQ(gateways[0].in_flight_batches, 4);
}

TEST_F(GatewayTableTest, TheLastHeardLinkSaysWhenTheGatewayWasHeard) {
  Beat("gw-a/0#1", "gw-a", 10);
  now += milliseconds(800);
  table.OnBatch("gw-a/1#2", now);  // unknown until it beats: no entry made
  Beat("gw-a/1#2", "gw-a", 10);
  now += milliseconds(200);
  const auto gateways = table.Snapshot(now, {});
  ASSERT_EQ(gateways.size(), 1u);
  EXPECT_EQ(gateways[0].last_heartbeat_ms, 200);
  EXPECT_EQ(table.links(), 2u);
}

TEST_F(GatewayTableTest, ALinkNotHeardWithinTheTimeoutIsForgotten) {
  Beat("gw-a/0#1", "gw-a", 10);
  Beat("gw-b/0#2", "gw-b", 20);
  now += kForgetAfter;
  EXPECT_EQ(table.Expire(now), 0u) << "at the limit: still alive";
  table.OnBatch("gw-a/0#1", now);  // an online batch proves life too
  now += milliseconds(1);
  EXPECT_EQ(table.Expire(now), 1u);
  const auto gateways = table.Snapshot(now, {});
  ASSERT_EQ(gateways.size(), 1u);
  EXPECT_EQ(gateways[0].id, "gw-a");
  now += kForgetAfter + milliseconds(1);
  EXPECT_EQ(table.Expire(now), 1u);
  EXPECT_TRUE(table.Snapshot(now, {}).empty());
}

}  // namespace
}  // namespace scorepipe
