#include "scoring/model.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <utility>

#include "proto/codec.h"
#include "proto/upstream_json.h"
#include "scoring/linear_model.h"
#include "scoring/xgboost_model.h"

namespace scorepipe {

Result<std::unique_ptr<Model>> LoadModel(const ModelConfig& cfg, size_t expected_features) {
  if (cfg.path.empty()) return Status::Error("model: no model path given");
  std::string version = cfg.version;
  if (version.empty()) version = std::filesystem::path(cfg.path).filename().string();
  switch (cfg.format) {
    case ModelFormat::kXgboost:
      return LoadXgboostModel(cfg.path, std::move(version), expected_features);
    case ModelFormat::kLinear:
      return LoadLinearModel(cfg.path, std::move(version), expected_features);
  }
  return Status::Error(cfg.path + ": unknown model format " + std::to_string(static_cast<int>(cfg.format)));
}

Scorer::Scorer(FeatureExtractor features, std::unique_ptr<Model> model, double threshold)
    : features_(std::move(features)), model_(std::move(model)), threshold_(threshold) {}

Status Scorer::Predict(const float* rows, size_t n_rows, std::vector<double>* p_fraud) {
  try {
    Status s = model_->PredictProba(rows, n_rows, p_fraud);
    if (s.ok() && p_fraud->size() != n_rows) {
      return Status::Error("model " + model_->version() + " returned " + std::to_string(p_fraud->size()) +
                           " probabilities for " + std::to_string(n_rows) + " transactions");
    }
    return s;
  } catch (const std::exception& e) {
    return Status::Error("model " + model_->version() + " threw: " + e.what());
  } catch (...) {
    return Status::Error("model " + model_->version() + " threw an exception that is not a std::exception");
  }
}

void Scorer::PredictSplitting(size_t begin, size_t end) {
  const size_t width = features_.width();
  Status s = Predict(rows_.data() + begin * width, end - begin, &part_);
  if (s.ok()) {
    std::copy(part_.begin(), part_.end(), p_fraud_.begin() + static_cast<std::ptrdiff_t>(begin));
    return;
  }
  if (end - begin == 1) {
    row_errors_[begin] = std::string(Utf8Prefix("model failed: " + s.message(), kMaxErrorTextBytes));
    return;
  }
  const size_t middle = begin + (end - begin) / 2;
  PredictSplitting(begin, middle);
  PredictSplitting(middle, end);
}

Status Scorer::Score(const std::vector<Transaction>& txs, std::vector<ScoreResult>* out) {
  features_.Extract(txs, &rows_);
  ScoreHeldRows(txs.size(), out);
  for (size_t i = 0; i < txs.size(); ++i) {
    (*out)[i].transaction_id = txs[i].id;
    (*out)[i].transaction_id_text = txs[i].id_text;
  }
  return Status::Ok();
}

Status Scorer::ScoreRows(const float* rows, size_t n_rows, size_t width, std::vector<ScoreResult>* out) {
  if (width != features_.width()) {
    out->assign(n_rows, ScoreResult{});
    for (ScoreResult& r : *out) {
      r.error = "model " + model_->version() + " takes " + std::to_string(features_.width()) +
                " features a row, not " + std::to_string(width);
    }
    return Status::Ok();
  }
  rows_.assign(rows, rows + n_rows * width);
  ScoreHeldRows(n_rows, out);
  for (ScoreResult& r : *out) {
    r.transaction_id = 0;
    r.transaction_id_text.clear();
  }
  return Status::Ok();
}

void Scorer::ScoreHeldRows(size_t n_rows, std::vector<ScoreResult>* out) {
  row_errors_.clear();
  if (Status s = Predict(rows_.data(), n_rows, &p_fraud_); !s.ok()) {
    // The model failed on the batch: find the rows it fails on, halving, so
    // that only those go to the dead letters and their neighbours are scored.
    p_fraud_.assign(n_rows, 0.0);
    row_errors_.assign(n_rows, std::string());
    if (n_rows > 0) PredictSplitting(0, n_rows);
  }
  out->resize(n_rows);
  for (size_t i = 0; i < n_rows; ++i) {
    ScoreResult& r = (*out)[i];
    const double p = p_fraud_[i];
    if (!row_errors_.empty() && !row_errors_[i].empty()) {
      r.fraud_probability = 0;
      r.is_fraudulent = 0;
      r.confidence = 0;
      r.error = std::move(row_errors_[i]);
    } else if (std::isfinite(p) && p >= 0.0 && p <= 1.0) {
      r.fraud_probability = p;
      r.is_fraudulent = p >= threshold_ ? 1 : 0;
      r.confidence = r.is_fraudulent ? p : 1.0 - p;
      r.error.clear();
    } else {
      r.fraud_probability = 0;
      r.is_fraudulent = 0;
      r.confidence = 0;
      r.error = "model " + model_->version() + " gave a probability of " + std::to_string(p) +
                ", not a number in [0, 1]";
    }
  }
}

Result<Scorer> LoadScorer(const ModelConfig& cfg) {
  if (!(cfg.threshold >= 0.0 && cfg.threshold <= 1.0)) {
    return Status::Error("model.threshold: " + std::to_string(cfg.threshold) +
                         " is out of range; allowed: [0, 1]");
  }
  if (cfg.features.empty()) return Status::Error("model.features: no feature spec path given");
  Result<FeatureSpec> spec = LoadFeatureSpecFile(cfg.features);
  if (!spec.ok()) return spec.status();
  FeatureExtractor features(std::move(spec).value());
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, features.width());
  if (!model.ok()) return model.status();
  return Scorer(std::move(features), std::move(model).value(), cfg.threshold);
}

}  // namespace scorepipe
