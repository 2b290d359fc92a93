// The msgpack wire codec on the two batch messages, kCodecBatchSize entries
// each, one whole frame per iteration: the bridge encodes a TransactionBatch
// and the worker decodes it; the worker encodes a ResultBatch and the sink
// decodes it.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/micro/micro_data.h"
#include "proto/codec.h"

namespace scorepipe::microbench {
namespace {

constexpr const char* kLease = "transactions_queue:scorepipe:lease:1048577";

template <typename Batch>
Batch MakeBatch();

template <>
TransactionBatch MakeBatch<TransactionBatch>() {
  TransactionBatch batch;
  batch.batch_id = 0x5c0e9e00000001;
  batch.created_at_us = kNowUs;
  batch.lease = kLease;
  batch.transactions = PoolTransactions(kCodecBatchSize);
  return batch;
}

template <>
ResultBatch MakeBatch<ResultBatch>() {
  ResultBatch batch;
  batch.batch_id = 0x5c0e9e00000001;
  batch.lease = kLease;
  batch.worker_id = "worker-1#9f3a61c2d4e5b607.1";
  batch.model_version = "model.json";
  batch.scored_at_us = kNowUs;
  batch.results = DemoResults(kCodecBatchSize);
  return batch;
}

template <typename Batch>
Result<Batch> Decode(std::string_view frame);

template <>
Result<TransactionBatch> Decode<TransactionBatch>(std::string_view frame) {
  return DecodeTransactionBatch(frame);
}

template <>
Result<ResultBatch> Decode<ResultBatch>(std::string_view frame) {
  return DecodeResultBatch(frame);
}

void SetBatchCounters(benchmark::State& state, const std::string& frame) {
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kCodecBatchSize));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
  state.counters["frame_bytes"] = static_cast<double>(frame.size());
}

template <typename Batch>
void BM_Encode(benchmark::State& state) {
  const Batch batch = MakeBatch<Batch>();
  for (auto _ : state) {
    std::string frame = Encode(batch);
    benchmark::DoNotOptimize(frame.data());
  }
  SetBatchCounters(state, Encode(batch));
}
BENCHMARK_TEMPLATE(BM_Encode, TransactionBatch);
BENCHMARK_TEMPLATE(BM_Encode, ResultBatch);

template <typename Batch>
void BM_Decode(benchmark::State& state) {
  const Batch batch = MakeBatch<Batch>();
  const std::string frame = Encode(batch);
  Result<Batch> round_trip = Decode<Batch>(frame);
  if (!round_trip.ok()) ExitWithError("decoding an encoded batch", round_trip.status().message());
  if (!(*round_trip == batch)) ExitWithError("decoding an encoded batch", "not the batch encoded");
  for (auto _ : state) {
    Result<Batch> decoded = Decode<Batch>(frame);
    if (!decoded.ok()) ExitWithError("decoding an encoded batch", decoded.status().message());
    benchmark::DoNotOptimize(decoded);
  }
  SetBatchCounters(state, frame);
}
BENCHMARK_TEMPLATE(BM_Decode, TransactionBatch);
BENCHMARK_TEMPLATE(BM_Decode, ResultBatch);

}  // namespace
}  // namespace scorepipe::microbench
