#include "training/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scoring/model.h"
#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TrainOptions SmallRun(const std::string& out_dir) {
  TrainOptions o;
  o.out_dir = out_dir;
  o.rows = 20000;
  o.rounds = 15;
  o.max_depth = 4;
  return o;
}

TEST(TrainDemoModelTest, WritesLoadableFilesWithGoodTestAuc) {
  testing::ScratchDir dir;
  std::vector<std::string> progress;
  TrainOptions options = SmallRun(dir.File("out"));  // created by the trainer
  options.progress = [&](const std::string& line) { progress.push_back(line); };
  Result<TrainReport> report = TrainDemoModel(options);
  ASSERT_TRUE(report.ok()) << report.status().message();

  EXPECT_EQ(report->train_rows, 16000u);
  EXPECT_EQ(report->test_rows, 4000u);
  EXPECT_GT(report->train_fraud_rate, 0.02);
  EXPECT_LT(report->train_fraud_rate, 0.05);
  EXPECT_GT(report->test_auc, 0.75);
  EXPECT_LT(report->test_auc, 1.0);
  EXPECT_FALSE(progress.empty());

  ModelConfig cfg;
  cfg.path = report->model_path;
  cfg.features = report->features_path;
  EXPECT_EQ(cfg.path, dir.File("out/model.json"));
  EXPECT_EQ(cfg.features, dir.File("out/features.yaml"));
  Result<Scorer> scorer = LoadScorer(cfg);
  ASSERT_TRUE(scorer.ok()) << scorer.status().message();
  const FeatureSpec& spec = scorer->features().spec();
  ASSERT_EQ(spec.features.size(), 4u);
  EXPECT_EQ(spec.features[0].name, "timestamp");
  EXPECT_EQ(spec.features[1].name, "status");
  EXPECT_EQ(spec.features[2].name, "vendor_id");
  EXPECT_EQ(spec.features[3].name, "amount");

  const std::string metrics = ReadAll(report->metrics_path);
  EXPECT_THAT(metrics, HasSubstr("\"rows\": 20000"));
  EXPECT_THAT(metrics, HasSubstr("\"seed\": 42"));
  EXPECT_THAT(metrics, HasSubstr("\"rounds\": 15"));
  EXPECT_THAT(metrics, HasSubstr("\"test_auc\": "));
}

// metrics.json is for people (models/demo/metrics.json is checked in): one
// member a line, indented, and JSON that reads back to the run's figures.
TEST(TrainDemoModelTest, MetricsFileIsIndentedJsonOfTheRun) {
  testing::ScratchDir dir;
  Result<TrainReport> report = TrainDemoModel(SmallRun(dir.File("out")));
  ASSERT_TRUE(report.ok()) << report.status().message();
  const std::string metrics = ReadAll(report->metrics_path);
  EXPECT_THAT(metrics, ::testing::StartsWith(
                           "{\n  \"generator\": \"scorepipe SyntheticTransactions (training/synthetic.h)\",\n"
                           "  \"rows\": 20000,\n  \"seed\": 42,\n  \"train_rows\": 16000,\n"
                           "  \"test_rows\": 4000,\n  \"train_fraud_rate\": "));
  EXPECT_THAT(metrics,
              HasSubstr(",\n  \"features\": [\n    \"timestamp\",\n    \"status\",\n    \"vendor_id\",\n"
                        "    \"amount\"\n  ],\n  \"params\": {\n    \"objective\": \"binary:logistic\",\n"
                        "    \"tree_method\": \"hist\",\n    \"rounds\": 15,\n    \"max_depth\": 4,\n"
                        "    \"eta\": 0.3,\n    \"nthread\": 2\n  },\n  \"xgboost_version\": \""));
  EXPECT_THAT(metrics, ::testing::EndsWith("\n}\n"));
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  ASSERT_EQ(parser.parse(metrics).get(parsed), simdjson::SUCCESS) << metrics;
  double test_auc = 0;
  ASSERT_EQ(parsed["test_auc"].get(test_auc), simdjson::SUCCESS) << metrics;
  EXPECT_NEAR(test_auc, report->test_auc, 1e-9);
  double train_fraud_rate = 0;
  ASSERT_EQ(parsed["train_fraud_rate"].get(train_fraud_rate), simdjson::SUCCESS) << metrics;
  EXPECT_NEAR(train_fraud_rate, report->train_fraud_rate, 1e-9);
}

TEST(TrainDemoModelTest, SameSeedGivesSameAucAndModel) {
  testing::ScratchDir dir;
  Result<TrainReport> first = TrainDemoModel(SmallRun(dir.File("a")));
  Result<TrainReport> second = TrainDemoModel(SmallRun(dir.File("b")));
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(first->test_auc, second->test_auc);
  EXPECT_EQ(ReadAll(first->model_path), ReadAll(second->model_path));
  EXPECT_EQ(ReadAll(first->metrics_path), ReadAll(second->metrics_path));
}

TEST(TrainDemoModelTest, DifferentSeedGivesDifferentData) {
  testing::ScratchDir dir;
  TrainOptions other = SmallRun(dir.File("b"));
  other.seed = 43;
  Result<TrainReport> first = TrainDemoModel(SmallRun(dir.File("a")));
  Result<TrainReport> second = TrainDemoModel(other);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->test_auc, second->test_auc);
}

TEST(TrainDemoModelTest, BadOptionsAreErrors) {
  testing::ScratchDir dir;
  TrainOptions o = SmallRun(dir.path());
  o.rows = 10;
  EXPECT_EQ(TrainDemoModel(o).status().message(), "train options: rows: 10 is out of range; allowed: >= 100");
  o = SmallRun(dir.path());
  o.eta = 0;
  EXPECT_EQ(TrainDemoModel(o).status().message(), "train options: eta: 0 is out of range; allowed: (0, 1]");
  o = SmallRun("");
  EXPECT_THAT(TrainDemoModel(o).status().message(), HasSubstr("out_dir"));
}

}  // namespace
}  // namespace scorepipe
