// `scorepipe dataset` and `scorepipe evaluate` as a person runs them: the real
// binary on temporary files and a temporary registry, its output and exit
// codes; and RunDataset/RunEvaluate in process for their progress lines.
#include "cli/evaluate_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/dataset_command.h"
#include "tests/cli/command_test_fixture.h"

namespace scorepipe {
namespace {

using testing::ClusterHarness;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kHeader = "id,customer_id,vendor_id,timestamp,status,amount,is_fraudulent\n";

// What was written to a tmpfile().
std::string Contents(FILE* file) {
  std::string text;
  rewind(file);
  for (int c = fgetc(file); c != EOF; c = fgetc(file)) text += static_cast<char>(c);
  return text;
}

class EvaluateCommandTest : public testing::CommandTest {
 protected:
  // `scorepipe evaluate` on the committed demo model's files.
  int EvaluateDemo(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(),
                {"evaluate", "--model", Demo("model.json"), "--features", Demo("features.yaml")});
    return Scorepipe(args, out);
  }

  // A demo dataset of `rows` rows in `name` (its extension picks the format).
  std::string Dataset(const std::string& name, int rows) {
    std::string out;
    const std::string path = File(name);
    EXPECT_EQ(Scorepipe({"dataset", "--rows", std::to_string(rows), "--seed", "11", "--out", path}, &out), 0)
        << out;
    return path;
  }
};

TEST_F(EvaluateCommandTest, DatasetWritesTheSameRowsForTheSameSeedInEitherFormat) {
  std::string out;
  ASSERT_EQ(Scorepipe({"dataset", "--rows", "2000", "--seed", "11", "--out", File("a.csv")}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("wrote " + File("a.csv") + ": 2000 rows (seed 11)"));
  ASSERT_EQ(Scorepipe({"dataset", "--rows", "2000", "--seed", "11", "--out", File("a.jsonl")}, &out), 0)
      << out;
  std::string csv_report;
  std::string jsonl_report;
  ASSERT_EQ(EvaluateDemo({"--data", File("a.csv"), "--json"}, &csv_report), 0) << csv_report;
  ASSERT_EQ(EvaluateDemo({"--data", File("a.jsonl"), "--json"}, &jsonl_report), 0) << jsonl_report;
  const auto evaluation = [](const std::string& report) {
    return report.substr(report.find("\"evaluation\""));
  };
  EXPECT_EQ(evaluation(csv_report), evaluation(jsonl_report));

  EXPECT_EQ(Scorepipe({"dataset", "--rows", "5", "--out", File("a.txt")}, &out), 1);
  EXPECT_THAT(out, HasSubstr("must end in .csv, .jsonl or .ndjson"));
  EXPECT_EQ(Scorepipe({"dataset", "--rows", "0", "--out", File("b.csv")}, &out), 2) << out;
}

TEST_F(EvaluateCommandTest, ReportsEveryFigureAsTextAndAsJson) {
  const std::string data = Dataset("d.csv", 20000);
  std::string out;
  ASSERT_EQ(EvaluateDemo({"--data", data}, &out), 0) << out;
  for (const char* line : {"20000 rows scored", "0 not scored", "threshold: 0.5", "ROC AUC            0.",
                           "PR AUC             0.", "(average precision)", "precision", "recall", "F1",
                           "log loss", "Brier score", "actual fraud", "predicted not",
                           "calibration (10 uniform bins", "0.900-1.000", "average_precision_score"}) {
    EXPECT_THAT(out, HasSubstr(line));
  }
  ASSERT_EQ(EvaluateDemo({"--data", data, "--json", "--bins", "4", "--threshold", "0.25"}, &out), 0) << out;
  EXPECT_THAT(out, StartsWith("{\"model\":{\"source\":\"files\""));
  for (const char* key : {"\"scored_rows\":20000", "\"unscored_rows\":0", "\"threshold\":0.25",
                          "\"roc_auc\":0.", "\"average_precision\":0.", "\"f1\":", "\"log_loss\":",
                          "\"brier\":", "\"true_positives\":", "\"lower\":0.75,\"upper\":1,"}) {
    EXPECT_THAT(out, HasSubstr(key));
  }
  EXPECT_THAT(out, Not(HasSubstr("\"lower\":0.9")));  // 4 bins, not 10
  // pr_auc holds the figure (the average precision), its note beside it.
  const size_t pr_auc = out.find("\"pr_auc\":");
  ASSERT_NE(pr_auc, std::string::npos) << out;
  const size_t average_precision = out.find("\"average_precision\":");
  ASSERT_NE(average_precision, std::string::npos) << out;
  const auto number_after = [&](size_t at) {
    return std::strtod(out.c_str() + out.find(':', at) + 1, nullptr);
  };
  EXPECT_GT(number_after(pr_auc), 0);
  EXPECT_EQ(number_after(pr_auc), number_after(average_precision));
  EXPECT_THAT(out, HasSubstr("\"pr_auc_note\":\"PR AUC is the average precision"));
}

TEST_F(EvaluateCommandTest, ModelFromTheRegistryLiveOrNamedVersion) {
  const std::string registry = File("registry");
  const std::string data = Dataset("d.jsonl", 3000);
  std::string out;
  ASSERT_EQ(Scorepipe({"model", "register", "fraud", "--model", Demo("model.json"), "--features",
                       Demo("features.yaml"), "--registry", registry},
                      &out),
            0)
      << out;
  ASSERT_EQ(Scorepipe({"evaluate", "--registry", registry, "--name", "fraud", "--data", data}, &out), 1);
  EXPECT_THAT(out, HasSubstr("no version is live"));
  ASSERT_EQ(
      Scorepipe({"evaluate", "--registry", registry, "--name", "fraud", "--version", "v1", "--data", data},
                &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("model:     fraud v1 (registry " + registry + ")"));
  ASSERT_EQ(Scorepipe({"model", "promote", "fraud", "v1", "--registry", registry}, &out), 0) << out;
  ASSERT_EQ(
      Scorepipe({"evaluate", "--registry", registry, "--name", "fraud", "--data", data, "--json"}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("\"source\":\"registry\",\"name\":\"fraud\",\"version\":\"v1\""));
  // Without --registry, SCOREPIPE_REGISTRY names it, as for `scorepipe model`.
  ASSERT_EQ(Run({"/usr/bin/env", "SCOREPIPE_REGISTRY=" + registry, ClusterHarness::BinDir() + "/scorepipe",
                 "evaluate", "--name", "fraud", "--data", data},
                &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("model:     fraud v1 (registry " + registry + ")"));
  EXPECT_EQ(
      Scorepipe({"evaluate", "--registry", registry, "--name", "fraud", "--version", "v9", "--data", data},
                &out),
      1);
}

TEST_F(EvaluateCommandTest, RowsTheScorerCannotScoreAreCountedAndNamed) {
  // A weight of 0 on an amount too large for a float feature (inf) gives NaN:
  // the Scorer marks that row with an error instead of a score.
  const std::string model = Write("linear.yaml", "format: linear\nweights: [0, 0.5, 0, 0]\nbias: -1\n");
  const std::string data = Write("odd.csv", std::string(kHeader) +
                                                "1,1,1,2023-01-01T12:00:00Z,accepted,100,0\n"
                                                "2,1,1,2023-01-01T12:00:00Z,rejected,1e300,1\n"
                                                "3,1,1,2023-01-01T12:00:00Z,rejected,5,1\n");
  std::string out;
  ASSERT_EQ(
      Scorepipe({"evaluate", "--model", model, "--features", Demo("features.yaml"), "--data", data}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("2 rows scored, 1 fraud (50.00%), 1 not scored"));
  EXPECT_THAT(out, HasSubstr("not scored: id 2: model linear.yaml gave a probability of nan"));
  ASSERT_EQ(
      Scorepipe({"evaluate", "--model", model, "--features", Demo("features.yaml"), "--data", data, "--json"},
                &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("\"scored_rows\":2,\"unscored_rows\":1,\"unscored_examples\":[\"id 2: "));
}

TEST_F(EvaluateCommandTest, IdsThatAreNotPlainIntegersAreNamedAsTheFileWroteThem) {
  const std::string model = Write("linear.yaml", "format: linear\nweights: [0, 0.5, 0, 0]\nbias: -1\n");
  const std::string data = Write("odd.csv", std::string(kHeader) +
                                                "5005.50,1,2.5,2023-01-01,accepted,100,0\n"
                                                "7.5,1,1,Sun; 01 Jan 2023 12:00:00 GMT,rejected,1e300,1\n"
                                                "1e3,1,1,2023-01-01T12:00:00Z,rejected,5,1\n");
  const std::string scores = File("scores.csv");
  std::string out;
  ASSERT_EQ(Scorepipe({"evaluate", "--model", model, "--features", Demo("features.yaml"), "--data", data,
                       "--scores-out", scores},
                      &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("not scored: id 7.5: "));
  std::ifstream in(scores);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(written, StartsWith("id,score,label\n5005.50,"));
  EXPECT_THAT(written, HasSubstr("\n1e3,"));
}

TEST_F(EvaluateCommandTest, BadFilesAndUsageAreClearErrors) {
  std::string out;
  const std::string bad =
      Write("bad.csv", std::string(kHeader) + "1,1,1,2023-01-01T12:00:00Z,accepted,100,0\n" +
                           "2,1,1,2023-01-01T12:00:00Z,accepted,100,maybe\n");
  EXPECT_EQ(EvaluateDemo({"--data", bad}, &out), 1);
  EXPECT_THAT(out, HasSubstr("scorepipe evaluate: " + bad + ":3: label 'is_fraudulent': expected 0, 1"));
  EXPECT_EQ(EvaluateDemo({"--data", Write("empty.jsonl", "")}, &out), 1);
  EXPECT_THAT(out, HasSubstr("no rows to evaluate"));
  EXPECT_EQ(EvaluateDemo({"--data", Write("d.tsv", "")}, &out), 1);
  EXPECT_THAT(out, HasSubstr("must end in .csv, .jsonl or .ndjson"));
  EXPECT_EQ(EvaluateDemo({"--data", File("missing.csv")}, &out), 1);
  EXPECT_THAT(out, HasSubstr("cannot open"));
  const std::string one_class =
      Write("one.csv", std::string(kHeader) + "1,1,1,2023-01-01T12:00:00Z,accepted,100,0\n");
  EXPECT_EQ(EvaluateDemo({"--data", one_class}, &out), 0) << out;
  EXPECT_THAT(
      out,
      HasSubstr("ROC AUC            undefined (auc: needs both classes; got 0 positives and 1 negatives)"));
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--label-column", "y"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("the header has no column 'y'"));
  // Flags that do not go together are usage errors (exit 2), as bad values are.
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--name", "fraud"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("either from the registry"));
  EXPECT_EQ(Scorepipe({"evaluate", "--model", Demo("model.json"), "--data", one_class}, &out), 2);
  EXPECT_THAT(out, HasSubstr("needs both --model and --features"));
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--version", "v1"}, &out), 2);
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--format", "onnx"}, &out), 2);
  EXPECT_EQ(Scorepipe({"evaluate", "--data", one_class}, &out), 2);
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--cluster", Write("t.yaml", "")}, &out), 2);
  EXPECT_THAT(out, HasSubstr("--cluster evaluates the model live on the cluster"));
  // A name the registry does not hold says so.
  const std::string registry = File("empty-registry");
  EXPECT_EQ(Scorepipe({"evaluate", "--registry", registry, "--name", "nosuch", "--data", one_class}, &out),
            1);
  EXPECT_THAT(out, HasSubstr("--name nosuch: no model 'nosuch' in " + registry)) << out;
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--format", "linear"}, &out), 1);  // JSON read as YAML
  EXPECT_EQ(EvaluateDemo({"--data", one_class, "--threshold", "2"}, &out), 2);
  EXPECT_EQ(Scorepipe({"evaluate", "--help"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("average precision"));
}

TEST_F(EvaluateCommandTest, LongRunsPrintProgress) {
  FILE* out = tmpfile();
  FILE* err = tmpfile();
  ASSERT_TRUE(out != nullptr && err != nullptr);
  DatasetOptions dataset;
  dataset.rows = 1000;
  dataset.out_path = File("p.csv");
  dataset.progress_every_rows = 400;
  ASSERT_EQ(RunDataset(dataset, out, err), 0) << Contents(err);
  EXPECT_EQ(Contents(err), "dataset: 400 of 1000 rows\ndataset: 800 of 1000 rows\n");

  EvaluateOptions evaluate;
  evaluate.model_path = Demo("model.json");
  evaluate.features_path = Demo("features.yaml");
  evaluate.data_path = dataset.out_path;
  evaluate.batch_rows = 100;
  evaluate.progress_every_rows = 300;
  FILE* evaluate_err = tmpfile();
  ASSERT_TRUE(evaluate_err != nullptr);
  ASSERT_EQ(RunEvaluate(evaluate, out, evaluate_err), 0) << Contents(evaluate_err);
  EXPECT_EQ(Contents(evaluate_err),
            "evaluate: scored 300 rows\nevaluate: scored 600 rows\nevaluate: scored 900 rows\n");
  EXPECT_THAT(Contents(out), HasSubstr("1000 rows scored"));
  fclose(out);
  fclose(err);
  fclose(evaluate_err);
}

}  // namespace
}  // namespace scorepipe
