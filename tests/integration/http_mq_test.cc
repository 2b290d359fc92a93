// The whole pipeline on queue.kind http-mq, real end to end: `scorepipe up`
// as real processes against the stand-in for the upstream's HTTP service
// (in this test's process), transactions pushed with POST /push-n as the
// upstream's producers do, results read from the service's results queue.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "queue/queue.h"
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
  std::printf("HTTP-MQ CAPPED RUN: %zu results, %lld push-n answered 409 (queue full) of %lld\n",
              results.size(), static_cast<long long>(counters.pushes_full),
              static_cast<long long>(counters.pushes));
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

// Transactions of every kind, as the service's producers send them: plain,
// unusual but valid (unknown keys, which the service strips; spaces), and
// about 5% that scorepipe cannot score (seeded as they come, spread through).
// The results queue holds 50 at most and the test drains it as a consumer
// does. A tenth of the valid transactions are unusual but valid (RFC 2822
// and date-only timestamps, ids written 123.0). Every valid transaction is scored, every invalid one is in
// the journal's dead-letter file with its reason, and no result waits on a dead letter: the service has no
// dead-letter queue, so dead letters never go there.
TEST(HttpMqPipelineTest, DeadLettersNeverHoldResultsUpOnACappedResultsQueue) {
  auto h = MakeCluster(2);
  ASSERT_TRUE(h);
  constexpr size_t kCount = 2000;
  constexpr size_t kWave = 100;
  const std::string& input = h->topology().queue.input;
  const std::string& output = h->topology().queue.output;
  h->stand_in().SetCap(output, 50);
  SyntheticInput synthetic = MakeSyntheticInput(kCount, 1, 16);
  const char* kInvalid[] = {R"("status":"submitted")", R"("amount":-1)", R"("timestamp":"not a date")"};
  std::vector<std::string> messages;
  std::vector<Transaction> valid;
  std::set<int64_t> invalid_ids;
  std::set<int64_t> unusual_ids;  // written <id>.0
  for (size_t i = 0; i < kCount; ++i) {
    std::string m = synthetic.messages[i];
    const int64_t id = synthetic.parsed[i].id;
    if (i % 20 == 7) {  // invalid: a field replaced by a bad one (the last of a repeated key counts)
      m.insert(m.size() - 1, std::string(",") + kInvalid[i % 3]);
      invalid_ids.insert(id);
    } else {
      if (i % 10 == 3) m.insert(m.size() - 1, R"(, "note" : "unknown keys are stripped" )");
      Transaction t = synthetic.parsed[i];
      if (i % 20 == 11 || i % 20 == 13) {
        // Unusual but valid: the same instant as an RFC 2822 date, or the
        // day alone (midnight UTC), as the upstream's Date.parse reads them.
        const auto seconds_since_epoch = static_cast<time_t>(t.timestamp_unix_s);
        std::tm utc{};
        gmtime_r(&seconds_since_epoch, &utc);
        char text[64];
        std::strftime(text, sizeof text, i % 20 == 11 ? "%a, %d %b %Y %H:%M:%S GMT" : "%Y-%m-%d", &utc);
        if (i % 20 == 13) t.timestamp_unix_s -= static_cast<double>(seconds_since_epoch % 86400);
        const size_t at = m.find(t.timestamp);
        m.replace(at, t.timestamp.size(), text);
        t.timestamp = text;
      } else if (i % 20 == 17) {
        // An id written as a number that is not an integer literal: echoed as written.
        const std::string plain = "\"id\":" + std::to_string(t.id) + ",";
        m.replace(m.find(plain), plain.size(), "\"id\":" + std::to_string(t.id) + ".0,");
        unusual_ids.insert(t.id);
      }
      valid.push_back(t);
    }
    messages.push_back(std::move(m));
  }
  ASSERT_TRUE(h->StartUp().ok());

  // Waves of 100 every 20 ms, each transaction's push time kept; results
  // drained as they come, each one's latency from its push.
  using Clock = std::chrono::steady_clock;
  std::map<int64_t, Clock::time_point> pushed_at;
  std::vector<std::string> results;
  Clock::duration longest{0};
  // The first transaction alone, until its result is out: the cluster is up
  // and its model loaded, so the latencies below are the pipeline's.
  ASSERT_TRUE(h->stand_in().Seed(input, {messages[0]}));
  ASSERT_TRUE(WaitUntil([&] { return h->stand_in().Size(output) == 1; }, milliseconds(60000)))
      << h->LogTail("sink");
  results = h->stand_in().Drain(output);
  const auto start = Clock::now();
  size_t seeded = 1;
  auto next_wave = start;
  const auto until = start + seconds(60);
  while ((results.size() < valid.size() ||
          h->Length(h->topology().queue.dead_letter) < (long long)invalid_ids.size()) &&
         Clock::now() < until) {
    const auto now = Clock::now();
    if (seeded < kCount && now >= next_wave) {
      const size_t end = std::min(kCount, seeded + kWave);
      ASSERT_TRUE(h->stand_in().Seed(
          input, std::vector<std::string>(messages.begin() + seeded, messages.begin() + end)));
      for (size_t i = seeded; i < end; ++i) pushed_at[synthetic.parsed[i].id] = now;
      seeded = end;
      next_wave = now + milliseconds(20);
    }
    for (std::string& r : h->stand_in().Drain(output, 50)) {
      simdjson::dom::parser parser;
      int64_t id = 0;
      double number = 0;
      if (!parser.parse(r).at_key("transaction_id").get_double().get(number))
        id = static_cast<int64_t>(number);
      if (id > 0 && pushed_at.count(id)) {
        longest = std::max(longest, Clock::now() - pushed_at[id]);
      }
      results.push_back(std::move(r));
    }
    std::this_thread::sleep_for(milliseconds(2));  // a consumer's poll interval, not a synchronisation
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const std::vector<std::string> dead = h->Entries(h->topology().queue.dead_letter);
  std::printf(
      "HTTP-MQ DEAD LETTERS: %zu results of %zu valid, %zu dead letters of %zu invalid, %.1f s elapsed, "
      "longest push-to-result %.0f ms, %lld push-n answered 409\n",
      results.size(), valid.size(), dead.size(), invalid_ids.size(), elapsed,
      std::chrono::duration<double, std::milli>(longest).count(),
      static_cast<long long>(h->stand_in().counters().pushes_full));
  ASSERT_EQ(results.size(), valid.size()) << h->LogTail("sink");
  StopCluster(*h);
  EXPECT_TRUE(h->stand_in().Drain(output).empty()) << "results more than valid transactions";

  Status check = CheckAgainstModel(results, valid, h->topology_path());
  EXPECT_TRUE(check.ok()) << check.message();
  size_t echoed = 0;
  for (const std::string& r : results) {
    for (int64_t id : unusual_ids) {
      if (r.find("\"transaction_id\":" + std::to_string(id) + ".0,") != std::string::npos) ++echoed;
    }
  }
  EXPECT_EQ(echoed, unusual_ids.size()) << "an id written <id>.0 comes back as written";
  std::set<int64_t> dead_ids;
  for (const std::string& entry : dead) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_FALSE(parser.parse(entry).get(root)) << "a dead letter is one JSON line: " << entry;
    std::string_view reason;
    std::string_view original;
    ASSERT_FALSE(root["reason"].get_string().get(reason)) << entry;
    ASSERT_FALSE(root["message"].get_string().get(original)) << entry;
    EXPECT_FALSE(reason.empty()) << entry;
    simdjson::dom::parser inner;
    int64_t id = 0;
    ASSERT_FALSE(inner.parse(original).at_key("id").get_int64().get(id)) << entry;
    EXPECT_TRUE(dead_ids.insert(id).second) << "dead-lettered twice: " << entry;
  }
  EXPECT_EQ(dead_ids, invalid_ids);
  EXPECT_EQ(h->stand_in().counters().not_found, 0)
      << "nothing was pushed to a queue the service does not have";
  EXPECT_LT(longest, seconds(10)) << "a result waited on something";
  EXPECT_EQ(InJournal(*h), 0);
}

}  // namespace
}  // namespace scorepipe::testing
