// SplitBatch: how the ventilator cuts a poison batch, checked against the
// sink's side: whatever the cuts, the parts' outcomes gathered by LeaseParts
// are exactly the whole batch's outcomes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/codec.h"
#include "sink/lease_parts.h"
#include "sink/sink.h"
#include "ventilator/ventilator.h"

namespace scorepipe {
namespace {

// A lease batch of `transactions` transactions and `rejects` rejects at
// random positions.
TransactionBatch RandomBatch(std::mt19937& random, size_t transactions, size_t rejects) {
  TransactionBatch batch;
  batch.batch_id = 42;
  batch.created_at_us = 1'700'000'000'000'000;
  batch.lease = "17";
  std::vector<bool> rejected(transactions + rejects, false);
  for (size_t r = 0; r < rejects;) {
    const size_t at = std::uniform_int_distribution<size_t>(0, rejected.size() - 1)(random);
    if (!rejected[at]) {
      rejected[at] = true;
      ++r;
    }
  }
  int64_t next_id = 1;
  for (size_t position = 0; position < rejected.size(); ++position) {
    if (rejected[position]) {
      batch.rejects.push_back(Reject{static_cast<uint32_t>(position), "dead " + std::to_string(position)});
    } else {
      Transaction t;
      t.id = next_id++;
      t.customer_id = 1;
      t.vendor_id = 2;
      t.amount = static_cast<double>(position);
      t.timestamp = "2023-01-01T12:00:00Z";
      t.timestamp_unix_s = 1672574400;
      t.status = "accepted";
      batch.transactions.push_back(t);
    }
  }
  return batch;
}

// What a worker would answer for `batch`: each transaction scored.
ResultBatch Scored(const TransactionBatch& batch) {
  ResultBatch result;
  result.batch_id = batch.batch_id;
  result.lease = batch.lease;
  result.worker_id = "w";
  result.model_version = "v1";
  result.scored_at_us = 1'700'000'000'000'000;
  result.rejects = batch.rejects;
  result.part = batch.part;
  for (const Transaction& t : batch.transactions) {
    ScoreResult s;
    s.transaction_id = t.id;
    s.fraud_probability = t.amount / 1000.0;
    s.confidence = 1 - s.fraud_probability;
    result.results.push_back(s);
  }
  return result;
}

// Cuts `batch` at random down to parts of `stop_at` messages or fewer
// (through the wire, as the ventilator sends them).
void CutDown(std::mt19937& random, const TransactionBatch& batch, size_t stop_at, uint64_t* next_id,
             std::vector<TransactionBatch>* out) {
  const size_t messages = batch.transactions.size() + batch.rejects.size();
  if (messages <= stop_at || std::uniform_int_distribution<int>(0, 4)(random) == 0) {
    out->push_back(batch);
    return;
  }
  auto parts = SplitBatch(batch, *next_id, *next_id + 1);
  *next_id += 2;
  ASSERT_TRUE(parts.has_value());
  for (const TransactionBatch* part : {&parts->first, &parts->second}) {
    Result<TransactionBatch> wire = DecodeTransactionBatch(Encode(*part));
    ASSERT_TRUE(wire.ok()) << wire.status().message();
    ASSERT_EQ(wire.value(), *part);
    const size_t held = part->transactions.size() + part->rejects.size();
    ASSERT_GE(held, messages / 2);
    ASSERT_LE(held, messages - messages / 2);
    CutDown(random, *part, stop_at, next_id, out);
  }
}

TEST(SplitBatchTest, OneMessageOrNoneCannotBeCut) {
  std::mt19937 random(1);
  EXPECT_FALSE(SplitBatch(RandomBatch(random, 1, 0), 1, 2));
  EXPECT_FALSE(SplitBatch(RandomBatch(random, 0, 1), 1, 2));
  EXPECT_FALSE(SplitBatch(TransactionBatch{}, 1, 2));
}

TEST(SplitBatchTest, PartsOfAnyCutGatherToTheWholeBatchsOutcomesInEveryBatchShape) {
  std::mt19937 random(16);
  for (int round = 0; round < 300; ++round) {
    const size_t transactions = std::uniform_int_distribution<size_t>(0, 300)(random);
    const size_t rejects = std::uniform_int_distribution<size_t>(transactions == 0 ? 1 : 0, 40)(random);
    const TransactionBatch whole = RandomBatch(random, transactions, rejects);
    std::vector<Outcome> expected;
    ASSERT_TRUE(FormatOutcomes(Scored(whole), ModelFields::kOmit, &expected).ok());

    std::vector<TransactionBatch> parts;
    uint64_t next_id = 1000;
    CutDown(random, whole, std::uniform_int_distribution<size_t>(1, 8)(random), &next_id, &parts);
    if (parts.size() == 1) continue;  // not cut this round
    std::shuffle(parts.begin(), parts.end(), random);
    LeaseParts gathered(4, std::chrono::seconds(30));
    std::optional<std::vector<Outcome>> complete;
    for (const TransactionBatch& part : parts) {
      ASSERT_FALSE(part.part.whole());
      ASSERT_EQ(part.lease, whole.lease);
      std::vector<Outcome> outcomes;
      Result<ResultBatch> answer = DecodeResultBatch(Encode(Scored(part)));
      ASSERT_TRUE(answer.ok()) << answer.status().message();
      ASSERT_TRUE(FormatOutcomes(answer.value(), ModelFields::kOmit, &outcomes).ok());
      Result<LeasePartsAdded> added =
          gathered.Add(part.lease, part.part, std::move(outcomes), "", LeaseParts::Clock::now());
      ASSERT_TRUE(added.ok()) << added.status().message();
      ASSERT_FALSE(complete.has_value());
      if (added->complete) complete = std::move(added->complete);
    }
    ASSERT_TRUE(complete.has_value()) << "round " << round;
    ASSERT_EQ(complete->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      // The scored_at time is the same in both: the texts must be equal.
      EXPECT_EQ((*complete)[i].route, expected[i].route) << "round " << round << " position " << i;
      EXPECT_EQ((*complete)[i].text, expected[i].text) << "round " << round << " position " << i;
    }
  }
}

TEST(SplitBatchTest, AnEvaluationRunsBatchIsCutIntoRowsThatKeepTheirLabels) {
  std::mt19937 random(3);
  TransactionBatch batch = RandomBatch(random, 7, 0);
  batch.lease.clear();
  batch.evaluation.run = 9;
  batch.evaluation.first_row = 100;
  batch.evaluation.labels = {1, 0, 0, 1, 1, 0, 1};
  auto parts = SplitBatch(batch, 1, 2);
  ASSERT_TRUE(parts);
  EXPECT_TRUE(parts->first.part.whole());
  EXPECT_EQ(parts->first.evaluation.first_row, 100u);
  EXPECT_EQ(parts->first.evaluation.labels, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(parts->second.evaluation.first_row, 103u);
  EXPECT_EQ(parts->second.evaluation.labels, (std::vector<float>{1, 1, 0, 1}));
  EXPECT_EQ(parts->second.transactions.front().id, batch.transactions[3].id);
  for (const TransactionBatch* part : {&parts->first, &parts->second}) {
    EXPECT_TRUE(DecodeTransactionBatch(Encode(*part)).ok());
  }
}

}  // namespace
}  // namespace scorepipe
