// The Queue contract (queue/queue.h), written once and run against every
// queue kind: the Redis kinds on a real redis-server, http-mq against the
// in-process stand-in for the upstream's HTTP service (tests/support). A kind
// is one QueueKindCase: how its upstream is started, how the upstream's
// producers add input and its consumers read what scorepipe published, and
// the documented places where the kinds are allowed to differ.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "local_cluster/local_redis.h"
#include "proto/upstream_json.h"
#include "queue/queue.h"
#include "queue/redis_client.h"
#include "tests/support/http_mq_stand_in.h"
#include "tests/support/suite_redis.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Messages = std::vector<std::string>;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// One redis-server in one temporary directory for the whole suite; each test
// of a Redis kind starts from an empty database.
testing::SuiteRedis& SharedRedis() {
  static testing::SuiteRedis suite;
  return suite;
}

// Adds `messages` to the list or stream `key` as the upstream's producers do
// (lists: LPUSH one at a time; streams: XADD with the field "message").
Status ProduceToRedis(QueueKind kind, RedisClient& redis, const std::string& key, const Messages& messages) {
  std::vector<std::vector<std::string_view>> commands;
  for (const std::string& m : messages) {
    if (kind == QueueKind::kRedisStream) {
      commands.push_back({"XADD", key, "*", "message", m});
    } else {
      commands.push_back({"LPUSH", key, m});
    }
  }
  auto replies = redis.Pipeline(commands);
  return replies.ok() ? Status::Ok() : replies.status();
}

// Removes and returns everything in `key`, in the order consumers read it
// (lists: RPOP until empty; streams: from the start, then deleted).
Result<Messages> ConsumeFromRedis(QueueKind kind, RedisClient& redis, const std::string& key) {
  Messages read;
  if (kind == QueueKind::kRedisStream) {
    auto replies = redis.Pipeline({{"XRANGE", key, "-", "+"}, {"DEL", key}});
    if (!replies.ok()) return replies.status();
    const redisReply* entries = replies.value()[0].get();
    for (size_t i = 0; i < entries->elements; ++i) {
      const redisReply* fields = entries->element[i]->element[1];
      if (fields->elements != 2 || ReplyText(fields->element[0]) != "message") {
        return Status::Error("entry without exactly the field 'message'");
      }
      read.emplace_back(ReplyText(fields->element[1]));
    }
    return read;
  }
  while (true) {
    auto reply = redis.Command({"RPOP", key});
    if (!reply.ok()) return reply.status();
    if (reply.value()->type == REDIS_REPLY_NIL) return read;
    read.emplace_back(ReplyText(reply.value().get()));
  }
}

// A running upstream of one kind, as its producers and consumers see it.
class Upstream {
 public:
  virtual ~Upstream() = default;
  // The configuration of a Queue on this upstream.
  virtual QueueConfig Config() const = 0;
  virtual Status Produce(const std::string& key, const Messages& messages) = 0;
  virtual Result<Messages> Consume(const std::string& key) = 0;
  // Round trips clients have made so far (commands sent to Redis, not those
  // its scripts ran; HTTP requests).
  virtual int64_t RoundTrips() = 0;
  // Clients waiting on the upstream right now (a blocked take, a long poll).
  virtual int64_t BlockedTakers() = 0;
  // The Redis behind it, for the tests of Redis itself; null for http-mq.
  virtual RedisClient* redis() { return nullptr; }
};

class RedisUpstream final : public Upstream {
 public:
  RedisUpstream(QueueKind kind, int port) : kind_(kind), port_(port), client_(Config().redis) {}

  QueueConfig Config() const override {
    QueueConfig config;
    config.kind = kind_;
    config.redis.port = port_;
    return config;
  }
  Status Produce(const std::string& key, const Messages& messages) override {
    return ProduceToRedis(kind_, client_, key, messages);
  }
  Result<Messages> Consume(const std::string& key) override { return ConsumeFromRedis(kind_, client_, key); }

  int64_t RoundTrips() override {
    int64_t total = 0;
    auto reply = client_.Command({"INFO", "commandstats"});
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
  }
  int64_t BlockedTakers() override { return Info("clients", "blocked_clients"); }
  RedisClient* redis() override { return &client_; }

  // A number from the server's INFO, e.g. ("stats", "total_commands_processed").
  int64_t Info(const std::string& section, const std::string& field) {
    auto reply = client_.Command({"INFO", section});
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    if (!reply.ok()) return -1;
    const std::string text(ReplyText(reply.value().get()));
    const size_t at = text.find("\n" + field + ":");
    return at == std::string::npos ? -1 : std::strtoll(text.c_str() + at + field.size() + 2, nullptr, 10);
  }

 private:
  QueueKind kind_;
  int port_;
  RedisClient client_;
};

// The stand-in's long-poll wait: short, so that a take on an empty queue (or
// with block_ms 0, which waits for one answer) costs little.
constexpr auto kStandInPullWait = std::chrono::milliseconds(300);

class HttpMqUpstream final : public Upstream {
 public:
  HttpMqUpstream(std::unique_ptr<testing::HttpMqStandIn> server, std::string journal_dir)
      : server_(std::move(server)), journal_dir_(std::move(journal_dir)) {}

  QueueConfig Config() const override {
    QueueConfig config;
    config.kind = QueueKind::kHttpMq;
    config.url = server_->url();
    config.journal_dir = journal_dir_;
    config.pull_wait_ms = static_cast<int>(kStandInPullWait.count());
    config.http_timeout_ms = 5000;
    config.push_retry_ms = 2000;
    return config;
  }
  Status Produce(const std::string& key, const Messages& messages) override {
    return server_->Seed(key, messages) ? Status::Ok() : Status::Error("no queue " + key);
  }
  // The dead letters are not in the service (it has no such queue) but in
  // the journal's file: each call returns the lines added since the last.
  Result<Messages> Consume(const std::string& key) override {
    if (key != Config().dead_letter) return server_->Drain(key);
    Messages lines;
    std::ifstream file(journal_dir_ + "/dead_letters.jsonl");
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    const size_t seen = std::min(dead_letters_seen_, lines.size());
    dead_letters_seen_ = lines.size();
    return Messages(lines.begin() + static_cast<ptrdiff_t>(seen), lines.end());
  }
  int64_t RoundTrips() override { return server_->counters().requests(); }
  int64_t BlockedTakers() override { return server_->waiting_pulls(); }

 private:
  std::unique_ptr<testing::HttpMqStandIn> server_;
  std::string journal_dir_;
  size_t dead_letters_seen_ = 0;
};

// Where released messages come back.
enum class ReleaseReturns {
  kToInput,       // at the input's head: the next Take returns them with what follows (lists)
  kToNextTake,    // the next Take returns them, in a Take of their own (http-mq's journal)
  kAfterTimeout,  // through Reclaim after the in-flight timeout (streams cannot un-read)
};

// The upstream's side of one queue kind.
struct QueueKindCase {
  std::string name;  // the test name suffix
  QueueKind kind;
  // Starts the upstream for one test (Redis: the suite's, emptied); `dir` is
  // the test's own temporary directory.
  std::function<Result<std::unique_ptr<Upstream>>(const std::string& dir)> open;
  // Whether a reclaimed lease's old id settles nothing at once (list,
  // http-mq), or only the entries the new lease has settled already (stream:
  // first wins).
  bool reclaim_revokes_old_lease;
  ReleaseReturns release;
  // Whether messages are JSON objects (http-mq: the service accepts nothing
  // else), or any bytes (Redis). The tests' messages and outcomes are then
  // {"m":name} and {"r":name}/{"d":name} instead of name and r(name)/d(name).
  bool json_messages;
  // Whether Depth counts the waiting messages (the HTTP service has no
  // length endpoint: -1).
  bool depth_counts_waiting;
  // Whether the queue is Redis: the tests of Redis forgetting its scripts or
  // data, restarting, or not running yet apply (http-mq's equivalents are in
  // tests/queue/http_mq_queue_test.cc).
  bool redis_backed;

  friend void PrintTo(const QueueKindCase& c, std::ostream* out) { *out << c.name; }
};

QueueKindCase RedisKind(std::string name, QueueKind kind, bool reclaim_revokes_old_lease,
                        ReleaseReturns release) {
  return {std::move(name),
          kind,
          [kind](const std::string&) -> Result<std::unique_ptr<Upstream>> {
            if (SharedRedis().server() == nullptr) {
              return Status::Error("cannot start redis-server: " + SharedRedis().error());
            }
            auto upstream = std::make_unique<RedisUpstream>(kind, SharedRedis().server()->port());
            auto flushed = upstream->redis()->Command({"FLUSHALL"});
            if (!flushed.ok()) return flushed.status();
            return std::unique_ptr<Upstream>(std::move(upstream));
          },
          reclaim_revokes_old_lease,
          release,
          /*json_messages=*/false,
          /*depth_counts_waiting=*/true,
          /*redis_backed=*/true};
}

QueueKindCase RedisListKind() {
  return RedisKind("RedisList", QueueKind::kRedisList, true, ReleaseReturns::kToInput);
}

QueueKindCase RedisStreamKind() {
  return RedisKind("RedisStream", QueueKind::kRedisStream, false, ReleaseReturns::kAfterTimeout);
}

QueueKindCase HttpMqKind() {
  return {"HttpMq",
          QueueKind::kHttpMq,
          [](const std::string& dir) -> Result<std::unique_ptr<Upstream>> {
            testing::HttpMqStandInOptions options;
            options.pull_wait = kStandInPullWait;
            // The service's two queues and the shadow queue an operator made
            // with POST /create; the tests' messages are synthetic.
            options.queues = {"transactions_queue", "results_queue", "results_shadow"};
            options.validate_messages = false;
            auto server = testing::HttpMqStandIn::Start(options);
            if (!server.ok()) return server.status();
            return std::unique_ptr<Upstream>(
                std::make_unique<HttpMqUpstream>(std::move(server.value()), dir + "/journal"));
          },
          /*reclaim_revokes_old_lease=*/true,
          ReleaseReturns::kToNextTake,
          /*json_messages=*/true,
          /*depth_counts_waiting=*/false,
          /*redis_backed=*/false};
}

// Generous: the machine may be loaded; these bound waits that should be short.
constexpr auto kSlack = std::chrono::seconds(3);
// An in-flight timeout no test reaches.
constexpr int kLongAgoMs = 600000;

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
  static void SetUpTestSuite() { SharedRedis().Start(); }
  static void TearDownTestSuite() { SharedRedis().Stop(); }

  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << "cannot create a temporary directory";
    auto upstream = GetParam().open(dir_.path().string());
    ASSERT_TRUE(upstream.ok()) << upstream.status().message();
    upstream_ = std::move(upstream.value());
    queue_ = Open();
    ASSERT_NE(queue_, nullptr);
  }

  void TearDown() override {
    queue_.reset();  // before its upstream: an outstanding pull ends first
    upstream_.reset();
  }

  [[nodiscard]] QueueConfig Config() const { return upstream_->Config(); }

  [[nodiscard]] std::unique_ptr<Queue> Open() const { return OpenWith(Config()); }

  // A queue of this test's kind on another redis-server.
  [[nodiscard]] std::unique_ptr<Queue> OpenRedisAt(int port) const {
    QueueConfig config = Config();
    config.redis.port = port;
    return OpenWith(config);
  }

  [[nodiscard]] static std::unique_ptr<Queue> OpenWith(const QueueConfig& config) {
    auto queue = OpenQueue(config);
    EXPECT_TRUE(queue.ok()) << queue.status().message();
    return queue.ok() ? std::move(queue.value()) : nullptr;
  }

  // --- The tests' messages: names, as this kind carries them.

  // The message for `name`.
  [[nodiscard]] std::string Encode(const std::string& name) const {
    if (!GetParam().json_messages) return name;
    std::string json = "{\"m\":";
    AppendJsonString(name, &json);
    return json + "}";
  }
  [[nodiscard]] Messages Encode(const Messages& names) const {
    Messages out;
    for (const std::string& n : names) out.push_back(Encode(n));
    return out;
  }
  // The name in a message, or in an outcome: r(name) and d(name) for {"r":name}, {"d":name}.
  [[nodiscard]] std::string NameOf(const std::string& message) const {
    if (!GetParam().json_messages) return message;
    // {"<k>":"<name>"}: the tests' names need no escapes.
    if (message.size() < 8 || message.substr(0, 2) != "{\"" || message.substr(3, 3) != "\":\"" ||
        message.substr(message.size() - 2) != "\"}") {
      ADD_FAILURE() << "not a message of the tests: " << message;
      return message;
    }
    const std::string name = message.substr(6, message.size() - 8);
    return message[2] == 'm' ? name : std::string(1, message[2]) + "(" + name + ")";
  }
  [[nodiscard]] Messages Names(const Messages& messages) const {
    Messages out;
    for (const std::string& m : messages) out.push_back(NameOf(m));
    return out;
  }

  // The outcomes a worker would produce for `lease`: the result of message m
  // is r(m), except that messages starting with "bad" are dead-lettered as
  // d(m) (as JSON objects for JSON kinds).
  [[nodiscard]] std::vector<Outcome> OutcomesFor(const Lease& lease) const {
    std::vector<Outcome> outcomes;
    for (const std::string& m : lease.messages) {
      const std::string name = NameOf(m);
      const bool bad = name.starts_with("bad");
      std::string text;
      if (GetParam().json_messages) {
        text = bad ? "{\"d\":" : "{\"r\":";
        AppendJsonString(name, &text);
        text += "}";
      } else {
        text = (bad ? "d(" : "r(") + name + ")";
      }
      outcomes.push_back({bad ? Outcome::Route::kDeadLetter : Outcome::Route::kResult, std::move(text)});
    }
    return outcomes;
  }

  void Produce(const Messages& names) {
    Status s = upstream_->Produce(Config().input, Encode(names));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void ProduceRaw(const Messages& messages) {
    Status s = upstream_->Produce(Config().input, messages);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  Messages ConsumeRaw(const std::string& key) {
    auto consumed = upstream_->Consume(key);
    EXPECT_TRUE(consumed.ok()) << consumed.status().message();
    return consumed.ok() ? consumed.value() : Messages{};
  }
  Messages Results() { return Names(ConsumeRaw(Config().output)); }
  Messages DeadLetters() { return Names(ConsumeRaw(Config().dead_letter)); }

  // Take into `lease` that must succeed; returns the names this call took.
  Messages TakeInto(Lease* lease, size_t max, int block_ms = 0, Queue* queue = nullptr) {
    const size_t before = lease->messages.size();
    Status s = (queue != nullptr ? queue : queue_.get())->Take(max, block_ms, lease);
    EXPECT_TRUE(s.ok()) << s.message();
    return Names(Messages(lease->messages.begin() + static_cast<ptrdiff_t>(before), lease->messages.end()));
  }
  // Take into a new lease.
  Lease TakeLease(size_t max, int block_ms = 0) {
    Lease lease;
    TakeInto(&lease, max, block_ms);
    return lease;
  }
  Messages Take(size_t max, int block_ms = 0) { return Names(TakeLease(max, block_ms).messages); }

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

  // The names the leases hold, in order.
  Messages MessagesOf(const std::vector<Lease>& leases) const {
    Messages messages;
    for (const Lease& lease : leases) {
      for (const std::string& m : lease.messages) messages.push_back(NameOf(m));
    }
    return messages;
  }

  QueueDepth Depth() {
    auto depth = queue_->Depth();
    EXPECT_TRUE(depth.ok()) << depth.status().message();
    return depth.ok() ? depth.value() : QueueDepth{-2, -2};
  }
  // Depth().waiting where the kind counts it; -1 (unknown) where it cannot.
  int64_t Waiting(int64_t counted) const { return GetParam().depth_counts_waiting ? counted : -1; }

  // The round trips made for `action`.
  int64_t RoundTripsFor(const std::function<void()>& action) {
    const int64_t before = upstream_->RoundTrips();
    action();
    return upstream_->RoundTrips() - before;
  }

  // Polls until the server's TIME has moved on by a millisecond (a restart
  // takes longer than that; a FLUSHALL may not).
  bool WaitForServerClockToTick() {
    auto now_ms = [&]() -> int64_t {
      auto reply = upstream_->redis()->Command({"TIME"});
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

  // Polls until some client waits on the upstream.
  bool WaitForBlockedTaker(Clock::duration timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (upstream_->BlockedTakers() > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  testing::TempDir dir_{"queue-contract"};
  std::unique_ptr<Upstream> upstream_;
  std::unique_ptr<Queue> queue_;
};

// Why a test of Redis itself is skipped for a kind without Redis.
constexpr char kNoRedis[] = "a kind without Redis; its equivalent is in tests/queue/http_mq_queue_test.cc";

// --- Push and Take -----------------------------------------------------------

TEST_P(QueueContractTest, TakeReturnsMessagesOldestFirst) {
  Produce({"first", "second", "third"});
  EXPECT_EQ(Take(10), (Messages{"first", "second", "third"}));
}

TEST_P(QueueContractTest, PushedMessagesAreTakenOldestFirst) {
  ASSERT_TRUE(queue_->Push(Encode(Messages{"first", "second"})).ok());
  ASSERT_TRUE(queue_->Push(Encode(Numbered("m", 2500))).ok());
  Messages expected = {"first", "second"};
  for (const std::string& m : Numbered("m", 2500)) expected.push_back(m);
  EXPECT_EQ(Take(5000), expected);
}

TEST_P(QueueContractTest, PushingNothingIsFine) {
  EXPECT_TRUE(queue_->Push({}).ok());
  EXPECT_EQ(Take(10), Messages{});
}

// --- Append and Peek (side outputs such as queue.shadow) ----------------------

TEST_P(QueueContractTest, AppendedMessagesAreConsumedOldestFirstFromTheirOwnQueue) {
  ASSERT_TRUE(queue_->Append(Config().shadow, Encode(Messages{"s1", "s2"})).ok());
  ASSERT_TRUE(queue_->Append(Config().shadow, Encode(Messages{"s3"})).ok());
  EXPECT_TRUE(queue_->Append(Config().shadow, {}).ok());
  EXPECT_EQ(Names(ConsumeRaw(Config().shadow)), (Messages{"s1", "s2", "s3"}));
  EXPECT_EQ(Take(10), Messages{}) << "nothing reached the input";
  EXPECT_EQ(Results(), Messages{});
}

TEST_P(QueueContractTest, PeekReturnsTheNewestOldestFirstAndLeavesThem) {
  ASSERT_TRUE(queue_->Append(Config().shadow, Encode(Messages{"s1", "s2", "s3"})).ok());
  Result<Messages> peeked = queue_->Peek(Config().shadow, 2);
  if (!GetParam().redis_backed) {
    ASSERT_FALSE(peeked.ok());
    EXPECT_THAT(peeked.status().message(), HasSubstr("without removing"));
    return;
  }
  ASSERT_TRUE(peeked.ok()) << peeked.status().message();
  EXPECT_EQ(Names(*peeked), (Messages{"s2", "s3"}));
  Result<Messages> all = queue_->Peek(Config().shadow, 100);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(Names(*all), (Messages{"s1", "s2", "s3"}));
  EXPECT_EQ(Names(ConsumeRaw(Config().shadow)), (Messages{"s1", "s2", "s3"})) << "a peek takes nothing";
  Result<Messages> none = queue_->Peek("missing_queue", 10);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());
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
  EXPECT_EQ(Names(lease.messages), (Messages{"a", "b", "c"}));
  EXPECT_EQ(Depth().in_flight, 3);

  Settlement settled = SettleAll(lease);
  EXPECT_EQ(settled.published, 3u);
  EXPECT_EQ(settled.duplicates, 0u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c"}));
}

TEST_P(QueueContractTest, TakeCostsOneRoundTripForManyMessagesAsForOne) {
  Take(1);  // connects, and lets a kind set up what it needs on first use
  Produce({"only"});
  const int64_t for_one = RoundTripsFor([&] { EXPECT_EQ(Take(1000).size(), 1u); });
  Produce(Messages(500, "many"));
  const int64_t for_many = RoundTripsFor([&] { EXPECT_EQ(Take(1000).size(), 500u); });
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
  const int64_t for_one = RoundTripsFor([&] { EXPECT_EQ(SettleAll(one).published, 1u); });
  const int64_t for_many = RoundTripsFor([&] { EXPECT_EQ(SettleAll(many).published, 500u); });
  EXPECT_EQ(for_many, for_one);
  EXPECT_LE(for_many, 2);
}

// Every byte of a message, and of an outcome, arrives as it was sent: any
// bytes on Redis; on a JSON kind, any JSON object's text (escapes, whitespace,
// UTF-8, NUL as \u0000, a large one).
TEST_P(QueueContractTest, MessagesKeepEveryByte) {
  const Messages odd =
      GetParam().json_messages
          ? Messages{R"({"nul":"a\u0000b","esc":"line\nbreak \"q\" \\ \/"})", "{}",
                     R"({ "spaced" : [1, 2.50, -0e3, true, null] , "nested":{"x":{}}})",
                     "{\"utf8\":\"\xc5\xbc\xc3\xb3\xc5\x82w \xe2\x9c\x93 \xf0\x9f\x98\x80\"}",
                     "{\"x\":\"" + std::string(100000, 'x') + "\"}"}
          : Messages{std::string("nul\0inside", 10), "", "line\nbreak and spaces", "\xff\xfe binary",
                     std::string(100000, 'x')};
  ProduceRaw(odd);
  Lease lease;
  ASSERT_TRUE(queue_->Take(10, 0, &lease).ok());
  EXPECT_EQ(lease.messages, odd);
  // Each message's outcome is the message itself.
  std::vector<Outcome> outcomes;
  for (const std::string& m : odd) outcomes.push_back({Outcome::Route::kResult, m});
  auto settled = queue_->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, odd.size());
  EXPECT_EQ(ConsumeRaw(Config().output), odd);
}

TEST_P(QueueContractTest, TakeOnAnEmptyQueueWaitsAboutBlockMsAndReturnsNothing) {
  const int block_ms = 400;
  const auto start = Clock::now();
  Lease lease = TakeLease(10, block_ms);
  const auto waited = Clock::now() - start;
  EXPECT_TRUE(lease.messages.empty());
  EXPECT_GE(waited, std::chrono::milliseconds(block_ms / 2));
  EXPECT_LT(waited, std::chrono::milliseconds(block_ms) + kSlack);
  EXPECT_EQ(Depth().in_flight, 0);
  EXPECT_EQ(Reclaim(0).messages, Messages{}) << "a wait that brought nothing leaves nothing in flight";
}

// (http-mq: it waits for one answer of the service, which holds a pull-n on
// an empty queue for queue.pull_wait_ms, 300 ms here.)
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
  const bool blocked = WaitForBlockedTaker(std::chrono::seconds(10));
  Produce({"late"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Names(lease.messages), Messages{"late"});
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
  std::unique_ptr<Queue> taker = Open();
  Lease lease;
  Status status;
  std::thread waiting([&] { status = taker->Take(10, 1500, &lease); });
  const bool blocked = WaitForBlockedTaker(std::chrono::seconds(10));
  const QueueDepth during = Depth();
  waiting.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(during.in_flight, 0);
  EXPECT_EQ(during.waiting, Waiting(0));
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
  const bool blocked = WaitForBlockedTaker(std::chrono::seconds(10));
  Produce({"a", "b", "c", "d", "e"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Names(lease.messages), (Messages{"a", "b", "c", "d", "e"}));
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
  const bool blocked = WaitForBlockedTaker(std::chrono::seconds(10));
  std::unique_ptr<Queue> reclaimer = Open();
  Lease reclaimed;
  Status reclaim = reclaimer->Reclaim(0, 10, &reclaimed);
  Produce({"late"});
  taker.join();
  ASSERT_TRUE(blocked) << "Take never blocked on the server";
  ASSERT_TRUE(reclaim.ok()) << reclaim.message();
  EXPECT_TRUE(reclaimed.messages.empty());
  if (status.ok()) {
    EXPECT_EQ(Names(lease.messages), Messages{"late"});
  } else {
    EXPECT_TRUE(lease.messages.empty()) << status.message();
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
  EXPECT_EQ(depth.waiting, Waiting(0));
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
  EXPECT_TRUE(Reclaim(kLongAgoMs).messages.empty());
  EXPECT_EQ(SettleAll(lease).published, 2u);
}

TEST_P(QueueContractTest, ReclaimTakesOverALeaseOnceItIsOld) {
  Produce({"a", "b", "c"});
  Lease old = TakeLease(10);
  const int older_than_ms = 500;
  EXPECT_TRUE(Reclaim(older_than_ms).messages.empty()) << "too young yet";
  const std::vector<Lease> reclaimed =
      ReclaimWithin(older_than_ms, 3, std::chrono::milliseconds(older_than_ms) + kSlack);
  EXPECT_EQ(MessagesOf(reclaimed), (Messages{"a", "b", "c"}));
  if (GetParam().reclaim_revokes_old_lease) {
    ASSERT_EQ(reclaimed.size(), 1u) << "one lease is taken over whole";
    EXPECT_NE(reclaimed[0].id, old.id);
  }
  EXPECT_EQ(Depth().in_flight, 3);
  EXPECT_TRUE(Reclaim(older_than_ms).messages.empty()) << "the new lease is young";

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
  EXPECT_EQ(Names(first.messages), (Messages{"a", "b"}));
  EXPECT_EQ(SettleAll(first).published, 2u);
  Lease rest = Reclaim(0, 10);
  EXPECT_EQ(Names(rest.messages), (Messages{"c", "d", "e"}));
  EXPECT_EQ(SettleAll(rest).published, 3u);
  EXPECT_EQ(SettleAll(old).published, 0u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b", "c", "d", "e"}));
}

TEST_P(QueueContractTest, ReclaimWithNothingInFlightHandsOutNothing) {
  Produce({"waiting"});
  Lease out = Reclaim(0);
  EXPECT_TRUE(out.id.empty());
  EXPECT_TRUE(out.messages.empty());
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
  std::unique_ptr<Queue> taker_queue = Open();
  std::unique_ptr<Queue> reclaimer_queue = Open();
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
  EXPECT_EQ(depth.waiting, Waiting(0));
  EXPECT_EQ(depth.in_flight, 0);
}

// --- Release -----------------------------------------------------------------

TEST_P(QueueContractTest, ReleasedMessagesAreTakenAgainInTheirOrder) {
  Produce({"a", "b", "c", "d"});
  Lease lease = TakeLease(2);
  ASSERT_TRUE(queue_->Release(lease).ok());
  switch (GetParam().release) {
    case ReleaseReturns::kToInput:
      EXPECT_EQ(Take(10), (Messages{"a", "b", "c", "d"}));
      break;
    case ReleaseReturns::kToNextTake:
      EXPECT_EQ(Take(10), (Messages{"a", "b"}));
      EXPECT_EQ(Take(10), (Messages{"c", "d"}));
      break;
    case ReleaseReturns::kAfterTimeout: {
      Lease later = TakeLease(10);
      EXPECT_EQ(Names(later.messages), (Messages{"c", "d"}));
      SettleAll(later);
      EXPECT_TRUE(Reclaim(kLongAgoMs).messages.empty()) << "released entries wait for the in-flight timeout";
      EXPECT_EQ(MessagesOf(ReclaimWithin(50, 2, kSlack)), (Messages{"a", "b"}));
      break;
    }
  }
}

TEST_P(QueueContractTest, AReleasedLeaseSettlesNothingWhenItsMessagesWereSettledAgain) {
  Produce({"a", "b"});
  Lease lease = TakeLease(10);
  ASSERT_TRUE(queue_->Release(lease).ok());
  Lease again = GetParam().release == ReleaseReturns::kAfterTimeout ? Reclaim(0) : TakeLease(10);
  ASSERT_EQ(Names(again.messages), (Messages{"a", "b"}));
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
  EXPECT_TRUE(Reclaim(0).messages.empty());
  EXPECT_EQ(Results(), ResultsOf({"a"}));
}

// --- Depth -------------------------------------------------------------------

TEST_P(QueueContractTest, DepthCountsWaitingAndInFlight) {
  QueueDepth empty = Depth();
  EXPECT_EQ(empty.waiting, Waiting(0));
  EXPECT_EQ(empty.in_flight, 0);
  Produce({"a", "b", "c", "d", "e"});
  EXPECT_EQ(Depth().waiting, Waiting(5));
  Lease lease = TakeLease(2);
  QueueDepth taken = Depth();
  EXPECT_EQ(taken.waiting, Waiting(3));
  EXPECT_EQ(taken.in_flight, 2);
  SettleAll(lease);
  QueueDepth settled = Depth();
  EXPECT_EQ(settled.waiting, Waiting(3));
  EXPECT_EQ(settled.in_flight, 0);
}

// --- Redis going away --------------------------------------------------------

TEST_P(QueueContractTest, ScriptsWorkAfterRedisForgetsThem) {
  if (!GetParam().redis_backed) GTEST_SKIP() << kNoRedis;
  Produce({"a", "b"});
  Lease lease = TakeLease(1);
  ASSERT_TRUE(upstream_->redis()->Command({"SCRIPT", "FLUSH"}).ok());
  TakeInto(&lease, 1);
  ASSERT_TRUE(upstream_->redis()->Command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_EQ(SettleAll(lease).published, 2u);
  EXPECT_EQ(Results(), ResultsOf({"a", "b"}));
}

// Redis restarted without persistence (here: emptied) has forgotten the
// lease and the consumer group: settling publishes nothing, even when a new
// lease of as many messages was taken since, and taking goes on.
TEST_P(QueueContractTest, AfterRedisLostItsDataALeaseFromBeforeSettlesNothing) {
  if (!GetParam().redis_backed) GTEST_SKIP() << kNoRedis;
  Produce({"a", "b"});
  Lease before = TakeLease(10);
  ASSERT_TRUE(upstream_->redis()->Command({"FLUSHALL"}).ok());
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
  if (!GetParam().redis_backed) GTEST_SKIP() << kNoRedis;
  const QueueKind kind = GetParam().kind;
  const fs::path dir = fs::path(SharedRedis().dir()) / ("aof-" + GetParam().name);
  fs::create_directories(dir);
  LocalRedisOptions options;
  options.dir = dir.string();
  options.append_only = true;
  auto server = LocalRedis::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().message();
  options.port = server.value()->port();
  std::unique_ptr<Queue> queue = OpenRedisAt(options.port);
  RedisUpstream upstream(kind, options.port);
  ASSERT_TRUE(upstream.Produce(Config().input, {"a", "bad", "c", "d"}).ok());
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
  auto results = upstream.Consume(Config().output);
  ASSERT_TRUE(results.ok()) << results.status().message();
  EXPECT_EQ(results.value(), ResultsOf({"a", "c"}));
}

TEST_P(QueueContractTest, QueueWithoutRedisReturnsErrorsNamingTheAddressThenWorksOnceRedisStarts) {
  if (!GetParam().redis_backed) GTEST_SKIP() << kNoRedis;
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  const std::string address = "127.0.0.1:" + std::to_string(port.value());
  std::unique_ptr<Queue> queue = OpenRedisAt(port.value());
  ASSERT_NE(queue, nullptr);
  EXPECT_THAT(queue->Describe(), HasSubstr(address));

  Lease lease;
  Status take = Status::Ok();
  EXPECT_NO_THROW(take = queue->Take(10, 100, &lease));
  EXPECT_FALSE(take.ok());
  EXPECT_THAT(take.message(), HasSubstr(address));
  EXPECT_THAT(take.message(), HasSubstr("taking from " + Config().input));
  EXPECT_TRUE(lease.messages.empty());
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
  options.dir = SharedRedis().dir();
  options.port = port.value();
  auto late_server = LocalRedis::Start(options);
  ASSERT_TRUE(late_server.ok()) << late_server.status().message();
  RedisUpstream late_upstream(GetParam().kind, port.value());
  ASSERT_TRUE(late_upstream.Produce(Config().input, {"m"}).ok());

  Status retaken = queue->Take(10, 0, &lease);
  ASSERT_TRUE(retaken.ok()) << retaken.message();
  EXPECT_EQ(lease.messages, Messages{"m"});
  auto settled = queue->Settle(lease.id, OutcomesFor(lease));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 1u);
  auto results = late_upstream.Consume(Config().output);
  ASSERT_TRUE(results.ok()) << results.status().message();
  EXPECT_EQ(results.value(), ResultsOf({"m"}));
}

TEST_P(QueueContractTest, SettleWithoutRedisIsAnErrorNamingTheAddress) {
  if (!GetParam().redis_backed) GTEST_SKIP() << kNoRedis;
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  std::unique_ptr<Queue> queue = OpenRedisAt(port.value());
  const std::string lease_id = GetParam().kind == QueueKind::kRedisList ? "1" : "1-0";
  auto settled = queue->Settle(lease_id, {Outcome{}});
  ASSERT_FALSE(settled.ok());
  EXPECT_THAT(settled.status().message(), HasSubstr("127.0.0.1:" + std::to_string(port.value())));
}

// --- Lease::deliveries --------------------------------------------------------

// A Take hands messages out for the first time; each Reclaim once more, and
// the count lives in the queue, so another instance (another process) sees it.
TEST_P(QueueContractTest, DeliveriesCountTheTakeAndEachReclaimOfALease) {
  Produce({"a"});
  Lease taken = TakeLease(10);
  ASSERT_EQ(Names(taken.messages), Messages{"a"});
  EXPECT_EQ(taken.deliveries, 1u);

  std::unique_ptr<Queue> other = Open();
  ASSERT_TRUE(other);
  Lease second;
  ASSERT_TRUE(other->Reclaim(0, 10, &second).ok());
  ASSERT_EQ(Names(second.messages), Messages{"a"});
  EXPECT_EQ(second.deliveries, 2u);

  Lease third = Reclaim(0);
  ASSERT_EQ(Names(third.messages), Messages{"a"});
  EXPECT_EQ(third.deliveries, 3u);

  Produce({"b"});
  Lease fresh = TakeLease(10);
  ASSERT_EQ(Names(fresh.messages), Messages{"b"});
  EXPECT_EQ(fresh.deliveries, 1u) << "new messages start again at one";

  EXPECT_EQ(SettleAll(third).published, 1u);
  EXPECT_EQ(SettleAll(fresh).published, 1u);
  EXPECT_EQ(SettleAll(taken).published, 0u) << "the first lease was reclaimed";
  EXPECT_EQ(Results(), (Messages{"r(a)", "r(b)"}));
  EXPECT_TRUE(Reclaim(0).messages.empty());
}

INSTANTIATE_TEST_SUITE_P(AllKinds, QueueContractTest,
                         ::testing::Values(RedisListKind(), RedisStreamKind(), HttpMqKind()),
                         [](const ::testing::TestParamInfo<QueueKindCase>& info) { return info.param.name; });

}  // namespace
}  // namespace scorepipe
