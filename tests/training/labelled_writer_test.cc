// Tests of training/labelled_writer.h: what it writes reads back exactly
// (synthetic rows, and random rows of every shape the reader takes), the
// bytes of each format, and the rows it refuses.
#include "training/labelled_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "durable/file_util.h"
#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "tests/scoring/model_test_util.h"
#include "training/labelled_data.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

TEST(LabelledDataTest, WrittenFilesReadBackExactly) {
  testing::ScratchDir dir;
  LabelledData data;
  SyntheticTransactions generator(7);
  for (int i = 0; i < 500; ++i) {
    LabelledTransaction t = generator.Next();
    data.transactions.push_back(t.parsed);
    data.labels.push_back(static_cast<float>(t.label));
  }
  // Text that CSV must quote.
  data.transactions[0].timestamp = "2023-01-01 12:00:00+01:00";
  data.transactions[0].timestamp_unix_s = 1672570800;
  data.transactions[1].amount = 1e-7;
  for (const char* name : {"out.csv", "out.jsonl", "out.ndjson"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(WriteLabelledFile(dir.File(name), data).ok());
    Result<LabelledData> back = ReadLabelledFile(dir.File(name), {});
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->transactions, data.transactions);
    EXPECT_EQ(back->labels, data.labels);
  }
}

TEST(LabelledDataTest, WriterRefusesBadInput) {
  testing::ScratchDir dir;
  LabelledData data;
  data.transactions.resize(1);
  EXPECT_THAT(WriteLabelledFile(dir.File("a.csv"), data).message(), HasSubstr("1 transactions but 0 labels"));
  data.labels = {0.5f};
  EXPECT_THAT(WriteLabelledFile(dir.File("a.csv"), data).message(), HasSubstr("must be 0 or 1"));
  EXPECT_THAT(WriteLabelledFile(dir.File("a.txt"), {}).message(), HasSubstr("unknown labelled file format"));
  EXPECT_THAT(WriteLabelledFile(dir.File("no/such/dir/a.csv"), {}).message(), HasSubstr("cannot open"));
}

// A JSON number the upstream takes for an id, a customer or a vendor
// (>= 1): whole or not, short or long, with or without an exponent.
std::string RandomIdNumber(std::mt19937_64& random) {
  switch (random() % 5) {
    case 0:
      return std::to_string(1 + random() % 1000);
    case 1:
      return std::to_string(1 + random() % (uint64_t{1} << 53));
    case 2:
      return std::to_string(1 + random() % 100000) + "." + std::to_string(random() % 1000);
    case 3:
      return std::to_string(1 + random() % 9) + "e" + std::to_string(random() % 300);
    default:
      return std::to_string(1 + random() % 99) + ".5E+" + std::to_string(random() % 20);
  }
}

// An amount the upstream takes (>= 0): any finite double from the smallest
// subnormal up to 2^64. (From 2^64 on, a double is whole and its shortest
// form is all digits, an integer literal the parser refuses: such an amount
// never comes from a file, and does not go back into one.)
double RandomAmount(std::mt19937_64& random) {
  switch (random() % 4) {
    case 0:
      return 0;
    case 1:
      return static_cast<double>(random() % 1000000) / 100;
    case 2:
      return std::numeric_limits<double>::denorm_min() * static_cast<double>(1 + random() % 1000);
    default: {
      double value = 0;
      do {
        uint64_t bits = random() >> 1;  // sign bit clear
        std::memcpy(&value, &bits, sizeof value);
      } while (!std::isfinite(value) || value >= 0x1p64);
      return value;
    }
  }
}

// `count` random rows, each an upstream message the bridge's parser took
// (so that every field is what a reader would give back) and a label.
LabelledData RandomRows(uint64_t seed, int count) {
  const char* const timestamps[] = {"2023-01-01T12:00:00Z", "2023-01-01 12:00:00+01:00",
                                    "Sun, 01 Jan 2023 12:00:00 GMT", "2023-01-01T12:00:00.5+01:00",
                                    "2026-03-01"};
  const char* const statuses[] = {"accepted", "rejected", "pending"};
  std::mt19937_64 random(seed);
  TransactionParser parser(1 << 16);
  LabelledData data;
  for (int i = 0; i < count; ++i) {
    std::string message = "{\"id\":" + RandomIdNumber(random) + ",\"customer_id\":" + RandomIdNumber(random) +
                          ",\"vendor_id\":" + RandomIdNumber(random) + ",\"timestamp\":";
    AppendJsonString(timestamps[random() % std::size(timestamps)], &message);
    message += ",\"status\":";
    AppendJsonString(statuses[random() % std::size(statuses)], &message);
    message += ",\"amount\":";
    char amount[32];
    message.append(amount, std::to_chars(amount, amount + sizeof amount, RandomAmount(random)).ptr);
    message += "}";
    Result<Transaction> t = parser.Parse(message);
    EXPECT_TRUE(t.ok()) << message << ": " << t.status().message();
    if (!t.ok()) continue;
    data.transactions.push_back(std::move(t).value());
    data.labels.push_back(static_cast<float>(random() % 2));
  }
  return data;
}

TEST(LabelledFileWriterTest, RandomRowsReadBackEqual) {
  testing::ScratchDir dir;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const LabelledData data = RandomRows(seed, 400);
    ASSERT_EQ(data.transactions.size(), 400u);
    for (const char* name : {"random.csv", "random.jsonl"}) {
      SCOPED_TRACE(std::string(name) + " seed " + std::to_string(seed));
      ASSERT_TRUE(WriteLabelledFile(dir.File(name), data).ok());
      Result<LabelledData> back = ReadLabelledFile(dir.File(name), {});
      ASSERT_TRUE(back.ok()) << back.status().message();
      EXPECT_EQ(back->transactions, data.transactions);
      EXPECT_EQ(back->labels, data.labels);
    }
  }
}

// The bytes of each format: the id as the message wrote it, numbers in
// their shortest form, text quoted where CSV must and escaped in JSON.
TEST(LabelledFileWriterTest, WritesEachFormatsBytes) {
  TransactionParser parser(1 << 16);
  Result<Transaction> t = parser.Parse(
      R"({"id":5005.50,"customer_id":17,"vendor_id":3.5,"timestamp":"Sun, 01 Jan 2023 12:00:00 GMT",)"
      R"("status":"accepted","amount":1e-7})");
  ASSERT_TRUE(t.ok()) << t.status().message();
  testing::ScratchDir dir;
  ASSERT_TRUE(WriteLabelledFile(dir.File("a.csv"), {{*t, *t}, {1, 0}}).ok());
  EXPECT_EQ(*ReadWholeFile(dir.File("a.csv")),
            "id,customer_id,vendor_id,timestamp,status,amount,is_fraudulent\n"
            "5005.50,17,3.5,\"Sun, 01 Jan 2023 12:00:00 GMT\",accepted,1e-07,1\n"
            "5005.50,17,3.5,\"Sun, 01 Jan 2023 12:00:00 GMT\",accepted,1e-07,0\n");
  ASSERT_TRUE(WriteLabelledFile(dir.File("a.jsonl"), {{*t}, {1}}, "y").ok());
  EXPECT_EQ(*ReadWholeFile(dir.File("a.jsonl")),
            R"({"id":5005.50,"customer_id":17,"vendor_id":3.5,"timestamp":"Sun, 01 Jan 2023 12:00:00 GMT",)"
            R"("status":"accepted","amount":1e-07,"y":1})"
            "\n");
}

// A NaN or an infinity has no number the reader takes back (CSV wrote
// "nan" once): the row is refused, and nothing of it written.
TEST(LabelledFileWriterTest, RefusesNumbersThatAreNotFinite) {
  testing::ScratchDir dir;
  const Transaction good{7, 2, 3, 10, "2023-01-01T12:00:00Z", 1672574400, "accepted", ""};
  for (const char* name : {"a.csv", "a.jsonl"}) {
    for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
      SCOPED_TRACE(std::string(name) + " " + std::to_string(bad));
      Transaction customer = good, vendor = good, amount = good;
      customer.customer_id = bad;
      vendor.vendor_id = bad;
      amount.amount = -bad;
      Result<LabelledFileWriter> writer = LabelledFileWriter::Open(dir.File(name));
      ASSERT_TRUE(writer.ok()) << writer.status().message();
      EXPECT_THAT(writer->Append(customer, 1).message(),
                  HasSubstr(": transaction 7: the customer_id is not finite"));
      EXPECT_THAT(writer->Append(vendor, 1).message(),
                  HasSubstr(": transaction 7: the vendor_id is not finite"));
      EXPECT_THAT(writer->Append(amount, 1).message(),
                  HasSubstr(": transaction 7: the amount is not finite"));
      ASSERT_TRUE(writer->Append(good, 1).ok());
      ASSERT_TRUE(writer->Close().ok());
      Result<LabelledData> back = ReadLabelledFile(dir.File(name), {});
      ASSERT_TRUE(back.ok()) << back.status().message();
      EXPECT_EQ(back->transactions, std::vector<Transaction>{good});
    }
  }
}

}  // namespace
}  // namespace scorepipe
