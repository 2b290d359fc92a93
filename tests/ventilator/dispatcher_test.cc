// The Dispatcher's bookkeeping, with a fake clock: who gets which batch,
// when batches come back, and how credits flow.
#include "ventilator/dispatcher.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace scorepipe {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kBatchTimeout{10000};
constexpr milliseconds kDeadAfter{3000};

class DispatcherTest : public ::testing::Test {
 protected:
  Dispatcher d{2, kBatchTimeout, kDeadAfter};
  SteadyClock::time_point now = SteadyClock::time_point{} + std::chrono::hours(1);

  void Join(const std::string& routing_id, const std::string& worker_id, uint32_t credit = 2,
            uint64_t session = 1) {
    WorkerReady ready;
    ready.worker_id = worker_id;
    ready.host = "host";
    ready.pid = 7;
    ready.session = session;
    ready.credit = credit;
    d.OnReady(routing_id, ready, now);
  }

  void Enqueue(uint64_t id) { d.Enqueue(id, zmq::message_t(std::to_string(id))); }

  // Sends everything that can be sent now; returns (worker, batch) pairs.
  std::vector<std::pair<std::string, uint64_t>> SendAll() {
    std::vector<std::pair<std::string, uint64_t>> sent;
    while (auto a = d.Next()) {
      sent.emplace_back(a->routing_id, a->batch_id);
      d.Sent(*a, now);
    }
    return sent;
  }

  void Beat(const std::string& routing_id, uint64_t transactions = 0) {
    Heartbeat hb;
    hb.transactions_scored = transactions;
    d.OnHeartbeat(routing_id, hb, now);
  }
};

TEST_F(DispatcherTest, NothingIsSentWithoutAWorker) {
  Enqueue(1);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_FALSE(d.WantsMore());
  EXPECT_EQ(d.queued(), 1u);
}

TEST_F(DispatcherTest, AWorkerGetsAtMostItsCredit) {
  Join("a", "A", 2);
  for (uint64_t i = 1; i <= 5; ++i) Enqueue(i);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].second, 1u);
  EXPECT_EQ(sent[1].second, 2u);
  EXPECT_EQ(d.in_flight(), 2u);
  EXPECT_EQ(d.queued(), 3u);
  EXPECT_FALSE(d.WantsMore());
}

TEST_F(DispatcherTest, CreditIsCappedByTheTopology) {
  Join("a", "A", 50);
  for (uint64_t i = 1; i <= 5; ++i) Enqueue(i);
  EXPECT_EQ(SendAll().size(), 2u);
}

TEST_F(DispatcherTest, DoneGivesCreditBackAndClearsTheLedger) {
  Join("a", "A", 1);
  Enqueue(1);
  Enqueue(2);
  ASSERT_EQ(SendAll().size(), 1u);
  d.OnDone("a", BatchDone{1, 1, {}}, now);
  EXPECT_EQ(d.in_flight(), 0u);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second, 2u);
}

TEST_F(DispatcherTest, WorkIsSpreadOverWorkers) {
  Join("a", "A");
  Join("b", "B");
  for (uint64_t i = 1; i <= 4; ++i) Enqueue(i);
  std::map<std::string, int> per_worker;
  for (const auto& [worker, batch] : SendAll()) ++per_worker[worker];
  EXPECT_EQ(per_worker["a"], 2);
  EXPECT_EQ(per_worker["b"], 2);
}

TEST_F(DispatcherTest, WantsMoreOnlyWhileCreditExceedsTheQueue) {
  Join("a", "A", 2);
  EXPECT_TRUE(d.WantsMore());
  Enqueue(1);
  EXPECT_TRUE(d.WantsMore());
  Enqueue(2);
  EXPECT_FALSE(d.WantsMore());
}

TEST_F(DispatcherTest, ASilentWorkerIsDeclaredDeadAndItsBatchesGoToAnother) {
  Join("a", "A");
  Join("b", "B", 0);
  Enqueue(1);
  Enqueue(2);
  ASSERT_EQ(SendAll().size(), 2u);  // both to a
  now += milliseconds(2000);
  Beat("b");
  EXPECT_TRUE(d.Expire(now).empty());  // a silent for 2 s: not yet
  now += milliseconds(1500);
  Beat("b");
  std::vector<Requeue> requeues = d.Expire(now);
  ASSERT_EQ(requeues.size(), 1u);
  EXPECT_EQ(requeues[0].worker_id, "A");
  EXPECT_EQ(requeues[0].batches, 2u);
  EXPECT_EQ(requeues[0].reason, "silent for 3500 ms");
  EXPECT_EQ(d.live_workers(), 1u);
  EXPECT_EQ(d.queued(), 2u);
  EXPECT_EQ(d.stats().redispatched, 2u);
  // b gets them as soon as it has credit, oldest first.
  d.OnReady("b", WorkerReady{"B", "host", 8, 1, 2, WorkerState::kActive}, now);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0], (std::pair<std::string, uint64_t>{"b", 1}));
  EXPECT_EQ(sent[1], (std::pair<std::string, uint64_t>{"b", 2}));
}

TEST_F(DispatcherTest, HeartbeatsKeepAWorkerAlive) {
  Join("a", "A");
  for (int i = 0; i < 10; ++i) {
    now += milliseconds(1000);
    Beat("a");
    EXPECT_TRUE(d.Expire(now).empty());
  }
  EXPECT_EQ(d.live_workers(), 1u);
}

TEST_F(DispatcherTest, AnOverdueBatchIsSentAgainWhileItsWorkerStaysAlive) {
  Join("a", "A", 1);
  Join("b", "B", 1);
  Enqueue(1);
  auto first = SendAll();
  ASSERT_EQ(first.size(), 1u);
  for (int i = 0; i < 11; ++i) {
    now += milliseconds(1000);
    Beat("a");
    Beat("b");
  }
  std::vector<Requeue> requeues = d.Expire(now);
  ASSERT_EQ(requeues.size(), 1u);
  EXPECT_EQ(requeues[0].batches, 1u);
  EXPECT_EQ(d.stats().overdue, 1u);
  auto again = SendAll();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].second, 1u);
  EXPECT_NE(again[0].first, first[0].first);  // the other one has the credit
  // The slow worker's late Done frees its slot but does not touch the new assignment.
  d.OnDone(first[0].first, BatchDone{1, 1, {}}, now);
  EXPECT_EQ(d.in_flight(), 1u);
  d.OnDone(again[0].first, BatchDone{1, 1, {}}, now);
  EXPECT_EQ(d.in_flight(), 0u);
}

TEST_F(DispatcherTest, ANewSessionOfTheSameWorkerReplacesTheOld) {
  Join("a#1", "A", 2, 1);
  Enqueue(1);
  ASSERT_EQ(SendAll().size(), 1u);
  WorkerReady again{"A", "host", 9, 2, 2, WorkerState::kActive};
  std::optional<Requeue> requeue = d.OnReady("a#2", again, now);
  ASSERT_TRUE(requeue.has_value());
  EXPECT_EQ(requeue->batches, 1u);
  EXPECT_EQ(d.live_workers(), 1u);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "a#2");
  EXPECT_NE(requeue->reason.find("new process"), std::string::npos) << requeue->reason;
}

TEST_F(DispatcherTest, TheSameWorkerOnANewConnectionGetsItsLostBatchesBackAtOnce) {
  Join("a#1.0", "A", 2, 1);
  Enqueue(1);
  Enqueue(2);
  ASSERT_EQ(SendAll().size(), 2u);
  // Its old connection went silent; it connected again, same process.
  now += milliseconds(500);
  WorkerReady again{"A", "host", 7, 1, 2, WorkerState::kActive};
  std::optional<Requeue> requeue = d.OnReady("a#1.1", again, now);
  ASSERT_TRUE(requeue.has_value());
  EXPECT_EQ(requeue->batches, 2u);
  EXPECT_NE(requeue->reason.find("connected again"), std::string::npos) << requeue->reason;
  EXPECT_EQ(d.live_workers(), 1u);
  auto sent = SendAll();  // long before the batch timeout
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].first, "a#1.1");
  EXPECT_EQ(sent[1].first, "a#1.1");
}
TEST_F(DispatcherTest, ADrainingWorkerGetsNothingMoreAndALeavingOneHandsBack) {
  Join("a", "A");
  Join("b", "B");
  Enqueue(1);
  Enqueue(2);
  Enqueue(3);
  Enqueue(4);
  ASSERT_EQ(SendAll().size(), 4u);
  d.OnReady("a", WorkerReady{"A", "host", 7, 1, 0, WorkerState::kDraining}, now);
  d.OnDone("a", BatchDone{1, 1, {}}, now);
  d.OnDone("b", BatchDone{2, 1, {}}, now);
  Enqueue(5);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "b");
  std::optional<Requeue> left = d.OnReady("a", WorkerReady{"A", "host", 7, 1, 0, WorkerState::kLeaving}, now);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->reason, "left");
  EXPECT_EQ(d.live_workers(), 1u);
  EXPECT_EQ(d.queued(), 1u);  // a's unfinished batch is queued again
}

TEST_F(DispatcherTest, ABlockedWorkerHandsBackAtOnceStaysListedAndGetsWorkOnlyWhenActiveAgain) {
  Join("a", "A");
  Join("b", "B");
  for (uint64_t id = 1; id <= 4; ++id) Enqueue(id);
  const auto first = SendAll();
  ASSERT_EQ(first.size(), 4u);
  std::optional<Requeue> blocked =
      d.OnReady("a", WorkerReady{"A", "host", 7, 1, 0, WorkerState::kBlocked}, now);
  ASSERT_TRUE(blocked.has_value());
  EXPECT_EQ(blocked->batches, 2u);
  EXPECT_NE(blocked->reason.find("cannot deliver"), std::string::npos) << blocked->reason;
  EXPECT_EQ(d.queued(), 2u);  // a's two batches, at once: no wait for a timeout
  EXPECT_EQ(d.live_workers(), 1u);
  Heartbeat hb;
  hb.link_error = "the sink: refused this host's CURVE key";
  EXPECT_TRUE(d.OnHeartbeat("a", hb, now)) << "a blocked worker stays known";
  bool listed = false;
  for (const WorkerView& w : d.Workers()) {
    if (w.routing_id != "a") continue;
    listed = true;
    EXPECT_EQ(w.state, WorkerState::kBlocked);
    EXPECT_EQ(w.in_flight, 0u);
    EXPECT_EQ(w.link_error, hb.link_error);
  }
  EXPECT_TRUE(listed);
  // Only b gets work while a is blocked.
  for (const auto& [worker, batch] : first) {
    if (worker == "b") d.OnDone("b", BatchDone{batch, 1, {}}, now);
  }
  const auto second = SendAll();
  EXPECT_EQ(second.size(), 2u);
  for (const auto& [worker, batch] : second) EXPECT_EQ(worker, "b") << batch;
  d.OnReady("a", WorkerReady{"A", "host", 7, 1, 2, WorkerState::kActive}, now);
  EXPECT_EQ(d.live_workers(), 2u);
  Enqueue(5);
  Enqueue(6);
  Enqueue(7);
  std::set<std::string> takers;
  for (const auto& [worker, batch] : SendAll()) takers.insert(worker);
  EXPECT_TRUE(takers.contains("a"));
}

TEST_F(DispatcherTest, AGoneWorkerIsDroppedAndAFullOneSkipped) {
  Join("a", "A");
  Join("b", "B");
  Enqueue(1);
  auto a = d.Next();
  ASSERT_TRUE(a.has_value());
  d.SendFailed(a->routing_id, /*gone=*/false, now);  // full: credit 0
  auto b = d.Next();
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(b->routing_id, a->routing_id);
  std::optional<Requeue> gone = d.SendFailed(b->routing_id, /*gone=*/true, now);
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(d.live_workers(), 1u);
  EXPECT_FALSE(d.Next().has_value());
}

TEST_F(DispatcherTest, AnUnknownWorkersHeartbeatAsksItToAnnounce) {
  Heartbeat hb;
  EXPECT_FALSE(d.OnHeartbeat("stranger", hb, now));
  Join("a", "A");
  EXPECT_TRUE(d.OnHeartbeat("a", hb, now));
  d.OnDone("stranger", BatchDone{5, 1, {}}, now);  // ignored, no crash
  EXPECT_EQ(d.stats().batches_done, 0u);
}

TEST_F(DispatcherTest, ThroughputComesFromSuccessiveHeartbeats) {
  Join("a", "A");
  Beat("a", 0);
  now += milliseconds(1000);
  Beat("a", 1000);
  EXPECT_DOUBLE_EQ(d.Workers()[0].transactions_per_second, 1000.0) << "the first rate counts from 0";
  now += milliseconds(500);
  d.OnDone("a", BatchDone{77, 1, {}}, now);  // other messages do not shorten the interval
  now += milliseconds(500);
  Beat("a", 51000);
  ASSERT_EQ(d.Workers().size(), 1u);
  EXPECT_DOUBLE_EQ(d.Workers()[0].transactions_per_second, 50000.0);
  EXPECT_EQ(d.Workers()[0].transactions_scored, 51000u);
}

TEST_F(DispatcherTest, ABatchThatKillsEveryWorkerIsGivenUpAfterMaxAttempts) {
  Enqueue(1);
  for (uint32_t attempt = 1; attempt <= Dispatcher::kDefaultMaxAttempts; ++attempt) {
    const std::string id = "w" + std::to_string(attempt);
    Join(id, id);
    auto sent = SendAll();
    ASSERT_EQ(sent.size(), 1u) << attempt;
    EXPECT_EQ(sent[0].second, 1u);
    std::optional<Requeue> gone = d.SendFailed(id, /*gone=*/true, now);  // it died on the batch
    ASSERT_TRUE(gone.has_value());
    if (attempt < Dispatcher::kDefaultMaxAttempts) {
      EXPECT_TRUE(d.TakePoisoned().empty()) << attempt;
      EXPECT_EQ(d.queued(), 1u);
    }
  }
  std::vector<Dispatcher::Poisoned> poisoned = d.TakePoisoned();
  ASSERT_EQ(poisoned.size(), 1u);
  EXPECT_EQ(poisoned[0].batch_id, 1u);
  EXPECT_EQ(poisoned[0].attempts, Dispatcher::kDefaultMaxAttempts);
  EXPECT_EQ(poisoned[0].frame.to_string(), "1");
  EXPECT_EQ(d.queued(), 0u);
  EXPECT_EQ(d.stats().poisoned, 1u);
}

TEST_F(DispatcherTest, EveryBatchIsDoneExactlyOnceUnderChurn) {
  // Workers come and go at random; every batch must end up done by someone.
  std::mt19937 rng(7);
  std::set<uint64_t> done;
  std::map<std::string, std::vector<uint64_t>> holding;
  std::set<std::string> dead;
  uint64_t next_batch = 1;
  int next_worker = 0;
  auto join = [&] {
    std::string id = "w";
    id += std::to_string(next_worker++);
    Join(id, id);
  };
  join();
  join();
  for (int step = 0; step < 2000; ++step) {
    now += milliseconds(100);
    if (next_batch <= 500) Enqueue(next_batch++);
    for (const auto& [worker, batch] : SendAll()) holding[worker].push_back(batch);
    for (auto& [worker, batches] : holding) {
      if (batches.empty() || rng() % 3 != 0) continue;
      d.OnDone(worker, BatchDone{batches.front(), 1, {}}, now);
      done.insert(batches.front());
      batches.erase(batches.begin());
    }
    for (const WorkerView& w : d.Workers()) {
      if (!dead.contains(w.routing_id) && rng() % 50 != 0) Beat(w.routing_id);  // some beats get lost
    }
    if (rng() % 100 == 0 && d.live_workers() > 0) {  // a worker dies: silent, its batches lost
      const std::string victim = d.Workers()[rng() % d.live_workers()].routing_id;
      dead.insert(victim);
      holding.erase(victim);
    }
    d.Expire(now);
    size_t living = 0;
    for (const WorkerView& w : d.Workers()) living += dead.contains(w.routing_id) ? 0 : 1;
    if (living < 2) join();
  }
  EXPECT_EQ(done.size(), 500u);
  EXPECT_EQ(d.queued(), 0u);
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

class DispatcherPoisonTest : public DispatcherTest {};

TEST_F(DispatcherPoisonTest, ABatchAWorkerRefusedIsGivenUpAtOnceWithItsReason) {
  Join("a", "A", 2);
  Enqueue(1);
  ASSERT_EQ(SendAll().size(), 1u);
  d.OnDone("a", BatchDone{1, 1, "frame declares a string of more than 1048576 bytes"}, now);
  std::vector<Dispatcher::Poisoned> poisoned = d.TakePoisoned();
  ASSERT_EQ(poisoned.size(), 1u);
  EXPECT_EQ(poisoned[0].batch_id, 1u);
  EXPECT_EQ(poisoned[0].reason, "worker A refused it: frame declares a string of more than 1048576 bytes");
  EXPECT_EQ(std::string(static_cast<const char*>(poisoned[0].frame.data()), poisoned[0].frame.size()), "1");
  EXPECT_EQ(d.in_flight(), 0u);
  EXPECT_EQ(d.queued(), 0u);
  EXPECT_EQ(d.stats().refused, 1u);
  // Its credit came back.
  Enqueue(2);
  Enqueue(3);
  EXPECT_EQ(SendAll().size(), 2u);
}

TEST_F(DispatcherPoisonTest, ARefusalFromAWorkerThatNoLongerHoldsTheBatchChangesNothing) {
  Join("a", "A", 2);
  Join("b", "B", 2);
  Enqueue(1);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 1u);
  const std::string other = sent[0].first == "a" ? "b" : "a";
  d.OnDone(other, BatchDone{1, 1, "refused"}, now);
  EXPECT_TRUE(d.TakePoisoned().empty());
  EXPECT_EQ(d.in_flight(), 1u);
}

TEST_F(DispatcherPoisonTest, PartsGoFirstAndAreGivenUpAfterTheirOwnAttempts) {
  Join("a", "A", 1);
  Enqueue(1);
  d.EnqueueFront(100, zmq::message_t(std::string("part")), 2);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second, 100u);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    now += kBatchTimeout + milliseconds(1);
    Beat("a");
    d.Expire(now);
    if (attempt == 1) {
      EXPECT_TRUE(d.TakePoisoned().empty());
      Join("a", "A", 1);  // its credit back
      ASSERT_EQ(SendAll().front().second, 100u);
    }
  }
  std::vector<Dispatcher::Poisoned> poisoned = d.TakePoisoned();
  ASSERT_EQ(poisoned.size(), 1u);
  EXPECT_EQ(poisoned[0].batch_id, 100u);
  EXPECT_EQ(poisoned[0].reason, "every worker that took it died or timed out on it (2 attempts)");
  EXPECT_EQ(d.stats().parts, 1u);
}

// --- Online batches (from gateways) ----------------------------------------

TEST_F(DispatcherTest, OnlineBatchesGoBeforeTheBridgesInTheirOwnOrder) {
  Join("a", "A", 2);
  Enqueue(1);
  Enqueue(2);
  d.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw", now + milliseconds(5000));
  d.EnqueueOnline(11, zmq::message_t(std::string("11")), "gw", now + milliseconds(5000));
  EXPECT_EQ(d.queued(), 4u);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].second, 10u);
  EXPECT_EQ(sent[1].second, 11u);
  EXPECT_EQ(d.stats().online_received, 2u);
}

// For `scorepipe status`: each gateway's online batches until answered,
// queued or at a worker; the bridge's batches are nobody's.
TEST_F(DispatcherTest, CountsEachGatewaysOnlineBatchesUntilAnswered) {
  Join("a", "A", 1);
  Enqueue(1);
  d.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw-1", now + milliseconds(5000));
  d.EnqueueOnline(11, zmq::message_t(std::string("11")), "gw-1", now + milliseconds(5000));
  d.EnqueueOnline(12, zmq::message_t(std::string("12")), "gw-2", now + milliseconds(5000));
  EXPECT_EQ(d.OnlineByGateway(), (std::map<std::string, size_t>{{"gw-1", 2}, {"gw-2", 1}}));
  ASSERT_EQ(SendAll().size(), 1u);  // 10 to the worker, the rest queued
  EXPECT_EQ(d.OnlineByGateway(), (std::map<std::string, size_t>{{"gw-1", 2}, {"gw-2", 1}}));
  ASSERT_EQ(d.TakeReturnAddress(10), "gw-1");
  EXPECT_EQ(d.OnlineByGateway(), (std::map<std::string, size_t>{{"gw-1", 1}, {"gw-2", 1}}));
}

TEST_F(DispatcherTest, AnOnlineBatchIsAnsweredOnceEvenWhenDispatchedTwice) {
  Join("a", "A", 1);
  Join("b", "B", 1);
  d.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw-1", now + milliseconds(60000));
  auto first = SendAll();
  ASSERT_EQ(first.size(), 1u);
  // Overdue: it goes to the other worker; then both answer.
  now += kBatchTimeout + milliseconds(1);
  Beat("a");
  Beat("b");
  d.Expire(now);
  auto second = SendAll();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].first, first[0].first);
  EXPECT_EQ(d.TakeReturnAddress(10), std::optional<std::string>("gw-1"));
  EXPECT_EQ(d.TakeReturnAddress(10), std::nullopt);
  EXPECT_EQ(d.stats().online_answered, 1u);
  // A bridge batch has no return address.
  Enqueue(3);
  d.OnDone(second[0].first, BatchDone{10, 1, {}}, now);
  auto third = SendAll();
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(d.TakeReturnAddress(3), std::nullopt);
  EXPECT_EQ(d.TakeReturnAddress(999), std::nullopt);
}

TEST_F(DispatcherTest, AnAnsweredBatchIsNotSentAgainWhenItsWorkerDies) {
  Join("a", "A", 1);
  Join("b", "B", 1);
  d.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw", now + milliseconds(60000));
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(d.TakeReturnAddress(10).has_value());
  // Its worker dies after the results and before its BatchDone.
  now += kDeadAfter + milliseconds(1);
  Beat(sent[0].first == "a" ? "b" : "a");
  d.Expire(now);
  EXPECT_EQ(d.queued(), 0u);
  EXPECT_EQ(d.in_flight(), 0u);
  EXPECT_TRUE(SendAll().empty());
}

TEST_F(DispatcherTest, AQueuedCopyIsDroppedWhenTheDeadWorkerAnswersAfterAll) {
  Join("a", "A", 1);
  d.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw", now + milliseconds(60000));
  ASSERT_EQ(SendAll().size(), 1u);
  now += kDeadAfter + milliseconds(1);
  d.Expire(now);  // "a" is silent: the batch is queued again, nobody to take it
  EXPECT_EQ(d.queued(), 1u);
  EXPECT_EQ(d.TakeReturnAddress(10), std::optional<std::string>("gw"));
  EXPECT_EQ(d.queued(), 0u);
}

TEST_F(DispatcherTest, AnOnlineBatchStillQueuedAtItsExpiryIsDropped) {
  d.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw", now + milliseconds(500));
  d.EnqueueOnline(11, zmq::message_t(std::string("11")), "gw", now + milliseconds(5000));
  Enqueue(1);
  now += milliseconds(501);
  d.Expire(now);
  EXPECT_EQ(d.queued(), 2u);
  EXPECT_EQ(d.stats().online_expired, 1u);
  Join("a", "A", 2);
  auto sent = SendAll();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].second, 11u);
  EXPECT_EQ(sent[1].second, 1u);
}

TEST_F(DispatcherTest, APoisonOnlineBatchKeepsItsReturnAddressAndItsPartsStayOnline) {
  Dispatcher one{2, kBatchTimeout, kDeadAfter, /*max_attempts=*/1};
  WorkerReady ready;
  ready.worker_id = "A";
  ready.session = 1;
  ready.credit = 2;
  one.OnReady("a", ready, now);
  const auto expires = now + milliseconds(60000);
  one.EnqueueOnline(10, zmq::message_t(std::string("10")), "gw-9", expires);
  auto a = one.Next();
  ASSERT_TRUE(a.has_value());
  one.Sent(*a, now);
  one.OnDone("a", BatchDone{10, 1, "does not decode"}, now);
  std::vector<Dispatcher::Poisoned> poisoned = one.TakePoisoned();
  ASSERT_EQ(poisoned.size(), 1u);
  EXPECT_EQ(poisoned[0].return_to, "gw-9");
  EXPECT_EQ(poisoned[0].expires, expires);
  // Its parts go before the bridge's batches, and answer the same gateway.
  one.Enqueue(1, zmq::message_t(std::string("1")));
  one.EnqueueFront(20, zmq::message_t(std::string("20")), 2, poisoned[0].return_to, poisoned[0].expires);
  a = one.Next();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->batch_id, 20u);
  one.Sent(*a, now);
  EXPECT_EQ(one.TakeReturnAddress(20), std::optional<std::string>("gw-9"));
}

}  // namespace
}  // namespace scorepipe
