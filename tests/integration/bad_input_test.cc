// Bad input never stops the pipeline: every invalid message ends in the
// dead-letter list with its reason and original text, every valid one around
// it is still scored.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "local_cluster/synthetic_push.h"
#include "proto/upstream_json.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/result_check.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

struct BadMessage {
  std::string text;
  std::string reason_contains;  // a word the dead-letter reason must contain
};

std::vector<BadMessage> BadMessages() {
  const std::string ok_head = R"({"id":7,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z",)";
  return {
      {"{not json", "JSON"},
      {"", "JSON"},
      {"[1,2,3]", "object"},
      {"\"just a string\"", "object"},
      {R"({"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})",
       "id"},
      {ok_head + R"("status":"accepted"})", "amount"},
      {ok_head + R"("status":"accepted","amount":"100"})", "amount"},
      {R"({"id":"7","customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})",
       "id"},
      {R"({"id":0.5,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})",
       "id"},
      {R"({"id":7,"customer_id":1,"vendor_id":1,"timestamp":"Jan 1","status":"accepted","amount":1})",
       "no year"},
      {R"({"id":0,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})",
       "id"},
      {ok_head + R"("status":"accepted","amount":-0.01})", "amount"},
      {ok_head + R"("status":"lost","amount":5})", "status"},
      {R"({"id":7,"customer_id":1,"vendor_id":1,"timestamp":"2023-13-01T12:00:00Z","status":"accepted","amount":1})",
       "timestamp"},
      {R"({"id":7,"customer_id":1,"vendor_id":1,"timestamp":"yesterday","status":"accepted","amount":1})",
       "timestamp"},
      {R"({"id":7,"customer_id":1,"vendor_id":1,"timestamp":12345,"status":"accepted","amount":1})",
       "timestamp"},
      {ok_head + R"("status":"accepted","amount":1,"note":")" + std::string(70000, 'x') + "\"}", "bytes"},
      {std::string("\xff\xfe\x00garbage", 10), "JSON"},
  };
}

TEST(BadInputTest, EveryInvalidMessageIsDeadLetteredWithItsReasonAndValidNeighboursAreScored) {
  auto created = ClusterHarness::Create(2);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  ASSERT_TRUE(h.StartUp().ok());

  // valid, bad, valid, bad, ... so that each bad one has valid neighbours in its batch.
  const std::vector<BadMessage> bad = BadMessages();
  SyntheticTransactions generator(11, 1000);
  std::vector<std::string> messages;
  std::vector<Transaction> valid;
  for (int round = 0; round < 3; ++round) {
    for (const BadMessage& b : bad) {
      for (int i = 0; i < 5; ++i) {
        LabelledTransaction t = generator.Next();
        messages.push_back(t.json);
        valid.push_back(t.parsed);
      }
      messages.push_back(b.text);
    }
  }
  ASSERT_TRUE(PushMessages(h.redis(), h.topology().queue.input, messages).ok());
  ASSERT_TRUE(h.WaitForOutputs(static_cast<long long>(messages.size()), std::chrono::seconds(60)))
      << h.ReadLog("bridge");

  std::vector<std::string> dead = h.Entries(h.topology().queue.dead_letter);
  ASSERT_EQ(dead.size(), 3 * bad.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < dead.size(); ++i) {
    const BadMessage& b = bad[i % bad.size()];
    simdjson::dom::element entry;
    ASSERT_EQ(parser.parse(dead[i]).get(entry), simdjson::SUCCESS) << dead[i];
    std::string_view reason;
    ASSERT_EQ(entry["reason"].get_string().get(reason), simdjson::SUCCESS) << dead[i];
    EXPECT_NE(reason.find(b.reason_contains), std::string_view::npos)
        << "reason '" << reason << "' for message #" << i % bad.size();
    std::string_view stage;
    ASSERT_EQ(entry["stage"].get_string().get(stage), simdjson::SUCCESS);
    EXPECT_EQ(stage, "bridge");
    std::string_view original;
    bool truncated = false;
    if (entry["message_truncated"].get_bool().get(truncated) == simdjson::SUCCESS && truncated) {
      // Over kDeadLetterMessageBytes: a prefix and the whole size.
      ASSERT_EQ(entry["message"].get_string().get(original), simdjson::SUCCESS) << dead[i];
      EXPECT_EQ(original, std::string_view(b.text).substr(0, kDeadLetterMessageBytes));
      uint64_t bytes = 0;
      ASSERT_EQ(entry["message_bytes"].get_uint64().get(bytes), simdjson::SUCCESS) << dead[i];
      EXPECT_EQ(bytes, b.text.size());
    } else if (entry["message"].get_string().get(original) == simdjson::SUCCESS) {
      EXPECT_EQ(original, b.text);
    } else {
      EXPECT_EQ(entry["message_base64"].error(), simdjson::SUCCESS) << dead[i];
    }
  }
  std::vector<std::string> results = h.Entries(h.topology().queue.output);
  EXPECT_EQ(results.size(), valid.size());
  Status check = CheckAgainstModel(results, valid, h.topology_path());
  EXPECT_TRUE(check.ok()) << check.message();
  // The bridge lived through all of it.
  EXPECT_TRUE(h.up().Running());
  EXPECT_EQ(h.ReadLog("up").find("exited"), std::string::npos) << h.ReadLog("up");
}

TEST(BadInputTest, WhatTheUpstreamTookIsScoredAndItsIdEchoedAsWritten) {
  auto created = ClusterHarness::Create(1);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  ASSERT_TRUE(h.StartUp().ok());
  const std::vector<std::string> messages = {
      R"({"id":5005.50,"customer_id":1,"vendor_id":2.5,"timestamp":"2023-01-01","status":"accepted","amount":1})",
      R"({"id":1e3,"customer_id":1.5,"vendor_id":1,"timestamp":"Sun, 01 Jan 2023 12:00:00 GMT","status":"pending","amount":-0})",
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00+02:00","status":"rejected","amount":0,"x":[]})",
  };
  ASSERT_TRUE(PushMessages(h.redis(), h.topology().queue.input, messages).ok());
  ASSERT_TRUE(h.WaitForOutputs(static_cast<long long>(messages.size()), std::chrono::seconds(60)))
      << h.ReadLog("bridge");
  EXPECT_TRUE(h.Entries(h.topology().queue.dead_letter).empty());
  std::vector<std::string> results = h.Entries(h.topology().queue.output);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].rfind(R"({"transaction_id":5005.50,"timestamp":")", 0), 0u) << results[0];
  EXPECT_EQ(results[1].rfind(R"({"transaction_id":1e3,"timestamp":")", 0), 0u) << results[1];
  EXPECT_EQ(results[2].rfind(R"({"transaction_id":1,"timestamp":")", 0), 0u) << results[2];
}

}  // namespace
}  // namespace scorepipe::testing
