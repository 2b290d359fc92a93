// One JSON writer for every JSON document scorepipe writes: the upstream's
// result and dead-letter formats and the shadow entries, the status
// snapshot, the reports of `status`, `evaluate`, `model shadow-report` and
// the benchmark, the evaluation figures, the JSON log lines, the registry's
// history lines, the http-mq push body and the trainer's metrics.json.
//
// JsonWriter appends to a string and puts the commas itself: open an object
// or array, give each member a Key() then its value (or a Field(): both at
// once), close it. Keys and string values are escaped by AppendJsonString. A
// key written as a string literal is checked when the program is compiled
// and copied without the escaping scan (JsonKeyLiteral): the hot path writes
// one result per message. Numbers are written in the shortest form that
// reads back to the same value, or with a printf format where a report
// wants fixed digits; a NaN or infinity, which JSON cannot hold, is written
// as null.
//
// The layout is compact (no whitespace: one line, for machines) unless the
// writer is made with JsonLayout::kIndented, for files people read.
//
// Not thread-safe; cheap to make (no allocation of its own), so the hot
// path makes one per result. Copyable: a copy goes on where the original
// stood (a helper may open a document and return its writer). Nesting is
// not limited. The writer trusts its caller with the document's shape: a key
// outside an object, a value where a key is due, a container closed twice or
// a second root value is a programming error (asserted in debug builds), not
// checked at run time.
//
// Speed (the hot path writes one result per message): every member is
// always inlined, and what is not inline takes the string, never the
// writer. A writer made on the stack then stays in registers, its state
// known where each member is written, and a literal key grows the string by
// a constant with plain stores, as an append of a string literal does. (A
// writer whose address a call sees would be reloaded after every char
// written: a char may alias anything.)
#ifndef SCOREPIPE_PROTO_JSON_WRITER_H_
#define SCOREPIPE_PROTO_JSON_WRITER_H_

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace scorepipe {

// Appends `s` as a JSON string literal: quotes, '"' and '\' escaped, \b \f \n
// \r \t in their short form, other control characters as \u00XX. Bytes that
// are not valid UTF-8 become \ufffd, so the output is always valid JSON.
// Everything else (printable ASCII, valid UTF-8, DEL) is copied as it is.
void AppendJsonString(std::string_view s, std::string* out);

// How JsonWriter lays a document out.
enum class JsonLayout : uint8_t {
  // No whitespace at all: a document is one line. For machines (queues, logs,
  // JSON lines); the default.
  kCompact,
  // One member or element a line, indented by two spaces a level, `"key": value`;
  // an empty object or array stays `{}` or `[]`; no line break after the last
  // bracket. What JavaScript's JSON.stringify(value, null, 2) and Python's
  // json.dumps(value, indent=2) write. For files people read.
  kIndented,
};

// A key written as a string literal (or a constexpr char array): checked
// when the program is compiled to need no escaping (printable ASCII without
// '"' and '\'), so that JsonWriter copies it as it is. A literal that would
// need escaping does not compile ("not a constant expression" at its
// `throw`); a char array filled at run time does not either: write such a key
// as a std::string_view.
class JsonKeyLiteral {
 public:
  template <size_t N>
  consteval JsonKeyLiteral(const char (&key)[N])  // NOLINT(google-explicit-constructor): literals convert
      : text_(key), size_(N - 1) {
    if (key[N - 1] != '\0') throw "a JSON key literal is a NUL-terminated string";
    for (size_t i = 0; i + 1 < N; ++i) {
      const char c = key[i];
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        throw "a JSON key literal is printable ASCII without '\"' and '\\'; write this key as a string_view";
      }
    }
  }

  constexpr std::string_view text() const { return {text_, size_}; }

 private:
  const char* text_;
  size_t size_;
};

// A key given at run time (std::string, std::string_view, const char*): it is
// escaped. Char arrays are keys literal or nothing (JsonKeyLiteral).
template <typename S>
concept JsonRuntimeKey = std::is_convertible_v<const S&, std::string_view> && !std::is_array_v<S>;

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string* out, JsonLayout layout = JsonLayout::kCompact)
      : out_(out), indented_(layout == JsonLayout::kIndented) {}

  [[gnu::always_inline]] JsonWriter& BeginObject() { return Open('{'); }
  [[gnu::always_inline]] JsonWriter& EndObject() { return Close('}'); }
  [[gnu::always_inline]] JsonWriter& BeginArray() { return Open('['); }
  [[gnu::always_inline]] JsonWriter& EndArray() { return Close(']'); }

  // The next member's name; the next call writes its value.
  [[gnu::always_inline]] JsonWriter& Key(JsonKeyLiteral key) {
    assert(depth_ > 0 && where_ != Where::kAfterKey);  // a key stands in an object, before its value
    if (indented_) [[unlikely]] {
      AppendIndentedKey(key.text(), where_ == Where::kAfterValue, depth_, out_);
      where_ = Where::kAfterKey;
      return *this;
    }
    if (where_ == Where::kAfterValue) out_->push_back(',');
    where_ = Where::kAfterKey;
    const std::string_view text = key.text();
    const size_t at = out_->size();
    out_->resize(at + text.size() + 3);
    char* p = out_->data() + at;
    p[0] = '"';
    std::memcpy(p + 1, text.data(), text.size());
    p[text.size() + 1] = '"';
    p[text.size() + 2] = ':';
    return *this;
  }
  template <JsonRuntimeKey S>
  [[gnu::always_inline]] JsonWriter& Key(const S& key) {
    assert(depth_ > 0 && where_ != Where::kAfterKey);
    Separate();
    AppendJsonString(key, out_);
    EndKey(/*closing_quote=*/false);
    return *this;
  }

  [[gnu::always_inline]] JsonWriter& String(std::string_view value) {
    Separate();
    AppendJsonString(value, out_);
    return *this;
  }
  [[gnu::always_inline]] JsonWriter& Int(int64_t value) { return Integer(value); }
  [[gnu::always_inline]] JsonWriter& Uint(uint64_t value) { return Integer(value); }
  // Shortest round-trip form (std::to_chars); null when not finite.
  [[gnu::always_inline]] JsonWriter& Number(double value) {
    Separate();
    if (!std::isfinite(value)) {
      out_->append("null");
      return *this;
    }
    char buffer[32];
    const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_->append(buffer, r.ptr);
    return *this;
  }
  // printf-style `format` with one double ("%.1f", "%.6g"); null when not
  // finite. The format must make a JSON number of a finite value (no "%a",
  // no padding) and at most 63 characters.
  [[gnu::always_inline]] JsonWriter& Number(double value, const char* format) {
    Separate();
    if (std::isfinite(value)) {
      AppendFormatted(value, format, out_);
    } else {
      out_->append("null");
    }
    return *this;
  }
  [[gnu::always_inline]] JsonWriter& Bool(bool value) {
    Separate();
    out_->append(value ? "true" : "false");
    return *this;
  }
  [[gnu::always_inline]] JsonWriter& Null() {
    Separate();
    out_->append("null");
    return *this;
  }
  // A value that is already JSON (an object built elsewhere, a message that
  // is a JSON text), as it is: the caller vouches that it is one JSON value.
  // In the indented layout it stays as it was written.
  [[gnu::always_inline]] JsonWriter& Raw(std::string_view json) {
    Separate();
    out_->append(json);
    return *this;
  }

  // A value by its C++ type: bool as true/false, signed and unsigned
  // integers of every width as Int/Uint, floating point as Number, anything
  // that is a std::string_view as String. (char is refused: a character or
  // a small number is ambiguous.)
  template <typename V>
  [[gnu::always_inline]] JsonWriter& Value(const V& value) {
    using T = std::remove_cvref_t<V>;
    if constexpr (std::is_same_v<T, bool>) {
      return Bool(value);
    } else if constexpr (std::is_integral_v<T>) {
      static_assert(!std::is_same_v<T, char>, "a char value: write it as a String or an Int");
      if constexpr (std::is_signed_v<T>)
        return Int(value);
      else
        return Uint(value);
    } else if constexpr (std::is_floating_point_v<T>) {
      return Number(static_cast<double>(value));
    } else {
      static_assert(std::is_convertible_v<const V&, std::string_view>, "no JSON form for this type");
      return String(value);
    }
  }

  // Key(key) and Value(value): a literal key, or a run-time one.
  template <typename V>
  [[gnu::always_inline]] JsonWriter& Field(JsonKeyLiteral key, const V& value) {
    return Key(key).Value(value);
  }
  template <JsonRuntimeKey S, typename V>
  [[gnu::always_inline]] JsonWriter& Field(const S& key, const V& value) {
    return Key(key).Value(value);
  }
  // Key(key) and Number(value, format).
  [[gnu::always_inline]] JsonWriter& Field(JsonKeyLiteral key, double value, const char* format) {
    return Key(key).Number(value, format);
  }
  template <JsonRuntimeKey S>
  [[gnu::always_inline]] JsonWriter& Field(const S& key, double value, const char* format) {
    return Key(key).Number(value, format);
  }

  std::string& out() { return *out_; }

 private:
  // Where the next key or value stands, which says what goes before it.
  enum class Where : uint8_t {
    kFirst,       // first in its container (or the document): nothing
    kAfterValue,  // after a member or element: a comma
    kAfterKey,    // a member's value: nothing
  };

  // Writes what a value or key needs before it where it stands: the comma
  // after an earlier member or element, and in the indented layout the line
  // break and indentation (not after a key).
  [[gnu::always_inline]] void Separate() {
    const Where where = where_;
    where_ = Where::kAfterValue;
    if (where == Where::kAfterValue) out_->push_back(',');
    if (indented_ && where != Where::kAfterKey && depth_ > 0) [[unlikely]]
      NewLine(depth_, out_);
  }
  // Ends a key whose text is written: its closing quote unless it has one
  // (AppendJsonString writes it, a literal's text does not), the colon, and
  // in the indented layout a space.
  [[gnu::always_inline]] void EndKey(bool closing_quote) {
    static constexpr char kEnd[] = "\": ";
    const size_t skipped = closing_quote ? 0 : 1;
    out_->append(kEnd + skipped, (indented_ ? 3 : 2) - skipped);
    where_ = Where::kAfterKey;
  }
  // What is not inline (see the top): these take the string, not the writer.
  //
  // A literal key in the indented layout, with what goes before it: the
  // comma (`comma`), the line break and indentation, `"text": `.
  static void AppendIndentedKey(std::string_view text, bool comma, int depth, std::string* out);
  // A line break and `depth` levels of indentation.
  static void NewLine(int depth, std::string* out);
  // `value` by printf's `format`.
  static void AppendFormatted(double value, const char* format, std::string* out);
  template <typename Integral>
  [[gnu::always_inline]] JsonWriter& Integer(Integral value) {
    Separate();
    char buffer[24];
    const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_->append(buffer, r.ptr);
    return *this;
  }
  [[gnu::always_inline]] JsonWriter& Open(char bracket) {
    Separate();
    out_->push_back(bracket);
    ++depth_;
    where_ = Where::kFirst;
    return *this;
  }
  [[gnu::always_inline]] JsonWriter& Close(char bracket) {
    assert(depth_ > 0 && where_ != Where::kAfterKey);
    --depth_;
    // An empty container closes on its opening's line: {} and [].
    if (indented_ && where_ == Where::kAfterValue) NewLine(depth_, out_);
    out_->push_back(bracket);
    where_ = Where::kAfterValue;
    return *this;
  }

  std::string* out_;
  int depth_ = 0;  // containers open
  Where where_ = Where::kFirst;
  bool indented_ = false;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_JSON_WRITER_H_
