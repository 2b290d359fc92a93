#include "bench/micro/micro_data.h"

#include <spdlog/spdlog.h>

#include <Eigen/Core>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "config/topology.h"
#include "scoring/linear_model.h"

namespace scorepipe::microbench {
namespace {

// Any fixed seed will do; this one is the demo model's training seed.
constexpr uint64_t kSeed = 42;

std::string DemoDir() { return std::string(SCOREPIPE_SOURCE_DIR) + "/models/demo"; }

ModelConfig DemoModelConfig() {
  ModelConfig cfg;
  cfg.path = DemoDir() + "/model.json";
  cfg.format = ModelFormat::kXgboost;
  cfg.features = DemoDir() + "/features.yaml";
  return cfg;
}

}  // namespace

const std::vector<LabelledTransaction>& Pool() {
  static const std::vector<LabelledTransaction> pool = [] {
    SyntheticTransactions generator(kSeed);
    std::vector<LabelledTransaction> txs;
    txs.reserve(kPoolSize);
    for (size_t i = 0; i < kPoolSize; ++i) txs.push_back(generator.Next());
    return txs;
  }();
  return pool;
}

std::vector<Transaction> PoolTransactions(size_t n) {
  if (n > kPoolSize) {
    ExitWithError("PoolTransactions",
                  std::to_string(n) + " transactions asked of a pool of " + std::to_string(kPoolSize));
  }
  std::vector<Transaction> txs;
  txs.reserve(n);
  for (size_t i = 0; i < n; ++i) txs.push_back(Pool()[i].parsed);
  return txs;
}

void ExitWithError(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "scorepipe-microbench: %s: %s\n", what.c_str(), message.c_str());
  std::exit(1);
}

FeatureExtractor DemoFeatures() {
  Result<FeatureSpec> spec = LoadFeatureSpecFile(DemoModelConfig().features);
  if (!spec.ok()) ExitWithError("demo features", spec.status().message());
  return FeatureExtractor(std::move(spec).value());
}

std::unique_ptr<Model> DemoXgboostModel() {
  // The load's info line (which evaluator scores it) would repeat for every
  // benchmark and bury the table.
  spdlog::set_level(spdlog::level::warn);
  const ModelConfig cfg = DemoModelConfig();
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, DemoFeatures().width());
  if (!model.ok()) ExitWithError("demo model", model.status().message());
  return std::move(model).value();
}

std::unique_ptr<Model> DemoLinearModel() {
  // Columns: timestamp (Unix s), status index, vendor_id, amount.
  Eigen::VectorXd weights(4);
  weights << 2.0e-9, 0.75, -0.001, 0.0025;
  return std::make_unique<LinearModel>(std::move(weights), -6.5, "linear-bench");
}

Scorer DemoScorer(std::unique_ptr<Model> model) {
  FeatureExtractor features = DemoFeatures();
  if (model->num_features() != features.width()) {
    ExitWithError("DemoScorer", "model " + model->version() + " takes " +
                                    std::to_string(model->num_features()) + " features, the spec has " +
                                    std::to_string(features.width()));
  }
  return Scorer(std::move(features), std::move(model), 0.5);
}

std::vector<ScoreResult> DemoResults(size_t n) {
  Scorer scorer = DemoScorer(DemoXgboostModel());
  std::vector<ScoreResult> results;
  if (Status s = scorer.Score(PoolTransactions(n), &results); !s.ok()) {
    ExitWithError("DemoResults", s.message());
  }
  return results;
}

}  // namespace scorepipe::microbench
