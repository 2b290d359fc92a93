#include "training/synthetic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <regex>
#include <string>

namespace scorepipe {
namespace {

// Seed 42: the first and the 10000th transaction, and the frauds among the
// first 10000.
constexpr const char* kPinnedFirst =
    R"({"id":1,"customer_id":8743,"vendor_id":303,"timestamp":"2026-03-10T21:03:29Z",)"
    R"("status":"rejected","amount":1132.32})";
constexpr const char* kPinnedTenThousandth =
    R"({"id":10000,"customer_id":14530,"vendor_id":201,"timestamp":"2026-11-16T23:08:30Z",)"
    R"("status":"accepted","amount":61.88})";
constexpr uint64_t kPinnedFraudCount = 318;

// The upstream transaction schema, field order as the generator writes it.
const std::regex& UpstreamJson() {
  static const std::regex re(
      R"re(\{"id":([0-9]+),"customer_id":([0-9]+),"vendor_id":([0-9]+),)re"
      R"re("timestamp":"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z",)re"
      R"re("status":"(accepted|rejected|pending)","amount":([0-9]+(\.[0-9]{1,2})?)\})re");
  return re;
}

int64_t UtcSeconds(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

TEST(SyntheticTransactionsTest, SameSeedGivesSameStream) {
  SyntheticTransactions a(99), b(99);
  for (int i = 0; i < 2000; ++i) {
    const LabelledTransaction x = a.Next();
    const LabelledTransaction y = b.Next();
    ASSERT_EQ(x.json, y.json) << i;
    ASSERT_EQ(x.parsed, y.parsed) << i;
    ASSERT_EQ(x.label, y.label) << i;
  }
}

TEST(SyntheticTransactionsTest, DifferentSeedsGiveDifferentStreams) {
  SyntheticTransactions a(1), b(2);
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a.Next().json == b.Next().json ? 1 : 0;
  EXPECT_EQ(same, 0);
}

// Pins the stream itself, so that a change to the generator (or a platform
// that computes it differently) is noticed: the demo model was trained on it.
TEST(SyntheticTransactionsTest, StreamIsPinnedAcrossMachines) {
  SyntheticTransactions generator(42);
  EXPECT_EQ(generator.Next().json, kPinnedFirst);
  uint64_t label_sum = 0;
  std::string last;
  for (int i = 1; i < 10000; ++i) {
    LabelledTransaction t = generator.Next();
    label_sum += static_cast<uint64_t>(t.label);
    last = t.json;
  }
  EXPECT_EQ(last, kPinnedTenThousandth);
  EXPECT_EQ(label_sum, kPinnedFraudCount);
}

TEST(SyntheticTransactionsTest, IdsAreConsecutiveFromFirstId) {
  SyntheticTransactions generator(5, /*first_id=*/1000);
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(generator.Next().parsed.id, 1000 + i);
}

TEST(SyntheticTransactionsTest, JsonFollowsUpstreamSchemaAndMatchesParsed) {
  SyntheticTransactions generator(11);
  std::map<std::string, int> statuses;
  for (int i = 0; i < 5000; ++i) {
    const LabelledTransaction t = generator.Next();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(t.json, m, UpstreamJson())) << t.json;
    const Transaction& tx = t.parsed;
    EXPECT_EQ(std::stoll(m[1]), tx.id);
    EXPECT_EQ(std::stoll(m[2]), tx.customer_id);
    EXPECT_EQ(std::stoll(m[3]), tx.vendor_id);
    EXPECT_GE(tx.id, 1);
    EXPECT_GE(tx.customer_id, 1);
    EXPECT_GE(tx.vendor_id, 1);
    EXPECT_EQ(m[10].str(), tx.status);
    EXPECT_EQ(std::stod(m[11]), tx.amount) << t.json;
    EXPECT_GE(tx.amount, 0);
    EXPECT_EQ(tx.timestamp, t.json.substr(static_cast<size_t>(m.position(4)), 20));
    const int year = std::stoi(m[4]);
    EXPECT_EQ(year, 2026);
    const int64_t unix_s =
        UtcSeconds(year, std::stoi(m[5]), std::stoi(m[6]), std::stoi(m[7]), std::stoi(m[8]), std::stoi(m[9]));
    EXPECT_EQ(static_cast<double>(unix_s), tx.timestamp_unix_s) << tx.timestamp;
    EXPECT_TRUE(t.label == 0 || t.label == 1);
    ++statuses[tx.status];
  }
  EXPECT_GT(statuses["accepted"], 4000);
  EXPECT_GT(statuses["rejected"], 100);
  EXPECT_GT(statuses["pending"], 100);
}

TEST(SyntheticTransactionsTest, FraudIsRareAndFollowsTheFeatures) {
  SyntheticTransactions generator(3);
  int n = 0, fraud = 0, large = 0, large_fraud = 0, flagged = 0, flagged_fraud = 0;
  for (int i = 0; i < 100000; ++i) {
    const LabelledTransaction t = generator.Next();
    ++n;
    fraud += t.label;
    if (t.parsed.amount >= 1000) {
      ++large;
      large_fraud += t.label;
    }
    if (t.parsed.status != "accepted") {
      ++flagged;
      flagged_fraud += t.label;
    }
  }
  const double rate = static_cast<double>(fraud) / n;
  EXPECT_GT(rate, 0.02);
  EXPECT_LT(rate, 0.05);
  EXPECT_GT(static_cast<double>(large_fraud) / large, 2 * rate);
  EXPECT_GT(static_cast<double>(flagged_fraud) / flagged, 2 * rate);
}

}  // namespace
}  // namespace scorepipe
