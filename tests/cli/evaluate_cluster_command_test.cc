// The pure parts of `scorepipe evaluate --cluster`: which batches hold the
// rows the sink still waits for, and reading a run's batches from its file.
// (tests/integration/cluster_evaluation_test.cc runs it on a real cluster.)
#include "cli/evaluate_cluster_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"
#include "training/labelled_writer.h"

namespace scorepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(BatchesHoldingTest, EachBatchThatHoldsAPendingRowOnceInOrder) {
  // Batches of 10 rows, 5 batches (rows 0..49).
  EXPECT_THAT(BatchesHolding({{0, 1}}, 10, 5), ElementsAre(0));
  EXPECT_THAT(BatchesHolding({{9, 11}}, 10, 5), ElementsAre(0, 1));  // across a boundary
  EXPECT_THAT(BatchesHolding({{10, 20}}, 10, 5), ElementsAre(1));    // exactly one batch
  EXPECT_THAT(BatchesHolding({{3, 4}, {5, 6}, {25, 41}}, 10, 5), ElementsAre(0, 2, 3, 4));
  EXPECT_THAT(BatchesHolding({{45, 48}}, 10, 5), ElementsAre(4));  // the last, short batch
}

TEST(BatchesHoldingTest, EmptyRangesAndRowsPastTheEndAreIgnored) {
  EXPECT_THAT(BatchesHolding({}, 10, 5), IsEmpty());
  EXPECT_THAT(BatchesHolding({{7, 7}, {9, 3}}, 10, 5), IsEmpty());
  EXPECT_THAT(BatchesHolding({{48, 90}}, 10, 5), ElementsAre(4));
  EXPECT_THAT(BatchesHolding({{50, 60}}, 10, 5), IsEmpty());
  EXPECT_THAT(BatchesHolding({{0, 10}}, 0, 5), IsEmpty());
}

// Five rows, ids 1..5, the even ones labelled fraud.
LabelledData FiveRows() {
  LabelledData data;
  for (int64_t id = 1; id <= 5; ++id) {
    Transaction t;
    t.id = id;
    t.customer_id = 1;
    t.vendor_id = 2;
    t.amount = 10.5;
    t.timestamp = "2023-01-01T12:00:00Z";
    t.timestamp_unix_s = 1672574400;
    t.status = "accepted";
    data.transactions.push_back(t);
    data.labels.push_back(id % 2 == 0 ? 1.0f : 0.0f);
  }
  return data;
}

class RowsFromFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_TRUE(WriteLabelledFile(path_, FiveRows()).ok());
  }

  std::unique_ptr<RowsFromFile> Open() {
    Result<std::unique_ptr<RowsFromFile>> rows = RowsFromFile::Open(path_, LabelledFileOptions{});
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    return rows.ok() ? std::move(rows.value()) : nullptr;
  }

  // The ids of batch `index` of `batch_rows` rows.
  static std::vector<int64_t> Ids(RowsFromFile& rows, size_t index, size_t batch_rows) {
    LabelledData batch;
    Status read = rows.Read(index, batch_rows, &batch);
    EXPECT_TRUE(read.ok()) << read.message();
    std::vector<int64_t> ids;
    for (const Transaction& t : batch.transactions) ids.push_back(t.id);
    return ids;
  }

  scorepipe::testing::TempDir dir_{"scorepipe-rows-from-file"};
  const std::string path_ = (dir_.path() / "labelled.csv").string();
};

TEST_F(RowsFromFileTest, CountsTheRowsAndReadsBatchesInAnyOrder) {
  std::unique_ptr<RowsFromFile> rows = Open();
  ASSERT_NE(rows, nullptr);
  EXPECT_EQ(rows->rows(), 5u);
  EXPECT_THAT(Ids(*rows, 0, 2), ElementsAre(1, 2));
  EXPECT_THAT(Ids(*rows, 2, 2), ElementsAre(5));     // skips batch 1
  EXPECT_THAT(Ids(*rows, 1, 2), ElementsAre(3, 4));  // back: the file is read again
  EXPECT_THAT(Ids(*rows, 1, 3), ElementsAre(4, 5));  // another batch size
  LabelledData batch;
  ASSERT_TRUE(rows->Read(0, 5, &batch).ok());
  EXPECT_THAT(batch.labels, ElementsAre(0.0f, 1.0f, 0.0f, 1.0f, 0.0f));
  EXPECT_EQ(rows->Read(1, 5, &batch).message(), "batch 1 is past the last row");
}

TEST_F(RowsFromFileTest, ABadRowIsAnErrorBeforeAnythingIsSent) {
  std::ofstream(path_, std::ios::app) << "6,1,2,2023-01-01T12:00:00Z,accepted,-5,1\n";
  Result<std::unique_ptr<RowsFromFile>> rows = RowsFromFile::Open(path_, LabelledFileOptions{});
  ASSERT_FALSE(rows.ok());
  EXPECT_THAT(rows.status().message(), ::testing::StartsWith(path_ + ":7: "));
}

}  // namespace
}  // namespace scorepipe
