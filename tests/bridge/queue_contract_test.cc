// The Queue contract (bridge/queue.h), written once and run against every
// queue kind on a real redis-server. A kind is one QueueKindCase: how the
// upstream's producers add input, how its consumers read what scorepipe
// published, and the two places where the kinds are allowed to differ.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bridge/queue.h"
#include "bridge/redis_client.h"
#include "cli/local_redis.h"
#include "tests/support/suite_redis.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Messages = std::vector<std::string>;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// The upstream's side of one queue kind.
struct QueueKindCase {
  std::string name;  // the test name suffix
  QueueKind kind;
  // Adds `messages` to the list or stream `key` as producers do, oldest first.
  std::function<Status(RedisClient&, const std::string& key, const Messages&)> produce;
  // Removes and returns everything in `key`, in the order consumers read it.
  std::function<Result<Messages>(RedisClient&, const std::string& key)> consume;
  // Whether a reclaimed lease's old id settles nothing at once (list), or
  // only the entries the new lease has settled already (stream: first wins).
  bool reclaim_revokes_old_lease;
  // Whether released messages are taken again at once (list), or come back
  // through Reclaim after the in-flight timeout (stream).
  bool release_returns_to_input;

  friend void PrintTo(const QueueKindCase& c, std::ostream* out) { *out << c.name; }
};

// Producers LPUSH one message at a time; consumers RPOP until the list is empty.
QueueKindCase RedisListKind() {
  return {"RedisList",
          QueueKind::kRedisList,
          [](RedisClient& redis, const std::string& key, const Messages& messages) -> Status {
            std::vector<std::vector<std::string_view>> pushes;
            for (const std::string& m : messages) pushes.push_back({"LPUSH", key, m});
            auto replies = redis.Pipeline(pushes);
            return replies.ok() ? Status::Ok() : replies.status();
          },
          [](RedisClient& redis, const std::string& key) -> Result<Messages> {
            Messages popped;
            while (true) {
              auto reply = redis.Command({"RPOP", key});
              if (!reply.ok()) return reply.status();
              if (reply.value()->type == REDIS_REPLY_NIL) return popped;
              popped.emplace_back(ReplyText(reply.value().get()));
            }
          },
          /*reclaim_revokes_old_lease=*/true,
          /*release_returns_to_input=*/true};
}

// Producers XADD entries with the message in the field "message"; consumers
// read the stream from its start (and here delete it).
QueueKindCase RedisStreamKind() {
  return {"RedisStream",
          QueueKind::kRedisStream,
          [](RedisClient& redis, const std::string& key, const Messages& messages) -> Status {
            std::vector<std::vector<std::string_view>> adds;
            for (const std::string& m : messages) adds.push_back({"XADD", key, "*", "message", m});
            auto replies = redis.Pipeline(adds);
            return replies.ok() ? Status::Ok() : replies.status();
          },
          [](RedisClient& redis, const std::string& key) -> Result<Messages> {
            auto replies = redis.Pipeline({{"XRANGE", key, "-", "+"}, {"DEL", key}});
            if (!replies.ok()) return replies.status();
            Messages read;
            const redisReply* entries = replies.value()[0].get();
            for (size_t i = 0; i < entries->elements; ++i) {
              const redisReply* fields = entries->element[i]->element[1];
              if (fields->elements != 2 || ReplyText(fields->element[0]) != "message") {
                return Status::Error("entry without exactly the field 'message'");
              }
              read.emplace_back(ReplyText(fields->element[1]));
            }
            return read;
          },
          /*reclaim_revokes_old_lease=*/false,
          /*release_returns_to_input=*/false};
}

// Generous: the machine may be loaded; these bound waits that should be short.
constexpr auto kSlack = std::chrono::seconds(3);
// An in-flight timeout no test reaches.
constexpr int kLongAgoMs = 600000;

// The outcomes a worker would produce for `lease`: the result of message m is
// "r(m)", except that messages starting with "bad" are dead-lettered as "d(m)".
std::vector<Outcome> OutcomesFor(const Lease& lease) {
  std::vector<Outcome> outcomes;
  for (const std::string& m : lease.messages) {
    const bool bad = m.starts_with("bad");
    outcomes.push_back(
        {bad ? Outcome::Route::kDeadLetter : Outcome::Route::kResult, (bad ? "d(" : "r(") + m + ")"});
  }
  return outcomes;
}

Messages Numbered(const std::string& prefix, int n) {
  Messages messages;
  for (int i = 0; i < n; ++i) messages.push_back(prefix + std::to_string(i));
  return messages;
}

Messages ResultsOf(const Messages& messages) {
  Messages results;
  for (const std::string& m : messages) results.push_back("r(" + m + ")");
  return results;
}

class QueueContractTest : public ::testing::TestWithParam<QueueKindCase> {
 protected:
  // One redis-server in one temporary directory for the whole suite; each
  // test starts from an empty database.
  static void SetUpTestSuite() { suite_.Start(); }
  static void TearDownTestSuite() { suite_.Stop(); }

  void SetUp() override {
    ASSERT_NE(suite_.server(), nullptr) << "cannot start redis-server: " << suite_.error();
    upstream_ = std::make_unique<RedisClient>(Config(suite_.server()->port()).redis);
    auto flushed = upstream_->Command({"FLUSHALL"});
    ASSERT_TRUE(flushed.ok()) << flushed.status().message();
    queue_ = Open(suite_.server()->port());
    ASSERT_NE(queue_, nullptr);
  }

  [[nodiscard]] QueueConfig Config(int port) const {
    QueueConfig config;
    config.kind = GetParam().kind;
    config.redis.port = port;
    return config;
  }

  [[nodiscard]] std::unique_ptr<Queue> Open(int port) const {
    auto queue = OpenQueue(Config(port));
    EXPECT_TRUE(queue.ok()) << queue.status().message();
    return queue.ok() ? std::move(queue.value()) : nullptr;
  }

  void Produce(const Messages& messages) {
    Status s = GetParam().produce(*upstream_, Config(0).input, messages);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  Messages Consume(const std::string& key) {
    auto consumed = GetParam().consume(*upstream_, key);
    EXPECT_TRUE(consumed.ok()) << consumed.status().message();
    return consumed.ok() ? consumed.value() : Messages{};
  }
  Messages Results() { return Consume(Config(0).output); }
  Messages DeadLetters() { return Consume(Config(0).dead_letter); }

  // Take into `lease` that must succeed; returns what this call took.
  Messages TakeInto(Lease* lease, size_t max, int block_ms = 0, Queue* queue = nullptr) {
    const size_t before = lease->messages.size();
    Status s = (queue != nullptr ? queue : queue_.get())->Take(max, block_ms, lease);
    EXPECT_TRUE(s.ok()) << s.message();
    return Messages(lease->messages.begin() + static_cast<ptrdiff_t>(before), lease->messages.end());
  }
  // Take into a new lease.
  Lease TakeLease(size_t max, int block_ms = 0) {
    Lease lease;
    TakeInto(&lease, max, block_ms);
    return lease;
  }
  Messages Take(size_t max, int block_ms = 0) { return TakeLease(max, block_ms).messages; }

  // Settle that must succeed, with OutcomesFor(lease).
  Settlement SettleAll(const Lease& lease, Queue* queue = nullptr) {
    auto settled = (queue != nullptr ? queue : queue_.get())->Settle(lease.id, OutcomesFor(lease));
    EXPECT_TRUE(settled.ok()) << settled.status().message();
    return settled.ok() ? settled.value() : Settlement{};
  }

  Lease Reclaim(int older_than_ms, size_t max = 1000) {
    Lease out;
    Status s = queue_->Reclaim(older_than_ms, max, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  // Polls Reclaim until the leases it handed out hold `count` messages in
  // all (fewer at the deadline). Stream entries expire one by one, so one
  // lease may come back as several.
  std::vector<Lease> ReclaimWithin(int older_than_ms, size_t count, Clock::duration timeout) {
    std::vector<Lease> leases;
    size_t held = 0;
    const auto until = Clock::now() + timeout;
    while (held < count && Clock::now() < until) {
      Lease out = Reclaim(older_than_ms);
      if (out.messages.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      held += out.messages.size();
      leases.push_back(std::move(out));
    }
    return leases;
  }

  static Messages MessagesOf(const std::vector<Lease>& leases) {
    Messages messages;
    for (const Lease& lease : leases)
      messages.insert(messages.end(), lease.messages.begin(), lease.messages.end());
    return messages;
  }

  QueueDepth Depth() {
    auto depth = queue_->Depth();
    EXPECT_TRUE(depth.ok()) << depth.status().message();
    return depth.ok() ? depth.value() : QueueDepth{-1, -1};
  }

  // A number from the server's INFO, e.g. ("stats", "total_commands_processed").
  int64_t Info(const std::string& section, const std::string& field) {
    auto reply = upstream_->Command({"INFO", section});
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    if (!reply.ok()) return -1;
    const std::string text(ReplyText(reply.value().get()));
    const size_t at = text.find("\n" + field + ":");
    return at == std::string::npos ? -1 : std::strtoll(text.c_str() + at + field.size() + 2, nullptr, 10);
  }

  // The number of connections the server accepted and commands it was sent
  // (not those scripts ran) for `action`.
  int64_t CommandsSentFor(const std::function<void()>& action) {
    auto sent = [&] {
      int64_t total = 0;
      auto reply = upstream_->Command({"INFO", "commandstats"});
      EXPECT_TRUE(reply.ok()) << reply.status().message();
      if (!reply.ok()) return total;
      // Scripts' own commands are counted too; count the script calls, the
      // commands a client sends directly, and a transaction by its WATCH and
      // EXEC (one round trip each).
      const std::string text(ReplyText(reply.value().get()));
      for (const char* command :
           {"evalsha", "eval", "script|load", "xreadgroup", "blmove", "xgroup|create", "watch", "exec"}) {
        const std::string key = std::string("cmdstat_") + command + ":calls=";
        const size_t at = text.find(key);
        if (at != std::string::npos) total += std::strtoll(text.c_str() + at + key.size(), nullptr, 10);
      }
      return total;
    };
    const int64_t before = sent();
    action();
    return sent() - before;
  }

  // Polls until the server's TIME has moved on by a millisecond (a restart
  // takes longer than that; a FLUSHALL may not).
  bool WaitForServerClockToTick() {
    auto now_ms = [&]() -> int64_t {
      auto reply = upstream_->Command({"TIME"});
      if (!reply.ok() || reply.value()->elements != 2) return -1;
      return std::strtoll(reply.value()->element[0]->str, nullptr, 10) * 1000 +
             std::strtoll(reply.value()->element[1]->str, nullptr, 10) / 1000;
    };
    const int64_t start = now_ms();
    const auto until = Clock::now() + kSlack;
    while (Clock::now() < until) {
      if (now_ms() > start) return start >= 0;
    }
    return false;
  }

  // Polls until some client is blocked waiting on the server.
  bool WaitForBlockedClient(Clock::duration timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (Info("clients", "blocked_clients") > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  static inline testing::SuiteRedis suite_;
  std::unique_ptr<RedisClient> upstream_;
  std::unique_ptr<Queue> queue_;
};

// --- Push and Take -----------------------------------------------------------

TEST_P(QueueContractTest, TakeReturnsMessagesOldestFirst) {
  Produce({"first", "second", "third"});
  EXPECT_EQ(Take(10), (Messages{"first", "second", "third"}));
}

TEST_P(QueueContractTest, PushedMessagesAreTakenOldestFirst) {
  ASSERT_TRUE(queue_->Push({"first", "second"}).ok());
  ASSERT_TRUE(queue_->Push(Numbered("m", 2500)).ok());
  Messages expected = {"first", "second"};
  for (const std::string& m : Numbered("m", 2500)) expected.push_back(m);
  EXPECT_EQ(Take(5000), expected);
}

TEST_P(QueueContractTest, PushingNothingIsFine) {
  EXPECT_TRUE(queue_->Push({}).ok());
  EXPECT_EQ(Take(10), Messages{});
}

TEST_P(QueueContractTest, TakeReturnsAtMostMaxAndLeavesTheRestForTheNextTake) {
  Produce({"a", "b", "c", "d", "e"});
  EXPECT_EQ(Take(2), (Messages{"a", "b"}));
  EXPECT_EQ(Take(10), (Messages{"c", "d", "e"}));
  EXPECT_EQ(Take(10), Messages{});
}

TEST_P(QueueContractTest, TakeAppendsAcrossCallsToOneLease) {
  Produce({"a", "b"});
  Lease lease;
  EXPECT_EQ(TakeInto(&lease, 1), Messages{"a"});
  EXPECT_FALSE(lease.id.empty()) << "the first Take opens the lease";
  Produce({"c"});
  EXPECT_EQ(TakeInto(&lease, 10), (Messages{"b", "c"}));
  EXPECT_EQ(lease.messages, (Messages{"a", "b", "c"}));
  EXPECT_EQ(Depth().in_flight, 3);

  Settlement settled = SettleAll(lease);
  EXPECT_EQ(settled.published, 3u);
  EXPECT_EQ(settled.duplicates, 0u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c"}));
}

TEST_P(QueueContractTest, TakeCostsOneRoundTripForManyMessagesAsForOne) {
  Take(1);  // connects, and lets a kind set up what it needs on first use
  Produce({"only"});
  const int64_t for_one = CommandsSentFor([&] { EXPECT_EQ(Take(1000).size(), 1u); });
  Produce(Messages(500, "many"));
  const int64_t for_many = CommandsSentFor([&] { EXPECT_EQ(Take(1000).size(), 500u); });
  EXPECT_EQ(for_one, 1) << "one command in one round trip";
  EXPECT_EQ(for_many, 1) << "one command in one round trip";
}

// A settlement's round trips do not grow with the number of outcomes: a
// script, or a WATCH and a transaction, for 500 as for 1.
TEST_P(QueueContractTest, SettleCostsAsManyRoundTripsForManyOutcomesAsForOne) {
  Produce(Numbered("m", 502));
  Lease warm_up = TakeLease(1);
  Lease one = TakeLease(1);
  Lease many = TakeLease(1000);
  SettleAll(warm_up);  // the first settlement may send its script
  const int64_t for_one = CommandsSentFor([&] { EXPECT_EQ(SettleAll(one).published, 1u); });
  const int64_t for_many = CommandsSentFor([&] { EXPECT_EQ(SettleAll(many).published, 500u); });
  EXPECT_EQ(for_many, for_one);
  EXPECT_LE(for_many, 2);
}

TEST_P(QueueContractTest, MessagesKeepEveryByte) {
  const Messages odd = {std::string("nul\0inside", 10), "", "line\nbreak and spaces", "\xff\xfe binary",
                        std::string(100000, 'x')};
  Produce(odd);
  Lease lease = TakeLease(10);
  EXPECT_EQ(lease.messages, odd);
  SettleAll(lease);
  EXPECT_EQ(Results(), ResultsOf(odd));
}

TEST_P(QueueContractTest, TakeOnAnEmptyQueueWaitsAboutBlockMsAndReturnsNothing) {
  const int block_ms = 400;
  const auto start = Clock::now();
  Lease lease = TakeLease(10, block_ms);
  const auto waited = Clock::now() - start;
  EXPECT_EQ(lease.messages, Messages{});
  EXPECT_GE(waited, std::chrono::milliseconds(block_ms / 2));
  EXPECT_LT(waited, std::chrono::milliseconds(block_ms) + kSlack);
  EXPECT_EQ(Depth().in_flight, 0);
  EXPECT_EQ(Reclaim(0).messages, Messages{}) << "a wait that brought nothing leaves nothing in flight";
}

TEST_P(QueueContractTest, TakeWithBlockMsZeroDoesNotWait) {
  const auto start = Clock::now();
  EXPECT_EQ(Take(10, 0), Messages{});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
}

TEST_P(QueueContractTest, MessagePushedWhileTakeBlocksIsReturnedInTheLease) {
  Take(1);  // connected, so that the blocked client below is this Take
  Lease lease;
  Status status;
  const auto start = Clock::now();
  std::thread taker([&] { status = queue_->Take(10, 20000, &lease); });
  const bool blocked = WaitForBlockedClient(std::chrono::seconds(10));
  Produce({"late"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(lease.messages, Messages{"late"});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(15))
      << "returned at its timeout, not with the message";
  EXPECT_EQ(Depth().in_flight, 1);
  EXPECT_EQ(SettleAll(lease).published, 1u);
  EXPECT_EQ(Results(), ResultsOf({"late"}));
}

// A Take waiting on an empty queue holds nothing: a bridge killed while it
// waits leaves nothing in flight to be reclaimed.
TEST_P(QueueContractTest, ATakeThatWaitsInVainLeavesNoLeaseAndNothingInFlight) {
  Take(1);
  std::unique_ptr<Queue> taker = Open(suite_.server()->port());
  Lease lease;
  Status status;
  std::thread waiting([&] { status = taker->Take(10, 1500, &lease); });
  const bool blocked = WaitForBlockedClient(std::chrono::seconds(10));
  const QueueDepth during = Depth();
  waiting.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(during.in_flight, 0);
  EXPECT_EQ(during.waiting, 0);
  EXPECT_TRUE(lease.messages.empty());
  EXPECT_TRUE(lease.id.empty()) << "no lease stays open when nothing came";
}

// A producer's pipeline of pushes wakes the waiting Take with its first
// message; the rest, right behind it, ride in the same lease (one batch, not
// a batch of one and another of the rest).
TEST_P(QueueContractTest, MessagesPushedTogetherWhileTakeBlocksComeInOneTake) {
  Take(1);
  Lease lease;
  Status status;
  std::thread taker([&] { status = queue_->Take(100, 20000, &lease); });
  const bool blocked = WaitForBlockedClient(std::chrono::seconds(10));
  Produce({"a", "b", "c", "d", "e"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(lease.messages, (Messages{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Depth().in_flight, 5);
  EXPECT_EQ(SettleAll(lease).published, 5u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c", "d", "e"}));
}

// A lease that holds nothing while its Take waits looks dead to a Reclaim
// with a short enough threshold; the message that arrives then is not lost.
TEST_P(QueueContractTest, MessageArrivingWhileItsWaitingLeaseIsReclaimedIsNotLost) {
  Take(1);  // connected, so that the blocked client below is this Take
  Lease lease;
  Status status;
  std::thread taker([&] { status = queue_->Take(10, 20000, &lease); });
  const bool blocked = WaitForBlockedClient(std::chrono::seconds(10));
  std::unique_ptr<Queue> reclaimer = Open(suite_.server()->port());
  Lease reclaimed;
  Status reclaim = reclaimer->Reclaim(0, 10, &reclaimed);
  Produce({"late"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(reclaim.ok()) << reclaim.message();
  EXPECT_EQ(reclaimed.messages, Messages{});
  if (status.ok()) {
    EXPECT_EQ(lease.messages, Messages{"late"});
  } else {
    EXPECT_EQ(lease.messages, Messages{}) << status.message();
    lease = TakeLease(10);  // the message went back to the input
  }
  EXPECT_EQ(SettleAll(lease).published, 1u);
  EXPECT_EQ(Results(), ResultsOf({"late"}));
  EXPECT_EQ(Depth().in_flight, 0);
}

TEST_P(QueueContractTest, TakeWithMaxZeroTakesNothing) {
  Produce({"a"});
  EXPECT_EQ(Take(0), Messages{});
  EXPECT_EQ(Take(10), Messages{"a"});
}

// --- Settle ------------------------------------------------------------------

TEST_P(QueueContractTest, SettlePublishesResultsAndDeadLettersInOrderAndEndsTheLease) {
  Produce({"m1", "bad1", "m2", "m3", "bad2"});
  Lease lease = TakeLease(10);
  Settlement settled = SettleAll(lease);
  EXPECT_EQ(settled.published, 5u);
  EXPECT_EQ(settled.duplicates, 0u);
  EXPECT_EQ(Results(), (Messages{"r(m1)", "r(m2)", "r(m3)"}));
  EXPECT_EQ(DeadLetters(), (Messages{"d(bad1)", "d(bad2)"}));
  QueueDepth depth = Depth();
  EXPECT_EQ(depth.in_flight, 0);
  EXPECT_EQ(depth.waiting, 0);
}

TEST_P(QueueContractTest, SettleManySettlesEachLeaseAsSettleWould) {
  Produce({"a", "b", "c", "d", "e"});
  Lease first = TakeLease(2);   // a b
  Lease second = TakeLease(1);  // c
  Lease third = TakeLease(2);   // d e
  SettleAll(second);            // settled before: its outcomes are duplicates now
  std::vector<Outcome> short_by_one = OutcomesFor(third);
  short_by_one.pop_back();
  const std::vector<SettleRequest> requests = {SettleRequest{first.id, OutcomesFor(first)},
                                               SettleRequest{second.id, OutcomesFor(second)},
                                               SettleRequest{third.id, short_by_one}};
  auto settled = queue_->SettleMany(requests);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  ASSERT_EQ(settled->size(), 3u);
  EXPECT_EQ((*settled)[0].published, 2u);
  EXPECT_EQ((*settled)[1].published, 0u);
  EXPECT_EQ((*settled)[1].duplicates, 1u);
  EXPECT_FALSE((*settled)[2].refused.empty());
  EXPECT_EQ(Results(), ResultsOf({"c", "a", "b"}));
  // The refused lease is still held, and settles once given the right outcomes.
  EXPECT_EQ(Depth().in_flight, 2);
  EXPECT_EQ(SettleAll(third).published, 2u);
}

TEST_P(QueueContractTest, LaterSettlementsAreConsumedLater) {
  Produce({"a", "bad-a", "b", "c", "bad-c"});
  Lease first = TakeLease(2);
  Lease second = TakeLease(10);
  SettleAll(first);
  SettleAll(second);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c"}));
  EXPECT_EQ(DeadLetters(), (Messages{"d(bad-a)", "d(bad-c)"}));
}

TEST_P(QueueContractTest, SettlingALeaseTwicePublishesOnce) {
  Produce({"a", "b", "c"});
  Lease lease = TakeLease(10);
  Settlement first = SettleAll(lease);
  Settlement second = SettleAll(lease);
  EXPECT_EQ(first.published, 3u);
  EXPECT_EQ(second.published, 0u);
  EXPECT_EQ(second.duplicates, 3u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c"}));
}

TEST_P(QueueContractTest, SettleWithAWrongOutcomeCountIsRefusedAndPublishesNothing) {
  Produce({"a", "b", "c"});
  Lease lease = TakeLease(10);
  std::vector<Outcome> outcomes = OutcomesFor(lease);
  outcomes.pop_back();
  auto settled = queue_->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_THAT(settled->refused, HasSubstr("3 messages, got 2 outcomes"));
  EXPECT_EQ(settled->published, 0u);
  EXPECT_EQ(Results(), Messages{});
  EXPECT_EQ(Depth().in_flight, 3) << "the lease still holds its messages";
  EXPECT_EQ(SettleAll(lease).published, 3u) << "a correct settlement still works";
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c"}));
}

TEST_P(QueueContractTest, SettlingALeaseThatNeverOpenedPublishesNothing) {
  auto settled = queue_->Settle("", {});
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 0u);
  EXPECT_EQ(settled->duplicates, 0u);
}

TEST_P(QueueContractTest, SettleOfAForeignLeaseIdIsRefused) {
  auto settled = queue_->Settle("not a lease", {Outcome{}, Outcome{}, Outcome{}});
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_FALSE(settled->refused.empty());
  EXPECT_EQ(settled->published, 0u);
  EXPECT_EQ(Results(), Messages{});
}

// --- Reclaim -----------------------------------------------------------------

TEST_P(QueueContractTest, ReclaimLeavesYoungLeasesAlone) {
  Produce({"a", "b"});
  Lease lease = TakeLease(10);
  EXPECT_EQ(Reclaim(kLongAgoMs).messages, Messages{});
  EXPECT_EQ(SettleAll(lease).published, 2u);
}

TEST_P(QueueContractTest, ReclaimTakesOverALeaseOnceItIsOld) {
  Produce({"a", "b", "c"});
  Lease old = TakeLease(10);
  const int older_than_ms = 500;
  EXPECT_EQ(Reclaim(older_than_ms).messages, Messages{}) << "too young yet";
  const std::vector<Lease> reclaimed =
      ReclaimWithin(older_than_ms, 3, std::chrono::milliseconds(older_than_ms) + kSlack);
  EXPECT_EQ(MessagesOf(reclaimed), (Messages{"a", "b", "c"}));
  if (GetParam().reclaim_revokes_old_lease) {
    ASSERT_EQ(reclaimed.size(), 1u) << "one lease is taken over whole";
    EXPECT_NE(reclaimed[0].id, old.id);
  }
  EXPECT_EQ(Depth().in_flight, 3);
  EXPECT_EQ(Reclaim(older_than_ms).messages, Messages{}) << "the new lease is young";

  // Whichever lease settles first, every message is published exactly once.
  Settlement by_old = SettleAll(old);
  Settlement by_new;
  for (const Lease& lease : reclaimed) {
    Settlement settled = SettleAll(lease);
    by_new.published += settled.published;
    by_new.duplicates += settled.duplicates;
  }
  if (GetParam().reclaim_revokes_old_lease) {
    EXPECT_EQ(by_old.published, 0u);
    EXPECT_EQ(by_old.duplicates, 3u);
    EXPECT_EQ(by_new.published, 3u);
  } else {
    EXPECT_EQ(by_old.published + by_new.published, 3u);
    EXPECT_EQ(by_old.duplicates + by_new.duplicates, 3u);
  }
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c"}));
  EXPECT_EQ(Depth().in_flight, 0);
}

TEST_P(QueueContractTest, AReclaimedLeaseSettledFirstLeavesNothingForTheOldOne) {
  Produce({"a", "bad", "c"});
  Lease old = TakeLease(10);
  Lease reclaimed = Reclaim(0);
  ASSERT_EQ(reclaimed.messages, old.messages);
  Settlement by_new = SettleAll(reclaimed);
  Settlement by_old = SettleAll(old);
  EXPECT_EQ(by_new.published, 3u);
  EXPECT_EQ(by_old.published, 0u);
  EXPECT_EQ(by_old.duplicates, 3u);
  EXPECT_EQ(Results(), ResultsOf({"a", "c"}));
  EXPECT_EQ(DeadLetters(), Messages{"d(bad)"});
}

TEST_P(QueueContractTest, ReclaimHandsOutAtMostMaxAtATime) {
  Produce({"a", "b", "c", "d", "e"});
  Lease old = TakeLease(10);
  Lease first = Reclaim(0, 2);
  EXPECT_EQ(first.messages, (Messages{"a", "b"}));
  EXPECT_EQ(SettleAll(first).published, 2u);
  Lease rest = Reclaim(0, 10);
  EXPECT_EQ(rest.messages, (Messages{"c", "d", "e"}));
  EXPECT_EQ(SettleAll(rest).published, 3u);
  EXPECT_EQ(SettleAll(old).published, 0u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c", "d", "e"}));
}

TEST_P(QueueContractTest, ReclaimWithNothingInFlightHandsOutNothing) {
  Produce({"waiting"});
  Lease out = Reclaim(0);
  EXPECT_TRUE(out.id.empty());
  EXPECT_EQ(out.messages, Messages{});
  EXPECT_EQ(Take(10), Messages{"waiting"});
}

TEST_P(QueueContractTest, ReclaimRefusesANegativeAgeAndTouchesNothing) {
  Produce({"a"});
  Lease held = TakeLease(10);
  Lease out;
  Status refused = queue_->Reclaim(-1, 10, &out);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("older_than_ms is -1"), std::string::npos) << refused.message();
  EXPECT_TRUE(out.id.empty());
  EXPECT_EQ(SettleAll(held).published, 1u);
}

// Two bridges: one takes and settles, the other reclaims everything it can
// (older_than 0: every lease looks dead to it) and settles what it took over.
TEST_P(QueueContractTest, SettlingRacingReclaimingPublishesEveryMessageExactlyOnce) {
  const Messages messages = Numbered("m", 2000);
  Produce(messages);
  std::unique_ptr<Queue> taker_queue = Open(suite_.server()->port());
  std::unique_ptr<Queue> reclaimer_queue = Open(suite_.server()->port());
  std::atomic<size_t> published{0};
  std::atomic<bool> failed{false};
  const auto until = Clock::now() + std::chrono::seconds(60);
  auto done = [&] { return published.load() >= messages.size() || failed.load() || Clock::now() > until; };
  auto settle = [&](Queue& queue, const Lease& lease) {
    auto settled = queue.Settle(lease.id, OutcomesFor(lease));
    if (!settled.ok()) {
      ADD_FAILURE() << settled.status().message();
      failed = true;
      return;
    }
    EXPECT_EQ(settled->published + settled->duplicates, lease.messages.size());
    published += settled->published;
  };
  // Obtains leases with `obtain` and settles them until done.
  auto bridge = [&](Queue& queue, const std::function<Status(Lease*)>& obtain) {
    while (!done()) {
      Lease lease;
      if (Status s = obtain(&lease); !s.ok()) {
        ADD_FAILURE() << s.message();
        failed = true;
      }
      if (!lease.messages.empty()) settle(queue, lease);
    }
  };
  std::thread taker(bridge, std::ref(*taker_queue),
                    [&](Lease* lease) { return taker_queue->Take(7, 0, lease); });
  std::thread reclaimer(bridge, std::ref(*reclaimer_queue),
                        [&](Lease* lease) { return reclaimer_queue->Reclaim(0, 5, lease); });
  taker.join();
  reclaimer.join();
  EXPECT_EQ(published.load(), messages.size());
  EXPECT_THAT(Results(), UnorderedElementsAreArray(ResultsOf(messages)));
  QueueDepth depth = Depth();
  EXPECT_EQ(depth.waiting, 0);
  EXPECT_EQ(depth.in_flight, 0);
}

// --- Release -----------------------------------------------------------------

TEST_P(QueueContractTest, ReleasedMessagesAreTakenAgainInTheirOrder) {
  Produce({"a", "b", "c", "d"});
  Lease lease = TakeLease(2);
  ASSERT_TRUE(queue_->Release(lease).ok());
  if (GetParam().release_returns_to_input) {
    EXPECT_EQ(Take(10), (Messages{"a", "b", "c", "d"}));
  } else {
    Lease later = TakeLease(10);
    EXPECT_EQ(later.messages, (Messages{"c", "d"}));
    SettleAll(later);
    EXPECT_EQ(Reclaim(kLongAgoMs).messages, Messages{}) << "released entries wait for the in-flight timeout";
    EXPECT_EQ(MessagesOf(ReclaimWithin(50, 2, kSlack)), (Messages{"a", "b"}));
  }
}

TEST_P(QueueContractTest, AReleasedLeaseSettlesNothingWhenItsMessagesWereSettledAgain) {
  Produce({"a", "b"});
  Lease lease = TakeLease(10);
  ASSERT_TRUE(queue_->Release(lease).ok());
  Lease again = GetParam().release_returns_to_input ? TakeLease(10) : Reclaim(0);
  ASSERT_EQ(again.messages, (Messages{"a", "b"}));
  EXPECT_EQ(SettleAll(again).published, 2u);
  EXPECT_EQ(SettleAll(lease).published, 0u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b"}));
}

TEST_P(QueueContractTest, ReleasingASettledLeaseChangesNothing) {
  Produce({"a"});
  Lease lease = TakeLease(10);
  SettleAll(lease);
  ASSERT_TRUE(queue_->Release(lease).ok());
  EXPECT_TRUE(queue_->Release(Lease{}).ok());
  EXPECT_EQ(Take(10), Messages{});
  EXPECT_EQ(Reclaim(0).messages, Messages{});
  EXPECT_EQ(Results(), ResultsOf({"a"}));
}

// --- Depth -------------------------------------------------------------------

TEST_P(QueueContractTest, DepthCountsWaitingAndInFlight) {
  QueueDepth empty = Depth();
  EXPECT_EQ(empty.waiting, 0);
  EXPECT_EQ(empty.in_flight, 0);
  Produce({"a", "b", "c", "d", "e"});
  EXPECT_EQ(Depth().waiting, 5);
  Lease lease = TakeLease(2);
  QueueDepth taken = Depth();
  EXPECT_EQ(taken.waiting, 3);
  EXPECT_EQ(taken.in_flight, 2);
  SettleAll(lease);
  QueueDepth settled = Depth();
  EXPECT_EQ(settled.waiting, 3);
  EXPECT_EQ(settled.in_flight, 0);
}

// --- Redis going away --------------------------------------------------------

TEST_P(QueueContractTest, ScriptsWorkAfterRedisForgetsThem) {
  Produce({"a", "b"});
  Lease lease = TakeLease(1);
  ASSERT_TRUE(upstream_->Command({"SCRIPT", "FLUSH"}).ok());
  TakeInto(&lease, 1);
  ASSERT_TRUE(upstream_->Command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_EQ(SettleAll(lease).published, 2u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b"}));
}

// Redis restarted without persistence (here: emptied) has forgotten the
// lease and the consumer group: settling publishes nothing, even when a new
// lease of as many messages was taken since, and taking goes on.
TEST_P(QueueContractTest, AfterRedisLostItsDataALeaseFromBeforeSettlesNothing) {
  Produce({"a", "b"});
  Lease before = TakeLease(10);
  ASSERT_TRUE(upstream_->Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(WaitForServerClockToTick());
  Produce({"c", "d"});
  Lease after = TakeLease(10);
  ASSERT_EQ(after.messages, (Messages{"c", "d"}));
  auto settled = queue_->Settle(before.id, OutcomesFor(before));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 0u);
  EXPECT_EQ(settled->duplicates, 2u);
  EXPECT_EQ(SettleAll(after).published, 2u);
  EXPECT_EQ(Results(), ResultsOf({"c", "d"}));
}

TEST_P(QueueContractTest, ALeaseSurvivesARedisRestartWithPersistence) {
  const fs::path dir = fs::path(suite_.dir()) / ("aof-" + GetParam().name);
  fs::create_directories(dir);
  LocalRedisOptions options;
  options.dir = dir.string();
  options.append_only = true;
  auto server = LocalRedis::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().message();
  options.port = server.value()->port();
  std::unique_ptr<Queue> queue = Open(options.port);
  RedisClient upstream(Config(options.port).redis);
  ASSERT_TRUE(GetParam().produce(upstream, Config(0).input, {"a", "bad", "c", "d"}).ok());
  Lease held;
  TakeInto(&held, 3, 0, queue.get());
  ASSERT_EQ(held.messages, (Messages{"a", "bad", "c"}));

  server.value().reset();  // SIGTERM: Redis writes its append-only file out and stops
  server = LocalRedis::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().message();

  auto settled = queue->Settle(held.id, OutcomesFor(held));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 3u);
  Lease after;
  EXPECT_EQ(TakeInto(&after, 10, 0, queue.get()), Messages{"d"});
  auto results = GetParam().consume(upstream, Config(0).output);
  ASSERT_TRUE(results.ok()) << results.status().message();
  EXPECT_EQ(results.value(), ResultsOf({"a", "c"}));
}

TEST_P(QueueContractTest, QueueWithoutRedisReturnsErrorsNamingTheAddressThenWorksOnceRedisStarts) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  const std::string address = "127.0.0.1:" + std::to_string(port.value());
  std::unique_ptr<Queue> queue = Open(port.value());
  ASSERT_NE(queue, nullptr);
  EXPECT_THAT(queue->Describe(), HasSubstr(address));

  Lease lease;
  Status take = Status::Ok();
  EXPECT_NO_THROW(take = queue->Take(10, 100, &lease));
  EXPECT_FALSE(take.ok());
  EXPECT_THAT(take.message(), HasSubstr(address));
  EXPECT_THAT(take.message(), HasSubstr("taking from " + Config(0).input));
  EXPECT_EQ(lease.messages, Messages{});
  Status push = queue->Push({"p"});
  EXPECT_FALSE(push.ok());
  EXPECT_THAT(push.message(), HasSubstr(address));
  Lease reclaimed;
  Status reclaim = queue->Reclaim(0, 10, &reclaimed);
  EXPECT_FALSE(reclaim.ok());
  EXPECT_THAT(reclaim.message(), HasSubstr(address));
  auto depth = queue->Depth();
  EXPECT_FALSE(depth.ok());
  EXPECT_THAT(depth.status().message(), HasSubstr(address));

  LocalRedisOptions options;
  options.dir = suite_.dir();
  options.port = port.value();
  auto late_server = LocalRedis::Start(options);
  ASSERT_TRUE(late_server.ok()) << late_server.status().message();
  RedisClient late_upstream(Config(port.value()).redis);
  ASSERT_TRUE(GetParam().produce(late_upstream, Config(0).input, {"m"}).ok());

  Status retaken = queue->Take(10, 0, &lease);
  ASSERT_TRUE(retaken.ok()) << retaken.message();
  EXPECT_EQ(lease.messages, Messages{"m"});
  auto settled = queue->Settle(lease.id, OutcomesFor(lease));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 1u);
  auto results = GetParam().consume(late_upstream, Config(0).output);
  ASSERT_TRUE(results.ok()) << results.status().message();
  EXPECT_EQ(results.value(), ResultsOf({"m"}));
}

TEST_P(QueueContractTest, SettleWithoutRedisIsAnErrorNamingTheAddress) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  std::unique_ptr<Queue> queue = Open(port.value());
  const std::string lease_id = GetParam().kind == QueueKind::kRedisList ? "1" : "1-0";
  auto settled = queue->Settle(lease_id, {Outcome{}});
  ASSERT_FALSE(settled.ok());
  EXPECT_THAT(settled.status().message(), HasSubstr("127.0.0.1:" + std::to_string(port.value())));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, QueueContractTest, ::testing::Values(RedisListKind(), RedisStreamKind()),
                         [](const ::testing::TestParamInfo<QueueKindCase>& info) { return info.param.name; });

}  // namespace
}  // namespace scorepipe
