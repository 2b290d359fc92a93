#include "gateway/model_admin.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "config/topology_writer.h"
#include "proto/json_writer.h"

namespace scorepipe {
namespace {

namespace dom = simdjson::dom;

AdminAnswer Answer(int status, std::string body) { return AdminAnswer{status, std::move(body)}; }

AdminAnswer Fail(int status, std::string_view message) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("error").String(message).EndObject();
  return Answer(status, std::move(out));
}

void OptionalString(JsonWriter& json, std::string_view key, const std::optional<std::string>& value) {
  json.Key(key);
  if (value) {
    json.String(*value);
  } else {
    json.Null();
  }
}

void RecordJson(JsonWriter& json, const HistoryRecord& record) {
  json.BeginObject()
      .Key("at")
      .String(record.at)
      .Key("action")
      .String(HistoryActionName(record.action))
      .Key("version")
      .String(record.version)
      .Key("by")
      .String(record.by);
  OptionalString(json, "from", record.from);
  json.Key("forced").Bool(record.forced).Key("note").String(record.note).EndObject();
}

// The value of `key` in a query ("a=1&b=2"), %XX and '+' decoded; empty
// when absent.
std::string QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key || eq == std::string_view::npos) continue;
    std::string value;
    for (size_t i = eq + 1; i < pair.size(); ++i) {
      const char c = pair[i];
      if (c == '+') {
        value += ' ';
      } else if (c == '%' && i + 2 < pair.size() && std::isxdigit(static_cast<unsigned char>(pair[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(pair[i + 2]))) {
        value += static_cast<char>(std::stoi(std::string(pair.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        value += c;
      }
    }
    return value;
  }
  return {};
}

// A request body's fields: an object (or no body at all, when `may_be_empty`).
struct Fields {
  std::optional<std::string> version, model_name, model_version_id;
  std::string note;
  bool force = false;
  std::optional<double> min_auc;
};

std::optional<AdminAnswer> ParseFields(std::string_view body, bool may_be_empty, Fields* fields) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (may_be_empty) return std::nullopt;
    return Fail(400, "the body is empty: send a JSON object");
  }
  thread_local dom::parser parser;
  dom::element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc); error) {
    return Fail(400, std::string("the body is not valid JSON: ") + simdjson::error_message(error));
  }
  dom::object object;
  if (doc.get(object) != simdjson::SUCCESS) return Fail(400, "the body must be a JSON object");
  for (const auto field : object) {
    const std::string_view key = field.key;
    std::string_view text;
    if (key == "version" || key == "model_name" || key == "model_version_id" || key == "note") {
      if (field.value.get(text) != simdjson::SUCCESS)
        return Fail(400, "'" + std::string(key) + "' must be a string");
      if (key == "version") fields->version = std::string(text);
      if (key == "model_name") fields->model_name = std::string(text);
      if (key == "model_version_id") fields->model_version_id = std::string(text);
      if (key == "note") fields->note = std::string(text);
    } else if (key == "force") {
      if (field.value.get(fields->force) != simdjson::SUCCESS)
        return Fail(400, "'force' must be true or false");
    } else if (key == "min_auc") {
      double value = 0;
      if (field.value.get(value) != simdjson::SUCCESS || !(value >= 0 && value <= 1)) {
        return Fail(400, "'min_auc' must be a number from 0 to 1");
      }
      fields->min_auc = value;
    } else {
      return Fail(400, "unknown field '" + std::string(key) +
                           "' (known: version, force, min_auc, note; model_name, model_version_id)");
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsAdminPath(const std::vector<std::string_view>& parts) {
  if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "models") return true;
  return !parts.empty() && parts[0] == "model";
}

AdminAnswer ModelAdmin::Handle(std::string_view method, const std::vector<std::string_view>& parts,
                               std::string_view query, std::string_view body, const std::string& by) const {
  auto expect = [&](std::string_view wanted) -> std::optional<AdminAnswer> {
    if (method == wanted) return std::nullopt;
    return Fail(405, "use " + std::string(wanted));
  };
  if (parts.size() == 2 && parts[0] == "model") {
    // The ML-system seed's endpoints.
    if (parts[1] == "promote") {
      if (auto wrong = expect("POST")) return *wrong;
      Fields fields;
      if (auto bad = ParseFields(body, false, &fields)) return *bad;
      if (!fields.model_name || !fields.model_version_id) {
        return Fail(400, "send {\"model_name\": ..., \"model_version_id\": ...}");
      }
      return Promote(*fields.model_name, *fields.model_version_id, fields.force, fields.min_auc, fields.note,
                     by);
    }
    if (parts[1] == "demote") {
      if (method != "GET" && method != "POST") return Fail(405, "use GET or POST");
      const std::string name = QueryValue(query, "model_name");
      if (name.empty()) return Fail(400, "name the model: /model/demote?model_name=<name>");
      return Rollback(name, "", by);
    }
    return Fail(404, "no such endpoint: /model/" + std::string(parts[1]));
  }
  if (parts.size() < 2 || parts[0] != "v1" || parts[1] != "models") return Fail(404, "no such endpoint");
  if (parts.size() == 2) {
    if (auto wrong = expect("GET")) return *wrong;
    return List();
  }
  const std::string name(parts[2]);
  if (parts.size() == 3) {
    if (auto wrong = expect("GET")) return *wrong;
    return Describe(name);
  }
  if (parts.size() == 4 && parts[3] == "history") {
    if (auto wrong = expect("GET")) return *wrong;
    return History(name);
  }
  if (parts.size() == 4 && (parts[3] == "promote" || parts[3] == "rollback")) {
    if (auto wrong = expect("POST")) return *wrong;
    Fields fields;
    const bool promote = parts[3] == "promote";
    if (auto bad = ParseFields(body, !promote, &fields)) return *bad;
    if (!promote) return Rollback(name, fields.note, by);
    if (!fields.version)
      return Fail(400, "send {\"version\": \"<version>\"} (and optionally force, min_auc, note)");
    return Promote(name, *fields.version, fields.force, fields.min_auc, fields.note, by);
  }
  std::string path;
  for (std::string_view part : parts) path += "/" + std::string(part);
  return Fail(404, "no such endpoint: " + path);
}

std::optional<AdminAnswer> ModelAdmin::CheckModel(const std::string& name) const {
  if (Status s = ValidateRegistryName(name, "model name"); !s.ok()) return Fail(400, s.message());
  Result<std::vector<std::string>> models = registry_.ListModels();
  if (!models.ok()) return Fail(500, models.status().message());
  if (std::find(models->begin(), models->end(), name) == models->end()) {
    return Fail(404, "no model '" + name + "' in the registry");
  }
  return std::nullopt;
}

AdminAnswer ModelAdmin::List() const {
  Result<std::vector<std::string>> models = registry_.ListModels();
  if (!models.ok()) return Fail(500, models.status().message());
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("models").BeginArray();
  for (const std::string& name : *models) {
    Result<std::optional<std::string>> live = registry_.LiveVersion(name);
    Result<std::optional<std::string>> shadow = registry_.ShadowVersion(name);
    if (!live.ok()) return Fail(500, live.status().message());
    if (!shadow.ok()) return Fail(500, shadow.status().message());
    json.BeginObject().Key("name").String(name);
    OptionalString(json, "live", *live);
    OptionalString(json, "shadow", *shadow);
    json.EndObject();
  }
  json.EndArray().EndObject();
  return Answer(200, std::move(out));
}

AdminAnswer ModelAdmin::Describe(const std::string& name) const {
  if (auto bad = CheckModel(name)) return *bad;
  Result<std::vector<std::string>> versions = registry_.ListVersions(name);
  Result<std::optional<std::string>> live = registry_.LiveVersion(name);
  Result<std::optional<std::string>> shadow = registry_.ShadowVersion(name);
  if (!versions.ok()) return Fail(500, versions.status().message());
  if (!live.ok()) return Fail(500, live.status().message());
  if (!shadow.ok()) return Fail(500, shadow.status().message());
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("name").String(name);
  OptionalString(json, "live", *live);
  OptionalString(json, "shadow", *shadow);
  json.Key("versions").BeginArray();
  for (const std::string& version : *versions) {
    Result<ModelMeta> meta = registry_.ReadMeta(name, version);
    if (!meta.ok()) return Fail(500, meta.status().message());
    json.BeginObject()
        .Key("version")
        .String(version)
        .Key("format")
        .String(ModelFormatName(meta->format))
        .Key("created_at")
        .String(meta->created_at)
        .Key("registered_by")
        .String(meta->registered_by)
        .Key("note")
        .String(meta->note)
        .Key("live")
        .Bool(*live == version)
        .Key("shadow")
        .Bool(*shadow == version)
        .Key("metrics")
        .BeginObject();
    for (const auto& [metric, value] : meta->metrics) json.Key(metric).Number(value);
    json.EndObject().EndObject();
  }
  json.EndArray().EndObject();
  return Answer(200, std::move(out));
}

AdminAnswer ModelAdmin::History(const std::string& name) const {
  if (auto bad = CheckModel(name)) return *bad;
  Result<std::vector<HistoryRecord>> history = registry_.History(name);
  if (!history.ok()) return Fail(500, history.status().message());
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("name").String(name).Key("history").BeginArray();
  for (const HistoryRecord& record : *history) RecordJson(json, record);
  json.EndArray().EndObject();
  return Answer(200, std::move(out));
}

AdminAnswer ModelAdmin::Promote(const std::string& name, const std::string& version, bool force,
                                std::optional<double> min_auc, const std::string& note,
                                const std::string& by) const {
  if (auto bad = CheckModel(name)) return *bad;
  if (Status s = ValidateRegistryName(version, "version"); !s.ok()) return Fail(400, s.message());
  Result<std::vector<std::string>> versions = registry_.ListVersions(name);
  if (!versions.ok()) return Fail(500, versions.status().message());
  if (std::find(versions->begin(), versions->end(), version) == versions->end()) {
    return Fail(404, "model '" + name + "' has no version '" + version + "'");
  }
  PromoteRequest request;
  request.name = name;
  request.version = version;
  request.force = force;
  request.min_auc = min_auc;
  request.note = note;
  request.by = by;
  Result<PromoteResult> promoted = registry_.Promote(request);
  if (!promoted.ok()) return Fail(409, promoted.status().message());
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("name").String(name).Key("live").String(version).Key("record");
  RecordJson(json, promoted->record);
  json.Key("overridden").BeginArray();
  for (const std::string& check : promoted->overridden) json.String(check);
  json.EndArray().EndObject();
  return Answer(200, std::move(out));
}

AdminAnswer ModelAdmin::Rollback(const std::string& name, const std::string& note,
                                 const std::string& by) const {
  if (auto bad = CheckModel(name)) return *bad;
  Result<HistoryRecord> record = registry_.Rollback(name, note, by);
  if (!record.ok()) return Fail(409, record.status().message());
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("name").String(name).Key("live").String(record->version).Key("record");
  RecordJson(json, *record);
  json.EndObject();
  return Answer(200, std::move(out));
}

}  // namespace scorepipe
