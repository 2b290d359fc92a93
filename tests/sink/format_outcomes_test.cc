// FormatOutcomes: results, worker errors and bridge rejects merged into the
// lease's order, in the upstream's JSON.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sink/sink.h"

namespace scorepipe {
namespace {

ResultBatch Batch() {
  ResultBatch batch;
  batch.batch_id = 9;
  batch.lease = "7";
  batch.worker_id = "w1";
  batch.scored_at_us = 1'767'268'800'123'000;  // 2026-01-01T12:00:00.123Z
  return batch;
}

TEST(FormatOutcomesTest, ResultsInOrderInTheUpstreamFormat) {
  ResultBatch batch = Batch();
  batch.results.push_back({1, 0.1, 0, 0.9, "", ""});
  batch.results.push_back({2, 0.8, 1, 0.8, "", ""});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].route, Outcome::Route::kResult);
  EXPECT_EQ(outcomes[0].text,
            "{\"transaction_id\":1,\"timestamp\":\"2026-01-01T12:00:00.123Z\",\"is_fraudulent\":0,"
            "\"confidence\":0.9}");
  EXPECT_NE(outcomes[1].text.find("\"transaction_id\":2"), std::string::npos);
}

TEST(FormatOutcomesTest, ResultsNameTheirModelUnlessOmitted) {
  ResultBatch batch = Batch();
  batch.model_name = "fraud";
  batch.model_version = "v2";
  batch.results.push_back({1, 0.1, 0, 0.9, "", ""});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kInclude, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].text,
            "{\"transaction_id\":1,\"timestamp\":\"2026-01-01T12:00:00.123Z\",\"is_fraudulent\":0,"
            "\"confidence\":0.9,\"model\":\"fraud\",\"model_version\":\"v2\"}");
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
  EXPECT_EQ(outcomes[0].text.find("model"), std::string::npos) << outcomes[0].text;
}

TEST(FormatOutcomesTest, RejectsTakeTheirLeasePositions) {
  ResultBatch batch = Batch();
  batch.results.push_back({1, 0.1, 0, 0.9, "", ""});
  batch.results.push_back({3, 0.1, 0, 0.9, "", ""});
  batch.rejects.push_back({0, "reject-at-0"});
  batch.rejects.push_back({2, "reject-at-2"});
  batch.rejects.push_back({4, "reject-at-4"});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(outcomes[0].text, "reject-at-0");
  EXPECT_EQ(outcomes[0].route, Outcome::Route::kDeadLetter);
  EXPECT_NE(outcomes[1].text.find("\"transaction_id\":1"), std::string::npos);
  EXPECT_EQ(outcomes[2].text, "reject-at-2");
  EXPECT_NE(outcomes[3].text.find("\"transaction_id\":3"), std::string::npos);
  EXPECT_EQ(outcomes[4].text, "reject-at-4");
}

// The sink formats every batch into the same vector (its strings are reused):
// nothing of the previous batch may show through.
TEST(FormatOutcomesTest, AReusedVectorHoldsOnlyTheNewBatch) {
  ResultBatch big = Batch();
  for (int64_t id = 1; id <= 5; ++id) big.results.push_back({id, 0.9, 1, 0.9, "", ""});
  big.rejects.push_back({1, "old-reject-at-1"});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(big, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes[1].route, Outcome::Route::kDeadLetter);
  ResultBatch small = big;
  small.rejects.clear();
  small.results.assign(1, ScoreResult{42, 0.1, 0, 0.9, "", ""});
  small.rejects.push_back({0, "reject-at-0"});
  ASSERT_TRUE(FormatOutcomes(small, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].route, Outcome::Route::kDeadLetter);
  EXPECT_EQ(outcomes[0].text, "reject-at-0");
  EXPECT_EQ(outcomes[1].route, Outcome::Route::kResult);
  EXPECT_EQ(outcomes[1].text.rfind("{\"transaction_id\":42,", 0), 0u) << outcomes[1].text;
}

TEST(FormatOutcomesTest, AnUnscoredTransactionBecomesADeadLetterWithTheWorkersReason) {
  ResultBatch batch = Batch();
  batch.results.push_back({5, 0, 0, 0, "model failed: boom", ""});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].route, Outcome::Route::kDeadLetter);
  EXPECT_NE(outcomes[0].text.find("model failed: boom"), std::string::npos);
  EXPECT_NE(outcomes[0].text.find("worker w1"), std::string::npos);
  EXPECT_NE(outcomes[0].text.find("{\\\"id\\\":5}"), std::string::npos) << outcomes[0].text;
}

TEST(FormatOutcomesTest, AnIdThatIsNotAPlainIntegerIsWrittenAsTheMessageHadIt) {
  ResultBatch batch = Batch();
  batch.results.push_back({0, 0.1, 0, 0.9, "", "5005.50"});
  batch.results.push_back({0, 0, 0, 0, "model failed: boom", "1e3"});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].text.rfind("{\"transaction_id\":5005.50,", 0), 0u) << outcomes[0].text;
  EXPECT_NE(outcomes[1].text.find("{\\\"id\\\":1e3}"), std::string::npos) << outcomes[1].text;
}

TEST(FormatOutcomesTest, OnlyRejectsIsFine) {
  ResultBatch batch = Batch();
  batch.rejects.push_back({0, "a"});
  batch.rejects.push_back({1, "b"});
  std::vector<Outcome> outcomes;
  ASSERT_TRUE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 2u);
}

TEST(FormatOutcomesTest, RejectPositionsThatDoNotFitAreAnError) {
  ResultBatch batch = Batch();
  batch.results.push_back({1, 0.1, 0, 0.9, "", ""});
  batch.rejects.push_back({5, "far away"});
  std::vector<Outcome> outcomes;
  Status s = FormatOutcomes(batch, ModelFields::kOmit, &outcomes);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("reject positions"), std::string::npos);
  batch.rejects = {{1, "x"}, {0, "out of order"}};
  EXPECT_FALSE(FormatOutcomes(batch, ModelFields::kOmit, &outcomes).ok());
}

// A batch of two results from v1 with v3's scores beside them.
ResultBatch ShadowBatch() {
  ResultBatch batch = Batch();
  batch.model_name = "fraud";
  batch.model_version = "v1";
  batch.results.push_back({1, 0.12, 0, 0.88, "", ""});
  batch.results.push_back({2, 0.75, 1, 0.75, "", ""});
  batch.shadow_version = "v3";
  batch.shadow_results.push_back({1, 0.2, 0, 0.8, "", ""});
  batch.shadow_results.push_back({2, 0.25, 0, 0.75, "", ""});
  return batch;
}

TEST(FormatShadowEntriesTest, OneEntryPerTransactionWithBothScores) {
  std::vector<std::string> entries = {"earlier"};
  EXPECT_EQ(FormatShadowEntries(ShadowBatch(), &entries), 2u);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], "earlier") << "appends";
  EXPECT_EQ(entries[1],
            "{\"transaction_id\":1,\"timestamp\":\"2026-01-01T12:00:00.123Z\",\"model\":\"fraud\","
            "\"live_version\":\"v1\",\"live_probability\":0.12,\"live_is_fraudulent\":0,"
            "\"shadow_version\":\"v3\",\"shadow_probability\":0.2,\"shadow_is_fraudulent\":0}");
  EXPECT_NE(entries[2].find("\"live_is_fraudulent\":1,"), std::string::npos) << entries[2];
}

TEST(FormatShadowEntriesTest, AnIdThatIsNotAPlainIntegerIsWrittenAsTheMessageHadIt) {
  ResultBatch batch = ShadowBatch();
  batch.results[0].transaction_id_text = batch.shadow_results[0].transaction_id_text = "1.5";
  std::vector<std::string> entries;
  EXPECT_EQ(FormatShadowEntries(batch, &entries), 2u);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].rfind("{\"transaction_id\":1.5,", 0), 0u) << entries[0];
}

TEST(FormatShadowEntriesTest, NothingWithoutShadowResults) {
  ResultBatch batch = ShadowBatch();
  batch.shadow_results.clear();
  std::vector<std::string> entries;
  EXPECT_EQ(FormatShadowEntries(batch, &entries), 0u);
  EXPECT_TRUE(entries.empty());
}

TEST(FormatShadowEntriesTest, NothingWhenTheShadowResultsDoNotPairUp) {
  ResultBatch shorter = ShadowBatch();
  shorter.shadow_results.pop_back();
  ResultBatch other_ids = ShadowBatch();
  other_ids.shadow_results[1].transaction_id = 9;
  std::vector<std::string> entries;
  EXPECT_EQ(FormatShadowEntries(shorter, &entries), 0u);
  EXPECT_EQ(FormatShadowEntries(other_ids, &entries), 0u);
  EXPECT_TRUE(entries.empty());
}

TEST(FormatShadowEntriesTest, ATransactionEitherVersionFailedOnIsLeftOut) {
  ResultBatch batch = ShadowBatch();
  batch.results[0].error = "model failed: boom";
  batch.shadow_results[1].error = "model failed: boom";
  std::vector<std::string> entries;
  EXPECT_EQ(FormatShadowEntries(batch, &entries), 0u);
  EXPECT_TRUE(entries.empty());
}

}  // namespace
}  // namespace scorepipe
