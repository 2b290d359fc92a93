// TrainModel's XGBoost against Python XGBoost (tests/worker/xgboost_reference.py)
// on the demo data with the demo's parameters: both validation AUCs must agree
// within 0.01. Python's xgboost module missing is a failure, not a skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/worker/worker_test_util.h"
#include "worker/file_util.h"
#include "worker/trainer.h"
#include "worker/training.h"

namespace scorepipe {
namespace {

// Rows [first, last) as CSV: a header, the features, the label last.
std::string ToCsv(const testing::LabelledRows& data, size_t width, size_t first, size_t last) {
  std::string csv;
  for (const FeatureDef& def : UpstreamFeatureSpec().features) csv += def.name + ",";
  csv += "label\n";
  for (size_t i = first; i < last; ++i) {
    for (size_t j = 0; j < width; ++j) csv += FormatDouble(data.rows[i * width + j], 9) + ",";
    csv += data.labels[i] > 0.5f ? "1\n" : "0\n";
  }
  return csv;
}

// Runs `command` and returns what it printed on stdout; *exit_code its status.
std::string RunForOutput(const std::string& command, int* exit_code) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  *exit_code = pclose(pipe);
  return out;
}

TEST(XgboostReference, ValidationAucMatchesPythonXgboost) {
  const TrainOptions demo;  // the demo model's rows, seed and parameters
  const testing::LabelledRows data = testing::SyntheticRows(demo.rows, demo.seed);
  const size_t width = UpstreamFeatureSpec().features.size();

  testing::ScratchDir dir;
  Result<TrainingReport> ours = TrainModel(data.rows, width, data.labels,
                                           DemoTrainingOptions(demo), dir.File("model.json"));
  ASSERT_TRUE(ours.ok()) << ours.status().message();

  const size_t n = data.labels.size();
  ASSERT_TRUE(WriteWholeFile(dir.File("train.csv"), ToCsv(data, width, 0, ours->train_rows)).ok());
  ASSERT_TRUE(
      WriteWholeFile(dir.File("validation.csv"), ToCsv(data, width, ours->train_rows, n)).ok());
  const std::string command = std::string(SCOREPIPE_PYTHON3) + " " + SCOREPIPE_SOURCE_DIR +
                              "/tests/worker/xgboost_reference.py " + dir.File("train.csv") + " " +
                              dir.File("validation.csv") +
                              " --rounds " + std::to_string(demo.rounds) +
                              " --max-depth " + std::to_string(demo.max_depth) +
                              " --eta " + FormatDouble(demo.eta, 17) +
                              " --seed " + std::to_string(demo.seed) +
                              " --nthread " + std::to_string(demo.nthread);
  int exit_code = 0;
  const std::string out = RunForOutput(command, &exit_code);
  ASSERT_EQ(exit_code, 0) << command << " failed (is python3-xgboost installed? "
                          << "scripts/setup.sh installs it); it printed: " << out;
  ASSERT_EQ(out.rfind("auc ", 0), 0u) << out;
  const double python_auc = std::strtod(out.c_str() + 4, nullptr);

  std::printf("validation AUC: scorepipe %.6f, Python XGBoost %.6f (%zu train, %zu validation rows)\n",
              ours->validation_auc, python_auc, ours->train_rows, ours->validation_rows);
  EXPECT_GT(python_auc, 0.8);
  EXPECT_NEAR(ours->validation_auc, python_auc, 0.01);
}

}  // namespace
}  // namespace scorepipe
