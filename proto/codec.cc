#include "proto/codec.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <msgpack.hpp>
#include <new>
#include <optional>
#include <string>
#include <utility>

namespace scorepipe {
namespace {

// Fields per message body and per vector item; a frame with any other count is refused.
constexpr uint32_t kTransactionBatchFields = 5;
// An evaluation run's batch also has evaluation_run, evaluation_first_row and
// labels; a regular batch leaves them out, so nodes that predate them read it.
constexpr uint32_t kEvaluationFields = 3;
constexpr uint32_t kEvaluationBatchFields = kTransactionBatchFields + kEvaluationFields;
// A part of a lease (LeasePart) adds begin, end and lease_size after the
// evaluation fields (run 0 and no labels when the batch is no evaluation's).
constexpr uint32_t kPartFields = 3;
constexpr uint32_t kPartBatchFields = kEvaluationBatchFields + kPartFields;
constexpr uint32_t kTransactionFields = 7;
// A Transaction (and its ScoreResult) whose id is not a plain integer also
// carries the id's text, last; other frames are unchanged, so older nodes
// read them.
constexpr uint32_t kTransactionFieldsWithIdText = kTransactionFields + 1;
constexpr uint32_t kRejectFields = 2;
constexpr uint32_t kResultBatchFields = 11;
constexpr uint32_t kEvaluationResultBatchFields = kResultBatchFields + kEvaluationFields;
constexpr uint32_t kPartResultBatchFields = kEvaluationResultBatchFields + kPartFields;
// A ResultBatch from a worker that predates created_at_us and model_name (7
// fields), or the shadow fields (9).
constexpr uint32_t kResultBatchFieldsBefore = 7;
constexpr uint32_t kScoreResultFields = 5;
constexpr uint32_t kScoreResultFieldsWithIdText = kScoreResultFields + 1;
constexpr uint32_t kHeartbeatFields = 15;
// A Heartbeat from a worker that predates the model fields.
constexpr uint32_t kHeartbeatFieldsBefore = 10;
constexpr uint32_t kWorkerReadyFields = 6;
constexpr uint32_t kBatchDoneFields = 2;
// A BatchDone that says why the worker refused the batch.
constexpr uint32_t kRefusedBatchDoneFields = 3;
constexpr uint32_t kEvaluationRequestFields = 6;
constexpr uint32_t kModelRowsFields = 3;
constexpr uint32_t kRowRangeFields = 2;
constexpr uint32_t kCalibrationBinFields = 5;
// An EvaluationReply without figures; with them, the Evaluation's fields follow.
constexpr uint32_t kEvaluationReplyFields = 10;
constexpr uint32_t kEvaluationFiguresFields = 19;

// Decoding limits handed to msgpack::unpack, checked before it allocates. The
// body sits at depth 1, a vector at 2, a vector item at 3; one more level lets
// an array in a scalar's place fail with a field-named type error.
constexpr size_t kMaxStringBytes = 1u << 20;
constexpr size_t kMaxMapEntries = 16;
constexpr size_t kMaxDepth = 4;

// ---------------------------------------------------------------------------
// Encoding

// A msgpack::packer stream that appends to a std::string, so Encode returns
// the packed bytes without a copy out of an intermediate buffer.
class StringSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const char* data, size_t size) { out_->append(data, size); }

 private:
  std::string* out_;
};

using Packer = msgpack::packer<StringSink>;

void PackString(Packer& packer, std::string_view s) {
  packer.pack_str(static_cast<uint32_t>(s.size()));
  packer.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackRejects(Packer& p, const std::vector<Reject>& rejects) {
  p.pack_array(static_cast<uint32_t>(rejects.size()));
  for (const Reject& r : rejects) {
    p.pack_array(kRejectFields);
    p.pack_uint32(r.position);
    PackString(p, r.dead_letter);
  }
}

void PackStrings(Packer& p, const std::vector<std::string>& strings) {
  p.pack_array(static_cast<uint32_t>(strings.size()));
  for (const std::string& s : strings) PackString(p, s);
}

// A whole number as an integer (as nodes before non-integer ids wrote
// customer_id and vendor_id, and as small on the wire), anything else as a
// double; the reader takes either as a double.
void PackWholeOrDouble(Packer& p, double value) {
  constexpr double kInt64Bound = 9223372036854775808.0;  // 2^63
  if (value == std::trunc(value) && value >= -kInt64Bound && value < kInt64Bound) {
    p.pack_int64(static_cast<int64_t>(value));
  } else {
    p.pack_double(value);
  }
}

void PackOptionalDouble(Packer& p, const std::optional<double>& value) {
  if (value) {
    p.pack_double(*value);
  } else {
    p.pack_nil();
  }
}

// The evaluation fields of a batch (evaluation.run != 0): run, first_row, labels.
void PackEvaluationRows(Packer& p, const EvaluationRows& rows) {
  p.pack_uint64(rows.run);
  p.pack_uint64(rows.first_row);
  p.pack_array(static_cast<uint32_t>(rows.labels.size()));
  for (float label : rows.labels) p.pack_uint8(label == 1.0f ? 1 : 0);
}

// The part fields of a batch that is not its whole lease.
void PackPart(Packer& p, const LeasePart& part) {
  p.pack_uint32(part.begin);
  p.pack_uint32(part.end);
  p.pack_uint32(part.lease_size);
}

void PackBody(Packer& p, const TransactionBatch& batch) {
  const bool evaluation = batch.evaluation.run != 0;
  const bool part = !batch.part.whole();
  p.pack_array(part ? kPartBatchFields : evaluation ? kEvaluationBatchFields : kTransactionBatchFields);
  p.pack_uint64(batch.batch_id);
  p.pack_int64(batch.created_at_us);
  PackString(p, batch.lease);
  p.pack_array(static_cast<uint32_t>(batch.transactions.size()));
  for (const Transaction& t : batch.transactions) {
    p.pack_array(t.id_text.empty() ? kTransactionFields : kTransactionFieldsWithIdText);
    p.pack_int64(t.id);
    PackWholeOrDouble(p, t.customer_id);
    PackWholeOrDouble(p, t.vendor_id);
    p.pack_double(t.amount);
    PackString(p, t.timestamp);
    p.pack_double(t.timestamp_unix_s);
    PackString(p, t.status);
    if (!t.id_text.empty()) PackString(p, t.id_text);
  }
  PackRejects(p, batch.rejects);
  if (evaluation || part) PackEvaluationRows(p, batch.evaluation);
  if (part) PackPart(p, batch.part);
}

void PackScoreResults(Packer& p, const std::vector<ScoreResult>& results) {
  p.pack_array(static_cast<uint32_t>(results.size()));
  for (const ScoreResult& s : results) {
    p.pack_array(s.transaction_id_text.empty() ? kScoreResultFields : kScoreResultFieldsWithIdText);
    p.pack_int64(s.transaction_id);
    p.pack_double(s.fraud_probability);
    p.pack_int32(s.is_fraudulent);
    p.pack_double(s.confidence);
    PackString(p, s.error);
    if (!s.transaction_id_text.empty()) PackString(p, s.transaction_id_text);
  }
}

void PackBody(Packer& p, const ResultBatch& batch) {
  const bool evaluation = batch.evaluation.run != 0;
  const bool part = !batch.part.whole();
  p.pack_array(part ? kPartResultBatchFields : evaluation ? kEvaluationResultBatchFields : kResultBatchFields);
  p.pack_uint64(batch.batch_id);
  PackString(p, batch.lease);
  PackString(p, batch.worker_id);
  PackString(p, batch.model_version);
  p.pack_int64(batch.scored_at_us);
  PackScoreResults(p, batch.results);
  PackRejects(p, batch.rejects);
  p.pack_int64(batch.created_at_us);
  PackString(p, batch.model_name);
  PackString(p, batch.shadow_version);
  PackScoreResults(p, batch.shadow_results);
  if (evaluation || part) PackEvaluationRows(p, batch.evaluation);
  if (part) PackPart(p, batch.part);
}

void PackBody(Packer& p, const Heartbeat& heartbeat) {
  p.pack_array(kHeartbeatFields);
  PackString(p, heartbeat.sender);
  PackString(p, heartbeat.host);
  p.pack_int64(heartbeat.pid);
  p.pack_uint64(heartbeat.session);
  p.pack_uint64(heartbeat.sequence);
  p.pack_uint32(heartbeat.batches_held);
  p.pack_uint64(heartbeat.batches_scored);
  p.pack_uint64(heartbeat.transactions_scored);
  p.pack_int64(heartbeat.sent_at_us);
  p.pack(heartbeat.known);
  PackString(p, heartbeat.model_name);
  PackString(p, heartbeat.model_version);
  PackString(p, heartbeat.model_error);
  PackString(p, heartbeat.shadow_version);
  PackString(p, heartbeat.link_error);
}

void PackBody(Packer& p, const WorkerReady& ready) {
  p.pack_array(kWorkerReadyFields);
  PackString(p, ready.worker_id);
  PackString(p, ready.host);
  p.pack_int64(ready.pid);
  p.pack_uint64(ready.session);
  p.pack_uint32(ready.credit);
  p.pack_uint8(static_cast<uint8_t>(ready.state));
}

void PackBody(Packer& p, const BatchDone& done) {
  p.pack_array(done.refused.empty() ? kBatchDoneFields : kRefusedBatchDoneFields);
  p.pack_uint64(done.batch_id);
  p.pack_uint64(done.session);
  if (!done.refused.empty()) PackString(p, done.refused);
}

void PackBody(Packer& p, const EvaluationRequest& request) {
  p.pack_array(kEvaluationRequestFields);
  p.pack_uint8(static_cast<uint8_t>(request.kind));
  p.pack_uint64(request.run);
  p.pack_uint64(request.rows);
  p.pack_double(request.threshold);
  p.pack_int32(request.calibration_bins);
  p.pack(request.list_pending);
}

void PackFigures(Packer& p, const Evaluation& e) {
  p.pack_double(e.threshold);
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
  p.pack_double(e.precision);
  p.pack_double(e.recall);
  p.pack_double(e.f1);
  p.pack_double(e.accuracy);
  p.pack_double(e.log_loss);
  p.pack_double(e.brier);
  p.pack_array(static_cast<uint32_t>(e.calibration.size()));
  for (const CalibrationBin& bin : e.calibration) {
    p.pack_array(kCalibrationBinFields);
    p.pack_double(bin.lower);
    p.pack_double(bin.upper);
    p.pack_uint64(bin.count);
    p.pack_double(bin.mean_predicted);
    p.pack_double(bin.observed_rate);
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

// Packs the envelope and then `message` as the body, into a string reserved
// to `size_hint` bytes (a guess that saves regrowing it).
template <typename Message>
std::string EncodeFrame(MessageKind kind, size_t size_hint, const Message& message) {
  std::string out;
  out.reserve(size_hint);
  StringSink sink(&out);
  Packer packer(sink);
  packer.pack_array(4);
  PackString(packer, kWireMagic);
  packer.pack_uint32(kWireVersion);
  packer.pack_uint8(static_cast<uint8_t>(kind));
  PackBody(packer, message);
  return out;
}

// ---------------------------------------------------------------------------
// The envelope, read straight from the bytes so that PeekKind costs a few
// byte comparisons and a foreign frame is refused before anything is unpacked.

class ByteCursor {
 public:
  explicit ByteCursor(std::string_view bytes) : bytes_(bytes) {}

  size_t offset() const { return offset_; }
  bool AtEnd() const { return offset_ >= bytes_.size(); }
  // Both require !AtEnd().
  uint8_t PeekByte() const { return static_cast<uint8_t>(bytes_[offset_]); }
  void SkipByte() { ++offset_; }

  // Reads a big-endian unsigned integer of `width` bytes; false if truncated.
  bool ReadBigEndian(size_t width, uint64_t* out) {
    if (bytes_.size() - offset_ < width) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value = (value << 8) | static_cast<uint8_t>(bytes_[offset_ + i]);
    }
    offset_ += width;
    *out = value;
    return true;
  }

  bool ReadBytes(size_t size, std::string_view* out) {
    if (bytes_.size() - offset_ < size) return false;
    *out = bytes_.substr(offset_, size);
    offset_ += size;
    return true;
  }

 private:
  std::string_view bytes_;
  size_t offset_ = 0;
};

// What a header read found: the value, a header of another msgpack type, or
// the end of the bytes.
enum class HeaderRead { kOk, kOtherType, kTruncated };

HeaderRead ReadArrayHeader(ByteCursor& cursor, uint64_t* size) {
  if (cursor.AtEnd()) return HeaderRead::kTruncated;
  const uint8_t tag = cursor.PeekByte();
  if ((tag & 0xf0u) == 0x90u) {
    cursor.SkipByte();
    *size = tag & 0x0fu;
    return HeaderRead::kOk;
  }
  if (tag != 0xdc && tag != 0xdd) return HeaderRead::kOtherType;
  cursor.SkipByte();
  return cursor.ReadBigEndian(tag == 0xdc ? 2 : 4, size) ? HeaderRead::kOk : HeaderRead::kTruncated;
}

HeaderRead ReadStringHeader(ByteCursor& cursor, uint64_t* size) {
  if (cursor.AtEnd()) return HeaderRead::kTruncated;
  const uint8_t tag = cursor.PeekByte();
  if ((tag & 0xe0u) == 0xa0u) {
    cursor.SkipByte();
    *size = tag & 0x1fu;
    return HeaderRead::kOk;
  }
  if (tag < 0xd9 || tag > 0xdb) return HeaderRead::kOtherType;
  cursor.SkipByte();
  const size_t width = size_t{1} << (tag - 0xd9);  // str8, str16, str32
  return cursor.ReadBigEndian(width, size) ? HeaderRead::kOk : HeaderRead::kTruncated;
}

// Reads a non-negative integer in any msgpack integer format; a negative
// value counts as another type.
HeaderRead ReadUnsigned(ByteCursor& cursor, uint64_t* value) {
  if (cursor.AtEnd()) return HeaderRead::kTruncated;
  const uint8_t tag = cursor.PeekByte();
  if (tag <= 0x7f) {
    cursor.SkipByte();
    *value = tag;
    return HeaderRead::kOk;
  }
  // uint8..uint64 are 0xcc..0xcf, int8..int64 are 0xd0..0xd3.
  if (tag < 0xcc || tag > 0xd3) return HeaderRead::kOtherType;
  const bool is_signed = tag >= 0xd0;
  const size_t width = size_t{1} << (tag - (is_signed ? 0xd0 : 0xcc));
  cursor.SkipByte();
  uint64_t raw = 0;
  if (!cursor.ReadBigEndian(width, &raw)) return HeaderRead::kTruncated;
  // The sign bit of a signed format marks a negative value.
  if (is_signed && (raw >> (width * 8 - 1)) != 0) return HeaderRead::kOtherType;
  *value = raw;
  return HeaderRead::kOk;
}

Status NotOurs(std::string_view why) {
  return Status::Error("frame is not a scorepipe message: " + std::string(why));
}

Status Truncated() { return Status::Error("truncated frame"); }

// Turns a header read into a Status; `other_type` says why another type is not ours.
Status CheckRead(HeaderRead read, std::string_view other_type) {
  switch (read) {
    case HeaderRead::kOk:
      return Status::Ok();
    case HeaderRead::kTruncated:
      return Truncated();
    case HeaderRead::kOtherType:
      break;
  }
  return NotOurs(other_type);
}

struct Envelope {
  MessageKind kind;
  size_t body_offset;  // where the body array starts in the frame
};

Result<Envelope> ReadEnvelope(std::string_view frame, size_t max_frame_bytes = kMaxFrameBytes) {
  if (frame.empty()) return Status::Error("empty frame");
  if (frame.size() > max_frame_bytes) {
    return Status::Error("frame is " + std::to_string(frame.size()) + " bytes; limit " +
                         std::to_string(max_frame_bytes));
  }
  ByteCursor cursor(frame);
  uint64_t value = 0;

  Status status = CheckRead(ReadArrayHeader(cursor, &value), "not a msgpack array");
  if (!status.ok()) return status;
  if (value != 4) return NotOurs("an array of " + std::to_string(value) + " elements, not 4");

  status = CheckRead(ReadStringHeader(cursor, &value), "bad magic");
  if (!status.ok()) return status;
  if (value != kWireMagic.size()) return NotOurs("bad magic");
  std::string_view magic;
  if (!cursor.ReadBytes(kWireMagic.size(), &magic)) return Truncated();
  if (magic != kWireMagic) return NotOurs("bad magic");

  status = CheckRead(ReadUnsigned(cursor, &value), "version is not an unsigned integer");
  if (!status.ok()) return status;
  if (value != kWireVersion) {
    return Status::Error("wire version " + std::to_string(value) + " not supported (this node speaks " +
                         std::to_string(kWireVersion) + ")");
  }

  status = CheckRead(ReadUnsigned(cursor, &value), "kind is not an unsigned integer");
  if (!status.ok()) return status;
  if (value < static_cast<uint64_t>(MessageKind::kTransactionBatch) ||
      value > static_cast<uint64_t>(MessageKind::kEvaluationReply)) {
    return Status::Error("unknown message kind " + std::to_string(value));
  }
  return Envelope{static_cast<MessageKind>(value), cursor.offset()};
}

// ---------------------------------------------------------------------------
// The body, unpacked by msgpack into an object tree that borrows the frame's
// bytes, then checked and copied out field by field.

const char* TypeName(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "a boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return "an integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "a float";
    case msgpack::type::STR:
      return "a string";
    case msgpack::type::BIN:
      return "binary data";
    case msgpack::type::ARRAY:
      return "an array";
    case msgpack::type::MAP:
      return "a map";
    case msgpack::type::EXT:
      return "an ext value";
  }
  return "an unknown msgpack type";
}

// What a value that failed a field's check was: integers by value (they fail
// by range), everything else by type.
std::string Describe(const msgpack::object& o) {
  if (o.type == msgpack::type::POSITIVE_INTEGER) return std::to_string(o.via.u64);
  if (o.type == msgpack::type::NEGATIVE_INTEGER) return std::to_string(o.via.i64);
  return TypeName(o);
}

bool AsInt64(const msgpack::object& o, int64_t* out) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    *out = o.via.i64;
    return true;
  }
  if (o.type == msgpack::type::POSITIVE_INTEGER &&
      o.via.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(o.via.u64);
    return true;
  }
  return false;
}

bool AsUint64(const msgpack::object& o, uint64_t* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  *out = o.via.u64;
  return true;
}

bool AsInt32(const msgpack::object& o, int32_t* out) {
  int64_t wide = 0;
  if (!AsInt64(o, &wide) || wide < std::numeric_limits<int32_t>::min() ||
      wide > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(wide);
  return true;
}

// msgpack-c packs an integral double as an integer, so integers are numbers too.
bool AsDouble(const msgpack::object& o, double* out) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      *out = o.via.f64;
      return true;
    case msgpack::type::POSITIVE_INTEGER:
      *out = static_cast<double>(o.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      *out = static_cast<double>(o.via.i64);
      return true;
    default:
      return false;
  }
}

bool AsUint32(const msgpack::object& o, uint32_t* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  *out = static_cast<uint32_t>(o.via.u64);
  return true;
}

bool AsBool(const msgpack::object& o, bool* out) {
  if (o.type != msgpack::type::BOOLEAN) return false;
  *out = o.via.boolean;
  return true;
}

bool AsWorkerState(const msgpack::object& o, WorkerState* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > static_cast<uint64_t>(WorkerState::kBlocked)) {
    return false;
  }
  *out = static_cast<WorkerState>(o.via.u64);
  return true;
}

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

bool AsLabel(const msgpack::object& o, float* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > 1) return false;
  *out = static_cast<float>(o.via.u64);
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

bool AsString(const msgpack::object& o, std::string* out) {
  if (o.type != msgpack::type::STR) return false;
  out->assign(o.via.str.ptr, o.via.str.size);
  return true;
}

// Reads the elements of one msgpack array as named fields, in order. The first
// failure is kept, later reads do nothing, and status() reports it with the
// field's path ("transactions[3].amount"). Paths are only built on failure.
class FieldReader {
 public:
  // `vector` and `index` name the vector item this array is ("transactions",
  // 3); a null `vector` means the message body itself.
  // `fewest_fields` (when not 0) accepts an older sender's array that ends
  // early; HasMore() then says whether the newer fields are there.
  FieldReader(const msgpack::object& array, uint32_t expected_fields, const char* vector, size_t index,
              uint32_t fewest_fields = 0)
      : vector_(vector), index_(index) {
    const uint32_t fewest = fewest_fields == 0 ? expected_fields : fewest_fields;
    const std::string expected = fewest == expected_fields
                                     ? std::to_string(expected_fields)
                                     : std::to_string(fewest) + " to " + std::to_string(expected_fields);
    if (array.type != msgpack::type::ARRAY) {
      Fail(nullptr, "expected an array of " + expected + " fields, got " + TypeName(array));
    } else if (array.via.array.size < fewest || array.via.array.size > expected_fields) {
      Fail(nullptr, "expected an array of " + expected + " fields, got " + std::to_string(array.via.array.size));
    } else {
      next_ = array.via.array.ptr;
      end_ = array.via.array.ptr + array.via.array.size;
    }
  }

  bool HasMore() const { return next_ != nullptr && next_ < end_; }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  void Read(const char* name, int64_t* out) { Take(name, "an int64", AsInt64, out); }
  void Read(const char* name, uint64_t* out) { Take(name, "a uint64", AsUint64, out); }
  void Read(const char* name, int32_t* out) { Take(name, "an int32", AsInt32, out); }
  void Read(const char* name, uint32_t* out) { Take(name, "a uint32", AsUint32, out); }
  void Read(const char* name, bool* out) { Take(name, "a boolean", AsBool, out); }
  void Read(const char* name, WorkerState* out) { Take(name, "a worker state (0..3)", AsWorkerState, out); }
  void Read(const char* name, double* out) { Take(name, "a number", AsDouble, out); }
  void Read(const char* name, std::string* out) { Take(name, "a string", AsString, out); }
  void Read(const char* name, std::optional<double>* out) {
    Take(name, "a number or nil", AsOptionalDouble, out);
  }
  void Read(const char* name, EvaluationRequest::Kind* out) {
    Take(name, "a request kind (0..2)", AsRequestKind, out);
  }

  // Returns the items of an array field, or null (with the error kept).
  const msgpack::object_array* ReadArray(const char* name) {
    const msgpack::object* field = Next();
    if (field == nullptr) return nullptr;
    if (field->type != msgpack::type::ARRAY) {
      Fail(name, std::string("expected an array, got ") + TypeName(*field));
      return nullptr;
    }
    return &field->via.array;
  }

 private:
  template <typename T>
  void Take(const char* name, const char* expected, bool (*convert)(const msgpack::object&, T*), T* out) {
    const msgpack::object* field = Next();
    if (field != nullptr && !convert(*field, out)) {
      Fail(name, std::string("expected ") + expected + ", got " + Describe(*field));
    }
  }

  const msgpack::object* Next() { return ok() ? next_++ : nullptr; }

  void Fail(const char* name, const std::string& why) {
    std::string path;
    if (vector_ != nullptr) path = std::string(vector_) + "[" + std::to_string(index_) + "]";
    if (name != nullptr) {
      if (!path.empty()) path += '.';
      path += name;
    }
    status_ = Status::Error(path.empty() ? "message body: " + why : "field '" + path + "': " + why);
  }

  const char* vector_;
  size_t index_;
  const msgpack::object* next_ = nullptr;
  const msgpack::object* end_ = nullptr;
  Status status_;
};

// Strings, bins and exts point into the frame instead of being copied into the zone.
bool BorrowFromFrame(msgpack::type::object_type /*type*/, size_t /*length*/, void* /*user*/) { return true; }

Status DecodeTransaction(const msgpack::object& o, size_t index, Transaction* t) {
  FieldReader r(o, kTransactionFieldsWithIdText, "transactions", index, kTransactionFields);
  r.Read("id", &t->id);
  r.Read("customer_id", &t->customer_id);
  r.Read("vendor_id", &t->vendor_id);
  r.Read("amount", &t->amount);
  r.Read("timestamp", &t->timestamp);
  r.Read("timestamp_unix_s", &t->timestamp_unix_s);
  r.Read("status", &t->status);
  if (r.HasMore()) r.Read("id_text", &t->id_text);
  return r.status();
}

Status DecodeReject(const msgpack::object& o, size_t index, Reject* reject) {
  FieldReader r(o, kRejectFields, "rejects", index);
  r.Read("position", &reject->position);
  r.Read("dead_letter", &reject->dead_letter);
  return r.status();
}

Status DecodeScoreResult(const msgpack::object& o, size_t index, ScoreResult* s) {
  FieldReader r(o, kScoreResultFieldsWithIdText, "results", index, kScoreResultFields);
  r.Read("transaction_id", &s->transaction_id);
  r.Read("fraud_probability", &s->fraud_probability);
  r.Read("is_fraudulent", &s->is_fraudulent);
  r.Read("confidence", &s->confidence);
  r.Read("error", &s->error);
  if (r.HasMore()) r.Read("transaction_id_text", &s->transaction_id_text);
  return r.status();
}

// Decodes every item of `items` with `decode_item` into `out`.
template <typename T, typename DecodeItem>
Status DecodeVector(const msgpack::object_array& items, DecodeItem decode_item, std::vector<T>* out) {
  out->resize(items.size);
  for (uint32_t i = 0; i < items.size; ++i) {
    Status status = decode_item(items.ptr[i], i, &(*out)[i]);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status DecodeFailure(const msgpack::object& o, size_t index, std::string* out) {
  if (AsString(o, out)) return Status::Ok();
  return Status::Error("field 'failures[" + std::to_string(index) + "]': expected a string, got " + TypeName(o));
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

Status DecodeLabel(const msgpack::object& o, size_t index, float* label) {
  if (AsLabel(o, label)) return Status::Ok();
  return Status::Error("field 'labels[" + std::to_string(index) + "]': expected 0 or 1, got " + Describe(o));
}

// Reads the evaluation fields that follow a batch's own (see PackEvaluationRows).
// `items` and `what` are the batch's transactions or results. Run 0 (no
// evaluation, no labels) stands in only before a part's fields.
Status ReadEvaluationRows(FieldReader& r, size_t items, const char* what, EvaluationRows* rows) {
  r.Read("evaluation_run", &rows->run);
  r.Read("evaluation_first_row", &rows->first_row);
  const msgpack::object_array* labels = r.ReadArray("labels");
  if (!r.ok()) return r.status();
  if (rows->run == 0 && r.HasMore()) {
    if (rows->first_row != 0 || labels->size != 0) {
      return Status::Error("field 'evaluation_run': 0 (no evaluation) with rows or labels");
    }
    return Status::Ok();
  }
  if (rows->run == 0) return Status::Error("field 'evaluation_run': 0 is not a run");
  if (labels->size != items) {
    return Status::Error("field 'labels': " + std::to_string(labels->size) + " labels for " +
                         std::to_string(items) + " " + what);
  }
  return DecodeVector(*labels, DecodeLabel, &rows->labels);
}

// Reads the part fields (see PackPart) and checks that they describe a
// range of a lease that holds the batch's `items` and `rejects`.
Status ReadPart(FieldReader& r, size_t items, const std::vector<Reject>& rejects, LeasePart* part) {
  r.Read("part_begin", &part->begin);
  r.Read("part_end", &part->end);
  r.Read("part_lease_size", &part->lease_size);
  if (!r.ok()) return r.status();
  if (part->lease_size == 0 || part->begin >= part->end || part->end > part->lease_size) {
    return Status::Error("field 'part': [" + std::to_string(part->begin) + ", " + std::to_string(part->end) +
                         ") is not a part of a lease of " + std::to_string(part->lease_size) + " messages");
  }
  if (items + rejects.size() != part->end - part->begin) {
    return Status::Error("field 'part': " + std::to_string(items + rejects.size()) + " messages for a part of " +
                         std::to_string(part->end - part->begin));
  }
  for (const Reject& reject : rejects) {
    if (reject.position < part->begin || reject.position >= part->end) {
      return Status::Error("field 'part': a reject at position " + std::to_string(reject.position) +
                           " is outside it");
    }
  }
  return Status::Ok();
}

Status DecodeBody(const msgpack::object& body, TransactionBatch* batch) {
  FieldReader r(body, kPartBatchFields, nullptr, 0, kTransactionBatchFields);
  r.Read("batch_id", &batch->batch_id);
  r.Read("created_at_us", &batch->created_at_us);
  r.Read("lease", &batch->lease);
  const msgpack::object_array* items = r.ReadArray("transactions");
  const msgpack::object_array* rejects = r.ReadArray("rejects");
  if (!r.ok()) return r.status();
  if (r.HasMore()) {
    if (Status s = ReadEvaluationRows(r, items->size, "transactions", &batch->evaluation); !s.ok()) return s;
  }
  if (Status s = DecodeVector(*items, DecodeTransaction, &batch->transactions); !s.ok()) return s;
  if (Status s = DecodeVector(*rejects, DecodeReject, &batch->rejects); !s.ok()) return s;
  if (!r.HasMore()) return Status::Ok();
  return ReadPart(r, items->size, batch->rejects, &batch->part);
}

Status DecodeBody(const msgpack::object& body, ResultBatch* batch) {
  FieldReader r(body, kPartResultBatchFields, nullptr, 0, kResultBatchFieldsBefore);
  r.Read("batch_id", &batch->batch_id);
  r.Read("lease", &batch->lease);
  r.Read("worker_id", &batch->worker_id);
  r.Read("model_version", &batch->model_version);
  r.Read("scored_at_us", &batch->scored_at_us);
  const msgpack::object_array* items = r.ReadArray("results");
  const msgpack::object_array* rejects = r.ReadArray("rejects");
  if (r.HasMore()) r.Read("created_at_us", &batch->created_at_us);
  if (r.HasMore()) r.Read("model_name", &batch->model_name);
  if (r.HasMore()) r.Read("shadow_version", &batch->shadow_version);
  const msgpack::object_array* shadow = r.HasMore() ? r.ReadArray("shadow_results") : nullptr;
  if (!r.ok()) return r.status();
  if (r.HasMore()) {
    if (Status s = ReadEvaluationRows(r, items->size, "results", &batch->evaluation); !s.ok()) return s;
  }
  if (Status s = DecodeVector(*items, DecodeScoreResult, &batch->results); !s.ok()) return s;
  if (shadow != nullptr) {
    if (Status s = DecodeVector(*shadow, DecodeScoreResult, &batch->shadow_results); !s.ok()) return s;
  }
  if (Status s = DecodeVector(*rejects, DecodeReject, &batch->rejects); !s.ok()) return s;
  if (!r.HasMore()) return Status::Ok();
  return ReadPart(r, items->size, batch->rejects, &batch->part);
}

Status DecodeBody(const msgpack::object& body, Heartbeat* heartbeat) {
  FieldReader r(body, kHeartbeatFields, nullptr, 0, kHeartbeatFieldsBefore);
  r.Read("sender", &heartbeat->sender);
  r.Read("host", &heartbeat->host);
  r.Read("pid", &heartbeat->pid);
  r.Read("session", &heartbeat->session);
  r.Read("sequence", &heartbeat->sequence);
  r.Read("batches_held", &heartbeat->batches_held);
  r.Read("batches_scored", &heartbeat->batches_scored);
  r.Read("transactions_scored", &heartbeat->transactions_scored);
  r.Read("sent_at_us", &heartbeat->sent_at_us);
  r.Read("known", &heartbeat->known);
  if (r.HasMore()) r.Read("model_name", &heartbeat->model_name);
  if (r.HasMore()) r.Read("model_version", &heartbeat->model_version);
  if (r.HasMore()) r.Read("model_error", &heartbeat->model_error);
  if (r.HasMore()) r.Read("shadow_version", &heartbeat->shadow_version);
  if (r.HasMore()) r.Read("link_error", &heartbeat->link_error);
  return r.status();
}

Status DecodeBody(const msgpack::object& body, WorkerReady* ready) {
  FieldReader r(body, kWorkerReadyFields, nullptr, 0);
  r.Read("worker_id", &ready->worker_id);
  r.Read("host", &ready->host);
  r.Read("pid", &ready->pid);
  r.Read("session", &ready->session);
  r.Read("credit", &ready->credit);
  r.Read("state", &ready->state);
  return r.status();
}

Status DecodeBody(const msgpack::object& body, BatchDone* done) {
  FieldReader r(body, kRefusedBatchDoneFields, nullptr, 0, kBatchDoneFields);
  r.Read("batch_id", &done->batch_id);
  r.Read("session", &done->session);
  if (r.HasMore()) r.Read("refused", &done->refused);
  return r.status();
}

Status DecodeBody(const msgpack::object& body, EvaluationRequest* request) {
  FieldReader r(body, kEvaluationRequestFields, nullptr, 0);
  r.Read("kind", &request->kind);
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
  r.Read("roc_auc", &e->roc_auc);
  r.Read("roc_auc_undefined", &e->roc_auc_undefined);
  r.Read("average_precision", &e->average_precision);
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
// DecodeBody, turning every msgpack exception into an error value.
template <typename T>
Result<T> DecodeFrame(std::string_view frame, MessageKind expected, size_t max_frame_bytes = kMaxFrameBytes) {
  Result<Envelope> envelope = ReadEnvelope(frame, max_frame_bytes);
  if (!envelope.ok()) return envelope.status();
  if (envelope->kind != expected) {
    return Status::Error(std::string("expected a ") + MessageKindName(expected) + ", got a " +
                         MessageKindName(envelope->kind));
  }
  const msgpack::unpack_limit limits(/*array=*/kMaxBatchItems, /*map=*/kMaxMapEntries,
                                     /*str=*/kMaxStringBytes, /*bin=*/kMaxStringBytes,
                                     /*ext=*/kMaxStringBytes, /*depth=*/kMaxDepth);
  try {
    size_t offset = envelope->body_offset;
    const msgpack::object_handle body =
        msgpack::unpack(frame.data(), frame.size(), offset, BorrowFromFrame, nullptr, limits);
    if (offset != frame.size()) {
      return Status::Error("frame has " + std::to_string(frame.size() - offset) + " bytes after the message");
    }
    T message;
    Status status = DecodeBody(body.get(), &message);
    if (!status.ok()) return status;
    return message;
  } catch (const msgpack::insufficient_bytes&) {
    return Truncated();
  } catch (const msgpack::array_size_overflow&) {
    return Status::Error("frame declares an array of more than " + std::to_string(kMaxBatchItems) + " items");
  } catch (const msgpack::str_size_overflow&) {
    return Status::Error("frame declares a string of more than " + std::to_string(kMaxStringBytes) +
                         " bytes");
  } catch (const msgpack::depth_size_overflow&) {
    return Status::Error("frame nests arrays or maps more than " + std::to_string(kMaxDepth) + " deep");
  } catch (const msgpack::size_overflow&) {
    return Status::Error("frame declares a map, bin or ext value larger than the decoder allows");
  } catch (const msgpack::unpack_error& e) {
    return Status::Error(std::string("frame is not valid msgpack: ") + e.what());
  } catch (const msgpack::type_error&) {
    return Status::Error("frame has a value of an unexpected msgpack type");
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory decoding a frame of " + std::to_string(frame.size()) + " bytes");
  } catch (const std::exception& e) {
    return Status::Error(std::string("frame could not be decoded: ") + e.what());
  }
}

}  // namespace

const char* MessageKindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::kTransactionBatch:
      return "TransactionBatch";
    case MessageKind::kResultBatch:
      return "ResultBatch";
    case MessageKind::kHeartbeat:
      return "Heartbeat";
    case MessageKind::kWorkerReady:
      return "WorkerReady";
    case MessageKind::kBatchDone:
      return "BatchDone";
    case MessageKind::kEvaluationRequest:
      return "EvaluationRequest";
    case MessageKind::kEvaluationReply:
      return "EvaluationReply";
  }
  return "unknown message kind";
}

// The size hints are rough upper estimates of the packed bytes.
std::string Encode(const TransactionBatch& batch) {
  return EncodeFrame(MessageKind::kTransactionBatch, 48 + batch.lease.size() + 80 * batch.transactions.size(),
                     batch);
}

std::string Encode(const ResultBatch& batch) {
  return EncodeFrame(MessageKind::kResultBatch,
                     72 + batch.lease.size() + batch.worker_id.size() + batch.model_version.size() +
                         batch.model_name.size() + 40 * batch.results.size(),
                     batch);
}

std::string Encode(const Heartbeat& heartbeat) {
  return EncodeFrame(MessageKind::kHeartbeat,
                     96 + heartbeat.sender.size() + heartbeat.host.size() + heartbeat.model_name.size() +
                         heartbeat.model_version.size() + heartbeat.model_error.size() +
                         heartbeat.shadow_version.size() + heartbeat.link_error.size(),
                     heartbeat);
}

std::string Encode(const WorkerReady& ready) {
  return EncodeFrame(MessageKind::kWorkerReady, 64 + ready.worker_id.size() + ready.host.size(), ready);
}

std::string Encode(const BatchDone& done) { return EncodeFrame(MessageKind::kBatchDone, 32, done); }

std::string Encode(const EvaluationRequest& request) {
  return EncodeFrame(MessageKind::kEvaluationRequest, 64, request);
}

std::string Encode(const EvaluationReply& reply) {
  size_t strings = reply.error.size() + reply.evaluation_error.size();
  for (const std::string& f : reply.failures) strings += f.size() + 8;
  return EncodeFrame(MessageKind::kEvaluationReply,
                     128 + strings + 48 * reply.models.size() + 20 * reply.pending_rows.size() + 512, reply);
}

Result<MessageKind> PeekKind(std::string_view frame) {
  Result<Envelope> envelope = ReadEnvelope(frame);
  if (!envelope.ok()) return envelope.status();
  return envelope->kind;
}

Result<uint64_t> PeekBatchId(std::string_view frame) {
  Result<Envelope> envelope = ReadEnvelope(frame);
  if (!envelope.ok()) return envelope.status();
  if (envelope->kind != MessageKind::kTransactionBatch) {
    return Status::Error(std::string("expected a TransactionBatch, got a ") +
                         MessageKindName(envelope->kind));
  }
  ByteCursor cursor(frame.substr(envelope->body_offset));
  uint64_t value = 0;
  Status status = CheckRead(ReadArrayHeader(cursor, &value), "body is not an array");
  if (!status.ok()) return status;
  if (value != kTransactionBatchFields && value != kEvaluationBatchFields && value != kPartBatchFields) {
    return Status::Error("message body: expected an array of " + std::to_string(kTransactionBatchFields) + ", " +
                         std::to_string(kEvaluationBatchFields) + " or " + std::to_string(kPartBatchFields) +
                         " fields, got " + std::to_string(value));
  }
  status = CheckRead(ReadUnsigned(cursor, &value), "batch_id is not a uint64");
  if (!status.ok()) return status;
  return value;
}

size_t MaxBatchFrameBytes(size_t batch_size) {
  return kBatchFrameOverheadBytes + std::min(batch_size, kMaxBatchSize) * kMaxWireBytesPerMessage;
}

Result<TransactionBatch> DecodeTransactionBatch(std::string_view frame, size_t max_frame_bytes) {
  return DecodeFrame<TransactionBatch>(frame, MessageKind::kTransactionBatch, max_frame_bytes);
}

Result<ResultBatch> DecodeResultBatch(std::string_view frame, size_t max_frame_bytes) {
  return DecodeFrame<ResultBatch>(frame, MessageKind::kResultBatch, max_frame_bytes);
}

Result<Heartbeat> DecodeHeartbeat(std::string_view frame) {
  return DecodeFrame<Heartbeat>(frame, MessageKind::kHeartbeat);
}

Result<WorkerReady> DecodeWorkerReady(std::string_view frame) {
  return DecodeFrame<WorkerReady>(frame, MessageKind::kWorkerReady);
}

Result<BatchDone> DecodeBatchDone(std::string_view frame) {
  return DecodeFrame<BatchDone>(frame, MessageKind::kBatchDone);
}

Result<EvaluationRequest> DecodeEvaluationRequest(std::string_view frame) {
  return DecodeFrame<EvaluationRequest>(frame, MessageKind::kEvaluationRequest);
}

Result<EvaluationReply> DecodeEvaluationReply(std::string_view frame) {
  return DecodeFrame<EvaluationReply>(frame, MessageKind::kEvaluationReply);
}

}  // namespace scorepipe
