// A lease that the cluster keeps losing (its holders die with it, again and
// again) is dead-lettered once it has been handed out queue.max_deliveries
// times, message by message with the reason, and never sent again; a lease
// at the limit is still sent and scored. The deliveries are counted in Redis,
// so the count survives the processes that held the lease: here the test
// process plays the holders that died, and the cluster's bridge is the next.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "queue/queue.h"
#include "tests/support/cluster_harness.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kInflightTimeoutMs = 1000;

std::vector<std::string> Messages(SyntheticTransactions& generator, size_t n) {
  std::vector<std::string> messages;
  for (size_t i = 0; i < n; ++i) messages.push_back(generator.Next().json);
  return messages;
}

// Waits until a lease of the queue is older than the in-flight timeout, then
// reclaims it (a holder that died), returning the new lease.
Lease ReclaimWhenStale(Queue& queue) {
  std::this_thread::sleep_for(milliseconds(kInflightTimeoutMs + 100));  // the timeout is what is tested
  Lease out;
  EXPECT_TRUE(queue.Reclaim(kInflightTimeoutMs, 1000, &out).ok());
  return out;
}

TEST(PoisonLeaseTest, ALeaseReclaimedPastMaxDeliveriesIsDeadLetteredAndNeverSentAgain) {
  auto created = ClusterHarness::Create(2);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  h.topology().queue.inflight_timeout_ms = kInflightTimeoutMs;
  h.topology().queue.max_deliveries = 3;
  h.topology().bridge.block_timeout_ms = 100;
  Result<std::unique_ptr<Queue>> opened = OpenQueue(h.topology().queue);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Queue& queue = *opened.value();

  SyntheticTransactions generator(5, 1000);
  const std::vector<std::string> poison = Messages(generator, 10);    // lease A
  const std::vector<std::string> at_limit = Messages(generator, 10);  // lease B
  Lease a;
  ASSERT_TRUE(queue.Push(poison).ok());
  ASSERT_TRUE(queue.Take(10, 0, &a).ok());
  ASSERT_EQ(a.messages, poison);
  EXPECT_EQ(a.deliveries, 1u);
  Lease b;
  ASSERT_TRUE(queue.Push(at_limit).ok());
  ASSERT_TRUE(queue.Take(10, 0, &b).ok());
  EXPECT_EQ(b.deliveries, 1u);
  // A is handed out three times, B twice, by holders that all die.
  Lease a2 = ReclaimWhenStale(queue);
  ASSERT_EQ(a2.messages, poison);
  EXPECT_EQ(a2.deliveries, 2u);
  Lease b2;
  ASSERT_TRUE(queue.Reclaim(kInflightTimeoutMs, 1000, &b2).ok());
  ASSERT_EQ(b2.messages, at_limit);
  EXPECT_EQ(b2.deliveries, 2u);
  Lease a3 = ReclaimWhenStale(queue);
  ASSERT_EQ(a3.messages, poison);
  EXPECT_EQ(a3.deliveries, 3u);

  // The cluster's bridge reclaims both: B a third time (at the limit: sent),
  // A a fourth (past it: dead-lettered).
  ASSERT_TRUE(h.StartUp().ok());
  const std::vector<std::string> later = Messages(generator, 30);
  ASSERT_TRUE(queue.Push(later).ok());
  ASSERT_TRUE(h.WaitForOutputs(50, std::chrono::seconds(60))) << h.ReadLog("bridge");

  const std::vector<std::string> dead = h.Entries(h.topology().queue.dead_letter);
  const std::vector<std::string> results = h.Entries(h.topology().queue.output);
  ASSERT_EQ(dead.size(), poison.size()) << h.ReadLog("bridge");
  EXPECT_EQ(results.size(), at_limit.size() + later.size());
  simdjson::dom::parser parser;
  std::vector<std::string> originals;
  for (const std::string& entry : dead) {
    simdjson::dom::element json;
    ASSERT_EQ(parser.parse(entry).get(json), simdjson::SUCCESS) << entry;
    std::string_view reason;
    ASSERT_EQ(json["reason"].get_string().get(reason), simdjson::SUCCESS);
    EXPECT_EQ(reason.rfind("poison: delivered 4 times (queue.max_deliveries 3)", 0), 0u) << reason;
    std::string_view original;
    ASSERT_EQ(json["message"].get_string().get(original), simdjson::SUCCESS);
    originals.emplace_back(original);
  }
  EXPECT_EQ(originals, poison);
  // Nothing is held any more, and A does not come round again.
  std::this_thread::sleep_for(milliseconds(2 * kInflightTimeoutMs));  // a reclaim period or more
  Result<QueueDepth> depth = queue.Depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->in_flight, 0);
  EXPECT_EQ(depth->waiting, 0);
  EXPECT_EQ(h.Entries(h.topology().queue.dead_letter).size(), poison.size());
  EXPECT_EQ(h.Entries(h.topology().queue.output).size(), at_limit.size() + later.size());
  EXPECT_NE(h.ReadLog("bridge").find("handed out 4 times without an outcome"), std::string::npos);
}

}  // namespace
}  // namespace scorepipe::testing
