// The wire format between nodes: one msgpack array per ZeroMQ frame,
//   [magic "SCPW", version, kind, body]
// where body is the message's fields as a msgpack array. The magic and version
// let a node refuse a frame from a foreign or incompatible sender with an
// error value (and a clear log line at the caller) instead of crashing; every
// decoder checks sizes against limits before it allocates.
//
// Free functions, no shared state: any thread may call them.
#ifndef SCOREPIPE_PROTO_CODEC_H_
#define SCOREPIPE_PROTO_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe {

inline constexpr std::string_view kWireMagic = "SCPW";
// 2: leases and rejects in batches; the worker/ventilator credit messages.
inline constexpr uint32_t kWireVersion = 2;
// Frames larger than this are refused before decoding.
inline constexpr size_t kMaxFrameBytes = 64u << 20;
// Batches with more transactions or results than this are refused.
inline constexpr size_t kMaxBatchItems = 1u << 20;

enum class MessageKind : uint8_t {
  kTransactionBatch = 1,
  kResultBatch = 2,
  kHeartbeat = 3,
  kWorkerReady = 4,
  kBatchDone = 5,
  kEvaluationRequest = 6,
  kEvaluationReply = 7,
};

const char* MessageKindName(MessageKind kind);

std::string Encode(const TransactionBatch& batch);
std::string Encode(const ResultBatch& batch);
std::string Encode(const Heartbeat& heartbeat);
std::string Encode(const WorkerReady& ready);
std::string Encode(const BatchDone& done);
std::string Encode(const EvaluationRequest& request);
std::string Encode(const EvaluationReply& reply);

// Reads only the envelope: magic, version and kind.
Result<MessageKind> PeekKind(std::string_view frame);
// Reads only the envelope and the batch id of a TransactionBatch (the
// ventilator routes batches without decoding their transactions).
Result<uint64_t> PeekBatchId(std::string_view frame);

// A TransactionBatch or ResultBatch carries the evaluation fields only when
// its evaluation.run is not 0 (then with one label, 0 or 1, per transaction),
// so a regular batch reads the same on nodes that predate them.
//
// Each decoder fails (never throws) on a frame that is truncated, not msgpack,
// foreign (wrong magic), of another version, of another kind, or over limits,
// or whose fields have the wrong count or type; the message names the field
// ("field 'transactions[3].amount': expected a number, got a string").
// Limits: kMaxFrameBytes, kMaxBatchItems per array, 1 MiB per string. Encode
// does not check them, so a sender keeps its batches and strings within them.
Result<TransactionBatch> DecodeTransactionBatch(std::string_view frame);
Result<ResultBatch> DecodeResultBatch(std::string_view frame);
Result<Heartbeat> DecodeHeartbeat(std::string_view frame);
Result<WorkerReady> DecodeWorkerReady(std::string_view frame);
Result<BatchDone> DecodeBatchDone(std::string_view frame);
Result<EvaluationRequest> DecodeEvaluationRequest(std::string_view frame);
Result<EvaluationReply> DecodeEvaluationReply(std::string_view frame);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_CODEC_H_
