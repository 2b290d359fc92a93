// The messages of an evaluation run on the cluster (`scorepipe evaluate
// --cluster`, docs/models.md "On the cluster"): the EvaluationRequest the
// command sends to the sink's status endpoint and the EvaluationReply that
// says how far the run is and, once every row is answered, carries its
// figures. Same wire format as codec.h (the envelope, kinds
// kEvaluationRequest and kEvaluationReply); apart from the messages every
// batch travels in. The labelled rows themselves ride in TransactionBatches
// (codec.h, EvaluationRows).
//
// Free functions, no shared state: any thread may call them.
#ifndef SCOREPIPE_PROTO_EVALUATION_CODEC_H_
#define SCOREPIPE_PROTO_EVALUATION_CODEC_H_

#include <string>
#include <string_view>

#include "proto/codec.h"
#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe {

std::string Encode(const EvaluationRequest& request);
std::string Encode(const EvaluationReply& reply);

// Each decoder fails (never throws) as codec.h's do: on a frame that is
// truncated, not msgpack, foreign, of another version or kind, over
// kMaxFrameBytes or the decoder's limits, or whose fields have the wrong
// count or type; the message names the field.
Result<EvaluationRequest> DecodeEvaluationRequest(std::string_view frame);
Result<EvaluationReply> DecodeEvaluationReply(std::string_view frame);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_EVALUATION_CODEC_H_
