// The audit every fault scenario ends with must see each way the guarantee
// can break: a duplicate, a lost transaction, an answer for a transaction
// never pushed, a wrong score. (A check that cannot fail proves nothing.)
#include "tests/support/outcome_audit.h"

#include <gtest/gtest.h>

#include "config/topology.h"
#include "proto/upstream_json.h"
#include "scoring/model.h"
#include "tests/support/cluster_harness.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

class OutcomeAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SyntheticTransactions generator(11, 1);
    for (int i = 0; i < 4; ++i) {
      LabelledTransaction t = generator.Next();
      messages_.push_back(t.json);
      pushed_.push_back(t.parsed);
    }
    auto topology = LoadTopologyFile(config_);
    ASSERT_TRUE(topology.ok()) << topology.status().message();
    auto scorer = LoadScorer(topology->model);
    ASSERT_TRUE(scorer.ok()) << scorer.status().message();
    std::vector<ScoreResult> scores;
    ASSERT_TRUE(scorer->Score(pushed_, &scores).ok());
    for (const ScoreResult& score : scores) {
      std::string json;
      AppendResultJson(score, "2026-01-01T00:00:00.000Z", nullptr, &json);
      results_.push_back(json);
    }
  }

  OutcomeAudit Audit(const std::vector<std::string>& results, const std::vector<std::string>& dead) const {
    return AuditOutcomes(results, dead, pushed_, config_);
  }

  const std::string config_ = ClusterHarness::SourceDir() + "/config/local.yaml";
  std::vector<std::string> messages_;
  std::vector<Transaction> pushed_;
  std::vector<std::string> results_;  // the model's answer to each, in order
};

TEST_F(OutcomeAuditTest, OneResultOrDeadLetterPerTransactionHolds) {
  const std::string dead = DeadLetterJson("model failed", "worker w", messages_[3], 0);
  const OutcomeAudit audit = Audit({results_[0], results_[1], results_[2]}, {dead});
  EXPECT_TRUE(audit.Holds()) << audit.model.message();
  EXPECT_EQ(audit.results, 3u);
  EXPECT_EQ(audit.dead_letters, 1u);
}

TEST_F(OutcomeAuditTest, DuplicateAndLostTransactionsAreCounted) {
  const std::string dead = DeadLetterJson("late copy", "bridge", messages_[1], 0);
  const OutcomeAudit audit = Audit({results_[0], results_[1], results_[0]}, {dead});
  EXPECT_FALSE(audit.Holds());
  EXPECT_EQ(audit.duplicates, 2u);  // id 1 twice in the results, id 2 in both lists
  EXPECT_EQ(audit.lost, 2u);        // ids 3 and 4
}

TEST_F(OutcomeAuditTest, AnswerForATransactionNeverPushedIsCounted) {
  const std::string stranger = DeadLetterJson("not JSON", "bridge", "{not json", 0);
  const OutcomeAudit audit = Audit(results_, {stranger});
  EXPECT_FALSE(audit.Holds());
  EXPECT_EQ(audit.unknown, 1u);
  EXPECT_EQ(audit.first_unknown, stranger);
}

TEST_F(OutcomeAuditTest, ScoreThatIsNotTheModelsFailsTheModelCheck) {
  std::vector<std::string> results = results_;
  ScoreResult wrong;
  wrong.transaction_id = pushed_[2].id;
  wrong.confidence = 0.123;
  results[2].clear();
  AppendResultJson(wrong, "2026-01-01T00:00:00.000Z", nullptr, &results[2]);
  const OutcomeAudit audit = Audit(results, {});
  EXPECT_FALSE(audit.Holds());
  EXPECT_FALSE(audit.model.ok());
  EXPECT_EQ(audit.lost, 0u);
}

}  // namespace
}  // namespace scorepipe::testing
