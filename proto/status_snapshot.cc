#include "proto/status_snapshot.h"

#include <simdjson.h>

#include <type_traits>
#include <variant>

#include "proto/text.h"

namespace scorepipe {
namespace {

// Enough of a reply to recognise it in an error message.
std::string Excerpt(std::string_view text) { return Printable(text, 120); }

// The fields of a snapshot struct, in the ventilator's order: one list serves
// both reading its JSON and writing ours, so the two cannot drift apart.
template <typename Struct>
struct Field {
  const char* key;
  std::variant<std::string Struct::*, int64_t Struct::*, double Struct::*> member;
  bool optional = false;  // a ventilator from before the field leaves it out
};

const std::vector<Field<VentilatorSnapshot>>& VentilatorFields() {
  using V = VentilatorSnapshot;
  static const std::vector<Field<V>> fields = {
      {"host", &V::host},
      {"pid", &V::pid},
      {"uptime_s", &V::uptime_s},
      {"live_workers", &V::live_workers},
      {"queued_batches", &V::queued_batches},
      {"in_flight_batches", &V::in_flight_batches},
      {"batches_received", &V::batches_received},
      {"batches_sent", &V::batches_sent},
      {"batches_done", &V::batches_done},
      {"redispatched", &V::redispatched},
      {"overdue", &V::overdue},
      {"workers_joined", &V::workers_joined},
      {"workers_lost", &V::workers_lost},
      {"poisoned", &V::poisoned, true},
      {"transactions_per_second", &V::transactions_per_second},
  };
  return fields;
}

const std::vector<Field<WorkerSnapshot>>& WorkerFields() {
  using W = WorkerSnapshot;
  static const std::vector<Field<W>> fields = {
      {"id", &W::id},
      {"host", &W::host},
      {"pid", &W::pid},
      {"state", &W::state},
      {"last_heartbeat_ms", &W::last_heartbeat_ms},
      {"in_flight_batches", &W::in_flight_batches},
      {"credit", &W::credit},
      {"batches_scored", &W::batches_scored},
      {"transactions_scored", &W::transactions_scored},
      {"transactions_per_second", &W::transactions_per_second},
      {"model", &W::model, true},
      {"model_version", &W::model_version, true},
      {"model_error", &W::model_error, true},
      {"shadow_version", &W::shadow_version, true},
      {"link_error", &W::link_error, true},
  };
  return fields;
}

const std::vector<Field<GatewaySnapshot>>& GatewayFields() {
  using G = GatewaySnapshot;
  static const std::vector<Field<G>> fields = {
      {"id", &G::id},
      {"host", &G::host},
      {"pid", &G::pid},
      {"links", &G::links},
      {"last_heartbeat_ms", &G::last_heartbeat_ms},
      {"in_flight_batches", &G::in_flight_batches},
      {"batches_answered", &G::batches_answered},
  };
  return fields;
}

const char* TypeName(const std::string&) { return "a string"; }
const char* TypeName(int64_t) { return "an integer"; }
const char* TypeName(double) { return "a number"; }

// Reads every field of `fields` from `object` into `out`; the first that is
// missing or of another type comes back named by its path ("workers[1].pid").
template <typename Struct>
std::string ReadFields(simdjson::dom::object object, const std::string& path,
                       const std::vector<Field<Struct>>& fields, Struct* out) {
  for (const Field<Struct>& field : fields) {
    simdjson::dom::element element;
    if (object[field.key].get(element) != simdjson::SUCCESS) {
      if (field.optional) continue;
      return path + "." + field.key + ": missing";
    }
    const bool read = std::visit(
        [&](auto member) {
          auto& value = out->*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
            std::string_view view;
            if (element.get(view) != simdjson::SUCCESS) return false;
            value = view;
            return true;
          } else {
            return element.get(value) == simdjson::SUCCESS;
          }
        },
        field.member);
    if (!read) {
      const char* what = std::visit([&](auto member) { return TypeName(out->*member); }, field.member);
      return path + "." + field.key + ": not " + what;
    }
  }
  return "";
}

template <typename Struct>
void WriteObject(const Struct& value, const std::vector<Field<Struct>>& fields, JsonWriter& json) {
  json.BeginObject();
  for (const Field<Struct>& field : fields) {
    json.Key(field.key);
    std::visit(
        [&](auto member) {
          const auto& v = value.*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) {
            json.Number(v, "%.1f");
          } else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, int64_t>) {
            json.Int(v);
          } else {
            json.String(v);
          }
        },
        field.member);
  }
  json.EndObject();
}

}  // namespace

Result<StatusSnapshot> ParseStatusJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc); error != simdjson::SUCCESS) {
    return Status::Error(std::string("not JSON (") + simdjson::error_message(error) + "): \"" +
                         Excerpt(json) + "\"");
  }
  simdjson::dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) {
    return Status::Error("not a JSON object: \"" + Excerpt(json) + "\"");
  }
  simdjson::dom::object ventilator;
  if (root["ventilator"].get(ventilator) != simdjson::SUCCESS) {
    return Status::Error("ventilator: missing or not an object");
  }
  simdjson::dom::array workers;
  if (root["workers"].get(workers) != simdjson::SUCCESS) {
    return Status::Error("workers: missing or not an array");
  }

  // A ventilator from before gateways leaves the list out.
  simdjson::dom::array gateways;
  simdjson::dom::element gateways_element;
  const bool has_gateways = root["gateways"].get(gateways_element) == simdjson::SUCCESS;
  if (has_gateways && gateways_element.get(gateways) != simdjson::SUCCESS) {
    return Status::Error("gateways: not an array");
  }

  StatusSnapshot snapshot;
  std::string error = ReadFields(ventilator, "ventilator", VentilatorFields(), &snapshot.ventilator);
  if (!error.empty()) return Status::Error(error);
  for (simdjson::dom::element element : workers) {
    const std::string path = "workers[" + std::to_string(snapshot.workers.size()) + "]";
    simdjson::dom::object worker;
    if (element.get(worker) != simdjson::SUCCESS) return Status::Error(path + ": not an object");
    error = ReadFields(worker, path, WorkerFields(), &snapshot.workers.emplace_back());
    if (!error.empty()) return Status::Error(error);
  }
  if (!has_gateways) return snapshot;
  for (simdjson::dom::element element : gateways) {
    const std::string path = "gateways[" + std::to_string(snapshot.gateways.size()) + "]";
    simdjson::dom::object gateway;
    if (element.get(gateway) != simdjson::SUCCESS) return Status::Error(path + ": not an object");
    error = ReadFields(gateway, path, GatewayFields(), &snapshot.gateways.emplace_back());
    if (!error.empty()) return Status::Error(error);
  }
  return snapshot;
}

void WriteSnapshotJson(const VentilatorSnapshot& ventilator, JsonWriter& json) {
  WriteObject(ventilator, VentilatorFields(), json);
}

void WriteSnapshotJson(const WorkerSnapshot& worker, JsonWriter& json) {
  WriteObject(worker, WorkerFields(), json);
}

void WriteSnapshotJson(const GatewaySnapshot& gateway, JsonWriter& json) {
  WriteObject(gateway, GatewayFields(), json);
}

std::string StatusSnapshotJson(const StatusSnapshot& snapshot) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("ventilator");
  WriteSnapshotJson(snapshot.ventilator, json);
  json.Key("workers").BeginArray();
  for (const WorkerSnapshot& worker : snapshot.workers) WriteSnapshotJson(worker, json);
  json.EndArray().Key("gateways").BeginArray();
  for (const GatewaySnapshot& gateway : snapshot.gateways) WriteSnapshotJson(gateway, json);
  json.EndArray().EndObject();
  return out;
}

}  // namespace scorepipe
