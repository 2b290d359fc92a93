#include "worker/trainer.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <utility>

#include "bench/synthetic.h"
#include "worker/evaluation.h"
#include "worker/feature_spec.h"
#include "worker/xgboost_model.h"

namespace scorepipe {
namespace {

using DMatrixPtr = std::unique_ptr<void, int (*)(DMatrixHandle)>;
using BoosterPtr = std::unique_ptr<void, int (*)(BoosterHandle)>;

Status XgbError(const std::string& what) {
  return Status::Error("xgboost: " + what + ": " + XgboostLastError());
}

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

Status ValidateOptions(const TrainOptions& o) {
  auto bad = [](const std::string& field, const std::string& value, const std::string& allowed) {
    return Status::Error("train options: " + field + ": " + value +
                         " is out of range; allowed: " + allowed);
  };
  if (o.out_dir.empty()) return Status::Error("train options: out_dir: empty; give a directory");
  if (o.rows < 100) return bad("rows", std::to_string(o.rows), ">= 100");
  if (o.rounds < 1 || o.rounds > 10000) return bad("rounds", std::to_string(o.rounds), "1..10000");
  if (o.max_depth < 1 || o.max_depth > 16) {
    return bad("max_depth", std::to_string(o.max_depth), "1..16");
  }
  if (!(o.eta > 0 && o.eta <= 1)) return bad("eta", FormatDouble(o.eta), "(0, 1]");
  if (!(o.test_fraction > 0 && o.test_fraction < 1)) {
    return bad("test_fraction", FormatDouble(o.test_fraction), "(0, 1)");
  }
  if (o.nthread < 1) return bad("nthread", std::to_string(o.nthread), ">= 1");
  return Status::Ok();
}

Result<DMatrixPtr> MakeDMatrix(const float* rows, size_t n_rows, size_t width, const float* labels,
                               const char* what) {
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromMat(rows, n_rows, width, std::nanf(""), &handle) != 0) {
    return XgbError(std::string("cannot build the ") + what + " matrix");
  }
  DMatrixPtr matrix(handle, &XGDMatrixFree);
  if (XGDMatrixSetFloatInfo(handle, "label", labels, n_rows) != 0) {
    return XgbError(std::string("cannot set the ") + what + " labels");
  }
  return matrix;
}

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Error(path.string() + ": cannot write");
  return Status::Ok();
}

double PositiveRate(const float* labels, size_t n) {
  size_t positives = 0;
  for (size_t i = 0; i < n; ++i) positives += labels[i] > 0.5f ? 1 : 0;
  return n == 0 ? 0.0 : static_cast<double>(positives) / static_cast<double>(n);
}

}  // namespace

Result<TrainReport> TrainDemoModel(const TrainOptions& o) {
  if (Status s = ValidateOptions(o); !s.ok()) return s;
  auto progress = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  const std::filesystem::path dir(o.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error(o.out_dir + ": cannot create the directory: " + ec.message());

  // Data: features by the same extractor the worker uses.
  progress("generating " + std::to_string(o.rows) + " transactions (seed " +
           std::to_string(o.seed) + ")");
  const FeatureSpec spec = UpstreamFeatureSpec();
  const FeatureExtractor extractor(spec);
  const size_t width = extractor.width();
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
  report.test_rows =
      static_cast<size_t>(std::llround(static_cast<double>(o.rows) * o.test_fraction));
  report.test_rows = std::clamp<size_t>(report.test_rows, 1, o.rows - 1);
  report.train_rows = o.rows - report.test_rows;
  report.train_fraud_rate = PositiveRate(labels.data(), report.train_rows);
  const float* test_labels = labels.data() + report.train_rows;
  const double test_fraud_rate = PositiveRate(test_labels, report.test_rows);
  progress("train rows " + std::to_string(report.train_rows) + " (fraud " +
           FormatDouble(100 * report.train_fraud_rate) + "%), test rows " +
           std::to_string(report.test_rows) + " (fraud " + FormatDouble(100 * test_fraud_rate) +
           "%)");

  Result<DMatrixPtr> train =
      MakeDMatrix(x.data(), report.train_rows, width, labels.data(), "training");
  if (!train.ok()) return train.status();
  Result<DMatrixPtr> test = MakeDMatrix(x.data() + report.train_rows * width, report.test_rows,
                                        width, test_labels, "test");
  if (!test.ok()) return test.status();

  DMatrixHandle cache[] = {train->get(), test->get()};
  BoosterHandle booster_handle = nullptr;
  if (XGBoosterCreate(cache, 2, &booster_handle) != 0) {
    return XgbError("cannot create the booster");
  }
  BoosterPtr booster(booster_handle, &XGBoosterFree);
  const std::pair<const char*, std::string> params[] = {
      {"objective", "binary:logistic"},
      {"eval_metric", "auc"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", FormatDouble(o.eta)},
      {"nthread", std::to_string(o.nthread)},
      {"seed", std::to_string(o.seed % 2147483648ULL)},
      {"verbosity", "1"},
  };
  for (const auto& [name, value] : params) {
    if (XGBoosterSetParam(booster.get(), name, value.c_str()) != 0) {
      return XgbError(std::string("cannot set ") + name + "=" + value);
    }
  }

  const char* eval_names[] = {"train", "test"};
  for (int round = 0; round < o.rounds; ++round) {
    if (XGBoosterUpdateOneIter(booster.get(), round, train->get()) != 0) {
      return XgbError("round " + std::to_string(round) + " failed");
    }
    if ((round + 1) % 10 == 0 || round + 1 == o.rounds) {
      const char* eval = nullptr;
      if (XGBoosterEvalOneIter(booster.get(), round, cache, eval_names, 2, &eval) != 0) {
        return XgbError("evaluating round " + std::to_string(round) + " failed");
      }
      progress(eval);
    }
  }

  bst_ulong n_pred = 0;
  const float* pred = nullptr;
  if (XGBoosterPredict(booster.get(), test->get(), 0, 0, 0, &n_pred, &pred) != 0) {
    return XgbError("predicting the test rows failed");
  }
  if (n_pred != report.test_rows) {
    return Status::Error("xgboost: " + std::to_string(n_pred) + " predictions for " +
                         std::to_string(report.test_rows) + " test rows");
  }
  const std::vector<float> scores(pred, pred + n_pred);
  const std::vector<float> truth(test_labels, test_labels + report.test_rows);
  Result<double> auc = RocAuc(scores, truth);
  if (!auc.ok()) return auc.status().WithContext("test set");
  report.test_auc = *auc;
  progress("test AUC " + FormatDouble(report.test_auc));

  report.model_path = (dir / "model.json").string();
  report.features_path = (dir / "features.yaml").string();
  report.metrics_path = (dir / "metrics.json").string();
  if (XGBoosterSaveModel(booster.get(), report.model_path.c_str()) != 0) {
    return XgbError(report.model_path + ": cannot save the model");
  }
  if (Status s = WriteFile(report.features_path, FeatureSpecToYaml(spec)); !s.ok()) return s;

  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  std::string features_json;
  for (const FeatureDef& def : spec.features) {
    if (!features_json.empty()) features_json += ", ";
    features_json += "\"" + def.name + "\"";
  }
  // Nothing here depends on the clock or the machine, so that the same
  // options write the same file.
  const std::pair<const char*, std::string> fields[] = {
      {"generator", "\"scorepipe SyntheticTransactions (bench/synthetic.h)\""},
      {"rows", std::to_string(o.rows)},
      {"seed", std::to_string(o.seed)},
      {"train_rows", std::to_string(report.train_rows)},
      {"test_rows", std::to_string(report.test_rows)},
      {"train_fraud_rate", FormatDouble(report.train_fraud_rate)},
      {"test_fraud_rate", FormatDouble(test_fraud_rate)},
      {"features", "[" + features_json + "]"},
      {"params", "{\"objective\": \"binary:logistic\", \"tree_method\": \"hist\", \"rounds\": " +
                     std::to_string(o.rounds) + ", \"max_depth\": " + std::to_string(o.max_depth) +
                     ", \"eta\": " + FormatDouble(o.eta) +
                     ", \"nthread\": " + std::to_string(o.nthread) + "}"},
      {"xgboost_version", "\"" + std::to_string(major) + "." + std::to_string(minor) + "." +
                              std::to_string(patch) + "\""},
      {"test_auc", FormatDouble(report.test_auc)},
  };
  std::string metrics = "{\n";
  for (const auto& [name, value] : fields) {
    if (metrics.size() > 2) metrics += ",\n";
    metrics += std::string("  \"") + name + "\": " + value;
  }
  metrics += "\n}\n";
  if (Status s = WriteFile(report.metrics_path, metrics); !s.ok()) return s;
  progress("wrote " + report.model_path + ", " + report.features_path + ", " + report.metrics_path);
  return report;
}

}  // namespace scorepipe
