// The wire format between nodes: one msgpack array per ZeroMQ frame,
//   [magic "SCPW", version, kind, body]
// where body is the message's fields as a msgpack array. The magic and version
// let a node refuse a frame from a foreign or incompatible sender with an
// error value (and a clear log line at the caller) instead of crashing; every
// decoder checks sizes against limits before it allocates.
//
// This file holds the messages every batch travels in (batches, heartbeats,
// credits); an evaluation run's request and reply to the sink are in
// evaluation_codec.h.
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
// 3: online batches (the gateway); a worker's ResultBatch of an online batch
//    on the work channel is also its BatchDone.
inline constexpr uint32_t kWireVersion = 3;
// Batches with more transactions or results than this are refused.
inline constexpr size_t kMaxBatchItems = 1u << 20;
// The largest bridge.batch_size a topology may set.
inline constexpr size_t kMaxBatchSize = 65536;

// The wire's bound per queue message of a batch, which every sender keeps
// and every decoder's limit is derived from (docs/architecture.md, "Limits"):
// a transaction (its timestamp text at most kMaxTimestampTextBytes, its
// strings short), its result and shadow result (an error text at most
// kMaxErrorTextBytes), or a reject (a dead-letter entry, at most
// kMaxDeadLetterJsonBytes of proto/upstream_json.h) take at most this many
// bytes of a TransactionBatch or ResultBatch frame. Every string on the wire
// is far below the decoder's 1 MiB string limit.
inline constexpr size_t kMaxWireBytesPerMessage = 24u << 10;
inline constexpr size_t kMaxTimestampTextBytes = 256;
inline constexpr size_t kMaxErrorTextBytes = 1024;
inline constexpr size_t kBatchFrameOverheadBytes = 64u << 10;
// Frames other than batches larger than this are refused before decoding.
inline constexpr size_t kMaxFrameBytes = 64u << 20;
// Batch frames larger than this are: the largest batch of the largest batch
// size (about 1.5 GiB). A node's sockets and batch decoders take the smaller
// bound of its own batch size, MaxBatchFrameBytes.
inline constexpr size_t kMaxAnyBatchFrameBytes =
    kBatchFrameOverheadBytes + kMaxBatchSize * kMaxWireBytesPerMessage;
// The largest TransactionBatch or ResultBatch frame a batch of `batch_size`
// messages (the topology's bridge.batch_size) makes: what the ventilator's
// intake, the workers and the sink accept (socket maxmsgsize and decoder).
size_t MaxBatchFrameBytes(size_t batch_size);

enum class MessageKind : uint8_t {
  kTransactionBatch = 1,
  kResultBatch = 2,
  kHeartbeat = 3,
  kWorkerReady = 4,
  kBatchDone = 5,
  kEvaluationRequest = 6,  // evaluation_codec.h
  kEvaluationReply = 7,    // evaluation_codec.h
  kHeadStatus = 8,
  kArchiveRecord = 9,  // archive_record.h: a settled result on its way to the archive
};

const char* MessageKindName(MessageKind kind);

std::string Encode(const TransactionBatch& batch);
std::string Encode(const ResultBatch& batch);
std::string Encode(const Heartbeat& heartbeat);
std::string Encode(const WorkerReady& ready);
std::string Encode(const BatchDone& done);
std::string Encode(const HeadStatus& status);

// Reads only the envelope: magic, version and kind.
Result<MessageKind> PeekKind(std::string_view frame);
// Reads only the envelope and the batch id of a TransactionBatch or a
// ResultBatch (the ventilator routes batches and online results without
// decoding their transactions).
Result<uint64_t> PeekBatchId(std::string_view frame);

// The widest feature row an online batch may carry (16 KiB of floats, below
// kMaxWireBytesPerMessage), and the most floats one batch may carry.
inline constexpr uint32_t kMaxFeatureWidth = 4096;
inline constexpr size_t kMaxBatchFeatures = kMaxBatchItems;

// A TransactionBatch or ResultBatch carries the evaluation fields only when
// its evaluation.run is not 0 (then with one label, 0 or 1, per transaction),
// so a regular batch reads the same on nodes that predate them; likewise a
// TransactionBatch carries the online fields (online, feature_width,
// features) only when it is online. An online batch is no evaluation run's,
// and a batch of feature rows has no transactions and no rejects, at most
// kMaxFeatureWidth floats a row and kMaxBatchFeatures floats in all.
//
// Each decoder fails (never throws) on a frame that is truncated, not msgpack,
// foreign (wrong magic), of another version, of another kind, or over limits,
// or whose fields have the wrong count or type; the message names the field
// ("field 'transactions[3].amount': expected a number, got a string").
// Limits: kMaxFrameBytes (batches: their max_frame_bytes), kMaxBatchItems
// per array, 1 MiB per string. Encode
// does not check them, so a sender keeps its batches and strings within them.
// The batch decoders also refuse a frame over `max_frame_bytes`
// (MaxBatchFrameBytes of the topology's batch size).
Result<TransactionBatch> DecodeTransactionBatch(std::string_view frame,
                                                size_t max_frame_bytes = kMaxAnyBatchFrameBytes);
Result<ResultBatch> DecodeResultBatch(std::string_view frame,
                                      size_t max_frame_bytes = kMaxAnyBatchFrameBytes);
Result<Heartbeat> DecodeHeartbeat(std::string_view frame);
Result<WorkerReady> DecodeWorkerReady(std::string_view frame);
Result<BatchDone> DecodeBatchDone(std::string_view frame);
Result<HeadStatus> DecodeHeadStatus(std::string_view frame);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_CODEC_H_
