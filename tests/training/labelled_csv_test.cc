// Tests of reading labelled CSV files (training/labelled_csv.cc, through
// training/labelled_data.h): columns in any order, RFC 4180 quoting, and an
// error naming the line for each way a row can be wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/training/labelled_test_util.h"
#include "training/labelled_data.h"

namespace scorepipe {
namespace {

using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::kHeader;
using testing::ReadGood;
using ::testing::StartsWith;

TEST(LabelledDataTest, ReadsCsvInAnyColumnOrderWithQuotesAndExtraColumns) {
  const LabelledData data =
      ReadGood("a.csv",
               "note,is_fraudulent,amount,status,timestamp,vendor_id,customer_id,id\r\n"
               "\"a, \"\"quoted\"\"\nnote\",1,100,accepted,2023-01-01T12:00:00Z,3,2,1\r\n"
               "\r\n"
               "plain,false,0.5,\"pending\",2023-01-02 00:00:00+01:00,4,5,6\r\n");
  ASSERT_EQ(data.labels, (std::vector<float>{1, 0}));
  const Transaction& first = data.transactions[0];
  EXPECT_EQ(first.id, 1);
  EXPECT_EQ(first.customer_id, 2);
  EXPECT_EQ(first.vendor_id, 3);
  EXPECT_EQ(first.amount, 100);
  EXPECT_EQ(first.status, "accepted");
  EXPECT_EQ(first.timestamp, "2023-01-01T12:00:00Z");
  EXPECT_EQ(first.timestamp_unix_s, 1672574400);
  EXPECT_EQ(data.transactions[1].status, "pending");
  EXPECT_EQ(data.transactions[1].timestamp_unix_s, 1672614000);
}

TEST(LabelledDataTest, CsvErrorsNameTheLineAndWhatIsWrong) {
  const std::string h = kHeader;
  const std::string ok_row = "1,1,1,2023-01-01T12:00:00Z,accepted,1,0\n";
  EXPECT_EQ(ErrorOf("a.csv", "id,amount\n"), "a.csv:1: the header has no column 'customer_id'");
  EXPECT_THAT(ErrorOf("a.csv", "id," + h), HasSubstr("a.csv:1: column 'id' appears twice"));
  EXPECT_THAT(ErrorOf("a.csv", h + ok_row + "1,1,1\n"),
              StartsWith("a.csv:3: 3 fields, but the header has 7"));
  EXPECT_THAT(ErrorOf("a.csv", h + "0,1,1,2023-01-01T12:00:00Z,accepted,1,0\n"),
              StartsWith("a.csv:2: field 'id': expected a number >= 1"));
  EXPECT_THAT(ErrorOf("a.csv", h + "x,1,1,2023-01-01T12:00:00Z,accepted,1,0\n"),
              AllOf(StartsWith("a.csv:2: field 'id'"), HasSubstr("\"x\"")));
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,2023-01-01T12:00:00Z,accepted,-5,0\n"),
              StartsWith("a.csv:2: field 'amount': expected a number >= 0"));
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,2023-01-01T12:00:00Z,accepted,,0\n"),
              StartsWith("a.csv:2: field 'amount'"));
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,yesterday,accepted,1,0\n"),
              StartsWith("a.csv:2: field 'timestamp'"));
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,2023-01-01T12:00:00Z,done,1,0\n"),
              StartsWith("a.csv:2: field 'status'"));
  EXPECT_EQ(ErrorOf("a.csv", h + "1,1,1,2023-01-01T12:00:00Z,accepted,1,2\n"),
            "a.csv:2: label 'is_fraudulent': expected 0, 1, true or false, got \"2\"");
  // A JSON fragment in a number column stays one bad value, never JSON.
  EXPECT_THAT(ErrorOf("a.csv", h + "\"1,\"\"id\"\":2\",1,1,2023-01-01T12:00:00Z,accepted,1,0\n"),
              StartsWith("a.csv:2: field 'id'"));
  // A quoted line break moves the following rows' line numbers on.
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,2023-01-01T12:00:00Z,\"accep\nted\",1,0\n" + ok_row + "1,1\n"),
              StartsWith("a.csv:2: field 'status'"));
  EXPECT_THAT(ErrorOf("a.csv", h + ok_row + "\"1\"\"\"\n1,1\n"), StartsWith("a.csv:3: 1 fields"));
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,\"2023-01-01T12:00:00Z\"x,accepted,1,0\n"),
              StartsWith("a.csv:2: after a closing quote comes \"x\""));
  EXPECT_THAT(ErrorOf("a.csv", h + "1,1,1,2023\"01,accepted,1,0\n"),
              StartsWith("a.csv:2: a quote inside an unquoted field"));
  EXPECT_THAT(ErrorOf("a.csv", h + ok_row + "1,1,1,\"2023"),
              StartsWith("a.csv:3: a quoted field is not closed"));
}

}  // namespace
}  // namespace scorepipe
