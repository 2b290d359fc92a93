// Helpers shared by the codec tests (tests/proto/codec_test.cc,
// evaluation_codec_test.cc): hand-built frames, sample evaluation messages,
// a decoder per message type and the round trip through them.
//
// Test-only; each test uses its own values.
#ifndef SCOREPIPE_TESTS_PROTO_CODEC_TEST_UTIL_H_
#define SCOREPIPE_TESTS_PROTO_CODEC_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "proto/codec.h"
#include "proto/evaluation_codec.h"
#include "proto/messages.h"

namespace scorepipe::testing {

using Packer = msgpack::packer<msgpack::sbuffer>;

inline EvaluationRequest SampleEvaluationRequest() {
  EvaluationRequest request;
  request.kind = EvaluationRequest::Kind::kBegin;
  request.run = 77;
  request.rows = 2'500'000;
  request.threshold = 0.25;
  request.calibration_bins = 20;
  request.list_pending = true;
  return request;
}

inline EvaluationReply SampleEvaluationReply() {
  EvaluationReply reply;
  reply.run = 77;
  reply.rows = 10;
  reply.scored = 8;
  reply.failed = 2;
  reply.failures = {"row 3 (id 4): model rejected the features", "row 9 (id 10): poison"};
  reply.models = {{"fraud", "v1", 6}, {"fraud", "v2", 2}};
  reply.pending_rows = {{0, 0}, {12, 4096}};
  Evaluation e;
  e.threshold = 0.25;
  e.rows = 8;
  e.positives = 3;
  e.negatives = 5;
  e.roc_auc = 0.8125;
  e.average_precision_undefined = "no fraud among the rows";
  e.confusion = {2, 1, 4, 1};
  e.precision = 2.0 / 3;
  e.recall = 2.0 / 3;
  e.f1 = 2.0 / 3;
  e.accuracy = 0.75;
  e.log_loss = 0.4;
  e.brier = 0.1;
  e.calibration = {{0, 0.5, 5, 0.1, 0.2}, {0.5, 1, 3, 0.7, 0.6666}};
  reply.evaluation = e;
  return reply;
}

inline void PackStr(Packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// A hand-built frame: the envelope with the given values, then whatever
// `pack_body` packs as the body.
inline std::string Frame(const std::function<void(Packer&)>& pack_body, std::string_view magic = "SCPW",
                         uint64_t version = kWireVersion,
                         uint64_t kind = static_cast<uint64_t>(MessageKind::kTransactionBatch)) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(4);
  PackStr(p, magic);
  p.pack_uint64(version);
  p.pack_uint64(kind);
  pack_body(p);
  return std::string(buffer.data(), buffer.size());
}

// The decoder of each message type, picked by the type of its second argument.
inline Result<TransactionBatch> Decode(std::string_view frame, const TransactionBatch*) {
  return DecodeTransactionBatch(frame);
}
inline Result<ResultBatch> Decode(std::string_view frame, const ResultBatch*) {
  return DecodeResultBatch(frame);
}
inline Result<Heartbeat> Decode(std::string_view frame, const Heartbeat*) { return DecodeHeartbeat(frame); }
inline Result<WorkerReady> Decode(std::string_view frame, const WorkerReady*) {
  return DecodeWorkerReady(frame);
}
inline Result<BatchDone> Decode(std::string_view frame, const BatchDone*) { return DecodeBatchDone(frame); }
inline Result<HeadStatus> Decode(std::string_view frame, const HeadStatus*) {
  return DecodeHeadStatus(frame);
}
inline Result<EvaluationRequest> Decode(std::string_view frame, const EvaluationRequest*) {
  return DecodeEvaluationRequest(frame);
}
inline Result<EvaluationReply> Decode(std::string_view frame, const EvaluationReply*) {
  return DecodeEvaluationReply(frame);
}

// Encodes `message`, decodes it with the matching decoder and expects it back unchanged.
template <typename Message>
void ExpectRoundTrip(const Message& message) {
  Result<Message> decoded = Decode(Encode(message), &message);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, message);
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_PROTO_CODEC_TEST_UTIL_H_
