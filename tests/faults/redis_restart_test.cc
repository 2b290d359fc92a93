// Scenario 3: stop redis-server mid-stream and start it again on the same
// port and directory, with AOF persistence. The nodes retry with back-off,
// keep what they hold, and carry on when it is back. Run on both queue
// kinds (a stream's consumer group and pending entries survive in the AOF).
#include <signal.h>

#include <functional>
#include <thread>

#include "queue/queue.h"
#include "tests/faults/fault_fixture.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

// How long Redis stays down once the bridge has noticed: long enough for
// every node to run into it (the sink with the batches then in flight).
constexpr auto kOutage = milliseconds(1500);

class RedisRestartTest : public QueueKindFaultTest {
 protected:
  // A condition: the bridge and the sink have both logged `what` more often
  // than they had by this call.
  std::function<bool()> BridgeAndSinkLogAgain(const std::string& what) {
    const size_t bridge = Occurrences(cluster().ReadLog("bridge"), what);
    const size_t sink = Occurrences(cluster().ReadLog("sink"), what);
    return [this, what, bridge, sink] {
      return Occurrences(cluster().ReadLog("bridge"), what) > bridge &&
             Occurrences(cluster().ReadLog("sink"), what) > sink;
    };
  }
};

TEST_P(RedisRestartTest, RedisStoppedAndRestartedMidStreamLosesNothing) {
  ClusterOptions options = KindOptions();
  options.append_only = true;
  ASSERT_NO_FATAL_FAILURE(MakeCluster(options));
  ASSERT_TRUE(cluster().StartUp().ok());
  auto queue = OpenQueue(cluster().topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  StartStream(seconds(10));
  const int64_t backlog = 2 * cluster().topology().bridge.batch_size;
  for (int round = 0; round < plan_.rounds; ++round) {
    ASSERT_TRUE(WaitForFaultPoint(round, plan_.rounds)) << Logs();
    const std::function<bool()> both_failed = BridgeAndSinkLogAgain("queue unavailable");
    const std::function<bool()> both_carry_on = BridgeAndSinkLogAgain("queue reachable again");
    // The pipeline drains in milliseconds, so Redis would go down between
    // batches. A short freeze of the sink makes sure it holds results to
    // settle when Redis goes: leases pile up in flight meanwhile.
    const pid_t sink = cluster().NodePid("sink");
    ASSERT_GT(sink, 0);
    ASSERT_EQ(kill(sink, SIGSTOP), 0);
    int64_t in_flight = 0;
    const bool piled_up = WaitUntil(
        [&] {
          Result<QueueDepth> depth = queue.value()->Depth();
          in_flight = depth.ok() ? depth->in_flight : 0;
          return in_flight >= backlog;
        },
        seconds(20));
    // The producer is not under test: it waits, so that no push of its is cut in half.
    producer_->Pause();
    Note("stopping redis-server (pid " + std::to_string(cluster().redis_pid()) + ") with " +
         std::to_string(in_flight) + " messages in flight");
    cluster().StopRedis();
    ASSERT_EQ(kill(sink, SIGCONT), 0);
    ASSERT_TRUE(piled_up) << "no results piled up at the frozen sink\n" << Logs();
    ASSERT_TRUE(WaitUntil(both_failed, seconds(20)))
        << "the bridge and the sink did not both run into the outage\n"
        << cluster().LogTail("bridge") << cluster().LogTail("sink");
    Note("the bridge and the sink retry; Redis stays down for " + std::to_string(kOutage.count()) + " ms");
    std::this_thread::sleep_for(kOutage);  // the length of the fault, not a synchronisation
    const Status restarted = cluster().RestartRedis();
    ASSERT_TRUE(restarted.ok()) << restarted.message();
    Note("redis-server restarted on the same port (pid " + std::to_string(cluster().redis_pid()) + ")");
    producer_->Resume();
    ASSERT_TRUE(WaitUntil(both_carry_on, seconds(30)))
        << "the bridge and the sink did not both carry on after the restart\n"
        << cluster().LogTail("bridge") << cluster().LogTail("sink");
    Note("the bridge and the sink carry on");
  }
  FinishAndCheck(Scenario("stop and restart redis-server (AOF)"), std::to_string(plan_.rounds) + " restarts");
}

SCOREPIPE_FOR_EVERY_REDIS_QUEUE_KIND(RedisRestartTest);

}  // namespace
}  // namespace scorepipe::testing
