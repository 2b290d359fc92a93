#include "proto/upstream_json.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "proto/codec.h"
#include "proto/timestamp.h"

namespace scorepipe {
namespace {

// The beginnings of Parse()'s messages, by reason (kBadField: the rest).
constexpr std::string_view kTooLargePrefix = "message is ";
constexpr std::string_view kNotJsonPrefix = "not valid JSON: ";
constexpr std::string_view kNotAnObjectPrefix = "message is not a JSON object";
constexpr std::string_view kMissingFieldPrefix = "missing field ";

// ---------------------------------------------------------------------------
// Small writers

// Writes `value` as exactly `width` decimal digits (zero-padded) at `p`.
char* WriteDigits(char* p, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto byte = [&bytes](size_t k) -> uint32_t { return static_cast<uint8_t>(bytes[k]); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    const char quad[4] = {kAlphabet[group >> 18], kAlphabet[(group >> 12) & 63], kAlphabet[(group >> 6) & 63],
                          kAlphabet[group & 63]};
    out->append(quad, 4);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const uint32_t group = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
  const char quad[4] = {kAlphabet[group >> 18], kAlphabet[(group >> 12) & 63],
                        rest == 2 ? kAlphabet[(group >> 6) & 63] : '=', '='};
  out->append(quad, 4);
}

// ---------------------------------------------------------------------------
// ISO-8601 output

// Saturates at the first and last millisecond that ParseIso8601 accepts.
constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kFirstDay = std::chrono::sys_days(std::chrono::year(1) / 1 / 1).time_since_epoch().count();
constexpr int64_t kLastDay =
    std::chrono::sys_days(std::chrono::year(9999) / 12 / 31).time_since_epoch().count();

// ---------------------------------------------------------------------------
// Transaction validation

// Upper bound on how much of a bad string value goes into a reason.
constexpr size_t kMaxQuotedBytes = 40;

// A short, one-line rendering of a JSON value for a reason string: scalars as
// JSON (strings cut to kMaxQuotedBytes), containers by their kind only.
std::string Describe(simdjson::dom::element value) {
  std::string out;
  JsonWriter json(&out);
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    case simdjson::dom::element_type::BOOL:
      return value.get_bool().value() ? "true" : "false";
    case simdjson::dom::element_type::INT64:
      json.Int(value.get_int64().value());
      break;
    case simdjson::dom::element_type::UINT64:
      json.Uint(value.get_uint64().value());
      break;
    case simdjson::dom::element_type::DOUBLE:
      json.Number(value.get_double().value());  // finite: simdjson refuses 1e400
      // Keep 1.0 recognisable as a float literal.
      if (out.find_first_of(".en") == std::string::npos) out += ".0";
      break;
    case simdjson::dom::element_type::STRING: {
      const std::string_view s = value.get_string().value();
      if (s.size() <= kMaxQuotedBytes) {
        json.String(s);
        break;
      }
      size_t cut = kMaxQuotedBytes;
      while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xc0u) == 0x80u) --cut;  // whole chars
      json.String(s.substr(0, cut));
      out += "... (" + std::to_string(s.size()) + " bytes)";
      break;
    }
  }
  return out;
}

// The fields a Transaction is built from, in the order they are checked.
enum Field : size_t { kId, kCustomerId, kVendorId, kAmount, kTimestamp, kStatus, kFieldCount };
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {"id",     "customer_id", "vendor_id",
                                                                   "amount", "timestamp",   "status"};

// The value of each known field in one message object; of a repeated key,
// the last (as Python's json.loads keeps).
class FoundFields {
 public:
  explicit FoundFields(simdjson::dom::object object) {
    for (const simdjson::dom::key_value_pair field : object) {
      for (size_t i = 0; i < kFieldCount; ++i) {
        if (field.key == kFieldNames[i]) {
          values_[i] = field.value;
          seen_[i] = true;
          break;
        }
      }
    }
  }

  // The value of `field`, or an error naming it if the message lacks it.
  Status Get(Field field, simdjson::dom::element* value) const {
    if (!seen_[field]) {
      return Status::Error(std::string(kMissingFieldPrefix) + "'" + std::string(kFieldNames[field]) + "'");
    }
    *value = values_[field];
    return Status::Ok();
  }

 private:
  std::array<simdjson::dom::element, kFieldCount> values_;
  std::array<bool, kFieldCount> seen_{};
};

Status FieldError(Field field, const std::string& why) {
  return Status::Error("field '" + std::string(kFieldNames[field]) + "': " + why);
}

// The longest number token an id may have. The upstream takes longer ones,
// but a JavaScript number keeps 17 significant digits, so a longer id was
// never exact there either.
constexpr size_t kMaxIdTokenBytes = 64;

// The number value of a JSON number element (false for other types).
bool NumberValue(simdjson::dom::element value, double* out) {
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      *out = static_cast<double>(value.get_int64().value());
      return true;
    case simdjson::dom::element_type::UINT64:
      *out = static_cast<double>(value.get_uint64().value());
      return true;
    case simdjson::dom::element_type::DOUBLE:
      *out = value.get_double().value();
      return true;
    default:
      return false;
  }
}

// customer_id, vendor_id (and id): any JSON number >= 1, as zod's
// z.number().min(1) takes it.
Status ReadNumberAtLeastOne(const FoundFields& found, Field field, double* out) {
  simdjson::dom::element value;
  if (Status status = found.Get(field, &value); !status.ok()) return status;
  if (!NumberValue(value, out) || !(*out >= 1)) {
    return FieldError(field, "expected a number >= 1, got " + Describe(value));
  }
  return Status::Ok();
}

// Skips the JSON string that starts at text[i] (a '"'); returns the index
// after it. `text` is valid JSON.
size_t SkipString(std::string_view text, size_t i) {
  for (++i; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] == '\\') ++i;
  }
  return i + 1;
}

// Skips the JSON value that starts at text[i]; returns the index after it.
size_t SkipValue(std::string_view text, size_t i) {
  if (text[i] == '"') return SkipString(text, i);
  if (text[i] != '{' && text[i] != '[') {
    while (i < text.size() && text.find_first_of(",}] \t\r\n", i) != i) ++i;
    return i;
  }
  int depth = 0;
  do {
    if (text[i] == '"') {
      i = SkipString(text, i);
      continue;
    }
    if (text[i] == '{' || text[i] == '[') ++depth;
    if (text[i] == '}' || text[i] == ']') --depth;
    ++i;
  } while (depth > 0 && i < text.size());
  return i;
}

size_t SkipSpace(std::string_view text, size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
  return i;
}

// The text of the last top-level `"id"` member's value in `text`, a JSON
// object that simdjson accepted. A key written with escapes ("\u0069d") is
// compared as simdjson compares it: unescaped.
std::string_view IdToken(std::string_view text, simdjson::dom::parser& key_parser) {
  std::string_view token;
  size_t i = SkipSpace(text, 0) + 1;  // past '{'
  while (true) {
    i = SkipSpace(text, i);
    if (i >= text.size() || text[i] != '"') return token;
    const size_t key_end = SkipString(text, i);
    std::string_view key = text.substr(i + 1, key_end - i - 2);
    bool is_id = key == "id";
    if (!is_id && key.find('\\') != std::string_view::npos) {
      std::string_view unescaped;
      is_id =
          key_parser.parse(text.substr(i, key_end - i)).get_string().get(unescaped) == simdjson::SUCCESS &&
          unescaped == "id";
    }
    i = SkipSpace(text, key_end) + 1;  // past ':'
    i = SkipSpace(text, i);
    const size_t value_end = SkipValue(text, i);
    if (is_id) token = text.substr(i, value_end - i);
    i = SkipSpace(text, value_end);
    if (i >= text.size() || text[i] != ',') return token;
    ++i;
  }
}

// id: like customer_id, and kept as written (see Transaction).
Status ReadId(const FoundFields& found, std::string_view text, simdjson::dom::parser& key_parser,
              Transaction* t) {
  simdjson::dom::element value;
  if (Status status = found.Get(kId, &value); !status.ok()) return status;
  if (value.type() == simdjson::dom::element_type::INT64 && value.get_int64().value() >= 1) {
    t->id = value.get_int64().value();  // a plain decimal literal: no text to keep
    return Status::Ok();
  }
  double number = 0;
  if (Status status = ReadNumberAtLeastOne(found, kId, &number); !status.ok()) return status;
  const std::string_view token = IdToken(text, key_parser);
  if (token.size() > kMaxIdTokenBytes) {
    return FieldError(kId, "the number has " + std::to_string(token.size()) + " characters; at most " +
                               std::to_string(kMaxIdTokenBytes) + " are kept");
  }
  t->id = 0;
  t->id_text.assign(token);
  return Status::Ok();
}

// amount: a finite number >= 0, integer or float literal.
Status ReadAmount(const FoundFields& found, double* out) {
  simdjson::dom::element value;
  if (Status status = found.Get(kAmount, &value); !status.ok()) return status;
  double amount = 0;
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      amount = static_cast<double>(value.get_int64().value());
      break;
    case simdjson::dom::element_type::UINT64:
      amount = static_cast<double>(value.get_uint64().value());
      break;
    case simdjson::dom::element_type::DOUBLE:
      amount = value.get_double().value();
      break;
    default:
      return FieldError(kAmount, "expected a number >= 0, got " + Describe(value));
  }
  if (!std::isfinite(amount) || amount < 0) {
    return FieldError(kAmount, "expected a number >= 0, got " + Describe(value));
  }
  *out = amount;
  return Status::Ok();
}

Status ReadTimestamp(const FoundFields& found, std::string* text, double* unix_s) {
  simdjson::dom::element value;
  if (Status status = found.Get(kTimestamp, &value); !status.ok()) return status;
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) {
    return FieldError(kTimestamp, "expected a date string, got " + Describe(value));
  }
  Result<ParsedTimestamp> parsed = ParseTimestamp(s);
  if (!parsed.ok()) {
    return FieldError(kTimestamp, Describe(value) + " is not a date: " + parsed.status().message());
  }
  if (s.size() > kMaxTimestampTextBytes) {
    // A date to the upstream (V8 skips comments in parentheses), but more
    // text than the wire carries per transaction (proto/codec.h).
    return FieldError(kTimestamp, "a date of " + std::to_string(s.size()) +
                                      " bytes; scorepipe takes at most " +
                                      std::to_string(kMaxTimestampTextBytes));
  }
  text->assign(s);
  *unix_s = parsed->UnixSeconds();
  return Status::Ok();
}

Status ReadStatus(const FoundFields& found, std::string* out) {
  simdjson::dom::element value;
  if (Status status = found.Get(kStatus, &value); !status.ok()) return status;
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS ||
      (s != "accepted" && s != "rejected" && s != "pending")) {
    return FieldError(kStatus, "expected one of accepted, rejected, pending; got " + Describe(value));
  }
  out->assign(s);
  return Status::Ok();
}

}  // namespace

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kTooLarge:
      return "too_large";
    case RejectReason::kNotJson:
      return "not_json";
    case RejectReason::kNotAnObject:
      return "not_an_object";
    case RejectReason::kMissingField:
      return "missing_field";
    case RejectReason::kBadField:
      return "bad_field";
  }
  return "bad_field";
}

RejectReason ClassifyReject(std::string_view message) {
  if (message.starts_with(kNotAnObjectPrefix)) return RejectReason::kNotAnObject;
  if (message.starts_with(kTooLargePrefix)) return RejectReason::kTooLarge;
  if (message.starts_with(kNotJsonPrefix)) return RejectReason::kNotJson;
  if (message.starts_with(kMissingFieldPrefix)) return RejectReason::kMissingField;
  return RejectReason::kBadField;
}

TransactionParser::TransactionParser(size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes),
      // Zeroed so that simdjson's reads past the end never touch uninitialised memory.
      buffer_(new char[max_message_bytes + simdjson::SIMDJSON_PADDING]()),
      parser_(std::make_unique<simdjson::dom::parser>(max_message_bytes)),
      key_parser_(std::make_unique<simdjson::dom::parser>()) {}

TransactionParser::~TransactionParser() = default;

Result<Transaction> TransactionParser::Parse(std::string_view text) {
  if (text.size() > max_message_bytes_) {
    return Status::Error(std::string(kTooLargePrefix) + std::to_string(text.size()) + " bytes; limit " +
                         std::to_string(max_message_bytes_));
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; the copy provides them.
  std::memcpy(buffer_.get(), text.data(), text.size());
  simdjson::dom::element root;
  if (const simdjson::error_code error =
          parser_->parse(buffer_.get(), text.size(), /*realloc_if_needed=*/false).get(root);
      error != simdjson::SUCCESS) {
    return Status::Error(std::string(kNotJsonPrefix) + simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::Error(std::string(kNotAnObjectPrefix) + ", got " + Describe(root));
  }

  const FoundFields found(object);
  Transaction t;
  Status status = ReadId(found, text, *key_parser_, &t);
  if (status.ok()) status = ReadNumberAtLeastOne(found, kCustomerId, &t.customer_id);
  if (status.ok()) status = ReadNumberAtLeastOne(found, kVendorId, &t.vendor_id);
  if (status.ok()) status = ReadAmount(found, &t.amount);
  if (status.ok()) status = ReadTimestamp(found, &t.timestamp, &t.timestamp_unix_s);
  if (status.ok()) status = ReadStatus(found, &t.status);
  if (!status.ok()) return status;
  return t;
}

std::string FormatIso8601Millis(int64_t unix_us) {
  // Floor division, so that instants before 1970 round down too.
  int64_t ms = unix_us / 1000 - (unix_us % 1000 < 0 ? 1 : 0);
  ms = std::clamp(ms, kFirstDay * kMsPerDay, (kLastDay + 1) * kMsPerDay - 1);
  const int64_t days = ms / kMsPerDay - (ms % kMsPerDay < 0 ? 1 : 0);
  int64_t ms_of_day = ms - days * kMsPerDay;
  const std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(days))};

  char text[24];  // YYYY-MM-DDTHH:MM:SS.mmmZ
  char* p = WriteDigits(text, static_cast<int>(date.year()), 4);
  *p++ = '-';
  p = WriteDigits(p, static_cast<unsigned>(date.month()), 2);
  *p++ = '-';
  p = WriteDigits(p, static_cast<unsigned>(date.day()), 2);
  *p++ = 'T';
  p = WriteDigits(p, ms_of_day / 3'600'000, 2);
  ms_of_day %= 3'600'000;
  *p++ = ':';
  p = WriteDigits(p, ms_of_day / 60'000, 2);
  ms_of_day %= 60'000;
  *p++ = ':';
  p = WriteDigits(p, ms_of_day / 1000, 2);
  *p++ = '.';
  p = WriteDigits(p, ms_of_day % 1000, 3);
  *p++ = 'Z';
  return std::string(text, p);
}

namespace {

// Opens the object and writes `"transaction_id":<id>,"timestamp":"<timestamp>"`
// (how a result and a shadow entry begin), and returns the writer to go on
// with. (By value, not through a reference to the caller's writer: a writer
// that no call sees stays in registers; the hot path writes one per result.)
JsonWriter ResultOpening(const ScoreResult& result, std::string_view timestamp, std::string* out) {
  JsonWriter json(out);
  json.BeginObject().Key("transaction_id");
  WriteTransactionId(result.transaction_id, result.transaction_id_text, json);
  json.Field("timestamp", timestamp);
  return json;
}

}  // namespace

void AppendResultJson(const ScoreResult& result, std::string_view timestamp, const ResultModel* model,
                      std::string* out) {
  JsonWriter json = ResultOpening(result, timestamp, out);
  json.Field("is_fraudulent", result.is_fraudulent).Field("confidence", result.confidence);
  if (model != nullptr && !model->name.empty()) json.Field("model", model->name);
  if (model != nullptr && !model->version.empty()) json.Field("model_version", model->version);
  json.EndObject();
}

void AppendShadowJson(const ScoreResult& live, const ScoreResult& shadow, std::string_view timestamp,
                      const ShadowScores& versions, std::string* out) {
  JsonWriter json = ResultOpening(live, timestamp, out);
  json.Field("model", versions.model);
  json.Field("live_version", versions.live_version)
      .Field("live_probability", live.fraud_probability)
      .Field("live_is_fraudulent", live.is_fraudulent);
  json.Field("shadow_version", versions.shadow_version)
      .Field("shadow_probability", shadow.fraud_probability)
      .Field("shadow_is_fraudulent", shadow.is_fraudulent);
  json.EndObject();
}

std::string_view Utf8Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  // The first byte left out is a continuation byte (10xxxxxx) when the cut
  // splits a character: cut before that character's lead byte instead.
  size_t end = max;
  while (end > 0 && max - end < 3 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

void WriteTransactionId(int64_t id, std::string_view id_text, JsonWriter& json) {
  if (id_text.empty()) {
    json.Int(id);
  } else {
    json.Raw(id_text);
  }
}

void AppendTransactionId(int64_t id, std::string_view id_text, std::string* out) {
  JsonWriter json(out);
  WriteTransactionId(id, id_text, json);
}

std::string DeadLetterJson(std::string_view reason, std::string_view stage, std::string_view original,
                           int64_t failed_at_us) {
  const bool valid_utf8 = simdjson::validate_utf8(original.data(), original.size());
  const std::string_view kept = valid_utf8 ? Utf8Prefix(original, kDeadLetterMessageBytes)
                                           : original.substr(0, kDeadLetterMessageBytes);
  const std::string_view why = Utf8Prefix(reason, kDeadLetterReasonBytes);
  std::string out;
  out.reserve(96 + why.size() + stage.size() + kept.size() * 4 / 3);
  JsonWriter json(&out);
  json.BeginObject()
      .Field("reason", why)
      .Field("stage", stage)
      .Field("failed_at", FormatIso8601Millis(failed_at_us));
  if (valid_utf8) {
    json.Field("message", kept);
  } else {
    std::string base64;  // rare: only an original that is not UTF-8
    AppendBase64(kept, &base64);
    json.Field("message_base64", base64);
  }
  if (kept.size() < original.size())
    json.Field("message_bytes", original.size()).Field("message_truncated", true);
  json.EndObject();
  return out;
}

}  // namespace scorepipe
