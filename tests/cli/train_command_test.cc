// `scorepipe train` as a person runs it: the real binary on a labelled file
// from `scorepipe dataset`, into a temporary registry; what it registers,
// that the version promotes, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "durable/file_util.h"
#include "scoring/model_registry.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using testing::ClusterHarness;
using ::testing::HasSubstr;
using ::testing::Not;

class TrainCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  // Runs `scorepipe <args>`; *out gets stdout and stderr.
  int Scorepipe(std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv = {ClusterHarness::BinDir() + "/scorepipe"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunCommand(argv, (dir_.path() / ("run-" + std::to_string(++runs_) + ".log")).string(),
                               out, std::chrono::seconds(120));
  }

  // A labelled synthetic file of `rows` transactions (.csv or .jsonl by `name`).
  std::string Dataset(const std::string& name, int rows) {
    const std::string path = (dir_.path() / name).string();
    std::string out;
    EXPECT_EQ(Scorepipe({"dataset", "--rows", std::to_string(rows), "--seed", "5", "--out", path}, &out), 0)
        << out;
    return path;
  }

  // `scorepipe train --data data --features <demo> --registry <temp> --name fraud <extra>`.
  int Train(const std::string& data, std::vector<std::string> extra, std::string* out) {
    std::vector<std::string> args = {"train",      "--data",   data,     "--features", DemoFeatures(),
                                     "--registry", registry(), "--name", "fraud"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Scorepipe(args, out);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }

  static std::string DemoFeatures() { return ClusterHarness::SourceDir() + "/models/demo/features.yaml"; }
  std::string registry() const { return (dir_.path() / "registry").string(); }

  scorepipe::testing::TempDir dir_{"scorepipe-train-command"};
  int runs_ = 0;
};

TEST_F(TrainCommandTest, XgboostFromCsvIsRegisteredWithItsMetricsAndPromotes) {
  const std::string data = Dataset("demo.csv", 20000);
  std::string out;
  ASSERT_EQ(
      Train(data, {"--rounds", "40", "--max-depth", "4", "--early-stopping-rounds", "5", "--note", "first"},
            &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("validation-auc:"));  // progress
  EXPECT_THAT(out, HasSubstr("registered fraud v1 in"));
  EXPECT_THAT(out, HasSubstr("scorepipe model promote fraud v1"));

  const ModelRegistry reg(registry());
  Result<ModelMeta> meta = reg.ReadMeta("fraud", "v1");
  ASSERT_TRUE(meta.ok()) << meta.status().message();
  EXPECT_EQ(meta->format, ModelFormat::kXgboost);
  EXPECT_EQ(meta->model_file, "model.json");
  EXPECT_EQ(meta->note, "first");
  // Where the model came from, not the temporary file train wrote it to.
  EXPECT_EQ(meta->model_source, "scorepipe train --data " + data);
  // Whole numbers stay whole in meta.yaml.
  Result<std::string> meta_text = ReadWholeFile(reg.VersionDir("fraud", "v1") + "/meta.yaml");
  ASSERT_TRUE(meta_text.ok());
  EXPECT_THAT(*meta_text, HasSubstr("  rows: 20000\n"));
  EXPECT_GT(meta->metrics.at("auc"), 0.8);
  EXPECT_GT(meta->metrics.at("pr_auc"), 0);
  EXPECT_GT(meta->metrics.at("logloss"), 0);
  EXPECT_LE(meta->metrics.at("best_iteration"), 39);
  EXPECT_EQ(meta->metrics.at("rows"), 20000);
  EXPECT_EQ(meta->metrics.at("validation_rows"), 4000);
  EXPECT_EQ(meta->data_summary["rows"].as<int>(), 20000);
  EXPECT_EQ(meta->data_summary["train_rows"].as<int>(), 16000);
  EXPECT_EQ(meta->data_summary["file"].as<std::string>(), data);
  EXPECT_EQ(meta->data_summary["algorithm"].as<std::string>(), "xgboost");
  EXPECT_EQ(meta->data_summary["parameters"]["max_depth"].as<int>(), 4);
  const double fraud_rate = meta->data_summary["fraud_rate"].as<double>();
  EXPECT_GT(fraud_rate, 0.01);
  EXPECT_LT(fraud_rate, 0.1);

  ASSERT_EQ(
      Scorepipe({"model", "promote", "fraud", "v1", "--min-auc", "0.8", "--registry", registry()}, &out), 0)
      << out;
  ASSERT_EQ(Train(data, {"--rounds", "5"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("registered fraud v2 in"));
}

TEST_F(TrainCommandTest, LinearFromJsonLinesIsRegisteredAndPromotes) {
  const std::string data = Dataset("demo.jsonl", 10000);
  std::string out;
  ASSERT_EQ(Train(data, {"--algorithm", "linear", "--l2", "0.5", "--version", "lr-1"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("registered fraud lr-1 in"));
  Result<ModelMeta> meta = ModelRegistry(registry()).ReadMeta("fraud", "lr-1");
  ASSERT_TRUE(meta.ok()) << meta.status().message();
  EXPECT_EQ(meta->format, ModelFormat::kLinear);
  EXPECT_EQ(meta->model_file, "model.yaml");
  EXPECT_GT(meta->metrics.at("auc"), 0.6);
  EXPECT_EQ(meta->data_summary["parameters"]["l2"].as<double>(), 0.5);
  ASSERT_EQ(Scorepipe({"model", "promote", "fraud", "lr-1", "--registry", registry()}, &out), 0) << out;
}

TEST_F(TrainCommandTest, BadInputsAreClearErrors) {
  const std::string data = Dataset("demo.csv", 2000);
  std::string out;
  EXPECT_EQ(Train(data, {"--eta", "0"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --eta: 0 is out of range; allowed: (0, 1]"));
  // Every check speaks of the flag the user gave, not of an internal field.
  EXPECT_EQ(Train(data, {"--max-depth", "0"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --max-depth: 0 is out of range"));
  EXPECT_EQ(Train(data, {"--min-child-weight", "-1"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --min-child-weight: "));
  EXPECT_EQ(Train(data, {"--validation-fraction", "1"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --validation-fraction: 1 is out of range"));
  EXPECT_EQ(Train(data, {"--algorithm", "linear", "--l2", "-1"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --l2: "));
  EXPECT_EQ(Train(data, {"--label-column", "amount"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --label-column: 'amount' is an upstream transaction field"));
  EXPECT_THAT(out, Not(HasSubstr("train options")));
  EXPECT_EQ(Train(data, {"--algorithm", "forest"}, &out), 2) << out;
  EXPECT_EQ(Train(dir_.path().string() + "/missing.csv", {}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("missing.csv"));

  const std::string bad_row = Write("bad.csv",
                                    "id,customer_id,vendor_id,timestamp,status,amount,is_fraudulent\n"
                                    "1,2,3,2026-01-01T00:00:00Z,accepted,10.5,0\n"
                                    "2,2,3,not-a-time,accepted,10.5,1\n");
  EXPECT_EQ(Train(bad_row, {}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("bad.csv:3"));
  EXPECT_EQ(Train(data, {"--label-column", "label"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("demo.csv:1: the header has no column 'label'"));

  const std::string no_fraud = Write("calm.csv",
                                     "id,customer_id,vendor_id,timestamp,status,amount,is_fraudulent\n"
                                     "1,2,3,2026-01-01T00:00:00Z,accepted,10.5,0\n"
                                     "2,2,3,2026-01-01T00:00:01Z,accepted,11.5,0\n");
  EXPECT_EQ(Train(no_fraud, {}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("both classes"));

  ASSERT_EQ(Train(data, {"--rounds", "3", "--version", "v7"}, &out), 0) << out;
  EXPECT_EQ(Train(data, {"--rounds", "3", "--version", "v7"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("fraud v7 exists already"));
  EXPECT_EQ(Train(data, {"--version", "../x"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe train: --version '../x' starts with a dot"));
}

}  // namespace
}  // namespace scorepipe
