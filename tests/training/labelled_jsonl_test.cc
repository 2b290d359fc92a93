// Tests of reading labelled JSON-lines files (training/labelled_jsonl.cc,
// through training/labelled_data.h): the label key, and an error naming the
// line for each way a line can be wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/training/labelled_test_util.h"
#include "training/labelled_data.h"

namespace scorepipe {
namespace {

using testing::ErrorOf;
using testing::kHeader;
using testing::ReadGood;
using ::testing::StartsWith;

TEST(LabelledDataTest, ReadsJsonLinesWithTheLabelKey) {
  const LabelledData data = ReadGood(
      "a.ndjson",
      "{\"id\":1,\"customer_id\":1,\"vendor_id\":1,\"timestamp\":\"2023-01-01T12:00:00Z\","
      "\"status\":\"accepted\",\"amount\":100,\"is_fraudulent\":1}\n"
      "\n"
      "{\"is_fraudulent\":true,\"is_fraudulent\":false,\"id\":2,\"customer_id\":1,\"vendor_id\":1,"
      "\"timestamp\":\"2023-01-01T12:00:00Z\",\"status\":\"rejected\",\"amount\":7.25,\"extra\":[1]}\r\n");
  ASSERT_EQ(data.labels, (std::vector<float>{1, 0}));  // the last repeated key counts
  EXPECT_EQ(data.transactions[1].amount, 7.25);
  EXPECT_EQ(data.transactions[1].status, "rejected");
}

TEST(LabelledDataTest, JsonLinesErrorsNameTheLineAndWhatIsWrong) {
  const std::string ok =
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1)";
  EXPECT_THAT(ErrorOf("a.jsonl", ok + ",\"is_fraudulent\":0}\n" + ok + "}\n"),
              StartsWith("a.jsonl:2: missing label 'is_fraudulent'"));
  EXPECT_EQ(ErrorOf("a.jsonl", ok + ",\"is_fraudulent\":0.5}\n"),
            "a.jsonl:1: label 'is_fraudulent': expected 0, 1, true or false, got \"0.5\"");
  EXPECT_THAT(ErrorOf("a.jsonl", ok + ",\"is_fraudulent\":\"1\"}\n"), StartsWith("a.jsonl:1: label"));
  EXPECT_THAT(ErrorOf("a.jsonl", "\n\n{\"id\":1}\n"), StartsWith("a.jsonl:3: missing field"));
  EXPECT_THAT(ErrorOf("a.jsonl", "[1,2]\n"), StartsWith("a.jsonl:1: message is not a JSON object"));
  EXPECT_THAT(ErrorOf("a.jsonl", "{\"id\":\n"), StartsWith("a.jsonl:1: not valid JSON"));
  EXPECT_THAT(ErrorOf("a.jsonl", ok + ",\"is_fraudulent\":0} {}\n"), StartsWith("a.jsonl:1: "));
  LabelledFileOptions small;
  small.max_row_bytes = 64;
  EXPECT_THAT(ErrorOf("a.jsonl", ok + ",\"is_fraudulent\":0}\n", small), StartsWith("a.jsonl:1: message is"));
  EXPECT_THAT(
      ErrorOf("a.csv",
              std::string(kHeader) + "1,1,1,2023-01-01T12:00:00Z,accepted,1," + std::string(100, '0') + "\n",
              small),
      StartsWith("a.csv:2: the row is"));
}

}  // namespace
}  // namespace scorepipe
