// The Queue contract (bridge/queue.h), written once and run against every
// queue kind on a real redis-server. A kind is one QueueKindCase: how the
// upstream's producers add input and how its consumers read what scorepipe
// published. A new kind (a Redis stream, say) adds one entry to kQueueKinds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

// The upstream's side of one queue kind.
struct QueueKindCase {
  std::string name;  // the test name suffix
  QueueKind kind;
  // Adds `messages` to the list or stream `key` as producers do, oldest first.
  std::function<Status(RedisClient&, const std::string& key, const Messages&)> produce;
  // Removes and returns everything in `key`, in the order consumers read it.
  std::function<Result<Messages>(RedisClient&, const std::string& key)> consume;

  friend void PrintTo(const QueueKindCase& c, std::ostream* out) { *out << c.name; }
};

// Producers LPUSH one message at a time; consumers RPOP until the list is empty.
QueueKindCase RedisListKind() {
  return {"RedisList", QueueKind::kRedisList,
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
          }};
}

// Generous: the machine may be loaded; these bound waits that should be short.
constexpr auto kSlack = std::chrono::seconds(3);

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

  // Take that must succeed; returns what it took.
  Messages Take(size_t max, int block_ms = 0) {
    Messages taken;
    Status s = queue_->Take(max, block_ms, &taken);
    EXPECT_TRUE(s.ok()) << s.message();
    return taken;
  }

  // A number from the server's INFO, e.g. ("stats", "total_commands_processed").
  int64_t Info(const std::string& section, const std::string& field) {
    auto reply = upstream_->Command({"INFO", section});
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    if (!reply.ok()) return -1;
    const std::string text(ReplyText(reply.value().get()));
    const size_t at = text.find(field + ":");
    return at == std::string::npos ? -1 : std::strtoll(text.c_str() + at + field.size() + 1, nullptr, 10);
  }

  // The number of commands the server ran for `action` (the INFO calls around
  // it are taken off).
  int64_t CommandsFor(const std::function<void()>& action) {
    const int64_t before = Info("stats", "total_commands_processed");
    action();
    return Info("stats", "total_commands_processed") - before - 1;
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

// --- Take ----------------------------------------------------------------

TEST_P(QueueContractTest, TakeReturnsMessagesOldestFirst) {
  Produce({"first", "second", "third"});
  EXPECT_EQ(Take(10), (Messages{"first", "second", "third"}));
}

TEST_P(QueueContractTest, TakeReturnsAtMostMaxAndLeavesTheRestForTheNextTake) {
  Produce({"a", "b", "c", "d", "e"});
  EXPECT_EQ(Take(2), (Messages{"a", "b"}));
  EXPECT_EQ(Take(10), (Messages{"c", "d", "e"}));
  EXPECT_EQ(Take(10), Messages{});
}

TEST_P(QueueContractTest, TakeAppendsToWhatTheVectorHolds) {
  Produce({"new"});
  Messages out = {"old"};
  ASSERT_TRUE(queue_->Take(10, 0, &out).ok());
  EXPECT_EQ(out, (Messages{"old", "new"}));
}

TEST_P(QueueContractTest, TakeCostsTheSameCommandsForManyMessagesAsForOne) {
  Take(1);  // connects, and lets a kind set up what it needs on first use
  Produce({"only"});
  const int64_t for_one = CommandsFor([&] { EXPECT_EQ(Take(1000).size(), 1u); });
  Produce(Messages(500, "many"));
  const int64_t for_many = CommandsFor([&] { EXPECT_EQ(Take(1000).size(), 500u); });
  EXPECT_EQ(for_many, for_one);
  EXPECT_EQ(for_many, 1) << "one command in one round trip";
}

TEST_P(QueueContractTest, MessagesKeepEveryByte) {
  const Messages odd = {std::string("nul\0inside", 10), "", "line\nbreak and spaces", "\xff\xfe binary",
                        std::string(100000, 'x')};
  Produce(odd);
  EXPECT_EQ(Take(10), odd);
}

TEST_P(QueueContractTest, TakeOnAnEmptyQueueWaitsAboutBlockMsAndReturnsNothing) {
  const int block_ms = 400;
  const auto start = Clock::now();
  EXPECT_EQ(Take(10, block_ms), Messages{});
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(block_ms / 2));
  EXPECT_LT(waited, std::chrono::milliseconds(block_ms) + kSlack);
}

TEST_P(QueueContractTest, TakeWithBlockMsZeroDoesNotWait) {
  const auto start = Clock::now();
  EXPECT_EQ(Take(10, 0), Messages{});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
}

TEST_P(QueueContractTest, MessagePushedWhileTakeBlocksIsReturned) {
  Take(1);  // connected, so that the blocked client below is this Take
  Messages taken;
  Status status;
  const auto start = Clock::now();
  std::thread taker([&] { status = queue_->Take(10, 20000, &taken); });
  const bool blocked = WaitForBlockedClient(std::chrono::seconds(10));
  Produce({"late"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(taken, Messages{"late"});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(15))
      << "returned at its timeout, not with the message";
}

TEST_P(QueueContractTest, TakeWithMaxZeroTakesNothing) {
  Produce({"a"});
  EXPECT_EQ(Take(0), Messages{});
  EXPECT_EQ(Take(10), Messages{"a"});
}

// --- GiveBack -------------------------------------------------------------

TEST_P(QueueContractTest, GivenBackMessagesAreTakenNextInTheirOrder) {
  Produce({"a", "b", "c", "d"});
  ASSERT_EQ(Take(2), (Messages{"a", "b"}));
  ASSERT_TRUE(queue_->GiveBack({"a", "b"}).ok());
  EXPECT_EQ(Take(10), (Messages{"a", "b", "c", "d"}));
}

TEST_P(QueueContractTest, GivenBackMessagesComeBeforeOnesProducedLater) {
  ASSERT_TRUE(queue_->GiveBack({"x", "y"}).ok());
  Produce({"z"});
  EXPECT_EQ(Take(10), (Messages{"x", "y", "z"}));
}

TEST_P(QueueContractTest, GivingBackNothingIsFine) {
  EXPECT_TRUE(queue_->GiveBack({}).ok());
  EXPECT_EQ(Take(10), Messages{});
}

// --- Publish --------------------------------------------------------------

TEST_P(QueueContractTest, PublishWritesResultsAndDeadLettersForConsumersInOrder) {
  ASSERT_TRUE(queue_->Publish({"r1", "r2", "r3"}, {"d1", "d2"}).ok());
  EXPECT_EQ(Results(), (Messages{"r1", "r2", "r3"}));
  EXPECT_EQ(DeadLetters(), (Messages{"d1", "d2"}));
}

TEST_P(QueueContractTest, LaterPublishesAreConsumedLater) {
  ASSERT_TRUE(queue_->Publish({"r1"}, {"d1"}).ok());
  ASSERT_TRUE(queue_->Publish({"r2", "r3"}, {"d2"}).ok());
  EXPECT_EQ(Results(), (Messages{"r1", "r2", "r3"}));
  EXPECT_EQ(DeadLetters(), (Messages{"d1", "d2"}));
}

TEST_P(QueueContractTest, PublishWithOnlyResultsWritesNoDeadLetters) {
  ASSERT_TRUE(queue_->Publish({"r1", "r2"}, {}).ok());
  EXPECT_EQ(Results(), (Messages{"r1", "r2"}));
  EXPECT_EQ(DeadLetters(), Messages{});
}

TEST_P(QueueContractTest, PublishWithOnlyDeadLettersWritesNoResults) {
  ASSERT_TRUE(queue_->Publish({}, {"d1", "d2"}).ok());
  EXPECT_EQ(Results(), Messages{});
  EXPECT_EQ(DeadLetters(), (Messages{"d1", "d2"}));
}

TEST_P(QueueContractTest, PublishingNothingIsFine) {
  EXPECT_TRUE(queue_->Publish({}, {}).ok());
  EXPECT_EQ(Results(), Messages{});
}

TEST_P(QueueContractTest, PublishDoesNotTouchTheInput) {
  Produce({"in"});
  ASSERT_TRUE(queue_->Publish({"r"}, {"d"}).ok());
  EXPECT_EQ(Take(10), Messages{"in"});
}

// --- A Redis that is not there --------------------------------------------

TEST_P(QueueContractTest, QueueWithoutRedisReturnsErrorsNamingTheAddressThenWorksOnceRedisStarts) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  const std::string address = "127.0.0.1:" + std::to_string(port.value());
  std::unique_ptr<Queue> queue = Open(port.value());
  ASSERT_NE(queue, nullptr);
  EXPECT_THAT(queue->Describe(), HasSubstr(address));

  Messages taken;
  Status take = Status::Ok();
  EXPECT_NO_THROW(take = queue->Take(10, 100, &taken));
  EXPECT_FALSE(take.ok());
  EXPECT_THAT(take.message(), HasSubstr(address));
  EXPECT_EQ(taken, Messages{});
  Status publish = Status::Ok();
  EXPECT_NO_THROW(publish = queue->Publish({"r"}, {"d"}));
  EXPECT_FALSE(publish.ok());
  EXPECT_THAT(publish.message(), HasSubstr(address));
  Status give_back = Status::Ok();
  EXPECT_NO_THROW(give_back = queue->GiveBack({"g"}));
  EXPECT_FALSE(give_back.ok());
  EXPECT_THAT(give_back.message(), HasSubstr(address));

  LocalRedisOptions options;
  options.dir = suite_.dir();
  options.port = port.value();
  auto late_server = LocalRedis::Start(options);
  ASSERT_TRUE(late_server.ok()) << late_server.status().message();
  RedisConfig late_config = Config(port.value()).redis;
  RedisClient late_upstream(late_config);
  ASSERT_TRUE(GetParam().produce(late_upstream, Config(0).input, {"m"}).ok());

  Status retaken = queue->Take(10, 0, &taken);
  ASSERT_TRUE(retaken.ok()) << retaken.message();
  EXPECT_EQ(taken, Messages{"m"});
  Status republished = queue->Publish({"r"}, {"d"});
  ASSERT_TRUE(republished.ok()) << republished.message();
  auto results = GetParam().consume(late_upstream, Config(0).output);
  ASSERT_TRUE(results.ok()) << results.status().message();
  EXPECT_EQ(results.value(), Messages{"r"});
}

INSTANTIATE_TEST_SUITE_P(AllKinds, QueueContractTest, ::testing::Values(RedisListKind()),
                         [](const ::testing::TestParamInfo<QueueKindCase>& info) { return info.param.name; });

}  // namespace
}  // namespace scorepipe
