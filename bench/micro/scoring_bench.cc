// The worker's hot path, one batch per iteration, at batch sizes from one
// transaction to kPoolSize: feature extraction by the demo features.yaml, one
// model call (the demo XGBoost model, and a linear model over the same
// features), and both together through the Scorer the worker uses.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "bench/micro/micro_data.h"
#include "scoring/feature_spec.h"
#include "scoring/model.h"

namespace scorepipe::microbench {
namespace {

void BatchSizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{1}, int64_t{64}, int64_t{512}, static_cast<int64_t>(kPoolSize)}) {
    b->Arg(n);
  }
}

size_t BatchSize(const benchmark::State& state) { return static_cast<size_t>(state.range(0)); }

// Runs `one()`, one batch of BatchSize(state) transactions, once per
// iteration, and counts the batch's transactions as items.
template <typename OneBatch>
void RunPerBatch(benchmark::State& state, OneBatch one) {
  for (auto _ : state) {
    one();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ExtractFeatures(benchmark::State& state) {
  const FeatureExtractor features = DemoFeatures();
  const std::vector<Transaction> txs = PoolTransactions(BatchSize(state));
  std::vector<float> rows;
  RunPerBatch(state, [&] {
    features.Extract(txs, &rows);
    benchmark::DoNotOptimize(rows.data());
  });
}
BENCHMARK(BM_ExtractFeatures)->Apply(BatchSizes);

// The model call alone, on rows extracted before the loop.
void BM_Predict(benchmark::State& state, std::unique_ptr<Model> (*make_model)()) {
  const std::unique_ptr<Model> model = make_model();
  const size_t n = BatchSize(state);
  std::vector<float> rows;
  DemoFeatures().Extract(PoolTransactions(n), &rows);
  std::vector<double> p_fraud;
  RunPerBatch(state, [&] {
    if (Status s = model->PredictProba(rows.data(), n, &p_fraud); !s.ok()) {
      ExitWithError("PredictProba with " + model->version(), s.message());
    }
    benchmark::DoNotOptimize(p_fraud.data());
  });
}
BENCHMARK_CAPTURE(BM_Predict, xgboost, &DemoXgboostModel)->Apply(BatchSizes);
BENCHMARK_CAPTURE(BM_Predict, linear, &DemoLinearModel)->Apply(BatchSizes);

// Score-only: features, model and threshold, as the worker scores a batch.
void BM_Score(benchmark::State& state, std::unique_ptr<Model> (*make_model)()) {
  Scorer scorer = DemoScorer(make_model());
  const std::vector<Transaction> txs = PoolTransactions(BatchSize(state));
  std::vector<ScoreResult> results;
  RunPerBatch(state, [&] {
    if (Status s = scorer.Score(txs, &results); !s.ok()) {
      ExitWithError("Score with " + scorer.model().version(), s.message());
    }
    benchmark::DoNotOptimize(results.data());
  });
}
BENCHMARK_CAPTURE(BM_Score, xgboost, &DemoXgboostModel)->Apply(BatchSizes);
BENCHMARK_CAPTURE(BM_Score, linear, &DemoLinearModel)->Apply(BatchSizes);

}  // namespace
}  // namespace scorepipe::microbench
