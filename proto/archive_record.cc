#include "proto/archive_record.h"

#include "proto/codec.h"
#include "proto/wire.h"

namespace scorepipe {
namespace {

using wire::FieldReader;
using wire::Packer;

constexpr uint32_t kArchiveRecordFields = 16;

void PackOptional(Packer& p, const std::optional<int64_t>& value) {
  if (value) {
    p.pack_int64(*value);
  } else {
    p.pack_nil();
  }
}

void PackOptional(Packer& p, const std::optional<double>& value) {
  if (value) {
    wire::PackDouble(p, *value);
  } else {
    p.pack_nil();
  }
}

// A field that may be nil (std::nullopt), else what `Convert` reads.
template <typename T, bool (*Convert)(const msgpack::object&, T*)>
bool AsOptional(const msgpack::object& o, std::optional<T>* out) {
  if (o.type == msgpack::type::NIL) {
    out->reset();
    return true;
  }
  T value{};
  if (!Convert(o, &value)) return false;
  *out = value;
  return true;
}

Status DecodeBody(const msgpack::object& body, ArchiveRecord* r) {
  FieldReader f(body, kArchiveRecordFields, nullptr, 0);
  f.Read("result_key", &r->result_key);
  f.Read("scored_at_us", &r->scored_at_us);
  f.Read("transaction_id", &r->transaction_id);
  f.Read("transaction_at_us", "an int64 or nil", AsOptional<int64_t, wire::AsInt64>, &r->transaction_at_us);
  f.Read("timestamp_text", &r->timestamp_text);
  f.Read("customer_id", &r->customer_id);
  f.Read("vendor_id", &r->vendor_id);
  f.Read("amount", &r->amount);
  f.Read("status", &r->status);
  const msgpack::object_array* features = f.ReadArray("features");
  f.Read("score", &r->score);
  f.Read("is_fraud", &r->is_fraud);
  f.Read("model_name", &r->model_name);
  f.Read("model_version", &r->model_version);
  f.Read("shadow_version", &r->shadow_version);
  f.Read("shadow_score", "a number or nil", AsOptional<double, wire::AsDouble>, &r->shadow_score);
  if (!f.ok()) return f.status();
  if (r->result_key.empty()) return Status::Error("field 'result_key': empty");
  return wire::DecodeVector(*features, wire::DecodeFeature, &r->features);
}

}  // namespace

std::string ArchiveResultKey(std::string_view lease, size_t position) {
  std::string key(lease);
  key += ':';
  key += std::to_string(position);
  return key;
}

std::string Encode(const ArchiveRecord& r) {
  const size_t hint = 160 + r.result_key.size() + r.transaction_id.size() + r.timestamp_text.size() +
                      r.status.size() + r.model_name.size() + r.model_version.size() +
                      r.shadow_version.size() + 5 * r.features.size();
  return wire::EncodeFrame(MessageKind::kArchiveRecord, hint, [&r](Packer& p) {
    p.pack_array(kArchiveRecordFields);
    wire::PackString(p, r.result_key);
    p.pack_int64(r.scored_at_us);
    wire::PackString(p, r.transaction_id);
    PackOptional(p, r.transaction_at_us);
    wire::PackString(p, r.timestamp_text);
    wire::PackDouble(p, r.customer_id);
    wire::PackDouble(p, r.vendor_id);
    wire::PackDouble(p, r.amount);
    wire::PackString(p, r.status);
    p.pack_array(static_cast<uint32_t>(r.features.size()));
    for (float value : r.features) p.pack_float(value);
    wire::PackDouble(p, r.score);
    p.pack(r.is_fraud);
    wire::PackString(p, r.model_name);
    wire::PackString(p, r.model_version);
    wire::PackString(p, r.shadow_version);
    PackOptional(p, r.shadow_score);
  });
}

Result<ArchiveRecord> DecodeArchiveRecord(std::string_view frame) {
  return wire::DecodeFrame<ArchiveRecord>(frame, MessageKind::kArchiveRecord, kMaxFrameBytes, DecodeBody);
}

}  // namespace scorepipe
