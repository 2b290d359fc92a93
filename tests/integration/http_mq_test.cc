// The whole pipeline on queue.kind http-mq, real end to end: `scorepipe up`
// as real processes against the stand-in for the upstream's HTTP service
// (in this test's process), transactions pushed with POST /push-n as the
// upstream's producers do, results read from the service's results queue.
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

#include "bridge/queue.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/result_check.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<ClusterHarness> MakeCluster(int workers) {
  ClusterOptions options;
  options.workers = workers;
  options.queue_kind = QueueKind::kHttpMq;
  auto h = ClusterHarness::Create(options);
  EXPECT_TRUE(h.ok()) << h.status().message();
  return h.ok() ? std::move(h.value()) : nullptr;
}

std::unique_ptr<Queue> OpenQueueOf(ClusterHarness& h) {
  auto queue = OpenQueue(h.topology().queue);
  EXPECT_TRUE(queue.ok()) << queue.status().message();
  return queue.ok() ? std::move(queue.value()) : nullptr;
}

// Pushes `count` synthetic transactions through the service's push-n, as a
// producer does; returns them as parsed.
std::vector<Transaction> PushTransactions(ClusterHarness& h, size_t count, int64_t first_id, uint64_t seed) {
  SyntheticInput input = MakeSyntheticInput(count, first_id, seed);
  std::unique_ptr<Queue> producer = OpenQueueOf(h);
  if (producer) {
    Status s = producer->Push(input.messages);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return std::move(input.parsed);
}

// Messages in the lease journal: pulled and not answered.
int64_t InJournal(ClusterHarness& h) {
  std::unique_ptr<Queue> queue = OpenQueueOf(h);
  if (!queue) return -1;
  Result<QueueDepth> depth = queue->Depth();
  EXPECT_TRUE(depth.ok()) << depth.status().message();
  return depth.ok() ? depth->in_flight : -1;
}

void StopCluster(ClusterHarness& h) {
  h.up().Signal(SIGTERM);
  ASSERT_TRUE(h.up().WaitFor(seconds(60)));
  EXPECT_EQ(h.up().exit_code(), 0) << h.LogTail("up") << h.LogTail("bridge") << h.LogTail("sink");
}

TEST(HttpMqPipelineTest, TenThousandTransactionsGetExactlyOneCorrectResultEach) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  constexpr size_t kCount = 10000;
  std::vector<Transaction> pushed = PushTransactions(*h, kCount, 1, 2026);
  ASSERT_EQ(h->Length(h->topology().queue.input), static_cast<long long>(kCount));
  ASSERT_TRUE(h->StartUp().ok());
  ASSERT_TRUE(h->WaitForOutputs(kCount, seconds(180))) << h->LogTail("up") << h->LogTail("bridge");
  StopCluster(*h);

  Status check = h->CheckOneCorrectResultEach(pushed);
  EXPECT_TRUE(check.ok()) << check.message();
  EXPECT_EQ(InJournal(*h), 0) << "every lease was settled and its journal file removed";
  EXPECT_NE(h->ReadLog("bridge").find("http-mq " + h->stand_in().url()), std::string::npos)
      << h->LogTail("bridge");
}

// The results queue holds 600 at most (a batch is 512), and the consumer
// takes them out slowly: the sink meets 409 (queue full) again and again,
// backs off and retries, and not one result is dropped or doubled.
TEST(HttpMqPipelineTest, AFullResultsQueueIsWaitedOutAndNothingIsLost) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  constexpr size_t kCount = 10000;
  const std::string& output = h->topology().queue.output;
  h->stand_in().SetCap(output, 600);
  std::vector<Transaction> pushed = PushTransactions(*h, kCount, 1, 7);
  ASSERT_TRUE(h->StartUp().ok());

  // A slow consumer: up to 200 results every 50 ms (the cluster is faster).
  std::vector<std::string> results;
  const auto until = std::chrono::steady_clock::now() + seconds(240);
  while (results.size() < kCount && std::chrono::steady_clock::now() < until) {
    std::vector<std::string> some = h->stand_in().Drain(output, 200);
    results.insert(results.end(), some.begin(), some.end());
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(results.size(), kCount) << h->LogTail("sink");
  StopCluster(*h);
  std::vector<std::string> late = h->stand_in().Drain(output);
  EXPECT_TRUE(late.empty()) << late.size() << " results more than transactions";

  const HttpMqCounters counters = h->stand_in().counters();
  EXPECT_GT(counters.pushes_full, 0) << "the cap never refused a push: the test did not test";
  std::printf("HTTP-MQ CAPPED RUN: %zu results, %lld push-n answered 409 (queue full) of %lld\n", results.size(),
              static_cast<long long>(counters.pushes_full), static_cast<long long>(counters.pushes));
  Status check = CheckAgainstModel(results, pushed, h->topology_path());
  EXPECT_TRUE(check.ok()) << check.message();
  EXPECT_EQ(h->Length(h->topology().queue.dead_letter), 0);
  EXPECT_EQ(InJournal(*h), 0);
}

// A bridge killed (SIGKILL) after its pulls: the service no longer has those
// messages, the journal does. With no ventilator the bridge fills its intake
// pipe (a few batches) and then holds the next batch, taking nothing more; it
// is killed once its pulls have stopped (a pull outstanding at a kill may
// lose what the service pops for it afterwards: the documented limit of
// pull-n). The cluster started afterwards reclaims the journalled leases once
// they are older than queue.inflight_timeout_ms, and every transaction gets
// exactly one result.
TEST(HttpMqPipelineTest, ABridgeKilledAfterItsPullsLosesNothing) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  h->topology().queue.inflight_timeout_ms = 3000;
  constexpr size_t kCount = 5000;
  const std::string& input = h->topology().queue.input;
  std::vector<Transaction> pushed = PushTransactions(*h, kCount, 1, 11);
  auto bridge = h->StartRole("bridge", {}, "killed-bridge");
  ASSERT_TRUE(bridge.ok()) << bridge.status().message();

  // Pulls have stopped: the count of pull-n requests stood still for a second.
  int64_t pulls = -1;
  auto since = std::chrono::steady_clock::now();
  const bool settled_down = WaitUntil(
      [&] {
        const int64_t now_pulls = h->stand_in().counters().pulls;
        if (now_pulls != pulls) {
          pulls = now_pulls;
          since = std::chrono::steady_clock::now();
        }
        return pulls > 0 && std::chrono::steady_clock::now() - since >= seconds(1);
      },
      milliseconds(30000), milliseconds(50));
  ASSERT_TRUE(settled_down) << h->LogTail("killed-bridge");
  bridge->Signal(SIGKILL);
  ASSERT_TRUE(bridge->WaitFor(seconds(10)));
  const int64_t journalled = InJournal(*h);
  const long long left = h->Length(input);
  EXPECT_GE(journalled, h->topology().bridge.batch_size) << "the bridge pulled at least a batch";
  EXPECT_EQ(journalled + left, static_cast<long long>(kCount))
      << "what left the service is in the journal: " << journalled << " journalled, " << left << " left";

  std::printf("HTTP-MQ KILLED BRIDGE: %lld journalled, %lld left in the service at the kill\n",
              static_cast<long long>(journalled), left);

  ASSERT_TRUE(h->StartUp().ok());
  ASSERT_TRUE(h->WaitForOutputs(kCount, seconds(120))) << h->LogTail("up") << h->LogTail("bridge");
  StopCluster(*h);
  Status check = h->CheckOneCorrectResultEach(pushed);
  EXPECT_TRUE(check.ok()) << check.message();
  EXPECT_NE(h->ReadLog("bridge").find("reclaimed "), std::string::npos) << h->LogTail("bridge");
  EXPECT_EQ(InJournal(*h), 0);
}

}  // namespace
}  // namespace scorepipe::testing
