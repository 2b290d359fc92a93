#include "proto/codec.h"

#include <algorithm>
#include <cmath>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "proto/wire.h"

namespace scorepipe {
namespace {

using wire::DecodeVector;
using wire::Describe;
using wire::FieldReader;
using wire::PackDouble;
using wire::Packer;
using wire::PackString;

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
// An online batch adds online, feature_width and features after the part
// fields (0, 0, 0 for a whole batch).
constexpr uint32_t kOnlineFields = 3;
constexpr uint32_t kOnlineBatchFields = kPartBatchFields + kOnlineFields;
constexpr uint32_t kTransactionFields = 7;
// A Transaction (and its ScoreResult) whose id is not a plain integer also
// carries the id's text, last; other frames are unchanged, so older nodes
// read them.
constexpr uint32_t kTransactionFieldsWithIdText = kTransactionFields + 1;
constexpr uint32_t kRejectFields = 2;
constexpr uint32_t kResultBatchFields = 11;
constexpr uint32_t kEvaluationResultBatchFields = kResultBatchFields + kEvaluationFields;
constexpr uint32_t kPartResultBatchFields = kEvaluationResultBatchFields + kPartFields;
// With the archive on, a ResultBatch adds the results' transactions, the
// feature width and the feature rows after the part fields (0, 0, 0 for a
// whole batch).
constexpr uint32_t kArchiveFields = 3;
constexpr uint32_t kArchiveResultBatchFields = kPartResultBatchFields + kArchiveFields;
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
constexpr uint32_t kHeadStatusFields = 5;

// ---------------------------------------------------------------------------
// Encoding

void PackRejects(Packer& p, const std::vector<Reject>& rejects) {
  p.pack_array(static_cast<uint32_t>(rejects.size()));
  for (const Reject& r : rejects) {
    p.pack_array(kRejectFields);
    p.pack_uint32(r.position);
    PackString(p, r.dead_letter);
  }
}

// A whole number as an integer (as nodes before non-integer ids wrote
// customer_id and vendor_id, and as small on the wire), anything else as a
// double; the reader takes either as a double.
void PackWholeOrDouble(Packer& p, double value) {
  constexpr double kInt64Bound = 9223372036854775808.0;  // 2^63
  if (value == std::trunc(value) && value >= -kInt64Bound && value < kInt64Bound) {
    p.pack_int64(static_cast<int64_t>(value));
  } else {
    PackDouble(p, value);
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

void PackFloats(Packer& p, const std::vector<float>& values) {
  p.pack_array(static_cast<uint32_t>(values.size()));
  for (float value : values) p.pack_float(value);
}

void PackTransactions(Packer& p, const std::vector<Transaction>& transactions) {
  p.pack_array(static_cast<uint32_t>(transactions.size()));
  for (const Transaction& t : transactions) {
    p.pack_array(t.id_text.empty() ? kTransactionFields : kTransactionFieldsWithIdText);
    p.pack_int64(t.id);
    PackWholeOrDouble(p, t.customer_id);
    PackWholeOrDouble(p, t.vendor_id);
    PackDouble(p, t.amount);
    PackString(p, t.timestamp);
    PackDouble(p, t.timestamp_unix_s);
    PackString(p, t.status);
    if (!t.id_text.empty()) PackString(p, t.id_text);
  }
}

void PackBody(Packer& p, const TransactionBatch& batch) {
  const bool evaluation = batch.evaluation.run != 0;
  const bool online = batch.online;
  const bool part = online || !batch.part.whole();
  p.pack_array(online       ? kOnlineBatchFields
               : part       ? kPartBatchFields
               : evaluation ? kEvaluationBatchFields
                            : kTransactionBatchFields);
  p.pack_uint64(batch.batch_id);
  p.pack_int64(batch.created_at_us);
  PackString(p, batch.lease);
  PackTransactions(p, batch.transactions);
  PackRejects(p, batch.rejects);
  if (evaluation || part) PackEvaluationRows(p, batch.evaluation);
  if (part) PackPart(p, batch.part);
  if (!online) return;
  p.pack_true();
  p.pack_uint32(batch.feature_width);
  PackFloats(p, batch.features);
}

void PackScoreResults(Packer& p, const std::vector<ScoreResult>& results) {
  p.pack_array(static_cast<uint32_t>(results.size()));
  for (const ScoreResult& s : results) {
    p.pack_array(s.transaction_id_text.empty() ? kScoreResultFields : kScoreResultFieldsWithIdText);
    p.pack_int64(s.transaction_id);
    PackDouble(p, s.fraud_probability);
    p.pack_int32(s.is_fraudulent);
    PackDouble(p, s.confidence);
    PackString(p, s.error);
    if (!s.transaction_id_text.empty()) PackString(p, s.transaction_id_text);
  }
}

void PackBody(Packer& p, const ResultBatch& batch) {
  const bool evaluation = batch.evaluation.run != 0;
  const bool archive = !batch.archive_inputs.empty();
  const bool part = archive || !batch.part.whole();
  p.pack_array(archive      ? kArchiveResultBatchFields
               : part       ? kPartResultBatchFields
               : evaluation ? kEvaluationResultBatchFields
                            : kResultBatchFields);
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
  if (!archive) return;
  PackTransactions(p, batch.archive_inputs);
  p.pack_uint32(batch.archive_feature_width);
  PackFloats(p, batch.archive_features);
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

void PackBody(Packer& p, const HeadStatus& status) {
  p.pack_array(kHeadStatusFields);
  p.pack_uint64(status.session);
  p.pack_uint32(status.live_workers);
  p.pack_uint32(status.queued);
  PackString(p, status.model_name);
  p.pack_array(static_cast<uint32_t>(status.model_versions.size()));
  for (const std::string& version : status.model_versions) PackString(p, version);
}

// Packs the envelope and then `message` as the body (see wire::EncodeFrame).
template <typename Message>
std::string EncodeFrame(MessageKind kind, size_t size_hint, const Message& message) {
  return wire::EncodeFrame(kind, size_hint, [&message](Packer& p) { PackBody(p, message); });
}

// ---------------------------------------------------------------------------
// Decoding

bool AsWorkerState(const msgpack::object& o, WorkerState* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > static_cast<uint64_t>(WorkerState::kBlocked)) {
    return false;
  }
  *out = static_cast<WorkerState>(o.via.u64);
  return true;
}

bool AsLabel(const msgpack::object& o, float* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > 1) return false;
  *out = static_cast<float>(o.via.u64);
  return true;
}

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

// Checks that `part` describes a part of a lease holding `items` messages
// besides `rejects`.
Status CheckPart(const LeasePart& part, size_t items, const std::vector<Reject>& rejects) {
  if (part.lease_size == 0 || part.begin >= part.end || part.end > part.lease_size) {
    return Status::Error("field 'part': [" + std::to_string(part.begin) + ", " + std::to_string(part.end) +
                         ") is not a part of a lease of " + std::to_string(part.lease_size) + " messages");
  }
  if (items + rejects.size() != part.end - part.begin) {
    return Status::Error("field 'part': " + std::to_string(items + rejects.size()) +
                         " messages for a part of " + std::to_string(part.end - part.begin));
  }
  for (const Reject& reject : rejects) {
    if (reject.position < part.begin || reject.position >= part.end) {
      return Status::Error("field 'part': a reject at position " + std::to_string(reject.position) +
                           " is outside it");
    }
  }
  return Status::Ok();
}

// Reads the online fields (see PackBody) and checks them against the batch.
Status ReadOnline(FieldReader& r, TransactionBatch* batch) {
  r.Read("online", &batch->online);
  r.Read("feature_width", &batch->feature_width);
  const msgpack::object_array* features = r.ReadArray("features");
  if (!r.ok()) return r.status();
  if (!batch->online) return Status::Error("field 'online': false, but the online fields are there");
  if (batch->evaluation.run != 0)
    return Status::Error("field 'online': an evaluation run's batch is not online");
  if (batch->feature_width == 0) {
    if (features->size != 0)
      return Status::Error("field 'features': feature_width is 0 but there are features");
    return Status::Ok();
  }
  if (batch->feature_width > kMaxFeatureWidth) {
    return Status::Error("field 'feature_width': " + std::to_string(batch->feature_width) + " is over " +
                         std::to_string(kMaxFeatureWidth));
  }
  if (!batch->transactions.empty() || !batch->rejects.empty()) {
    return Status::Error("field 'features': a batch of feature rows with transactions or rejects");
  }
  if (features->size == 0 || features->size % batch->feature_width != 0) {
    return Status::Error("field 'features': " + std::to_string(features->size) +
                         " floats are not whole rows of " + std::to_string(batch->feature_width));
  }
  return DecodeVector(*features, wire::DecodeFeature, &batch->features);
}

Status DecodeBody(const msgpack::object& body, TransactionBatch* batch) {
  FieldReader r(body, kOnlineBatchFields, nullptr, 0, kTransactionBatchFields);
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
  LeasePart part;
  r.Read("part_begin", &part.begin);
  r.Read("part_end", &part.end);
  r.Read("part_lease_size", &part.lease_size);
  if (!r.ok()) return r.status();
  batch->part = part;
  const bool online = r.HasMore();
  if (online) {
    if (Status s = ReadOnline(r, batch); !s.ok()) return s;
    // A whole online batch writes its part fields as 0, 0, 0.
    if (part == LeasePart{}) return Status::Ok();
  }
  return CheckPart(batch->part, batch->rows(), batch->rejects);
}

// Reads the archive's fields (see PackBody) and checks them against the
// batch's results (decoded already).
Status ReadArchive(FieldReader& r, ResultBatch* batch) {
  const msgpack::object_array* inputs = r.ReadArray("archive_inputs");
  r.Read("archive_feature_width", &batch->archive_feature_width);
  const msgpack::object_array* features = r.ReadArray("archive_features");
  if (!r.ok()) return r.status();
  const size_t results = batch->results.size();
  if (inputs->size != results) {
    return Status::Error("field 'archive_inputs': " + std::to_string(inputs->size) + " transactions for " +
                         std::to_string(results) + " results");
  }
  if (batch->archive_feature_width > kMaxFeatureWidth) {
    return Status::Error("field 'archive_feature_width': " + std::to_string(batch->archive_feature_width) +
                         " is over " + std::to_string(kMaxFeatureWidth));
  }
  if (features->size != static_cast<size_t>(batch->archive_feature_width) * results) {
    return Status::Error("field 'archive_features': " + std::to_string(features->size) + " floats are not " +
                         std::to_string(results) + " rows of " +
                         std::to_string(batch->archive_feature_width));
  }
  if (Status s = DecodeVector(*inputs, DecodeTransaction, &batch->archive_inputs); !s.ok()) return s;
  return DecodeVector(*features, wire::DecodeFeature, &batch->archive_features);
}

Status DecodeBody(const msgpack::object& body, ResultBatch* batch) {
  FieldReader r(body, kArchiveResultBatchFields, nullptr, 0, kResultBatchFieldsBefore);
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
  LeasePart part;
  r.Read("part_begin", &part.begin);
  r.Read("part_end", &part.end);
  r.Read("part_lease_size", &part.lease_size);
  if (!r.ok()) return r.status();
  batch->part = part;
  if (r.HasMore()) {
    if (Status s = ReadArchive(r, batch); !s.ok()) return s;
    // A whole batch with the archive's fields writes its part fields as 0, 0, 0.
    if (part == LeasePart{}) return Status::Ok();
  }
  return CheckPart(batch->part, items->size, batch->rejects);
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
  r.Read("state", "a worker state (0..3)", AsWorkerState, &ready->state);
  return r.status();
}

Status DecodeBody(const msgpack::object& body, BatchDone* done) {
  FieldReader r(body, kRefusedBatchDoneFields, nullptr, 0, kBatchDoneFields);
  r.Read("batch_id", &done->batch_id);
  r.Read("session", &done->session);
  if (r.HasMore()) r.Read("refused", &done->refused);
  return r.status();
}

Status DecodeVersion(const msgpack::object& o, size_t index, std::string* version) {
  if (wire::AsString(o, version)) return Status::Ok();
  return Status::Error("field 'model_versions[" + std::to_string(index) + "]': expected a string, got " +
                       Describe(o));
}

Status DecodeBody(const msgpack::object& body, HeadStatus* status) {
  FieldReader r(body, kHeadStatusFields, nullptr, 0);
  r.Read("session", &status->session);
  r.Read("live_workers", &status->live_workers);
  r.Read("queued", &status->queued);
  r.Read("model_name", &status->model_name);
  const msgpack::object_array* versions = r.ReadArray("model_versions");
  if (!r.ok()) return r.status();
  return DecodeVector(*versions, DecodeVersion, &status->model_versions);
}

template <typename T>
Result<T> DecodeFrame(std::string_view frame, MessageKind expected, size_t max_frame_bytes = kMaxFrameBytes) {
  return wire::DecodeFrame<T>(frame, expected, max_frame_bytes, [](const msgpack::object& body, T* message) {
    return DecodeBody(body, message);
  });
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
    case MessageKind::kHeadStatus:
      return "HeadStatus";
    case MessageKind::kArchiveRecord:
      return "ArchiveRecord";
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

std::string Encode(const HeadStatus& status) {
  size_t hint = 48 + status.model_name.size();
  for (const std::string& version : status.model_versions) hint += 8 + version.size();
  return EncodeFrame(MessageKind::kHeadStatus, hint, status);
}

Result<MessageKind> PeekKind(std::string_view frame) {
  Result<wire::Envelope> envelope = wire::ReadEnvelope(frame);
  if (!envelope.ok()) return envelope.status();
  return envelope->kind;
}

Result<uint64_t> PeekBatchId(std::string_view frame) {
  Result<wire::Envelope> envelope = wire::ReadEnvelope(frame);
  if (!envelope.ok()) return envelope.status();
  const bool transactions = envelope->kind == MessageKind::kTransactionBatch;
  if (!transactions && envelope->kind != MessageKind::kResultBatch) {
    return Status::Error(std::string("expected a TransactionBatch or a ResultBatch, got a ") +
                         MessageKindName(envelope->kind));
  }
  wire::ByteCursor cursor(frame.substr(envelope->body_offset));
  uint64_t value = 0;
  Status status = wire::CheckRead(wire::ReadArrayHeader(cursor, &value), "body is not an array");
  if (!status.ok()) return status;
  const uint64_t fewest = transactions ? kTransactionBatchFields : kResultBatchFieldsBefore;
  const uint64_t most = transactions ? kOnlineBatchFields : kArchiveResultBatchFields;
  if (value < fewest || value > most) {
    return Status::Error("message body: expected an array of " + std::to_string(fewest) + " to " +
                         std::to_string(most) + " fields, got " + std::to_string(value));
  }
  status = wire::CheckRead(wire::ReadUnsigned(cursor, &value), "batch_id is not a uint64");
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

Result<HeadStatus> DecodeHeadStatus(std::string_view frame) {
  return DecodeFrame<HeadStatus>(frame, MessageKind::kHeadStatus);
}

}  // namespace scorepipe
