// One JSON writer for every JSON document scorepipe writes: the status
// snapshot, the reports of `status`, `evaluate`, `model shadow-report` and
// the benchmark, the evaluation figures, and the upstream's result and
// dead-letter formats.
//
// JsonWriter appends to a string and puts the commas itself: open an object
// or array, give each member a Key() then its value, close it. Keys and
// string values are escaped by AppendJsonString. Numbers are written in the
// shortest form that reads back to the same value, or with a printf format
// where a report wants fixed digits; a NaN or infinity, which JSON cannot
// hold, is written as null.
//
// Not thread-safe; cheap to make (no allocation of its own), so the hot
// path makes one per result. Nesting is limited to kMaxDepth levels, far
// beyond what scorepipe writes (a deeper document is a programming error
// and asserts in debug builds).
#ifndef SCOREPIPE_PROTO_JSON_WRITER_H_
#define SCOREPIPE_PROTO_JSON_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scorepipe {

// Appends `s` as a JSON string literal: quotes, '"' and '\' escaped, \b \f \n
// \r \t in their short form, other control characters as \u00XX. Bytes that
// are not valid UTF-8 become \ufffd, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);

class JsonWriter {
 public:
  static constexpr int kMaxDepth = 32;

  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The next member's name; the next call writes its value.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  // Shortest round-trip form (std::to_chars); null when not finite.
  JsonWriter& Number(double value);
  // printf-style `format` with one double ("%.1f", "%.6g"); null when not finite.
  JsonWriter& Number(double value, const char* format);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value that is already JSON (an object built elsewhere), as it is.
  JsonWriter& Raw(std::string_view json);

  // Key(key) and the value, for the common types.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const std::string& value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& Field(std::string_view key, double value) { return Key(key).Number(value); }
  JsonWriter& Field(std::string_view key, double value, const char* format) {
    return Key(key).Number(value, format);
  }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

  std::string& out() { return *out_; }

 private:
  // Writes the comma a value or key needs where it stands.
  void Separate();
  template <typename Integral>
  JsonWriter& Integer(Integral value);
  void Open(char bracket);
  void Close(char bracket);

  std::string* out_;
  int depth_ = 0;
  uint64_t has_members_ = 0;  // bit d: the container at depth d already holds something
  bool after_key_ = false;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_JSON_WRITER_H_
