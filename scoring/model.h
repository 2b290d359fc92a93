// Fraud models and the Scorer that applies one to a batch of transactions.
//
// A Model turns a row-major float matrix (one row per transaction, the columns
// of the features.yaml beside it) into P(fraud) per row. LoadModel() picks the
// implementation by ModelConfig::format (an XGBoost JSON model, or a linear
// model in YAML) and checks that the model expects as many features as the
// spec produces. The Scorer ties a FeatureExtractor and a Model together and
// produces the ScoreResults a worker sends to the sink.
//
// A Model and a Scorer are owned by one thread (the worker loop), which calls
// PredictProba/Score one batch at a time; neither may be shared between
// threads. The cluster scales by processes, so models use one thread each.
#ifndef SCOREPIPE_SCORING_MODEL_H_
#define SCOREPIPE_SCORING_MODEL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/topology.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "scoring/feature_spec.h"

namespace scorepipe {

class Model {
 public:
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Floats per row that PredictProba expects.
  virtual size_t num_features() const = 0;
  // Reported with every result (ResultBatch::model_version).
  virtual const std::string& version() const = 0;
  // One line for the log: the model and how it is evaluated.
  virtual std::string Describe() const { return "model " + version(); }

  // Replaces *p_fraud with n_rows probabilities of class 1 (fraud), one per
  // row of `rows` (n_rows * num_features() floats, row-major). One call per
  // batch; reuses p_fraud's capacity. An error means no row was scored.
  virtual Status PredictProba(const float* rows, size_t n_rows, std::vector<double>* p_fraud) = 0;

 protected:
  Model() = default;
};

// Loads cfg.path as cfg.format. The model's version is cfg.version, or the
// model file's name when that is empty. A missing or unreadable file, a
// corrupt model, or a model that does not take `expected_features` features
// gives an error naming the path and the reason.
Result<std::unique_ptr<Model>> LoadModel(const ModelConfig& cfg, size_t expected_features);

// Scores batches of transactions: features, model, threshold.
class Scorer {
 public:
  // `model` must not be null and must take features.width() features;
  // `threshold` is in [0, 1]. LoadScorer() checks both.
  explicit Scorer(FeatureExtractor features, std::unique_ptr<Model> model, double threshold);
  Scorer(Scorer&&) = default;
  Scorer& operator=(Scorer&&) = default;

  // Replaces *out with one ScoreResult per transaction, in order:
  // fraud_probability = p, is_fraudulent = p >= threshold, confidence = the
  // probability of the predicted class (p or 1 - p). A row whose probability
  // is not a finite number in [0, 1] gets a non-empty `error` instead. When
  // the model fails on the batch (an error, or an exception it throws), the
  // batch is halved until the rows it fails on are found: those get the
  // model's error ("model failed: ..."), every other row its score. So no
  // failure of the model fails the call; the Status stays for the caller's
  // sake (the worker treats an error as every row failing).
  Status Score(const std::vector<Transaction>& txs, std::vector<ScoreResult>* out);
  // The same for feature rows given directly (an online KServe v2 tensor):
  // n_rows rows of `width` floats, row-major, in the feature spec's order.
  // Results carry transaction id 0. Rows of another width than the spec's
  // all get an error naming both widths.
  Status ScoreRows(const float* rows, size_t n_rows, size_t width, std::vector<ScoreResult>* out);

  const FeatureExtractor& features() const { return features_; }
  const Model& model() const { return *model_; }
  double threshold() const { return threshold_; }

 private:
  // The model's PredictProba with its exceptions turned into an error, and
  // its count of probabilities checked.
  Status Predict(const float* rows, size_t n_rows, std::vector<double>* p_fraud);
  // Predicts rows [begin, end) of rows_ into p_fraud_, halving a range the
  // model fails on down to single rows, whose error goes to row_errors_.
  void PredictSplitting(size_t begin, size_t end);
  // Scores the n_rows rows held in rows_ into *out (ids left as they are).
  void ScoreHeldRows(size_t n_rows, std::vector<ScoreResult>* out);

  FeatureExtractor features_;
  std::unique_ptr<Model> model_;
  double threshold_;
  std::vector<float> rows_;              // reused per batch
  std::vector<double> p_fraud_;          // reused per batch
  std::vector<double> part_;             // one range's probabilities while halving
  std::vector<std::string> row_errors_;  // per row while halving; empty otherwise
};

// What a worker calls at start: loads cfg.features and cfg.path, checks that
// their widths agree and that cfg.threshold is in [0, 1].
Result<Scorer> LoadScorer(const ModelConfig& cfg);

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_MODEL_H_
