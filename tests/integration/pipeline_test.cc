// The whole pipeline, real end to end: a private redis-server, `scorepipe up`
// as real processes, transactions pushed with LPUSH as upstream producers do.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include "local_cluster/synthetic_push.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/result_check.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

using std::chrono::seconds;

// The count from a worker's "scored N transactions" line at its stop.
long long ScoredByWorker(const std::string& log) {
  const size_t at = log.find("scored ");
  return at == std::string::npos ? -1 : std::stoll(log.substr(at + 7));
}

std::unique_ptr<ClusterHarness> MakeCluster(int workers) {
  auto h = ClusterHarness::Create(workers);
  EXPECT_TRUE(h.ok()) << h.status().message();
  return h.ok() ? std::move(h.value()) : nullptr;
}

// Pushes `count` synthetic transactions; returns them as parsed.
std::vector<Transaction> PushTransactions(ClusterHarness& h, size_t count, int64_t first_id, uint64_t seed) {
  SyntheticInput input = MakeSyntheticInput(count, first_id, seed);
  Status s = PushMessages(h.redis(), h.topology().queue.input, input.messages);
  EXPECT_TRUE(s.ok()) << s.message();
  return std::move(input.parsed);
}

TEST(PipelineTest, FiftyThousandTransactionsGetExactlyOneCorrectResultEach) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  constexpr size_t kCount = 50000;
  std::vector<Transaction> pushed = PushTransactions(*h, kCount, 1, 2026);
  ASSERT_TRUE(h->StartUp().ok());
  ASSERT_TRUE(h->WaitForOutputs(kCount, seconds(180))) << h->ReadLog("up");

  Status check = h->CheckOneCorrectResultEach(pushed);
  EXPECT_TRUE(check.ok()) << check.message();

  h->up().Signal(SIGTERM);
  ASSERT_TRUE(h->up().WaitFor(seconds(60)));
  EXPECT_EQ(h->up().exit_code(), 0);
  // Both workers took part, and between them scored each transaction once.
  long long scored = 0;
  for (const char* node : {"worker-1", "worker-2"}) {
    const long long n = ScoredByWorker(h->ReadLog(node));
    EXPECT_GT(n, 0) << node << ":\n" << h->ReadLog(node);
    scored += n;
  }
  EXPECT_EQ(scored, static_cast<long long>(kCount));
}

TEST(PipelineTest, StoppingMidStreamLosesNothing) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  constexpr size_t kCount = 100000;
  std::vector<Transaction> pushed = PushTransactions(*h, kCount, 1, 99);
  ASSERT_TRUE(h->StartUp().ok());
  ASSERT_TRUE(h->WaitForOutputs(10000, seconds(60))) << h->ReadLog("up");
  h->up().Signal(SIGTERM);
  ASSERT_TRUE(h->up().WaitFor(seconds(90)));
  EXPECT_EQ(h->up().exit_code(), 0) << h->ReadLog("up");

  // What was not scored is back (or still) in the input list, in order; nothing is lost or doubled.
  std::vector<std::string> results = h->Entries(h->topology().queue.output);
  std::vector<std::string> left = h->Entries(h->topology().queue.input);
  EXPECT_EQ(results.size() + left.size(), kCount) << "results " << results.size() << ", left " << left.size();
  Status check = CheckAgainstModel(results, pushed, h->topology_path());
  EXPECT_TRUE(check.ok()) << check.message();
  std::set<std::string> scored_or_left;
  for (const std::string& r : results) {
    auto parsed = ParseUpstreamResult(r);
    ASSERT_TRUE(parsed.ok());
    scored_or_left.insert(std::to_string(parsed->transaction_id));
  }
  for (const std::string& message : left) {
    const size_t colon = message.find(':');
    scored_or_left.insert(message.substr(colon + 1, message.find(',') - colon - 1));
  }
  EXPECT_EQ(scored_or_left.size(), kCount);
}

TEST(PipelineTest, UpStopsEveryNodeCleanlyOnSigterm) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->StartUp().ok());
  PushTransactions(*h, 2000, 1, 7);
  ASSERT_TRUE(h->WaitForOutputs(2000, seconds(60))) << h->ReadLog("up");
  h->up().Signal(SIGTERM);
  ASSERT_TRUE(h->up().WaitFor(seconds(60)));
  EXPECT_EQ(h->up().exit_code(), 0);
  const std::string log = h->ReadLog("up");
  EXPECT_NE(log.find("all nodes stopped"), std::string::npos) << log;
  for (const char* node : {"bridge", "ventilator", "worker-1", "worker-2", "sink"}) {
    EXPECT_NE(h->ReadLog(node).find("stopped"), std::string::npos) << node << ":\n" << h->ReadLog(node);
  }
}

TEST(PipelineTest, UpRestartsAWorkerThatDies) {
  auto h = MakeCluster(1);
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->StartUp().ok());
  PushTransactions(*h, 1000, 1, 3);
  ASSERT_TRUE(h->WaitForOutputs(1000, seconds(60)));
  // Find the worker's pid from its own start line and kill it hard.
  const std::string up_log = h->ReadLog("up");
  const size_t at = up_log.find("started worker-1 (pid ");
  ASSERT_NE(at, std::string::npos) << up_log;
  const pid_t pid = std::stoi(up_log.substr(at + 22));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // The supervisor notices and starts a new worker-1. (Batches already in the
  // killed worker's pipe are lost until the reliability work of issue 3, so
  // the new transactions go in after the restart.)
  const auto until = std::chrono::steady_clock::now() + seconds(30);
  std::string after = h->ReadLog("up");
  while (after.find("started worker-1", at + 1) == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = h->ReadLog("up");
  }
  EXPECT_NE(after.find("worker-1 (pid " + std::to_string(pid) + ") exited with code 137"), std::string::npos)
      << after;
  ASSERT_NE(after.find("started worker-1", at + 1), std::string::npos) << after;
  const long long before = h->Length(h->topology().queue.output);
  PushTransactions(*h, 1000, 1001, 4);
  ASSERT_TRUE(h->WaitForOutputs(before + 1000, seconds(60))) << h->ReadLog("up");
}

TEST(PipelineTest, UpRefusesToStartWithAMissingModel) {
  auto h = MakeCluster(1);
  ASSERT_TRUE(h);
  h->topology().model.path = (h->dir() / "no-such-model.json").string();
  ASSERT_TRUE(h->StartUp().ok());
  ASSERT_TRUE(h->up().WaitFor(seconds(30)));
  EXPECT_NE(h->up().exit_code(), 0);
  EXPECT_NE(h->ReadLog("up").find("no-such-model.json"), std::string::npos) << h->ReadLog("up");
}

TEST(PipelineTest, WorkerWithACorruptModelExitsWithAClearMessage) {
  auto h = MakeCluster(1);
  ASSERT_TRUE(h);
  const auto corrupt = h->dir() / "corrupt.json";
  std::ofstream(corrupt) << "{\"learner\": [not a model";
  h->topology().model.path = corrupt.string();
  auto worker = h->StartRole("worker", {}, "corrupt-worker");
  ASSERT_TRUE(worker.ok()) << worker.status().message();
  ASSERT_TRUE(worker->WaitFor(seconds(30)));
  EXPECT_EQ(worker->exit_code(), 1);
  const std::string log = h->ReadLog("corrupt-worker");
  EXPECT_NE(log.find("cannot load the model"), std::string::npos) << log;
  EXPECT_NE(log.find("corrupt.json"), std::string::npos) << log;
}

}  // namespace
}  // namespace scorepipe::testing
