// The pure parts of `scorepipe evaluate --cluster`: which batches hold the
// rows the sink still waits for, and reading a run's batches from memory.
// (tests/integration/cluster_evaluation_test.cc runs it on a real cluster.)
#include "cli/cluster_evaluation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace scorepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(BatchesHoldingTest, EachBatchThatHoldsAPendingRowOnceInOrder) {
  // Batches of 10 rows, 5 batches (rows 0..49).
  EXPECT_THAT(BatchesHolding({{0, 1}}, 10, 5), ElementsAre(0));
  EXPECT_THAT(BatchesHolding({{9, 11}}, 10, 5), ElementsAre(0, 1));  // across a boundary
  EXPECT_THAT(BatchesHolding({{10, 20}}, 10, 5), ElementsAre(1));     // exactly one batch
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

TEST(RowsInMemoryTest, BatchKHoldsItsRowsAndTheLastOneIsShort) {
  LabelledData data;
  for (int64_t id = 1; id <= 5; ++id) {
    Transaction t;
    t.id = id;
    data.transactions.push_back(t);
    data.labels.push_back(id % 2 == 0 ? 1.0f : 0.0f);
  }
  RowsInMemory rows(data);
  EXPECT_EQ(rows.rows(), 5u);
  LabelledData batch;
  ASSERT_TRUE(rows.Read(1, 2, &batch).ok());
  ASSERT_EQ(batch.transactions.size(), 2u);
  EXPECT_EQ(batch.transactions[0].id, 3);
  EXPECT_THAT(batch.labels, ElementsAre(0.0f, 1.0f));
  ASSERT_TRUE(rows.Read(2, 2, &batch).ok());
  ASSERT_EQ(batch.transactions.size(), 1u);
  EXPECT_EQ(batch.transactions[0].id, 5);
  EXPECT_EQ(rows.Read(3, 2, &batch).message(), "batch 3 is past the last row");
}

}  // namespace
}  // namespace scorepipe
