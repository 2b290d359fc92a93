// The evaluation run's messages (see evaluation_codec.h).
#include "proto/evaluation_codec.h"

#include <msgpack.hpp>
#include <optional>
#include <string>
#include <vector>

#include "proto/wire.h"

namespace scorepipe {
namespace {

using wire::AsDouble;
using wire::AsString;
using wire::DecodeVector;
using wire::FieldReader;
using wire::PackDouble;
using wire::Packer;
using wire::PackString;
using wire::TypeName;

// Fields per message body and per vector item; a frame with any other count is refused.
constexpr uint32_t kEvaluationRequestFields = 6;
constexpr uint32_t kModelRowsFields = 3;
constexpr uint32_t kRowRangeFields = 2;
constexpr uint32_t kCalibrationBinFields = 5;
// An EvaluationReply without figures; with them, the Evaluation's fields follow.
constexpr uint32_t kEvaluationReplyFields = 10;
constexpr uint32_t kEvaluationFiguresFields = 19;

// ---------------------------------------------------------------------------
// Encoding

void PackStrings(Packer& p, const std::vector<std::string>& strings) {
  p.pack_array(static_cast<uint32_t>(strings.size()));
  for (const std::string& s : strings) PackString(p, s);
}

void PackOptionalDouble(Packer& p, const std::optional<double>& value) {
  if (value) {
    PackDouble(p, *value);
  } else {
    p.pack_nil();
  }
}

void PackBody(Packer& p, const EvaluationRequest& request) {
  p.pack_array(kEvaluationRequestFields);
  p.pack_uint8(static_cast<uint8_t>(request.kind));
  p.pack_uint64(request.run);
  p.pack_uint64(request.rows);
  PackDouble(p, request.threshold);
  p.pack_int32(request.calibration_bins);
  p.pack(request.list_pending);
}

void PackFigures(Packer& p, const Evaluation& e) {
  PackDouble(p, e.threshold);
  p.pack_uint64(e.rows);
  p.pack_uint64(e.positives);
  p.pack_uint64(e.negatives);
  PackOptionalDouble(p, e.roc_auc);
  PackString(p, e.roc_auc_undefined);
  PackOptionalDouble(p, e.average_precision);
  PackString(p, e.average_precision_undefined);
  p.pack_uint64(e.confusion.true_positives);
  p.pack_uint64(e.confusion.false_positives);
  p.pack_uint64(e.confusion.true_negatives);
  p.pack_uint64(e.confusion.false_negatives);
  PackDouble(p, e.precision);
  PackDouble(p, e.recall);
  PackDouble(p, e.f1);
  PackDouble(p, e.accuracy);
  PackDouble(p, e.log_loss);
  PackDouble(p, e.brier);
  p.pack_array(static_cast<uint32_t>(e.calibration.size()));
  for (const CalibrationBin& bin : e.calibration) {
    p.pack_array(kCalibrationBinFields);
    PackDouble(p, bin.lower);
    PackDouble(p, bin.upper);
    p.pack_uint64(bin.count);
    PackDouble(p, bin.mean_predicted);
    PackDouble(p, bin.observed_rate);
  }
}

void PackBody(Packer& p, const EvaluationReply& reply) {
  p.pack_array(reply.evaluation ? kEvaluationReplyFields + kEvaluationFiguresFields : kEvaluationReplyFields);
  p.pack_uint64(reply.run);
  PackString(p, reply.error);
  p.pack_uint64(reply.rows);
  p.pack_uint64(reply.scored);
  p.pack_uint64(reply.failed);
  PackStrings(p, reply.failures);
  p.pack_array(static_cast<uint32_t>(reply.models.size()));
  for (const ModelRows& m : reply.models) {
    p.pack_array(kModelRowsFields);
    PackString(p, m.name);
    PackString(p, m.version);
    p.pack_uint64(m.rows);
  }
  p.pack_array(static_cast<uint32_t>(reply.pending_rows.size()));
  for (const RowRange& range : reply.pending_rows) {
    p.pack_array(kRowRangeFields);
    p.pack_uint64(range.first);
    p.pack_uint64(range.end);
  }
  PackString(p, reply.evaluation_error);
  p.pack(reply.evaluation.has_value());
  if (reply.evaluation) PackFigures(p, *reply.evaluation);
}

// ---------------------------------------------------------------------------
// Decoding

bool AsOptionalDouble(const msgpack::object& o, std::optional<double>* out) {
  if (o.type == msgpack::type::NIL) {
    out->reset();
    return true;
  }
  double value = 0;
  if (!AsDouble(o, &value)) return false;
  *out = value;
  return true;
}

bool AsRequestKind(const msgpack::object& o, EvaluationRequest::Kind* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER ||
      o.via.u64 > static_cast<uint64_t>(EvaluationRequest::Kind::kEnd)) {
    return false;
  }
  *out = static_cast<EvaluationRequest::Kind>(o.via.u64);
  return true;
}

Status DecodeFailure(const msgpack::object& o, size_t index, std::string* out) {
  if (AsString(o, out)) return Status::Ok();
  return Status::Error("field 'failures[" + std::to_string(index) + "]': expected a string, got " +
                       TypeName(o));
}

Status DecodeModelRows(const msgpack::object& o, size_t index, ModelRows* m) {
  FieldReader r(o, kModelRowsFields, "models", index);
  r.Read("name", &m->name);
  r.Read("version", &m->version);
  r.Read("rows", &m->rows);
  return r.status();
}

Status DecodeRowRange(const msgpack::object& o, size_t index, RowRange* range) {
  FieldReader r(o, kRowRangeFields, "pending_rows", index);
  r.Read("first", &range->first);
  r.Read("end", &range->end);
  if (r.ok() && range->end < range->first) {
    return Status::Error("field 'pending_rows[" + std::to_string(index) + "]': ends before it starts");
  }
  return r.status();
}

Status DecodeCalibrationBin(const msgpack::object& o, size_t index, CalibrationBin* bin) {
  FieldReader r(o, kCalibrationBinFields, "calibration", index);
  r.Read("lower", &bin->lower);
  r.Read("upper", &bin->upper);
  r.Read("count", &bin->count);
  r.Read("mean_predicted", &bin->mean_predicted);
  r.Read("observed_rate", &bin->observed_rate);
  return r.status();
}

Status DecodeBody(const msgpack::object& body, EvaluationRequest* request) {
  FieldReader r(body, kEvaluationRequestFields, nullptr, 0);
  r.Read("kind", "a request kind (0..2)", AsRequestKind, &request->kind);
  r.Read("run", &request->run);
  r.Read("rows", &request->rows);
  r.Read("threshold", &request->threshold);
  r.Read("calibration_bins", &request->calibration_bins);
  r.Read("list_pending", &request->list_pending);
  return r.status();
}

Status DecodeFigures(FieldReader& r, Evaluation* e) {
  r.Read("threshold", &e->threshold);
  r.Read("evaluation_rows", &e->rows);
  r.Read("positives", &e->positives);
  r.Read("negatives", &e->negatives);
  r.Read("roc_auc", "a number or nil", AsOptionalDouble, &e->roc_auc);
  r.Read("roc_auc_undefined", &e->roc_auc_undefined);
  r.Read("average_precision", "a number or nil", AsOptionalDouble, &e->average_precision);
  r.Read("average_precision_undefined", &e->average_precision_undefined);
  r.Read("true_positives", &e->confusion.true_positives);
  r.Read("false_positives", &e->confusion.false_positives);
  r.Read("true_negatives", &e->confusion.true_negatives);
  r.Read("false_negatives", &e->confusion.false_negatives);
  r.Read("precision", &e->precision);
  r.Read("recall", &e->recall);
  r.Read("f1", &e->f1);
  r.Read("accuracy", &e->accuracy);
  r.Read("log_loss", &e->log_loss);
  r.Read("brier", &e->brier);
  const msgpack::object_array* bins = r.ReadArray("calibration");
  if (!r.ok()) return r.status();
  return DecodeVector(*bins, DecodeCalibrationBin, &e->calibration);
}

Status DecodeBody(const msgpack::object& body, EvaluationReply* reply) {
  FieldReader r(body, kEvaluationReplyFields + kEvaluationFiguresFields, nullptr, 0, kEvaluationReplyFields);
  r.Read("run", &reply->run);
  r.Read("error", &reply->error);
  r.Read("rows", &reply->rows);
  r.Read("scored", &reply->scored);
  r.Read("failed", &reply->failed);
  const msgpack::object_array* failures = r.ReadArray("failures");
  const msgpack::object_array* models = r.ReadArray("models");
  const msgpack::object_array* pending = r.ReadArray("pending_rows");
  r.Read("evaluation_error", &reply->evaluation_error);
  bool has_figures = false;
  r.Read("has_evaluation", &has_figures);
  if (!r.ok()) return r.status();
  if (has_figures != r.HasMore()) {
    return Status::Error(std::string("message body: has_evaluation is ") + (has_figures ? "true" : "false") +
                         " but the figures are " + (r.HasMore() ? "there" : "missing"));
  }
  if (Status s = DecodeVector(*failures, DecodeFailure, &reply->failures); !s.ok()) return s;
  if (Status s = DecodeVector(*models, DecodeModelRows, &reply->models); !s.ok()) return s;
  if (Status s = DecodeVector(*pending, DecodeRowRange, &reply->pending_rows); !s.ok()) return s;
  if (!has_figures) return Status::Ok();
  return DecodeFigures(r, &reply->evaluation.emplace());
}

// Checks the envelope and kind, unpacks the body and decodes it into a T with

}  // namespace

std::string Encode(const EvaluationRequest& request) {
  return wire::EncodeFrame(MessageKind::kEvaluationRequest, 64,
                           [&request](Packer& p) { PackBody(p, request); });
}

// The size hint is a rough upper estimate of the packed bytes.
std::string Encode(const EvaluationReply& reply) {
  size_t strings = reply.error.size() + reply.evaluation_error.size();
  return wire::EncodeFrame(MessageKind::kEvaluationReply,
                           128 + strings + 48 * reply.models.size() + 20 * reply.pending_rows.size() + 512,
                           [&reply](Packer& p) { PackBody(p, reply); });
}

Result<EvaluationRequest> DecodeEvaluationRequest(std::string_view frame) {
  return wire::DecodeFrame<EvaluationRequest>(
      frame, MessageKind::kEvaluationRequest, kMaxFrameBytes,
      [](const msgpack::object& body, EvaluationRequest* request) { return DecodeBody(body, request); });
}

Result<EvaluationReply> DecodeEvaluationReply(std::string_view frame) {
  return wire::DecodeFrame<EvaluationReply>(
      frame, MessageKind::kEvaluationReply, kMaxFrameBytes,
      [](const msgpack::object& body, EvaluationReply* reply) { return DecodeBody(body, reply); });
}

}  // namespace scorepipe
