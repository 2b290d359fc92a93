#include "proto/upstream_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include <simdjson.h>

namespace scorepipe {
namespace {

// The beginnings of Parse()'s messages, by reason (kBadField: the rest).
constexpr std::string_view kTooLargePrefix = "message is ";
constexpr std::string_view kNotJsonPrefix = "not valid JSON: ";
constexpr std::string_view kNotAnObjectPrefix = "message is not a JSON object";
constexpr std::string_view kMissingFieldPrefix = "missing field ";

// ---------------------------------------------------------------------------
// Small writers

template <typename Number>
void AppendNumber(Number value, std::string* out) {
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, r.ptr);
}

// Writes `value` as exactly `width` decimal digits (zero-padded) at `p`.
char* WriteDigits(char* p, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0
// when it is not one: bad lead byte, missing continuation, overlong form,
// surrogate, or beyond U+10FFFF.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&s](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  size_t length = 0;
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // overlong
    if (lead == 0xed) second_max = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // overlong
    if (lead == 0xf4) second_max = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  if (byte(i + 1) < second_min || byte(i + 1) > second_max) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xc0u) != 0x80u) return 0;
  }
  return length;
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto byte = [&bytes](size_t k) -> uint32_t { return static_cast<uint8_t>(bytes[k]); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    const char quad[4] = {kAlphabet[group >> 18], kAlphabet[(group >> 12) & 63],
                          kAlphabet[(group >> 6) & 63], kAlphabet[group & 63]};
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
// ISO-8601

// Reads the fixed-width fields of a date-time left to right. Errors name the
// position (0-based) instead of repeating the text.
class DateTimeCursor {
 public:
  explicit DateTimeCursor(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  bool NextIsDigit() const { return !AtEnd() && IsDigit(text_[pos_]); }

  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // Reads exactly `count` digits.
  bool Digits(int count, int* out) {
    if (text_.size() - pos_ < static_cast<size_t>(count)) return false;
    int value = 0;
    for (int i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (!IsDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    *out = value;
    return true;
  }

  // Reads one or more digits, at most `max_count`, as a fraction of one.
  // Returns the number read (0 if none, more than max_count if too many).
  int Fraction(int max_count, double* out) {
    int64_t numerator = 0;
    int64_t denominator = 1;
    int count = 0;
    while (NextIsDigit()) {
      if (++count <= max_count) {
        numerator = numerator * 10 + (text_[pos_] - '0');
        denominator *= 10;
      }
      ++pos_;
    }
    *out = static_cast<double>(numerator) / static_cast<double>(denominator);
    return count;
  }

  Status Expected(std::string_view what) const {
    return Status::Error("expected " + std::string(what) + " at position " + std::to_string(pos_));
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  std::string_view text_;
  size_t pos_ = 0;
};

Status OutOfRange(const char* field, int value, const char* range) {
  return Status::Error(std::string(field) + " " + std::to_string(value) + " is out of range " +
                       range);
}

// Reads an optional zone designator into `offset_s` (seconds east of UTC).
Status ReadZone(DateTimeCursor& c, int64_t* offset_s) {
  *offset_s = 0;
  if (c.AtEnd() || c.Consume('Z') || c.Consume('z')) return Status::Ok();
  int sign = 0;
  if (c.Consume('+')) {
    sign = 1;
  } else if (c.Consume('-')) {
    sign = -1;
  } else {
    return c.Expected("a zone (Z, +HH:MM or -HH:MM) or the end");
  }
  int hours = 0;
  int minutes = 0;
  if (!c.Digits(2, &hours)) return c.Expected("2 digits of zone hours");
  if (c.Consume(':')) {
    if (!c.Digits(2, &minutes)) return c.Expected("2 digits of zone minutes");
  } else if (c.NextIsDigit()) {
    if (!c.Digits(2, &minutes)) return c.Expected("2 digits of zone minutes");
  }
  if (hours > 23) return OutOfRange("zone hour", hours, "00-23");
  if (minutes > 59) return OutOfRange("zone minute", minutes, "00-59");
  *offset_s = sign * (hours * 3600 + minutes * 60);
  return Status::Ok();
}

// Saturates at the first and last millisecond that ParseIso8601 accepts.
constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kFirstDay =
    std::chrono::sys_days(std::chrono::year(1) / 1 / 1).time_since_epoch().count();
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
      AppendNumber(value.get_int64().value(), &out);
      break;
    case simdjson::dom::element_type::UINT64:
      AppendNumber(value.get_uint64().value(), &out);
      break;
    case simdjson::dom::element_type::DOUBLE:
      AppendNumber(value.get_double().value(), &out);
      // Keep 1.0 recognisable as a float literal.
      if (out.find_first_of(".en") == std::string::npos) out += ".0";
      break;
    case simdjson::dom::element_type::STRING: {
      const std::string_view s = value.get_string().value();
      if (s.size() <= kMaxQuotedBytes) {
        AppendJsonString(s, &out);
        break;
      }
      size_t cut = kMaxQuotedBytes;
      while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xc0u) == 0x80u) --cut;  // whole chars
      AppendJsonString(s.substr(0, cut), &out);
      out += "... (" + std::to_string(s.size()) + " bytes)";
      break;
    }
  }
  return out;
}

// The fields a Transaction is built from, in the order they are checked.
enum Field : size_t { kId, kCustomerId, kVendorId, kAmount, kTimestamp, kStatus, kFieldCount };
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "id", "customer_id", "vendor_id", "amount", "timestamp", "status"};

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

// id, customer_id, vendor_id: an integer literal in [1, INT64_MAX].
Status ReadPositiveInteger(const FoundFields& found, Field field, int64_t* out) {
  simdjson::dom::element value;
  if (Status status = found.Get(field, &value); !status.ok()) return status;
  if (value.type() == simdjson::dom::element_type::UINT64) {
    return FieldError(field, "expected an integer from 1 to " +
                                 std::to_string(std::numeric_limits<int64_t>::max()) + ", got " +
                                 Describe(value));
  }
  if (value.type() != simdjson::dom::element_type::INT64 || value.get_int64().value() < 1) {
    return FieldError(field, "expected an integer >= 1, got " + Describe(value));
  }
  *out = value.get_int64().value();
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
    return FieldError(kTimestamp, "expected an ISO-8601 date-time string, got " + Describe(value));
  }
  Result<double> parsed = ParseIso8601(s);
  if (!parsed.ok()) {
    return FieldError(kTimestamp, Describe(value) + " is not an ISO-8601 date-time: " +
                                      parsed.status().message());
  }
  text->assign(s);
  *unix_s = *parsed;
  return Status::Ok();
}

Status ReadStatus(const FoundFields& found, std::string* out) {
  simdjson::dom::element value;
  if (Status status = found.Get(kStatus, &value); !status.ok()) return status;
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS ||
      (s != "accepted" && s != "rejected" && s != "pending")) {
    return FieldError(kStatus,
                      "expected one of accepted, rejected, pending; got " + Describe(value));
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
      parser_(std::make_unique<simdjson::dom::parser>(max_message_bytes)) {}

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
  Status status = ReadPositiveInteger(found, kId, &t.id);
  if (status.ok()) status = ReadPositiveInteger(found, kCustomerId, &t.customer_id);
  if (status.ok()) status = ReadPositiveInteger(found, kVendorId, &t.vendor_id);
  if (status.ok()) status = ReadAmount(found, &t.amount);
  if (status.ok()) status = ReadTimestamp(found, &t.timestamp, &t.timestamp_unix_s);
  if (status.ok()) status = ReadStatus(found, &t.status);
  if (!status.ok()) return status;
  return t;
}

Result<double> ParseIso8601(std::string_view text) {
  if (text.empty()) return Status::Error("empty date-time");
  DateTimeCursor c(text);
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!c.Digits(4, &year)) return c.Expected("a 4-digit year");
  if (!c.Consume('-')) return c.Expected("'-'");
  if (!c.Digits(2, &month)) return c.Expected("a 2-digit month");
  if (!c.Consume('-')) return c.Expected("'-'");
  if (!c.Digits(2, &day)) return c.Expected("a 2-digit day");
  if (c.AtEnd()) return Status::Error("missing the time after the date");
  if (!c.Consume('T') && !c.Consume(' ')) return c.Expected("'T' or ' ' after the date");
  if (!c.Digits(2, &hour)) return c.Expected("a 2-digit hour");
  if (!c.Consume(':')) return c.Expected("':'");
  if (!c.Digits(2, &minute)) return c.Expected("a 2-digit minute");
  if (!c.Consume(':')) return c.Expected("':'");
  if (!c.Digits(2, &second)) return c.Expected("a 2-digit second");
  double fraction = 0;
  if (c.Consume('.')) {
    constexpr int kMaxFractionDigits = 9;
    const int digits = c.Fraction(kMaxFractionDigits, &fraction);
    if (digits == 0) return c.Expected("digits after '.'");
    if (digits > kMaxFractionDigits) return Status::Error("more than 9 digits in the fraction");
  }
  int64_t offset_s = 0;
  if (Status status = ReadZone(c, &offset_s); !status.ok()) return status;
  if (!c.AtEnd()) return c.Expected("the end");

  if (year < 1) return OutOfRange("year", year, "0001-9999");
  if (month < 1 || month > 12) return OutOfRange("month", month, "01-12");
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) {
    const unsigned last_day = static_cast<unsigned>(
        std::chrono::year_month_day_last(date.year(), std::chrono::month_day_last(date.month()))
            .day());
    return Status::Error("day " + std::to_string(day) + " is out of range 01-" +
                         std::to_string(last_day) + " for " + std::to_string(year) + "-" +
                         (month < 10 ? "0" : "") + std::to_string(month));
  }
  if (hour > 23) return OutOfRange("hour", hour, "00-23");
  if (minute > 59) return OutOfRange("minute", minute, "00-59");
  if (second > 60) return OutOfRange("second", second, "00-60");

  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return static_cast<double>(seconds) + fraction;
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

// `{"transaction_id":<id>,"timestamp":"<timestamp>"`: how a result and a
// shadow entry begin.
void AppendResultOpening(int64_t transaction_id, std::string_view timestamp, std::string* out) {
  out->append("{\"transaction_id\":");
  AppendNumber(transaction_id, out);
  out->append(",\"timestamp\":");
  AppendJsonString(timestamp, out);
}

// A probability, or null for a NaN or infinity, which JSON cannot express.
void AppendProbability(double value, std::string* out) {
  if (std::isfinite(value)) {
    AppendNumber(value, out);
  } else {
    out->append("null");
  }
}

}  // namespace

void AppendResultJson(const ScoreResult& result, std::string_view timestamp, const ResultModel* model,
                      std::string* out) {
  AppendResultOpening(result.transaction_id, timestamp, out);
  out->append(",\"is_fraudulent\":");
  AppendNumber(result.is_fraudulent, out);
  out->append(",\"confidence\":");
  AppendProbability(result.confidence, out);
  if (model != nullptr && !model->name.empty()) {
    out->append(",\"model\":");
    AppendJsonString(model->name, out);
  }
  if (model != nullptr && !model->version.empty()) {
    out->append(",\"model_version\":");
    AppendJsonString(model->version, out);
  }
  out->push_back('}');
}

void AppendShadowJson(const ScoreResult& live, const ScoreResult& shadow, std::string_view timestamp,
                      const ShadowScores& versions, std::string* out) {
  // ,"<side>_version":...,"<side>_probability":...,"<side>_is_fraudulent":...
  auto append_side = [out](std::string_view side, std::string_view version, const ScoreResult& result) {
    out->append(",\"").append(side).append("_version\":");
    AppendJsonString(version, out);
    out->append(",\"").append(side).append("_probability\":");
    AppendProbability(result.fraud_probability, out);
    out->append(",\"").append(side).append("_is_fraudulent\":");
    AppendNumber(result.is_fraudulent, out);
  };
  AppendResultOpening(live.transaction_id, timestamp, out);
  out->append(",\"model\":");
  AppendJsonString(versions.model, out);
  append_side("live", versions.live_version, live);
  append_side("shadow", versions.shadow_version, shadow);
  out->push_back('}');
}

std::string_view Utf8Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  // The first byte left out is a continuation byte (10xxxxxx) when the cut
  // splits a character: cut before that character's lead byte instead.
  size_t end = max;
  while (end > 0 && max - end < 3 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string DeadLetterJson(std::string_view reason, std::string_view stage,
                           std::string_view original, int64_t failed_at_us) {
  const bool valid_utf8 = simdjson::validate_utf8(original.data(), original.size());
  const std::string_view kept =
      valid_utf8 ? Utf8Prefix(original, kDeadLetterMessageBytes) : original.substr(0, kDeadLetterMessageBytes);
  const std::string_view why = Utf8Prefix(reason, kDeadLetterReasonBytes);
  std::string out;
  out.reserve(96 + why.size() + stage.size() + kept.size() * 4 / 3);
  out.append("{\"reason\":");
  AppendJsonString(why, &out);
  out.append(",\"stage\":");
  AppendJsonString(stage, &out);
  out.append(",\"failed_at\":\"");
  out.append(FormatIso8601Millis(failed_at_us));
  if (valid_utf8) {
    out.append("\",\"message\":");
    AppendJsonString(kept, &out);
  } else {
    out.append("\",\"message_base64\":\"");
    AppendBase64(kept, &out);
    out.push_back('"');
  }
  if (kept.size() < original.size()) {
    out.append(",\"message_bytes\":");
    out.append(std::to_string(original.size()));
    out.append(",\"message_truncated\":true");
  }
  out.push_back('}');
  return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // The characters with a two-character escape, and the letter after the backslash.
  static constexpr std::string_view kShortEscaped = "\"\\\b\f\n\r\t";
  static constexpr std::string_view kShortEscapes = "\"\\bfnrt";
  out->push_back('"');
  size_t copied = 0;  // s[copied, i) is still to be appended as is
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t length = Utf8SequenceLength(s, i); length != 0) {
        i += length;
        continue;
      }
    }
    out->append(s.data() + copied, i - copied);
    if (const size_t k = kShortEscaped.find(static_cast<char>(c)); k != std::string_view::npos) {
      const char escape[2] = {'\\', kShortEscapes[k]};
      out->append(escape, sizeof(escape));
    } else if (c >= 0x80) {
      out->append("\\ufffd");
    } else {
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out->append(escape, sizeof(escape));
    }
    copied = ++i;
  }
  out->append(s.data() + copied, s.size() - copied);
  out->push_back('"');
}

}  // namespace scorepipe
