// TrainModel against references (tests/training/training_reference.py) on the
// demo data: XGBoost against Python XGBoost with the demo's parameters, the
// linear model against a numpy logistic regression; each pair of validation
// AUCs must agree within 0.01. Python's xgboost module missing is a failure,
// not a skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "durable/file_util.h"
#include "tests/scoring/model_test_util.h"
#include "training/trainer.h"
#include "training/training.h"

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

// Trains with TrainModel on the demo data, writes its train and validation
// rows to CSV, runs the reference on them and returns its validation AUC.
class ReferenceTest : public ::testing::Test {
 protected:
  void Compare(const TrainingOptions& options, const std::string& reference_args) {
    const size_t width = UpstreamFeatureSpec().features.size();
    Result<TrainingReport> ours = TrainModel(data_.rows, width, data_.labels, options, dir_.File("model"));
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    const size_t n = data_.labels.size();
    ASSERT_TRUE(WriteWholeFile(dir_.File("train.csv"), ToCsv(data_, width, 0, ours->train_rows)).ok());
    ASSERT_TRUE(WriteWholeFile(dir_.File("validation.csv"), ToCsv(data_, width, ours->train_rows, n)).ok());
    const std::string command = std::string(SCOREPIPE_PYTHON3) + " " + SCOREPIPE_SOURCE_DIR +
                                "/tests/training/training_reference.py " + dir_.File("train.csv") + " " +
                                dir_.File("validation.csv") + " " + reference_args;
    int exit_code = 0;
    const std::string out = RunForOutput(command, &exit_code);
    ASSERT_EQ(exit_code, 0) << command << " failed (is python3-xgboost installed? "
                            << "scripts/setup.sh installs it); it printed: " << out;
    ASSERT_EQ(out.rfind("auc ", 0), 0u) << out;
    const double reference_auc = std::strtod(out.c_str() + 4, nullptr);
    std::printf("validation AUC: scorepipe %.6f, reference %.6f (%zu train, %zu validation rows)\n",
                ours->validation_auc, reference_auc, ours->train_rows, ours->validation_rows);
    EXPECT_NEAR(ours->validation_auc, reference_auc, 0.01);
    ours_auc_ = ours->validation_auc;
  }

  const TrainOptions demo_;  // the demo model's rows, seed and parameters
  const testing::LabelledRows data_ = testing::SyntheticRows(demo_.rows, demo_.seed);
  testing::ScratchDir dir_;
  double ours_auc_ = 0;
};

TEST_F(ReferenceTest, XgboostValidationAucMatchesPythonXgboost) {
  Compare(DemoTrainingOptions(demo_),
          "--algorithm xgboost --rounds " + std::to_string(demo_.rounds) + " --max-depth " +
              std::to_string(demo_.max_depth) + " --eta " + FormatDouble(demo_.eta, 17) + " --seed " +
              std::to_string(demo_.seed) + " --nthread " + std::to_string(demo_.nthread));
  EXPECT_GT(ours_auc_, 0.8);
}

TEST_F(ReferenceTest, LinearValidationAucMatchesNumpyLogisticRegression) {
  TrainingOptions options = DemoTrainingOptions(demo_);
  options.algorithm = TrainAlgorithm::kLinear;
  Compare(options, "--algorithm linear --l2 " + FormatDouble(options.linear.l2, 17));
  EXPECT_GT(ours_auc_, 0.6);
}

}  // namespace
}  // namespace scorepipe
