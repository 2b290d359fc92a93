#include "training/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/scoring/model_test_util.h"
#include "scoring/model.h"

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
  EXPECT_EQ(TrainDemoModel(o).status().message(),
            "train options: rows: 10 is out of range; allowed: >= 100");
  o = SmallRun(dir.path());
  o.eta = 0;
  EXPECT_EQ(TrainDemoModel(o).status().message(),
            "train options: eta: 0 is out of range; allowed: (0, 1]");
  o = SmallRun("");
  EXPECT_THAT(TrainDemoModel(o).status().message(), HasSubstr("out_dir"));
}

}  // namespace
}  // namespace scorepipe
