// The upstream JSON formats, one message per iteration: the bridge's parse and
// validation of a transaction message, the sink's result JSON, and the
// dead-letter JSON the bridge writes for a message it rejects.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/micro/micro_data.h"
#include "config/topology.h"
#include "proto/upstream_json.h"

namespace scorepipe::microbench {
namespace {

// Runs `one(i)` once per iteration, i cycling through the pool's indexes, and
// counts one item per iteration; `one` returns the bytes it read or wrote.
template <typename OneMessage>
void RunPerMessage(benchmark::State& state, OneMessage one) {
  // A power of two keeps the cycle a mask.
  static_assert((kPoolSize & (kPoolSize - 1)) == 0);
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    bytes += static_cast<int64_t>(one(i));
    i = (i + 1) & (kPoolSize - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

// Parses and validates one upstream message per iteration, with the bridge's
// message size limit.
void BM_ParseTransaction(benchmark::State& state) {
  const std::vector<LabelledTransaction>& pool = Pool();
  TransactionParser parser(static_cast<size_t>(BridgeConfig{}.max_message_bytes));
  RunPerMessage(state, [&](size_t i) {
    const std::string& text = pool[i].json;
    Result<Transaction> tx = parser.Parse(text);
    if (!tx.ok()) ExitWithError("synthetic message " + text, tx.status().message());
    benchmark::DoNotOptimize(tx);
    return text.size();
  });
}
BENCHMARK(BM_ParseTransaction);

// Writes one result's upstream JSON per iteration into a fresh string, as the
// sink does for each outcome (the batch's timestamp is formatted once per
// batch, outside the loop).
void BM_ResultJson(benchmark::State& state) {
  const std::vector<ScoreResult> results = DemoResults(kPoolSize);
  const std::string timestamp = FormatIso8601Millis(kNowUs);
  const ResultModel model{"demo", "demo-1"};  // as the sink's default, sink.model_fields: include
  RunPerMessage(state, [&](size_t i) {
    std::string text;
    AppendResultJson(results[i], timestamp, &model, &text);
    benchmark::DoNotOptimize(text.data());
    return text.size();
  });
}
BENCHMARK(BM_ResultJson);

// The pool's messages with a negative amount, and the reason the parser
// gives for each: what the bridge turns into dead letters.
struct Rejected {
  std::string message;
  std::string reason;
};

std::vector<Rejected> RejectedPool() {
  TransactionParser parser(static_cast<size_t>(BridgeConfig{}.max_message_bytes));
  std::vector<Rejected> rejected;
  rejected.reserve(kPoolSize);
  for (const LabelledTransaction& tx : Pool()) {
    const std::string_view key = "\"amount\":";
    const size_t amount = tx.json.find(key);
    if (amount == std::string::npos) ExitWithError("synthetic message " + tx.json, "no amount");
    const size_t value = amount + key.size();
    std::string message = tx.json.substr(0, value) + "-" + tx.json.substr(value);
    Result<Transaction> parsed = parser.Parse(message);
    if (parsed.ok()) ExitWithError("negative amount in " + message, "accepted by the parser");
    rejected.push_back({std::move(message), parsed.status().message()});
  }
  return rejected;
}

// Writes one dead-letter entry per iteration, as the bridge does for a
// message that fails validation (the parse itself is not timed).
void BM_DeadLetterJson(benchmark::State& state) {
  const std::vector<Rejected> rejected = RejectedPool();
  RunPerMessage(state, [&](size_t i) {
    std::string text = DeadLetterJson(rejected[i].reason, "bridge", rejected[i].message, kNowUs);
    benchmark::DoNotOptimize(text.data());
    return text.size();
  });
}
BENCHMARK(BM_DeadLetterJson);

}  // namespace
}  // namespace scorepipe::microbench
