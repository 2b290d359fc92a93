// FaultTest: what every fault scenario shares. A real cluster with short
// timings (faults are noticed in well under a second, lost leases come back
// after three), a producer that keeps the stream flowing while faults strike,
// and the end of every scenario: wait until every transaction is answered and
// nothing is held in flight, stop the cluster, audit what it wrote (exactly
// one result or dead letter per transaction, every score the model's) and
// print one summary line.
//
// SCOREPIPE_SOAK=1 runs the same faults for longer, more often and with
// 1,000,000 transactions instead of 100,000.
//
// One fixture per test, used from the test's thread.
#ifndef SCOREPIPE_TESTS_FAULTS_FAULT_FIXTURE_H_
#define SCOREPIPE_TESTS_FAULTS_FAULT_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/topology.h"
#include "local_cluster/child_process.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/paced_producer.h"

namespace scorepipe::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct FaultPlan {
  bool soak = false;
  size_t transactions = 100000;
  int rounds = 1;  // how many times a scenario repeats its faults
};

// The plan SCOREPIPE_SOAK asks for.
FaultPlan PlanFromEnvironment();

// Whole milliseconds of `d`, for log lines.
inline long long Millis(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

// How often `what` occurs in `text` (a log).
size_t Occurrences(const std::string& text, const std::string& what);

// The fault suite's timings, short so that the suite stays fast:
// heartbeat 200 ms x 3, batch timeout 2 s, in-flight timeout 3 s (the
// bridge's block timeout of 500 ms stays below half of it), batches of 256.
void UseFaultTimings(Topology* topology);

class FaultTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // Creates the harness (with fault timings) into cluster_; fails the test
  // when it cannot.
  void MakeCluster(const ClusterOptions& options);
  // Starts pushing plan_.transactions, spread over `per_round` x plan_.rounds.
  void StartStream(milliseconds per_round);
  // Waits until `more` outputs beyond those there now have appeared.
  bool WaitForProgress(long long more, milliseconds timeout = seconds(60));
  // Waits until the producer has pushed fault `fault`'s share of the stream,
  // (fault + 1) / (faults + 1), and the cluster has answered Step() more
  // since: `faults` faults spread evenly over a stream that flows.
  bool WaitForFaultPoint(int fault, int faults, milliseconds timeout = seconds(60));
  // The amount of progress that shows the stream flowing: 2% of the stream.
  long long Step() const { return static_cast<long long>(plan_.transactions / 50); }
  // Logs "+12.3 s <what>" (since the test started) to the test's output.
  void Note(const std::string& what) const;
  // kill -9 of the node `scorepipe up` runs as `name`; its pid, or 0.
  pid_t KillNode(const std::string& name);
  // Waits for `scorepipe up` to start `name` again after `old_pid`; fails the
  // test when it does not within 30 s.
  pid_t ExpectRestart(const std::string& name, pid_t old_pid);
  // A worker started by hand (not by `scorepipe up`); stopped at the end.
  void AdoptWorker(ChildProcess worker) { workers_.push_back(std::move(worker)); }
  // Log tails of the cluster's nodes, for failure messages.
  std::string Logs() const;

  // Waits until every pushed transaction has its answer and no lease holds a
  // message, stops the hand-started workers and `scorepipe up` (which must
  // exit 0), audits the result and dead-letter lists, prints the summary line
  // "FAULT SUMMARY | <scenario> | pushed ... | lost 0 | <time from the first
  // push to the last answer> | <notes>" and expects the guarantee.
  void FinishAndCheck(const std::string& scenario, const std::string& notes = "");

  ClusterHarness& cluster() { return *cluster_; }

  const FaultPlan plan_ = PlanFromEnvironment();
  std::unique_ptr<ClusterHarness> cluster_;
  std::unique_ptr<PacedProducer> producer_;
  std::vector<ChildProcess> workers_;
  const Clock::time_point test_started_ = Clock::now();
  Clock::time_point stream_started_ = Clock::now();
};

// A scenario run once per queue kind (Redis lists and Redis Streams).
class QueueKindFaultTest : public FaultTest, public ::testing::WithParamInterface<QueueKind> {
 protected:
  // Options with queue_kind = GetParam().
  ClusterOptions KindOptions() const;
  // "<scenario> [redis-list]".
  std::string Scenario(const std::string& what) const;
};

// Test name suffixes: "redis_list", "redis_stream".
std::string QueueKindTestName(const ::testing::TestParamInfo<QueueKind>& info);

// The Redis-backed kinds only. http-mq keeps its leases in the bridge's
// journal, not in a Redis a test can restart; its kill test runs against the
// service's stand-in in tests/integration/http_mq_test.cc
// (ABridgeKilledAfterItsPullsLosesNothing).
#define SCOREPIPE_FOR_EVERY_REDIS_QUEUE_KIND(suite)                                           \
  INSTANTIATE_TEST_SUITE_P(QueueKinds, suite,                                                 \
                           ::testing::Values(QueueKind::kRedisList, QueueKind::kRedisStream), \
                           QueueKindTestName)

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_FAULTS_FAULT_FIXTURE_H_
