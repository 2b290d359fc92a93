// Every msgpack wire decoder on any bytes (what any peer can send to a node).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/archive_record.h"
#include "proto/codec.h"
#include "proto/evaluation_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  (void)scorepipe::PeekKind(frame);
  (void)scorepipe::PeekBatchId(frame);
  if (auto batch = scorepipe::DecodeTransactionBatch(frame); batch.ok()) {
    (void)scorepipe::Encode(batch.value());  // what decodes, encodes
  }
  if (auto result = scorepipe::DecodeResultBatch(frame); result.ok()) (void)scorepipe::Encode(result.value());
  (void)scorepipe::DecodeHeartbeat(frame);
  (void)scorepipe::DecodeWorkerReady(frame);
  (void)scorepipe::DecodeBatchDone(frame);
  if (auto record = scorepipe::DecodeArchiveRecord(frame); record.ok())
    (void)scorepipe::Encode(record.value());
  if (auto status = scorepipe::DecodeHeadStatus(frame); status.ok()) (void)scorepipe::Encode(status.value());
  if (auto request = scorepipe::DecodeEvaluationRequest(frame); request.ok()) {
    (void)scorepipe::Encode(request.value());
  }
  if (auto reply = scorepipe::DecodeEvaluationReply(frame); reply.ok())
    (void)scorepipe::Encode(reply.value());
  return 0;
}
