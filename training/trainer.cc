#include "training/trainer.h"

#include <xgboost/c_api.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "durable/file_util.h"
#include "proto/json_writer.h"
#include "scoring/feature_spec.h"
#include "training/synthetic.h"
#include "training/training.h"

namespace scorepipe {
namespace {

// What only the demo adds to TrainModel's checks.
Status ValidateDemoOptions(const TrainOptions& o) {
  if (o.out_dir.empty()) return Status::Error("train options: out_dir: empty; give a directory");
  if (o.rows < 100) {
    return Status::Error("train options: rows: " + std::to_string(o.rows) +
                         " is out of range; allowed: >= 100");
  }
  return Status::Ok();
}

}  // namespace

TrainingOptions DemoTrainingOptions(const TrainOptions& o) {
  TrainingOptions training;
  training.algorithm = TrainAlgorithm::kXgboost;
  training.validation_fraction = o.test_fraction;
  training.seed = o.seed;
  training.xgboost.rounds = o.rounds;
  training.xgboost.max_depth = o.max_depth;
  training.xgboost.eta = o.eta;
  training.xgboost.nthread = o.nthread;
  training.progress = o.progress;
  return training;
}

Result<TrainReport> TrainDemoModel(const TrainOptions& o) {
  if (Status s = ValidateDemoOptions(o); !s.ok()) return s;
  const TrainingOptions training = DemoTrainingOptions(o);
  if (Status s = ValidateTrainingOptions(training); !s.ok()) return s;
  auto progress = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  const std::filesystem::path dir(o.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error(o.out_dir + ": cannot create the directory: " + ec.message());

  // Data: features by the same extractor the worker uses.
  progress("generating " + std::to_string(o.rows) + " transactions (seed " + std::to_string(o.seed) + ")");
  const FeatureSpec spec = UpstreamFeatureSpec();
  const FeatureExtractor extractor(spec);
  std::vector<Transaction> txs;
  std::vector<float> labels;
  txs.reserve(o.rows);
  labels.reserve(o.rows);
  SyntheticTransactions generator(o.seed);
  for (size_t i = 0; i < o.rows; ++i) {
    LabelledTransaction t = generator.Next();
    txs.push_back(std::move(t.parsed));
    labels.push_back(static_cast<float>(t.label));
  }
  std::vector<float> x;
  extractor.Extract(txs, &x);
  txs = {};

  TrainReport report;
  report.model_path = (dir / "model.json").string();
  report.features_path = (dir / "features.yaml").string();
  report.metrics_path = (dir / "metrics.json").string();
  Result<TrainingReport> trained = TrainModel(x, extractor.width(), labels, training, report.model_path);
  if (!trained.ok()) return trained.status();
  report.train_rows = trained->train_rows;
  report.test_rows = trained->validation_rows;
  report.train_fraud_rate = trained->train_fraud_rate;
  report.test_auc = trained->validation_auc;
  if (Status s = WriteWholeFile(report.features_path, FeatureSpecToYaml(spec)); !s.ok()) return s;

  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  // For people to read (models/demo/metrics.json is checked in): indented.
  // Nothing here depends on the clock or the machine, so that the same
  // options write the same file. Fractions with FormatDouble's 10 digits.
  constexpr const char* kFraction = "%.10g";
  std::string metrics;
  JsonWriter json(&metrics, JsonLayout::kIndented);
  json.BeginObject().Field("generator", "scorepipe SyntheticTransactions (training/synthetic.h)");
  json.Field("rows", o.rows).Field("seed", o.seed);
  json.Field("train_rows", report.train_rows).Field("test_rows", report.test_rows);
  json.Field("train_fraud_rate", report.train_fraud_rate, kFraction);
  json.Field("test_fraud_rate", trained->validation_fraud_rate, kFraction);
  json.Key("features").BeginArray();
  for (const FeatureDef& def : spec.features) json.String(def.name);
  json.EndArray();
  json.Key("params")
      .BeginObject()
      .Field("objective", training.xgboost.objective)
      .Field("tree_method", "hist");
  json.Field("rounds", o.rounds).Field("max_depth", o.max_depth).Field("eta", o.eta, kFraction);
  json.Field("nthread", o.nthread).EndObject();
  json.Field("xgboost_version",
             std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
  json.Field("test_auc", report.test_auc, kFraction).EndObject();
  metrics += '\n';
  if (Status s = WriteWholeFile(report.metrics_path, metrics); !s.ok()) return s;
  progress("wrote " + report.model_path + ", " + report.features_path + ", " + report.metrics_path);
  return report;
}

}  // namespace scorepipe
