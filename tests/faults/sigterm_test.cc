// Scenario 5: SIGTERM mid-stream. A node that is asked to stop drains what
// it holds (finishes it or hands it back) and exits within a bounded time;
// stopped and started again, the cluster loses nothing.
#include <signal.h>

#include "queue/queue.h"
#include "tests/faults/fault_fixture.h"

namespace scorepipe::testing {
namespace {

class SigtermTest : public FaultTest {};

TEST_F(SigtermTest, EachNodeStoppedMidStreamAndRestartedLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeCluster(ClusterOptions{}));
  ASSERT_TRUE(cluster().StartUp().ok());
  // A stopping sink drains for up to 10 s and a ventilator for 5 s while the
  // rest of the cluster keeps feeding them: a round takes up to 20 s.
  StartStream(seconds(20));
  const std::vector<std::string> nodes = {"bridge", "ventilator", "worker-1", "sink"};
  const int faults = plan_.rounds * static_cast<int>(nodes.size());
  int stops = 0;
  for (int round = 0; round < plan_.rounds; ++round) {
    for (const std::string& name : nodes) {
      ASSERT_TRUE(WaitForFaultPoint(stops, faults))
          << "the stream stopped flowing before " << name << " was stopped\n"
          << Logs();
      const pid_t pid = cluster().NodePid(name);
      ASSERT_GT(pid, 0) << cluster().LogTail("up");
      ASSERT_EQ(kill(pid, SIGTERM), 0);
      Note("SIGTERM " + name + " (pid " + std::to_string(pid) + ")");
      ++stops;
      ExpectRestart(name, pid);
      // It stopped by itself, cleanly, before `scorepipe up` started it again.
      const std::string exited = name + " (pid " + std::to_string(pid) + ") exited with code 0";
      EXPECT_NE(cluster().ReadLog("up").find(exited), std::string::npos) << cluster().LogTail("up");
    }
  }
  EXPECT_EQ(Occurrences(cluster().ReadLog("up"), " exited with code "), static_cast<size_t>(stops))
      << cluster().LogTail("up");
  Note("leases the bridges had to reclaim: " +
       std::to_string(Occurrences(cluster().ReadLog("bridge"), "reclaimed ")));
  FinishAndCheck("SIGTERM each node in turn (restarted by up)", std::to_string(stops) + " nodes stopped");
}

TEST_F(SigtermTest, WholeClusterStoppedMidStreamAndStartedAgainLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeCluster(ClusterOptions{}));
  ASSERT_TRUE(cluster().StartUp().ok());
  auto queue = OpenQueue(cluster().topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  StartStream(seconds(10));
  Clock::duration longest_stop{};
  for (int round = 0; round < plan_.rounds; ++round) {
    ASSERT_TRUE(WaitForFaultPoint(round, plan_.rounds)) << Logs();
    const auto asked = Clock::now();
    cluster().up().Signal(SIGTERM);
    Note("SIGTERM scorepipe up");
    ASSERT_TRUE(cluster().up().WaitFor(seconds(60))) << "scorepipe up did not stop\n" << Logs();
    longest_stop = std::max(longest_stop, Clock::now() - asked);
    EXPECT_EQ(cluster().up().exit_code(), 0) << Logs();
    Note("scorepipe up stopped (" + std::to_string(Millis(Clock::now() - asked)) + " ms)");

    // Nothing is left behind in a process that exited: every message taken
    // is answered or back in the input, none held in a lease.
    producer_->Pause();
    Result<QueueDepth> depth = queue.value()->Depth();
    ASSERT_TRUE(depth.ok()) << depth.status().message();
    const long long outputs = cluster().Outputs();
    EXPECT_EQ(depth->in_flight, 0) << "messages left in flight by the stopped cluster\n" << Logs();
    EXPECT_EQ(outputs + depth->waiting + depth->in_flight, static_cast<long long>(producer_->pushed()));
    Note("at rest: " + std::to_string(outputs) + " answered, " + std::to_string(depth->waiting) +
         " waiting, " + std::to_string(depth->in_flight) + " in flight");
    producer_->Resume();
    ASSERT_TRUE(cluster().StartUp().ok());
  }
  FinishAndCheck("SIGTERM scorepipe up mid-stream, start it again",
                 "longest stop " + std::to_string(Millis(longest_stop)) + " ms");
}

}  // namespace
}  // namespace scorepipe::testing
