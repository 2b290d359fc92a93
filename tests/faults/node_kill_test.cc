// Scenario 2: kill -9 the sink mid-stream, then the bridge, then the
// ventilator; `scorepipe up` restarts each. What each held in memory is in a
// lease in Redis (a lease list, or a stream's pending entries) and comes back
// after queue.inflight_timeout_ms. Run on both queue kinds.
#include "tests/faults/fault_fixture.h"

namespace scorepipe::testing {
namespace {

class NodeKillTest : public QueueKindFaultTest {};

TEST_P(NodeKillTest, SinkBridgeAndVentilatorKilledMidStreamLoseNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeCluster(KindOptions()));
  ASSERT_TRUE(cluster().StartUp().ok());
  StartStream(seconds(12));
  const std::vector<std::string> victims = {"sink", "bridge", "ventilator"};
  const int faults = plan_.rounds * static_cast<int>(victims.size());
  int kills = 0;
  for (int round = 0; round < plan_.rounds; ++round) {
    for (const std::string& name : victims) {
      ASSERT_TRUE(WaitForFaultPoint(kills, faults))
          << "the stream stopped flowing before " << name << " was killed\n"
          << Logs();
      const pid_t pid = KillNode(name);
      ASSERT_NE(pid, 0) << "no pid of " << name << " in up.log\n" << cluster().LogTail("up");
      ++kills;
      ExpectRestart(name, pid);
    }
  }
  // No node died of another's death: the only exits are the kills.
  const std::string up_log = cluster().ReadLog("up");
  EXPECT_EQ(Occurrences(up_log, " exited with code 137"), static_cast<size_t>(kills))
      << cluster().LogTail("up");
  EXPECT_EQ(Occurrences(up_log, " exited with code "), static_cast<size_t>(kills)) << cluster().LogTail("up");
  FinishAndCheck(Scenario("kill -9 sink, bridge, ventilator in turn"),
                 std::to_string(kills) + " nodes killed");
}

SCOREPIPE_FOR_EVERY_REDIS_QUEUE_KIND(NodeKillTest);

}  // namespace
}  // namespace scorepipe::testing
