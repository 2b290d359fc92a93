// The data every micro-benchmark measures over: a fixed pool of synthetic
// upstream transactions (training/synthetic.h, one seed, so every run and machine
// measures the same messages), the demo model's feature spec and scorers, and
// results scored by the demo model.
//
// Errors (the demo model or its features.yaml not loadable, a model call or a
// parse that fails) print the reason to stderr and exit the program with
// status 1: a benchmark that reports an error with SkipWithError still exits
// 0, and the smoke test must fail instead.
//
// Benchmarks run on the main thread only; the pool is built once, on first
// use, and read-only afterwards. Scorers and models are owned by the caller.
#ifndef SCOREPIPE_BENCH_MICRO_MICRO_DATA_H_
#define SCOREPIPE_BENCH_MICRO_MICRO_DATA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "scoring/feature_spec.h"
#include "scoring/model.h"
#include "training/synthetic.h"

namespace scorepipe::microbench {

// Transactions in the pool; batches of up to this many are taken from its front.
inline constexpr size_t kPoolSize = 4096;
// Entries in the TransactionBatch and ResultBatch of the codec benchmarks.
inline constexpr size_t kCodecBatchSize = 512;
// A fixed "now" (2026-11-23T10:58:29.108Z, Unix microseconds) for the times
// written into messages, so that every run encodes the same bytes.
inline constexpr int64_t kNowUs = 1795431509108000;

// kPoolSize synthetic transactions, as JSON text and as parsed Transactions.
const std::vector<LabelledTransaction>& Pool();
// The first `n` (<= kPoolSize) transactions of the pool, parsed.
std::vector<Transaction> PoolTransactions(size_t n);

// Prints "scorepipe-microbench: <what>: <message>" to stderr and exits with
// status 1.
[[noreturn]] void ExitWithError(const std::string& what, const std::string& message);

// The demo model's features.yaml (models/demo), loaded.
FeatureExtractor DemoFeatures();
// The demo XGBoost model (models/demo/model.json) as the worker loads it.
std::unique_ptr<Model> DemoXgboostModel();
// A logistic-regression model over the demo features, built in memory (no
// linear model ships with the repository).
std::unique_ptr<Model> DemoLinearModel();
// A Scorer as the worker builds it: the demo features, `model`, threshold 0.5.
Scorer DemoScorer(std::unique_ptr<Model> model);

// The demo XGBoost model's results for the first `n` pool transactions.
std::vector<ScoreResult> DemoResults(size_t n);

}  // namespace scorepipe::microbench

#endif  // SCOREPIPE_BENCH_MICRO_MICRO_DATA_H_
