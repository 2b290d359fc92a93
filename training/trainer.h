// Trains the demo fraud model: an XGBoost binary:logistic model on synthetic
// labelled transactions (training/synthetic.h), with the upstream's four
// features. It writes what a worker loads plus a record of how it was made:
//
//   out_dir/model.json     the XGBoost model (JSON)
//   out_dir/features.yaml  the feature spec (UpstreamFeatureSpec())
//   out_dir/metrics.json   rows, seed, parameters and the test AUC
//
// The first 80% of the generated rows train, the last 20% test (TrainModel's
// validation rows; no early stopping). With the same options the files and
// the AUC are the same on every run.
//
// A plain function; it uses options.nthread threads inside libxgboost and
// calls `progress` on the calling thread.
#ifndef SCOREPIPE_TRAINING_TRAINER_H_
#define SCOREPIPE_TRAINING_TRAINER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "proto/status.h"
#include "training/training.h"

namespace scorepipe {

struct TrainOptions {
  std::string out_dir;         // created if missing; files in it are replaced
  size_t rows = 200000;        // generated transactions, >= 100
  uint64_t seed = 42;          // generator seed; also XGBoost's seed
  int rounds = 60;             // boosting rounds (trees), 1..10000
  int max_depth = 5;           // per tree, 1..16
  double eta = 0.3;            // learning rate, (0, 1]
  double test_fraction = 0.2;  // the last rows held out for the AUC, (0, 1)
  int nthread = 2;             // libxgboost training threads, >= 1
  // Called with one line per progress step (generation, every few rounds
  // with the train and test AUC as libxgboost evaluates them, files written).
  std::function<void(const std::string&)> progress;
};

struct TrainReport {
  size_t train_rows = 0;
  size_t test_rows = 0;
  double train_fraud_rate = 0;  // share of label 1 in the training rows
  double test_auc = 0;          // ROC AUC on the test rows, computed here
  std::string model_path;       // out_dir/model.json
  std::string features_path;    // out_dir/features.yaml
  std::string metrics_path;     // out_dir/metrics.json
};

// The TrainModel options the demo trains with: xgboost with options' rounds,
// depth, eta, seed and threads; test_fraction as the validation fraction; no
// early stopping.
TrainingOptions DemoTrainingOptions(const TrainOptions& options);

// Trains through TrainModel (training/training.h) and writes the three files;
// an error names what failed.
Result<TrainReport> TrainDemoModel(const TrainOptions& options);

}  // namespace scorepipe

#endif  // SCOREPIPE_TRAINING_TRAINER_H_
