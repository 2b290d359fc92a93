// What only http-mq does (queue/http_mq_queue.h), against the stand-in for
// the upstream's HTTP service: long polls that answer 204, a full output
// (409) waited out without dropping anything, outcomes the service refuses
// (400), a service that is not there, and a stop during a long poll. The
// Queue contract itself runs on http-mq in queue_contract_test.cc; a bridge
// killed after a pull is in tests/integration/http_mq_test.cc.
#include "queue/http_mq_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "local_cluster/local_redis.h"
#include "tests/support/http_mq_stand_in.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Messages = std::vector<std::string>;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::HttpMqStandIn;
using testing::WaitUntil;

constexpr char kInput[] = "transactions_queue";
constexpr char kOutput[] = "results_queue";

// "{"m":"<name>"}" and the result "{"r":"<name>"}" the tests use.
std::string Message(const std::string& name) { return "{\"m\":\"" + name + "\"}"; }
std::string ResultFor(const std::string& name) { return "{\"r\":\"" + name + "\"}"; }
Messages MessagesNamed(const Messages& names) {
  Messages out;
  for (const std::string& n : names) out.push_back(Message(n));
  return out;
}
Messages ResultsNamed(const Messages& names) {
  Messages out;
  for (const std::string& n : names) out.push_back(ResultFor(n));
  return out;
}
std::vector<Outcome> ResultsAsOutcomes(const Messages& names) {
  std::vector<Outcome> out;
  for (const std::string& n : names) out.push_back({Outcome::Route::kResult, ResultFor(n)});
  return out;
}

class HttpMqQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(temp_.ok()) << "cannot create a temporary directory"; }

  void StartServer(milliseconds pull_wait, int port = 0) {
    testing::HttpMqStandInOptions options;
    options.pull_wait = pull_wait;
    options.port = port;
    options.validate_messages = validate_messages_;
    auto started = HttpMqStandIn::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started.value());
  }

  QueueConfig Config() const {
    QueueConfig config;
    config.kind = QueueKind::kHttpMq;
    config.url = server_ ? server_->url() : url_;
    config.journal_dir = (dir_ / "journal").string();
    config.pull_wait_ms = static_cast<int>(pull_wait_.count());
    config.http_timeout_ms = 5000;
    config.push_retry_ms = push_retry_ms_;
    return config;
  }
  std::unique_ptr<HttpMqQueue> Open() const { return std::make_unique<HttpMqQueue>(Config()); }

  // A server whose output holds `cap` at most, and a queue holding a lease
  // of `names`, settling with retries for `push_retry_ms`.
  std::unique_ptr<HttpMqQueue> LeaseWithOutputCapped(const Messages& names, size_t cap, int push_retry_ms,
                                                     Lease* lease) {
    StartServer(pull_wait_);
    push_retry_ms_ = push_retry_ms;
    server_->SetCap(kOutput, cap);
    server_->Seed(kInput, MessagesNamed(names));
    auto queue = Open();
    *lease = TakeLease(*queue, 100);
    EXPECT_EQ(lease->messages.size(), names.size());
    return queue;
  }

  Lease TakeLease(HttpMqQueue& queue, size_t max, int block_ms = 0) {
    Lease lease;
    Status s = queue.Take(max, block_ms, &lease);
    EXPECT_TRUE(s.ok()) << s.message();
    return lease;
  }

  testing::TempDir temp_{"http-mq"};
  const fs::path& dir_ = temp_.path();
  std::unique_ptr<HttpMqStandIn> server_;
  std::string url_;  // where the queue points while no server runs
  milliseconds pull_wait_{200};
  int push_retry_ms_ = 2000;
  bool validate_messages_ = false;  // most tests carry synthetic messages
};

TEST_F(HttpMqQueueTest, ATakeKeepsPollingAfter204AndGetsWhatArrivesDuringALongPoll) {
  StartServer(pull_wait_);
  auto queue = Open();
  Lease lease;
  Status status;
  const auto start = Clock::now();
  std::thread taker([&] { status = queue->Take(10, 20000, &lease); });
  const bool answered_empty =
      WaitUntil([&] { return server_->counters().pulls_empty >= 1; }, milliseconds(10000));
  const bool polling_again =
      WaitUntil([&] { return server_->waiting_pulls() == 1; }, milliseconds(10000), milliseconds(2));
  server_->Seed(kInput, MessagesNamed({"late-1", "late-2"}));
  taker.join();
  ASSERT_TRUE(answered_empty) << "no pull-n was answered 204";
  ASSERT_TRUE(polling_again);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(lease.messages, MessagesNamed({"late-1", "late-2"}));
  EXPECT_LT(Clock::now() - start, milliseconds(15000));
  EXPECT_GE(server_->counters().pulls, 2);
  auto depth = queue->Depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->in_flight, 2);
  EXPECT_EQ(depth->waiting, -1) << "the service cannot say";
}

// The output holds 2 at most; the consumer takes results out only when it
// sees the sink refused (409). Settle waits it out, in smaller requests.
TEST_F(HttpMqQueueTest, AFullOutputIsRetriedUntilTheConsumerDrainsItAndNothingIsDropped) {
  const Messages names = {"a", "b", "c", "d", "e"};
  Lease lease;
  auto queue = LeaseWithOutputCapped(names, 2, 60000, &lease);

  Result<Settlement> settled = Status::Error("not settled");
  std::atomic<bool> done{false};
  std::thread sink([&] {
    settled = queue->Settle(lease.id, ResultsAsOutcomes(names));
    done = true;
  });
  Messages consumed;
  int64_t full_seen = 0;
  const auto until = Clock::now() + milliseconds(60000);
  while (!done && Clock::now() < until) {
    // A slow consumer: one result per refusal seen.
    const int64_t full = server_->counters().pushes_full;
    if (full > full_seen) {
      full_seen = full;
      Messages one = server_->Drain(kOutput, 1);
      consumed.insert(consumed.end(), one.begin(), one.end());
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  sink.join();
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 5u);
  EXPECT_EQ(settled->duplicates, 0u);
  Messages rest = server_->Drain(kOutput);
  consumed.insert(consumed.end(), rest.begin(), rest.end());
  EXPECT_EQ(consumed, ResultsNamed(names)) << "every result once, in order";
  EXPECT_GE(server_->counters().pushes_full, 2);
  EXPECT_EQ(queue->Depth()->in_flight, 0);
}

// Past queue.push_retry_ms Settle gives up with an error and gives the lease
// back, marking what went in; the retry publishes only the rest.
TEST_F(HttpMqQueueTest, AnOutputFullPastTheRetryTimeIsAnErrorAndTheRetryPublishesOnlyTheRest) {
  const Messages names = {"a", "b", "c", "d"};
  Lease lease;
  auto queue = LeaseWithOutputCapped(names, 2, 300, &lease);

  auto failed = queue->Settle(lease.id, ResultsAsOutcomes(names));
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("stayed full (409"));
  EXPECT_THAT(failed.status().message(), HasSubstr(server_->url()));
  EXPECT_THAT(failed.status().message(), HasSubstr("2 outcomes published now"));
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed({"a", "b"}));
  EXPECT_EQ(queue->Depth()->in_flight, 2) << "what was published is no longer in flight";

  auto retried = queue->Settle(lease.id, ResultsAsOutcomes(names));
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  EXPECT_EQ(retried->published, 4u);
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed({"c", "d"}));
  EXPECT_EQ(queue->Depth()->in_flight, 0);
}

// The same, when the lease goes round again instead (its sink gave up and
// the batch was lost): the reclaimed lease holds only what was not published.
TEST_F(HttpMqQueueTest, ALeaseReclaimedAfterAPartialSettlementHoldsOnlyWhatWasNotPublished) {
  const Messages names = {"a", "b", "c", "d"};
  Lease lease;
  auto queue = LeaseWithOutputCapped(names, 2, 300, &lease);
  ASSERT_FALSE(queue->Settle(lease.id, ResultsAsOutcomes(names)).ok());
  server_->SetCap(kOutput, 0);

  Lease reclaimed;
  ASSERT_TRUE(queue->Reclaim(0, 100, &reclaimed).ok());
  EXPECT_EQ(reclaimed.messages, MessagesNamed({"c", "d"}));
  auto settled = queue->Settle(reclaimed.id, ResultsAsOutcomes({"c", "d"}));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 2u);
  auto old = queue->Settle(lease.id, ResultsAsOutcomes(names));
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->published, 0u);
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed(names));
}

// A result the service refuses (400: not a JSON object) is an error value
// naming the outcome's position; nothing of that request went in and the
// lease stays held.
TEST_F(HttpMqQueueTest, AResultTheServiceRefusesIsRefusedNamingItsPosition) {
  StartServer(pull_wait_);
  server_->Seed(kInput, MessagesNamed({"a", "b", "c"}));
  auto queue = Open();
  Lease lease = TakeLease(*queue, 10);
  std::vector<Outcome> outcomes = ResultsAsOutcomes({"a", "b", "c"});
  outcomes[1].text = "[1, 2]";  // JSON, but not an object
  auto settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_THAT(settled->refused, HasSubstr("outcome 1 of the lease"));
  EXPECT_THAT(settled->refused, HasSubstr("(400)"));
  EXPECT_THAT(settled->refused, HasSubstr("Message must be an object."));
  EXPECT_EQ(settled->refused_index, 1u);
  EXPECT_EQ(settled->published, 0u);
  EXPECT_EQ(server_->Size(kOutput), 0u);
  EXPECT_EQ(queue->Depth()->in_flight, 3);

  outcomes[1].text = "r(b) is not JSON";  // refused here, before anything is sent
  const int64_t pushes = server_->counters().pushes;
  settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_THAT(settled->refused, HasSubstr("outcome 1 of the lease (message 1 is not JSON"));
  EXPECT_EQ(server_->counters().pushes, pushes);

  settled = queue->Settle(lease.id, ResultsAsOutcomes({"a", "b", "c"}));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 3u);
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed({"a", "b", "c"}));
}

// --- Dead letters, refusals and side outputs, against the service's checks.

// scorepipe's results and dead-letter entries as the sink writes them.
std::string ScoredResult(int id, double confidence = 0.9) {
  return "{\"transaction_id\":" + std::to_string(id) +
         ",\"timestamp\":\"2026-01-01T12:00:00.123Z\",\"is_fraudulent\":0,\"confidence\":" +
         std::to_string(confidence) + "}";
}
std::string DeadLetterEntry(int id) {
  return "{\"reason\":\"status: not one of accepted, rejected, pending\",\"stage\":\"bridge\",\"failed_at\":"
         "\"2026-01-01T12:00:00.000Z\",\"message\":\"{\\\"id\\\":" +
         std::to_string(id) + "}\"}";
}

TEST_F(HttpMqQueueTest, DeadLettersGoToTheJournalsFileNeverToTheService) {
  validate_messages_ = true;
  StartServer(pull_wait_);
  server_->Seed(kInput, MessagesNamed({"1", "2", "3", "4"}));
  auto queue = Open();
  Lease lease = TakeLease(*queue, 10);
  ASSERT_EQ(lease.messages.size(), 4u);
  const std::vector<Outcome> outcomes = {{Outcome::Route::kResult, ScoredResult(1)},
                                         {Outcome::Route::kDeadLetter, DeadLetterEntry(2)},
                                         {Outcome::Route::kResult, ScoredResult(3)},
                                         {Outcome::Route::kDeadLetter, "{\n  \"spread\": \"over lines\"\n}"}};
  auto settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_TRUE(settled->refused.empty()) << settled->refused;
  EXPECT_EQ(settled->published, 4u);
  EXPECT_EQ(server_->Drain(kOutput), (Messages{ScoredResult(1), ScoredResult(3)}));
  EXPECT_EQ(server_->counters().not_found, 0) << "nothing went to a queue the service lacks";
  EXPECT_EQ(server_->counters().pushes_refused, 0);
  auto dead = queue->Peek(Config().dead_letter, 10);
  ASSERT_TRUE(dead.ok()) << dead.status().message();
  EXPECT_EQ(*dead, (Messages{DeadLetterEntry(2), R"({"spread":"over lines"})"})) << "one JSON entry a line";
  EXPECT_EQ(queue->Depth()->in_flight, 0);
  EXPECT_THAT(queue->Describe(),
              HasSubstr("dead_letter=" + (dir_ / "journal" / "dead_letters.jsonl").string()));
  settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(settled->duplicates, 4u);
  EXPECT_EQ(queue->Peek(Config().dead_letter, 10)->size(), 2u) << "a settled lease writes nothing again";
}

// The service names the refused message only inside its error text, and
// only by its index in the request: the settlement names the outcome's
// position in the lease, and settling again with it dead-lettered publishes
// the rest, each once.
TEST_F(HttpMqQueueTest, ARefusedResultIsNamedByItsPositionInTheLeaseAndASettleAgainPublishesTheRest) {
  validate_messages_ = true;
  StartServer(pull_wait_);
  server_->Seed(kInput, MessagesNamed({"1", "2", "3", "4", "5"}));
  auto queue = Open();
  Lease lease = TakeLease(*queue, 10);
  std::vector<Outcome> outcomes = {{Outcome::Route::kDeadLetter, DeadLetterEntry(1)},
                                   {Outcome::Route::kResult, ScoredResult(2)},
                                   {Outcome::Route::kDeadLetter, DeadLetterEntry(3)},
                                   {Outcome::Route::kResult, ScoredResult(4, 1.5)},  // confidence > 1
                                   {Outcome::Route::kResult, ScoredResult(5)}};
  auto settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_THAT(settled->refused, HasSubstr("outcome 3 of the lease"));
  EXPECT_THAT(settled->refused, HasSubstr("Invalid message format for message at index 1"));
  EXPECT_EQ(settled->refused_index, 3u) << "index 1 of the push-n is outcome 3 of the lease";
  EXPECT_EQ(server_->Size(kOutput), 0u);
  EXPECT_TRUE(queue->Peek(Config().dead_letter, 10)->empty()) << "nothing of a refused settlement is written";

  outcomes[3] = {Outcome::Route::kDeadLetter, DeadLetterEntry(4)};
  settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_TRUE(settled->refused.empty()) << settled->refused;
  EXPECT_EQ(settled->published, 5u);
  EXPECT_EQ(server_->Drain(kOutput), (Messages{ScoredResult(2), ScoredResult(5)}));
  EXPECT_EQ(*queue->Peek(Config().dead_letter, 10),
            (Messages{DeadLetterEntry(1), DeadLetterEntry(3), DeadLetterEntry(4)}));
}

// Results pushed in an earlier request (a push-n carries 1000 at most) stay
// published: a settle again after the refusal sends only the rest.
TEST_F(HttpMqQueueTest, ARefusalInALaterRequestKeepsTheEarlierRequestsResultsDone) {
  validate_messages_ = true;
  StartServer(pull_wait_);
  constexpr int kCount = 1002;
  Messages names;
  for (int i = 1; i <= kCount; ++i) names.push_back(std::to_string(i));
  server_->Seed(kInput, MessagesNamed(names));
  auto queue = Open();
  Lease lease = TakeLease(*queue, kCount);
  ASSERT_EQ(lease.messages.size(), static_cast<size_t>(kCount));
  std::vector<Outcome> outcomes;
  Messages expected;
  for (int i = 1; i <= kCount; ++i) {
    outcomes.push_back({Outcome::Route::kResult, ScoredResult(i, i == kCount ? 2.0 : 0.5)});
    if (i < kCount) expected.push_back(outcomes.back().text);
  }
  auto settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->refused_index, static_cast<size_t>(kCount - 1)) << settled->refused;
  EXPECT_EQ(server_->Size(kOutput), 1000u);
  outcomes.back() = {Outcome::Route::kDeadLetter, DeadLetterEntry(kCount)};
  settled = queue->Settle(lease.id, outcomes);
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, static_cast<size_t>(kCount));
  EXPECT_EQ(server_->Drain(kOutput), expected) << "each result once, in order";
  EXPECT_EQ(*queue->Peek(Config().dead_letter, 10), Messages{DeadLetterEntry(kCount)});
}

// A side output (queue.shadow) the service lacks (404) or refuses (400) is an
// error of Append only; the sink logs and counts it (ShadowLost).
TEST_F(HttpMqQueueTest, AnAppendToAQueueTheServiceLacksOrRefusesIsAnError) {
  validate_messages_ = true;
  StartServer(pull_wait_);
  auto queue = Open();
  Status missing = queue->Append("results_shadow", {R"({"shadow":1})"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.message(), HasSubstr("(404)"));
  Status refused = queue->Append(kOutput, {ScoredResult(1), R"({"shadow":1})"});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("message 1"));
  EXPECT_THAT(refused.message(), HasSubstr("(400)"));
}

// A SettleMany that fails part-way: its retry reports the leases settled
// before the error as settled, not as duplicates.
TEST_F(HttpMqQueueTest, ARetriedSettleManyReportsWhatTheFailedCallSettled) {
  StartServer(pull_wait_);
  push_retry_ms_ = 100;
  server_->SetCap(kOutput, 2);
  server_->Seed(kInput, MessagesNamed({"a", "b", "c", "d"}));
  auto queue = Open();
  Lease first = TakeLease(*queue, 2);
  Lease second = TakeLease(*queue, 2);
  const std::vector<SettleRequest> group = {{first.id, ResultsAsOutcomes({"a", "b"})},
                                            {second.id, ResultsAsOutcomes({"c", "d"})}};
  auto failed = queue->SettleMany(group);
  ASSERT_FALSE(failed.ok()) << "the output is full after the first lease";
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed({"a", "b"}));
  auto retried = queue->SettleMany(group);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  ASSERT_EQ(retried->size(), 2u);
  EXPECT_EQ((*retried)[0].published, 2u);
  EXPECT_EQ((*retried)[0].duplicates, 0u);
  EXPECT_EQ((*retried)[1].published, 2u);
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed({"c", "d"}));
  auto again = queue->SettleMany(group);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].duplicates, 2u) << "remembered once only";
}

TEST_F(HttpMqQueueTest, PushOfAMessageTheServiceRefusesIsAnErrorNamingItsIndex) {
  StartServer(pull_wait_);
  auto queue = Open();
  Status refused = queue->Push({Message("a"), "[2]", Message("c")});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("message 1"));
  EXPECT_THAT(refused.message(), HasSubstr("(400)"));
  Status not_json = queue->Push({Message("a"), "{oops"});
  ASSERT_FALSE(not_json.ok());
  EXPECT_THAT(not_json.message(), HasSubstr("message 1 is not JSON"));
  EXPECT_EQ(server_->Size(kInput), 0u);
}

TEST_F(HttpMqQueueTest, AQueueTheServiceDoesNotHaveIsAnErrorNamingIt) {
  StartServer(pull_wait_);
  QueueConfig config = Config();
  config.input = "no_such_queue";
  HttpMqQueue queue(config);
  Lease lease;
  Status take = queue.Take(10, 1000, &lease);
  ASSERT_FALSE(take.ok());
  EXPECT_THAT(take.message(), HasSubstr("no queue 'no_such_queue' (404)"));
  Status push = queue.Push({Message("a")});
  ASSERT_FALSE(push.ok());
  EXPECT_THAT(push.message(), HasSubstr("(404)"));
}

// Nothing listens at the URL: every call that needs the service fails naming
// it; the journal still answers; once the service is up everything works,
// and a lease whose settling failed settles then.
TEST_F(HttpMqQueueTest, AnUnreachableServiceIsAnErrorNamingTheUrlThenWorksOnceItStarts) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  url_ = "http://127.0.0.1:" + std::to_string(port.value());
  auto queue = Open();
  EXPECT_THAT(queue->Describe(), HasSubstr(url_));
  EXPECT_THAT(queue->Describe(), HasSubstr((dir_ / "journal").string()));

  Lease lease;
  Status take = queue->Take(10, 100, &lease);
  ASSERT_FALSE(take.ok());
  EXPECT_THAT(take.message(), HasSubstr("taking from transactions_queue at " + url_));
  EXPECT_THAT(take.message(), HasSubstr("/pull-n?queue-name=transactions_queue"));
  Status push = queue->Push({Message("p")});
  ASSERT_FALSE(push.ok());
  EXPECT_THAT(push.message(), HasSubstr(url_ + "/push-n"));

  // A lease pulled before the service went away.
  LeaseJournal journal(Config().journal_dir);
  ASSERT_TRUE(journal.AddReady(MessagesNamed({"held"})).ok());
  Lease held;
  ASSERT_TRUE(journal.TakeReady(10, &held).ok());
  auto settle = queue->Settle(held.id, ResultsAsOutcomes({"held"}));
  ASSERT_FALSE(settle.ok());
  EXPECT_THAT(settle.status().message(), HasSubstr(url_));
  auto depth = queue->Depth();
  ASSERT_TRUE(depth.ok()) << depth.status().message();
  EXPECT_EQ(depth->in_flight, 1);

  StartServer(pull_wait_, port.value());
  server_->Seed(kInput, MessagesNamed({"m"}));
  ASSERT_TRUE(queue->Take(10, 5000, &lease).ok());
  EXPECT_EQ(lease.messages, MessagesNamed({"m"}));
  auto settled = queue->Settle(lease.id, ResultsAsOutcomes({"m"}));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  settled = queue->Settle(held.id, ResultsAsOutcomes({"held"}));
  ASSERT_TRUE(settled.ok()) << settled.status().message();
  EXPECT_EQ(settled->published, 1u);
  EXPECT_EQ(server_->Drain(kOutput), ResultsNamed({"m", "held"}));
}

// A queue destroyed while its pull-n is outstanding (a stopping bridge) waits
// for the answer and journals it: the next Take returns it without asking
// the service again.
TEST_F(HttpMqQueueTest, AnOutstandingPullIsWaitedForAndJournalledWhenTheQueueGoes) {
  pull_wait_ = milliseconds(5000);
  StartServer(pull_wait_);
  auto queue = Open();
  EXPECT_TRUE(TakeLease(*queue, 10, 50).messages.empty());
  ASSERT_TRUE(WaitUntil([&] { return server_->waiting_pulls() == 1; }, milliseconds(10000)));
  std::thread stopping([&] { queue.reset(); });
  server_->Seed(kInput, MessagesNamed({"late"}));
  stopping.join();
  EXPECT_EQ(server_->Size(kInput), 0u);
  const int64_t pulls = server_->counters().pulls;

  auto next = Open();
  Lease lease = TakeLease(*next, 10, 50);
  EXPECT_EQ(lease.messages, MessagesNamed({"late"}));
  EXPECT_EQ(server_->counters().pulls, pulls) << "taken from the journal";
}

TEST_F(HttpMqQueueTest, StoppingDuringALongPollThatBringsNothingTakesAtMostTheWait) {
  pull_wait_ = milliseconds(1000);
  StartServer(pull_wait_);
  auto queue = Open();
  EXPECT_TRUE(TakeLease(*queue, 10, 20).messages.empty());
  const auto start = Clock::now();
  queue.reset();
  EXPECT_LT(Clock::now() - start, pull_wait_ + milliseconds(5000));
  EXPECT_EQ(Open()->Depth()->in_flight, 0);
}

}  // namespace
}  // namespace scorepipe
