// The stand-in for the upstream's HTTP queue behaves as UPSTREAM.md says the
// service does, spoken to with cpp-httplib's own client.
#include "tests/support/http_mq_stand_in.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using Messages = std::vector<std::string>;

constexpr char kQueue[] = "transactions_queue";

class HttpMqStandInTest : public ::testing::Test {
 protected:
  void StartWith(milliseconds pull_wait, int port = 0, bool validate = false) {
    HttpMqStandInOptions options;
    options.pull_wait = pull_wait;
    options.port = port;
    options.validate_messages = validate;
    auto started = HttpMqStandIn::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started.value());
    client_ = std::make_unique<httplib::Client>(server_->url());
    client_->set_read_timeout(60, 0);
  }
  void SetUp() override { StartWith(milliseconds(200)); }

  httplib::Result Pull(const std::string& queue, const std::string& count) {
    return client_->Get(("/pull-n?queue-name=" + queue + "&count=" + count).c_str());
  }
  httplib::Result Push(const std::string& queue, const std::string& messages_json) {
    return client_->Post("/push-n", "{\"queue_name\":\"" + queue + "\",\"messages\":" + messages_json + "}",
                         "application/json");
  }
  // The strings of a pull-n answer.
  static Messages Strings(const std::string& body) {
    Messages out;
    simdjson::dom::parser parser;
    simdjson::dom::array array;
    EXPECT_FALSE(parser.parse(body).get_array().get(array)) << body;
    for (simdjson::dom::element e : array) {
      std::string_view text;
      EXPECT_FALSE(e.get_string().get(text)) << body;
      out.emplace_back(text);
    }
    return out;
  }

  std::unique_ptr<HttpMqStandIn> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpMqStandInTest, PushedMessagesArePulledInOrderAsJsonStrings) {
  auto pushed = Push(kQueue, R"([{"id":1},{"id":2},{"id":3}])");
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->status, 201);
  auto first = Pull(kQueue, "2");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(Strings(first->body), (Messages{R"({"id":1})", R"({"id":2})"}));
  auto rest = Pull(kQueue, "10");
  ASSERT_TRUE(rest);
  EXPECT_EQ(Strings(rest->body), (Messages{R"({"id":3})"}));
  EXPECT_EQ(server_->Size(kQueue), 0u);
}

TEST_F(HttpMqStandInTest, AMessageKeepsItsTextAsItCame) {
  const std::string odd = R"({ "text" : "line\nbreak \"q\" \\ \u0000 żółw", "n" : [1, 2.50, true, null] })";
  ASSERT_EQ(Push(kQueue, "[" + odd + "]")->status, 201);
  EXPECT_EQ(server_->Drain(kQueue), Messages{odd});
}

TEST_F(HttpMqStandInTest, PullOnAnEmptyQueueWaitsThenAnswers204) {
  const auto start = Clock::now();
  auto pulled = Pull(kQueue, "5");
  ASSERT_TRUE(pulled);
  EXPECT_EQ(pulled->status, 204);
  EXPECT_TRUE(pulled->body.empty());
  EXPECT_GE(Clock::now() - start, milliseconds(150));
  EXPECT_EQ(server_->counters().pulls_empty, 1);
}

TEST_F(HttpMqStandInTest, AWaitingPullIsAnsweredAsSoonAsAMessageArrives) {
  StartWith(milliseconds(20000));
  int status = -1;
  std::string body;
  const auto start = Clock::now();
  std::thread puller([&] {
    auto pulled = Pull(kQueue, "10");
    if (!pulled) return;
    status = pulled->status;
    body = pulled->body;
  });
  const bool waiting = WaitUntil([&] { return server_->waiting_pulls() == 1; }, milliseconds(10000));
  ASSERT_TRUE(server_->Seed(kQueue, {R"({"late":1})", R"({"late":2})"}));
  puller.join();
  ASSERT_TRUE(waiting);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Strings(body), (Messages{R"({"late":1})", R"({"late":2})"}));
  EXPECT_LT(Clock::now() - start, milliseconds(15000)) << "answered at the end of its wait, not on arrival";
  EXPECT_EQ(server_->waiting_pulls(), 0);
}

TEST_F(HttpMqStandInTest, CountThatIsNotAPositiveIntegerIs400) {
  for (const char* count : {"0", "-1", "two", "", "3x"}) {
    auto pulled = Pull(kQueue, count);
    ASSERT_TRUE(pulled);
    EXPECT_EQ(pulled->status, 400) << "count=" << count;
  }
}

TEST_F(HttpMqStandInTest, UnknownQueueIs404ForPullAndPush) {
  EXPECT_EQ(Pull("no_such_queue", "1")->status, 404);
  EXPECT_EQ(Push("no_such_queue", R"([{"a":1}])")->status, 404);
  EXPECT_EQ(server_->counters().not_found, 2);
}

TEST_F(HttpMqStandInTest, PushOfAMessageThatIsNotAnObjectIs400NamingItsIndexAndPushesNothing) {
  auto pushed = Push(kQueue, R"([{"a":1},{"b":2},[3],{"c":4}])");
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->status, 400);
  EXPECT_EQ(
      pushed->body,
      R"({"error":"Invalid message format for message at index 2","message":"Message must be an object."})");
  EXPECT_EQ(server_->Size(kQueue), 0u);
  EXPECT_EQ(server_->counters().pushes_refused, 1);
}

TEST_F(HttpMqStandInTest, PushOfABodyThatIsNotJsonIs400) {
  auto pushed = client_->Post("/push-n", "{\"queue_name\": \"transactions_queue\", \"messages\": [",
                              "application/json");
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->status, 400);
  EXPECT_EQ(Push(kQueue, R"({"not":"a list"})")->status, 400);
}

TEST_F(HttpMqStandInTest, PushPastTheCapIs409AndPushesNothing) {
  server_->SetCap(kQueue, 2);
  EXPECT_EQ(Push(kQueue, R"([{"a":1},{"a":2},{"a":3}])")->status, 409);
  EXPECT_EQ(server_->Size(kQueue), 0u);
  EXPECT_EQ(Push(kQueue, R"([{"a":1},{"a":2}])")->status, 201);
  EXPECT_EQ(Push(kQueue, R"([{"a":3}])")->status, 409);
  EXPECT_EQ(server_->Drain(kQueue, 1), Messages{R"({"a":1})"});
  EXPECT_EQ(Push(kQueue, R"([{"a":3}])")->status, 201);
  EXPECT_EQ(server_->Drain(kQueue), (Messages{R"({"a":2})", R"({"a":3})"}));
  const HttpMqCounters counters = server_->counters();
  EXPECT_EQ(counters.pushes, 4);
  EXPECT_EQ(counters.pushes_full, 2);
}

TEST_F(HttpMqStandInTest, SeedIgnoresTheCapAndWakesWaitingPulls) {
  server_->SetCap(kQueue, 1);
  ASSERT_TRUE(server_->Seed(kQueue, {"a", "b", "c"}));
  EXPECT_EQ(server_->Size(kQueue), 3u);
  EXPECT_FALSE(server_->Seed("no_such_queue", {"a"}));
}

TEST_F(HttpMqStandInTest, StopAnswersAWaitingPullAtOnce) {
  StartWith(milliseconds(60000));
  int status = -1;  // -1: the connection closed without an answer, also fine
  const auto start = Clock::now();
  std::thread puller([&] {
    if (auto pulled = Pull(kQueue, "1")) status = pulled->status;
  });
  const bool waiting = WaitUntil([&] { return server_->waiting_pulls() == 1; }, milliseconds(10000));
  server_->Stop();
  puller.join();
  ASSERT_TRUE(waiting);
  EXPECT_LT(Clock::now() - start, milliseconds(30000));
  EXPECT_TRUE(status == 204 || status == -1) << status;
}

TEST_F(HttpMqStandInTest, StartsOnTheAskedPort) {
  const int port = server_->port();
  server_.reset();
  StartWith(milliseconds(200), port);
  EXPECT_EQ(server_->port(), port);
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(Push(kQueue, R"([{"a":1}])")->status, 201);
}

// --- As the service itself: validation, its order of checks, /create, and
// the one connection behind every pull-n.

class HttpMqStandInServiceTest : public HttpMqStandInTest {
 protected:
  void SetUp() override { StartWith(milliseconds(200), 0, /*validate=*/true); }

  static constexpr char kTransaction[] =
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":100})";
  static constexpr char kResult[] =
      R"({"transaction_id":1,"timestamp":"2026-01-01T12:00:00.123Z","is_fraudulent":0,"confidence":0.95})";
};

TEST_F(HttpMqStandInServiceTest, TheServiceKnowsOnlyItsTwoQueuesAndNoDeadLetterQueue) {
  auto pushed = Push("transactions_dead", std::string("[") + kTransaction + "]");
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->status, 404);
  EXPECT_EQ(pushed->body,
            R"({"error":"Queue does not exist","message":"Queue transactions_dead does not exist"})");
  EXPECT_EQ(Push("results_queue", std::string("[") + kResult + "]")->status, 201);
  EXPECT_EQ(Push(kQueue, std::string("[") + kTransaction + "]")->status, 201);
}

TEST_F(HttpMqStandInServiceTest, AnUnknownQueueIs404BeforeTheMessagesAreValidated) {
  EXPECT_EQ(Push("no_such_queue", R"([{"not":"a transaction"}, 7])")->status, 404);
}

TEST_F(HttpMqStandInServiceTest, ARequestWithoutMessagesOrQueueNameIsAnInvalidRequestBody) {
  for (const std::string body : {R"({"queue_name":"transactions_queue","messages":[]})",
                                 R"({"messages":[{"a":1}]})", R"({"queue_name":"transactions_queue"})"}) {
    auto pushed = client_->Post("/push-n", body, "application/json");
    ASSERT_TRUE(pushed);
    EXPECT_EQ(pushed->status, 400) << body;
    EXPECT_THAT(pushed->body, HasSubstr(R"("error":"Invalid request body")")) << body;
  }
}

TEST_F(HttpMqStandInServiceTest, TransactionsAreValidatedAsTheServiceDoesAndUnusualButValidOnesPass) {
  const Messages valid = {
      kTransaction,
      R"({"id":5005.5,"customer_id":1,"vendor_id":2,"timestamp":"2023-01-01T12:00:00","status":"pending","amount":0})",
      R"({"id":2,"customer_id":1,"vendor_id":2,"timestamp":"2023-01-01T12:00:00+02:00","status":"rejected","amount":1.5,"extra":"stripped"})",
  };
  for (const std::string& m : valid) EXPECT_EQ(Push(kQueue, "[" + m + "]")->status, 201) << m;
  const std::vector<std::pair<std::string, std::string>> invalid = {
      {R"({"id":0,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})",
       R"("code":"too_small")"},
      {R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"submitted","amount":1})",
       R"("code":"invalid_enum_value")"},
      {R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":-1})",
       R"("path":["amount"])"},
      {R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"yesterday","status":"accepted","amount":1})",
       R"("path":["timestamp"])"},
      {R"({"id":"1","customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})",
       R"("code":"invalid_type")"},
      {R"({"reason":"a dead-letter entry","stage":"bridge"})", R"("message":"Required")"},
  };
  for (const auto& [m, issue] : invalid) {
    auto pushed = Push(kQueue, std::string("[") + kTransaction + "," + m + "]");
    ASSERT_TRUE(pushed);
    EXPECT_EQ(pushed->status, 400) << m;
    EXPECT_THAT(pushed->body,
                HasSubstr(R"({"error":"Invalid message format for message at index 1","message":[)"))
        << m;
    EXPECT_THAT(pushed->body, HasSubstr(issue)) << m;
  }
  EXPECT_EQ(server_->Size(kQueue), valid.size()) << "a refused push pushes nothing";
}

TEST_F(HttpMqStandInServiceTest, AMessageWithIsFraudulentIsValidatedAsAResult) {
  EXPECT_EQ(Push("results_queue", std::string("[") + kResult + "]")->status, 201);
  for (const std::string m : {
           R"({"transaction_id":1,"timestamp":"2026-01-01T12:00:00Z","is_fraudulent":2,"confidence":0.5})",
           R"({"transaction_id":1,"timestamp":"2026-01-01T12:00:00Z","is_fraudulent":1,"confidence":1.5})",
           R"({"transaction_id":0,"timestamp":"2026-01-01T12:00:00Z","is_fraudulent":1,"confidence":0.5})",
           R"({"transaction_id":1,"is_fraudulent":0,"confidence":0.5})",
       }) {
    auto pushed = Push("results_queue", "[" + m + "]");
    ASSERT_TRUE(pushed);
    EXPECT_EQ(pushed->status, 400) << m;
    EXPECT_THAT(pushed->body, HasSubstr("at index 0")) << m;
  }
}

TEST_F(HttpMqStandInServiceTest, CapacityIsCheckedAfterValidation) {
  server_->SetCap(kQueue, 1);
  EXPECT_EQ(Push(kQueue, R"([{"bad":1},{"bad":2}])")->status, 400);
  EXPECT_EQ(Push(kQueue, std::string("[") + kTransaction + "," + kTransaction + "]")->status, 409);
}

TEST_F(HttpMqStandInServiceTest, CreateMakesAQueueOfFourToTwentyCharacters) {
  EXPECT_EQ(client_->Post("/create", R"({"name":"abc"})", "application/json")->status, 400);
  EXPECT_EQ(client_->Post("/create", R"({"name":"a_name_of_21_letters_"})", "application/json")->status, 400);
  EXPECT_EQ(client_->Post("/create", R"({"name":"results_shadow"})", "application/json")->status, 201);
  EXPECT_EQ(client_->Post("/create", R"({"name":"results_shadow"})", "application/json")->status, 409);
  EXPECT_EQ(Push("results_shadow", std::string("[") + kResult + "]")->status, 201);
}

TEST_F(HttpMqStandInServiceTest, APullWaitingOnAnEmptyQueueHoldsUpEveryOtherPull) {
  StartWith(milliseconds(1500), 0, true);
  ASSERT_TRUE(server_->Seed(kQueue, {kTransaction}));
  httplib::Client other(server_->url());
  other.set_read_timeout(60, 0);
  std::thread long_poll([&] { client_->Get("/pull-n?queue-name=results_queue&count=1"); });
  ASSERT_TRUE(WaitUntil([&] { return server_->waiting_pulls() == 1; }, milliseconds(10000)));
  const auto start = Clock::now();
  auto pulled = other.Get("/pull-n?queue-name=transactions_queue&count=1");
  const auto waited = Clock::now() - start;
  long_poll.join();
  ASSERT_TRUE(pulled);
  EXPECT_EQ(pulled->status, 200);
  EXPECT_GE(waited, milliseconds(1000))
      << "a message was waiting, yet the pull waited for the other's long poll";
  EXPECT_EQ(server_->counters().pulls_held_up, 1);
}

}  // namespace
}  // namespace scorepipe::testing
