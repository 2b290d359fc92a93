// Tests of training/labelled_writer.h: what it writes reads back exactly,
// and the rows it refuses.
#include "training/labelled_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "training/labelled_data.h"
#include "training/synthetic.h"
#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

TEST(LabelledData, WrittenFilesReadBackExactly) {
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

TEST(LabelledData, WriterRefusesBadInput) {
  testing::ScratchDir dir;
  LabelledData data;
  data.transactions.resize(1);
  EXPECT_THAT(WriteLabelledFile(dir.File("a.csv"), data).message(), HasSubstr("1 transactions but 0 labels"));
  data.labels = {0.5f};
  EXPECT_THAT(WriteLabelledFile(dir.File("a.csv"), data).message(), HasSubstr("must be 0 or 1"));
  EXPECT_THAT(WriteLabelledFile(dir.File("a.txt"), {}).message(), HasSubstr("unknown labelled file format"));
  EXPECT_THAT(WriteLabelledFile(dir.File("no/such/dir/a.csv"), {}).message(), HasSubstr("cannot open"));
}

}  // namespace
}  // namespace scorepipe
