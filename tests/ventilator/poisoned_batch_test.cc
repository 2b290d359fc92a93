#include <gtest/gtest.h>

#include "ventilator/ventilator.h"

namespace scorepipe {
namespace {

TransactionBatch TwoTransactions() {
  TransactionBatch batch;
  batch.batch_id = 9;
  batch.created_at_us = 1'700'000'000'000'000;
  batch.lease = "lease-9";
  batch.transactions.push_back({11, 1, 1, 5, "2023-01-01T00:00:00Z", 1672531200, "accepted", ""});
  batch.transactions.push_back({12, 1, 1, 6, "2023-01-01T00:00:00Z", 1672531200, "pending", ""});
  batch.rejects.push_back({1, "{\"reason\":\"bad\"}"});
  return batch;
}

TEST(PoisonedBatchResultTest, EveryTransactionCarriesTheReasonAndTheLeasePassesThrough) {
  const ResultBatch result = PoisonedBatchResult(TwoTransactions(), "given up after 3 attempts", 42);
  EXPECT_EQ(result.batch_id, 9u);
  EXPECT_EQ(result.lease, "lease-9");
  EXPECT_EQ(result.worker_id, kVentilatorSender);
  EXPECT_EQ(result.scored_at_us, 42);
  EXPECT_EQ(result.created_at_us, 1'700'000'000'000'000);
  ASSERT_EQ(result.rejects.size(), 1u);
  ASSERT_EQ(result.results.size(), 2u);
  EXPECT_EQ(result.results[0].transaction_id, 11);
  EXPECT_EQ(result.results[1].transaction_id, 12);
  for (const ScoreResult& r : result.results) EXPECT_EQ(r.error, "given up after 3 attempts");
  EXPECT_EQ(result.evaluation.run, 0u);
}

TEST(PoisonedBatchResultTest, AnEvaluationRunsRowsGoBackToTheSinkAsFailedRows) {
  TransactionBatch batch = TwoTransactions();
  batch.lease.clear();
  batch.rejects.clear();
  batch.evaluation = EvaluationRows{7, 1024, {1.0f, 0.0f}};
  const ResultBatch result = PoisonedBatchResult(batch, "given up", 1);
  EXPECT_EQ(result.evaluation, batch.evaluation);
  ASSERT_EQ(result.results.size(), 2u);
  EXPECT_EQ(result.results[1].error, "given up");
}

}  // namespace
}  // namespace scorepipe
