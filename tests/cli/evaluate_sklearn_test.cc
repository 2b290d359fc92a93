// scorepipe's evaluation figures equal scikit-learn's on the same predictions:
// `scorepipe evaluate` on a demo dataset, and Evaluate() on hand-made edge
// cases (ties, scores on bin edges and on the threshold, one class, certain
// mistakes), each checked by tests/cli/sklearn_metrics.py with sklearn.metrics.
//
// The script runs under Debian's /usr/bin/python3, for which the test setup
// (scripts/setup.sh) installs python3-sklearn; a python3 elsewhere on PATH (a
// venv, pyenv) would not see it. Without it these tests fail: they never skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "proto/evaluation.h"
#include "scoring/evaluation.h"
#include "tests/cli/command_test_fixture.h"

namespace scorepipe {
namespace {

using testing::ClusterHarness;
using ::testing::HasSubstr;

constexpr const char* kPython = SCOREPIPE_PYTHON3;  // Debian's (tests/CMakeLists.txt)

class EvaluateSklearnTest : public testing::CommandTest {
 protected:
  // Runs the script on a scores file and a report; the test fails unless
  // every figure agrees.
  void ExpectSklearnAgrees(const std::string& scores_csv, const std::string& report_json) {
    std::string out;
    const int code =
        Run({kPython, ClusterHarness::SourceDir() + "/tests/cli/sklearn_metrics.py", scores_csv, report_json},
            &out);
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("0 mismatches")) << out;
  }

  // Evaluate() on `scores` and `labels`, then the script on the same numbers.
  void CheckEdgeCase(const std::string& name, const std::vector<double>& scores,
                     const std::vector<float>& labels, EvaluationOptions options = {}) {
    SCOPED_TRACE(name);
    Result<Evaluation> evaluation = Evaluate(scores, labels, options);
    ASSERT_TRUE(evaluation.ok()) << evaluation.status().message();
    const std::string scores_csv = File(name + ".csv");
    FILE* file = fopen(scores_csv.c_str(), "w");
    ASSERT_NE(file, nullptr);
    fprintf(file, "id,score,label\n");
    for (size_t i = 0; i < scores.size(); ++i)
      fprintf(file, "%zu,%.17g,%d\n", i + 1, scores[i], labels[i] == 1.0f);
    fclose(file);
    std::ofstream(File(name + ".json")) << EvaluationToJson(*evaluation) << "\n";
    ExpectSklearnAgrees(scores_csv, File(name + ".json"));
  }
};

TEST_F(EvaluateSklearnTest, DemoModelOnADemoDatasetMatchesSklearn) {
  std::string out;
  ASSERT_EQ(Scorepipe({"dataset", "--rows", "30000", "--seed", "5", "--out", File("d.jsonl")}, &out), 0)
      << out;
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {}, {"--threshold", "0.3", "--bins", "7"}, {"--threshold", "0.05", "--bins", "1"}}) {
    std::vector<std::string> args = {
        "evaluate", "--model",       Demo("model.json"), "--features",   Demo("features.yaml"),
        "--data",   File("d.jsonl"), "--json",           "--scores-out", File("scores.csv")};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_EQ(Scorepipe(args, &out), 0) << out;
    std::ofstream(File("report.json")) << out;
    ExpectSklearnAgrees(File("scores.csv"), File("report.json"));
  }
}

TEST_F(EvaluateSklearnTest, EdgeCasesMatchSklearn) {
  // Scores 0, 0.1, ..., 1: ties everywhere, on the bins' nominal edges and on the threshold.
  std::vector<double> scores;
  std::vector<float> labels;
  for (int i = 0; i < 77; ++i) {
    scores.push_back((i % 11) / 10.0);
    labels.push_back(static_cast<float>((i * 7) % 3 == 0));
  }
  CheckEdgeCase("ties_on_edges", scores, labels);
  EvaluationOptions options;
  options.threshold = 0.3;
  options.calibration_bins = 5;
  CheckEdgeCase("ties_on_edges_threshold", scores, labels, options);

  // Just above a nominal edge k/10 but below sklearn's k/10 * (1 + 1e-8):
  // still the bin below.
  scores.clear();
  labels.clear();
  for (int k = 1; k <= 9; ++k) {
    scores.push_back(k / 10.0 + 1e-10);
    labels.push_back(static_cast<float>(k % 2));
  }
  CheckEdgeCase("just_above_edges", scores, labels);

  CheckEdgeCase("all_equal", std::vector<double>(10, 0.5), {1, 0, 0, 1, 0, 0, 0, 1, 0, 0});
  options = {};
  options.threshold = 1;
  CheckEdgeCase("nothing_predicted_fraud", {0.1, 0.9, 0.5, 0.2}, {0, 1, 1, 0}, options);
  CheckEdgeCase("no_fraud", {0.1, 0.9, 0.5, 0.2}, {0, 0, 0, 0});
  CheckEdgeCase("only_fraud", {0.1, 0.9, 0.5, 0.2}, {1, 1, 1, 1});
  CheckEdgeCase("certain_mistakes", {0, 1, 0, 1, 0.5}, {1, 0, 0, 1, 1});

  // Many rows on a coarse grid (3 decimals): long runs of ties.
  scores.clear();
  labels.clear();
  uint64_t state = 12345;
  for (int i = 0; i < 5000; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    const double score = static_cast<double>(state >> 54) / 1023.0;  // 1024 values in [0, 1]
    scores.push_back(static_cast<double>(static_cast<int>(score * 1000)) / 1000);
    labels.push_back(static_cast<float>(((state >> 20) % 1000) < score * 1000));
  }
  options = {};
  options.threshold = 0.37;
  options.calibration_bins = 13;
  CheckEdgeCase("grid", scores, labels, options);
}

}  // namespace
}  // namespace scorepipe
