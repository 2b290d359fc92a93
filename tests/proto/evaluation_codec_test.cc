// Tests of proto/evaluation_codec.h: an evaluation run's request and reply
// round trip, and frames that do not hold one are refused with the field.
#include "proto/evaluation_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "proto/codec.h"
#include "tests/proto/codec_test_util.h"

namespace scorepipe {
namespace {

using testing::ExpectRoundTrip;
using testing::Frame;
using testing::Packer;
using testing::SampleEvaluationReply;
using testing::SampleEvaluationRequest;

TEST(CodecTest, EvaluationRequestsRoundTripInEveryKind) {
  EvaluationRequest request = SampleEvaluationRequest();
  for (auto kind :
       {EvaluationRequest::Kind::kBegin, EvaluationRequest::Kind::kQuery, EvaluationRequest::Kind::kEnd}) {
    request.kind = kind;
    ExpectRoundTrip(request);
  }
  const std::string unknown_kind = Frame(
      [](Packer& p) {
        p.pack_array(6);
        p.pack_uint8(3);
        p.pack_uint64(1);
        p.pack_uint64(1);
        p.pack_double(0.5);
        p.pack_int32(10);
        p.pack(false);
      },
      "SCPW", kWireVersion, static_cast<uint64_t>(MessageKind::kEvaluationRequest));
  EXPECT_EQ(DecodeEvaluationRequest(unknown_kind).status().message(),
            "field 'kind': expected a request kind (0..2), got 3");
}

TEST(CodecTest, EvaluationRepliesRoundTripWithAndWithoutFigures) {
  EvaluationReply reply = SampleEvaluationReply();
  ExpectRoundTrip(reply);
  reply.evaluation->roc_auc.reset();
  reply.evaluation->roc_auc_undefined = "one class only";
  reply.evaluation->average_precision = 0.5;
  ExpectRoundTrip(reply);
  reply.evaluation.reset();
  reply.evaluation_error = "no row was scored";
  ExpectRoundTrip(reply);
  EvaluationReply refused;
  refused.run = 5;
  refused.error = "run 5 is not held by this sink";
  ExpectRoundTrip(refused);
}

TEST(CodecTest, AnEvaluationReplyWhoseFiguresDoNotMatchItsFlagIsRefused) {
  EvaluationReply reply = SampleEvaluationReply();
  std::string frame = Encode(reply);
  EvaluationReply without = reply;
  without.evaluation.reset();
  // has_evaluation is the last byte of the reply without figures; with them,
  // the body's array header is two bytes longer (29 fields: array16, not fixarray).
  const size_t flag = Encode(without).size() - 1 + 2;
  ASSERT_EQ(static_cast<uint8_t>(frame[flag]), 0xc3);
  frame[flag] = static_cast<char>(0xc2);
  EXPECT_EQ(DecodeEvaluationReply(frame).status().message(),
            "message body: has_evaluation is false but the figures are there");
}
}  // namespace
}  // namespace scorepipe
