#include "proto/status_snapshot.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace scorepipe {
namespace {

// Valid UTF-8 of every kind: ASCII with control characters, quotes and
// backslashes, two-, three- and four-byte characters.
std::string RandomText(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   " ",
                                                   "\"",
                                                   "\\",
                                                   "\n",
                                                   "\t",
                                                   std::string(1, '\0'),
                                                   "\x01",
                                                   "\x1f",
                                                   "\x7f",
                                                   "\xc3\xa9",
                                                   "\xe2\x82\xac",
                                                   "\xf0\x9f\x92\xb3",
                                                   "/",
                                                   "{",
                                                   "}"};
  std::string s;
  for (size_t n = rng() % 20; n > 0; --n) s += kPieces[rng() % kPieces.size()];
  return s;
}

// Rates and uptime travel with one decimal; what is written so reads back.
double OneDecimal(std::mt19937_64& rng) { return static_cast<double>(rng() % 10000000) / 10; }

// What the ventilator writes, `scorepipe status` and the tests read back
// field for field, for random snapshots (any text, any count).
TEST(StatusSnapshotTest, WhatIsWrittenReadsBackFieldForField) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; ++round) {
    StatusSnapshot s;
    VentilatorSnapshot& v = s.ventilator;
    v.host = RandomText(rng);
    v.pid = static_cast<int64_t>(rng() >> 1);
    v.uptime_s = OneDecimal(rng);
    v.live_workers = static_cast<int64_t>(rng() % 1000);
    v.queued_batches = static_cast<int64_t>(rng() >> 1);
    v.in_flight_batches = static_cast<int64_t>(rng() % 100);
    v.batches_received = static_cast<int64_t>(rng() >> 1);
    v.batches_sent = static_cast<int64_t>(rng() >> 1);
    v.batches_done = static_cast<int64_t>(rng() >> 1);
    v.redispatched = static_cast<int64_t>(rng() % 100);
    v.overdue = static_cast<int64_t>(rng() % 100);
    v.workers_joined = static_cast<int64_t>(rng() % 100);
    v.workers_lost = static_cast<int64_t>(rng() % 100);
    v.poisoned = static_cast<int64_t>(rng() % 100);
    v.transactions_per_second = OneDecimal(rng);
    for (size_t n = rng() % 5; n > 0; --n) {
      WorkerSnapshot& w = s.workers.emplace_back();
      w.id = RandomText(rng);
      w.host = RandomText(rng);
      w.pid = static_cast<int64_t>(rng() % 100000);
      w.state = RandomText(rng);
      w.last_heartbeat_ms = static_cast<int64_t>(rng() % 100000);
      w.in_flight_batches = static_cast<int64_t>(rng() % 10);
      w.credit = static_cast<int64_t>(rng() % 10);
      w.batches_scored = static_cast<int64_t>(rng() >> 1);
      w.transactions_scored = static_cast<int64_t>(rng() >> 1);
      w.transactions_per_second = OneDecimal(rng);
      w.model = RandomText(rng);
      w.model_version = RandomText(rng);
      w.model_error = RandomText(rng);
      w.shadow_version = RandomText(rng);
      w.link_error = RandomText(rng);
    }
    for (size_t n = rng() % 4; n > 0; --n) {
      GatewaySnapshot& g = s.gateways.emplace_back();
      g.id = RandomText(rng);
      g.host = RandomText(rng);
      g.pid = static_cast<int64_t>(rng() % 100000);
      g.links = static_cast<int64_t>(rng() % 64);
      g.last_heartbeat_ms = static_cast<int64_t>(rng() % 100000);
      g.in_flight_batches = static_cast<int64_t>(rng() % 1000);
      g.batches_answered = static_cast<int64_t>(rng() >> 1);
    }
    const std::string json = StatusSnapshotJson(s);
    Result<StatusSnapshot> back = ParseStatusJson(json);
    ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << json;
    EXPECT_EQ(StatusSnapshotJson(back.value()), json);
    EXPECT_EQ(back->ventilator.host, v.host);
    EXPECT_EQ(back->ventilator.poisoned, v.poisoned);
    EXPECT_EQ(back->ventilator.batches_done, v.batches_done);
    EXPECT_DOUBLE_EQ(back->ventilator.transactions_per_second, v.transactions_per_second);
    ASSERT_EQ(back->workers.size(), s.workers.size());
    for (size_t i = 0; i < s.workers.size(); ++i) {
      EXPECT_EQ(back->workers[i].transactions_scored, s.workers[i].transactions_scored);
      EXPECT_EQ(back->workers[i].credit, s.workers[i].credit);
    }
    ASSERT_EQ(back->gateways.size(), s.gateways.size());
    for (size_t i = 0; i < s.gateways.size(); ++i) {
      EXPECT_EQ(back->gateways[i].id, s.gateways[i].id);
      EXPECT_EQ(back->gateways[i].links, s.gateways[i].links);
      EXPECT_EQ(back->gateways[i].batches_answered, s.gateways[i].batches_answered);
    }
  }
}

// Bytes that are not UTF-8 (a host name, a model error from anywhere) are
// written as U+FFFD: the JSON stays valid and reads back, and writing what
// was read gives the same again.
TEST(StatusSnapshotTest, TextThatIsNotUtf8IsWrittenAsValidJsonThatReadsBack) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 500; ++round) {
    StatusSnapshot s;
    std::string bytes;
    for (size_t n = rng() % 30; n > 0; --n) bytes.push_back(static_cast<char>(rng() % 256));
    s.ventilator.host = bytes;
    s.workers.emplace_back().model_error = bytes;
    Result<StatusSnapshot> once = ParseStatusJson(StatusSnapshotJson(s));
    ASSERT_TRUE(once.ok()) << once.status().message();
    const std::string again = StatusSnapshotJson(once.value());
    Result<StatusSnapshot> twice = ParseStatusJson(again);
    ASSERT_TRUE(twice.ok()) << twice.status().message();
    EXPECT_EQ(StatusSnapshotJson(twice.value()), again);
    EXPECT_EQ(twice->workers.at(0).model_error, once->ventilator.host);
  }
}

TEST(StatusSnapshotTest, AVentilatorFromBeforePoisonedIsStillRead) {
  StatusSnapshot s;
  s.ventilator.poisoned = 3;
  std::string json = StatusSnapshotJson(s);
  const std::string field = "\"poisoned\":3,";
  ASSERT_NE(json.find(field), std::string::npos) << json;
  json.erase(json.find(field), field.size());
  Result<StatusSnapshot> back = ParseStatusJson(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->ventilator.poisoned, 0);
}

// The format is versioned by its optional fields: a ventilator from before
// gateways sends no "gateways" list, and that reads as none.
TEST(StatusSnapshotTest, AVentilatorFromBeforeGatewaysIsStillRead) {
  StatusSnapshot s;
  s.workers.emplace_back().id = "w-1";
  std::string json = StatusSnapshotJson(s);
  const std::string list = ",\"gateways\":[]";
  ASSERT_NE(json.find(list), std::string::npos) << json;
  json.erase(json.find(list), list.size());
  Result<StatusSnapshot> back = ParseStatusJson(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->gateways.empty());
  EXPECT_EQ(back->workers.at(0).id, "w-1");
}

TEST(StatusSnapshotTest, AGatewayEntryNeedsEveryField) {
  StatusSnapshot s;
  s.gateways.emplace_back().links = 2;
  std::string json = StatusSnapshotJson(s);
  const std::string field = "\"links\":2,";
  ASSERT_NE(json.find(field), std::string::npos) << json;
  json.erase(json.find(field), field.size());
  Result<StatusSnapshot> back = ParseStatusJson(json);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(), "gateways[0].links: missing");

  json = StatusSnapshotJson(s);
  json.insert(json.find("\"gateways\":[") + 12, "7,");
  back = ParseStatusJson(json);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(), "gateways[0]: not an object");
  json = StatusSnapshotJson(StatusSnapshot{});
  json.replace(json.find("\"gateways\":[]"), 13, "\"gateways\":{}");
  back = ParseStatusJson(json);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(), "gateways: not an array");
}

TEST(StatusSnapshotTest, AMistypedFieldIsNamedByItsPath) {
  StatusSnapshot s;
  s.workers.emplace_back();
  s.workers.emplace_back();
  std::string json = StatusSnapshotJson(s);
  const size_t second = json.rfind("\"pid\":0");
  json.replace(second, 7, "\"pid\":\"x\"");
  Result<StatusSnapshot> back = ParseStatusJson(json);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(), "workers[1].pid: not an integer");
}

}  // namespace
}  // namespace scorepipe
