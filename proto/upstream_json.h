// The upstream JSON formats (docs in /work/shared/UPSTREAM.md): the transaction
// message that producers LPUSH onto `transactions_queue`, the result that goes
// to `results_queue`, and scorepipe's dead-letter entry. The bridge parses
// transactions with TransactionParser; the sink writes results and dead letters
// with the Append/DeadLetter functions.
//
// TransactionParser owns its simdjson parser and buffer: one per thread. The
// free functions keep no state: any thread may call them.
#ifndef SCOREPIPE_PROTO_UPSTREAM_JSON_H_
#define SCOREPIPE_PROTO_UPSTREAM_JSON_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proto/json_writer.h"
#include "proto/messages.h"
#include "proto/status.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace scorepipe {

// Parses and validates one upstream transaction message (the JSON text that
// sits in the Redis list) against the upstream's zod TransactionSchema, so
// that scorepipe scores every message the upstream queue took:
//   - the message is one JSON object and nothing after it;
//   - `id`, `customer_id`, `vendor_id`: JSON numbers >= 1, integer or not
//     (5005.5, 1.0, 1e3, 1e22, 18446744073709551615). The id is echoed in the
//     result exactly as written (Transaction::id_text keeps a token that is
//     not a plain integer); an id token longer than 64 characters is refused
//     (a JavaScript number was not exact there either);
//   - `amount`: a number >= 0 (-0 included);
//   - `timestamp`: a string ParseTimestamp (proto/timestamp.h) reads: what
//     JavaScript's Date.parse reads, but for a date without a year;
//   - `status`: exactly "accepted", "rejected" or "pending".
// A number JSON cannot hold as a double (1e400) makes the message "not valid
// JSON" (JSON.parse makes it Infinity, which zod refuses too), and so does an
// integer literal beyond 2^64-1 (simdjson's limit; the upstream took it as a
// rounded double: write such an id with an exponent or a fraction). Other keys are
// ignored, and of a repeated key the last one counts, as JSON.parse does.
//
// Owns two simdjson DOM parsers (the message's, and a small one for a key
// spelt with escapes) and a padded copy buffer, all reused from one message
// to the next; one per thread; not copyable.
class TransactionParser {
 public:
  explicit TransactionParser(size_t max_message_bytes);
  ~TransactionParser();
  TransactionParser(const TransactionParser&) = delete;
  TransactionParser& operator=(const TransactionParser&) = delete;

  // On failure the Status message is the dead-letter reason: one short line
  // naming the field, the bad value (shortened) and what is allowed, e.g.
  // "field 'amount': expected a number >= 0, got -5" or "missing field 'id'".
  Result<Transaction> Parse(std::string_view text);

 private:
  size_t max_message_bytes_;
  std::unique_ptr<char[]> buffer_;                     // max_message_bytes_ + simdjson padding
  std::unique_ptr<simdjson::dom::parser> parser_;      // behind a pointer: simdjson.h is huge
  std::unique_ptr<simdjson::dom::parser> key_parser_;  // unescapes a key spelt with escapes
};

// Why a message was rejected, in a few words for counting (a metric's
// label); the Status message of Parse() says it in full.
enum class RejectReason : uint8_t {
  kTooLarge,      // "too_large": over the message size limit
  kNotJson,       // "not_json"
  kNotAnObject,   // "not_an_object": JSON, but not an object
  kMissingField,  // "missing_field"
  kBadField,      // "bad_field": a field with a value outside its rule
};
constexpr size_t kRejectReasons = 5;
const char* RejectReasonName(RejectReason reason);
// The reason of a TransactionParser::Parse() failure, from its message.
RejectReason ClassifyReject(std::string_view message);

// Unix microseconds -> "2026-01-01T12:00:00.123Z": UTC, milliseconds rounded
// down. Instants before year 0001 or after 9999 are written as the first or
// last millisecond of that range.
std::string FormatIso8601Millis(int64_t unix_us);

// Writes a transaction id as the message had it, as a JSON value: `id_text`
// when not empty (a raw JSON number token), else `id` in decimal.
void WriteTransactionId(int64_t id, std::string_view id_text, JsonWriter& json);
// The same, appended to text (a JSON value, a CSV field, a message).
void AppendTransactionId(int64_t id, std::string_view id_text, std::string* out);

// Appends the upstream result JSON for `result`, e.g.
//   {"transaction_id":1,"timestamp":"...","is_fraudulent":0,"confidence":0.95}
// (the id as AppendTransactionId writes it: {"transaction_id":5005.50,...}).
// `confidence` is written in the shortest form that parses back to the same
// double (std::to_chars; it may use an exponent, e.g. 1e-07). A NaN or
// infinite confidence, which JSON cannot express, is written as null; callers
// route such a result to the dead-letter queue instead.
//
// With a `model`, the result also names the model that scored it, after the
// upstream's four fields (which the upstream schema allows):
//   {...,"confidence":0.95,"model":"fraud","model_version":"v2"}
// An empty name or version is left out.
struct ResultModel {
  std::string_view name;
  std::string_view version;
};
void AppendResultJson(const ScoreResult& result, std::string_view timestamp, const ResultModel* model,
                      std::string* out);

// One transaction scored by the live version and by the version in shadow
// beside it, as the sink appends it to queue.shadow (docs/models.md):
//   {"transaction_id":1,"timestamp":"<scored at>","model":"fraud",
//    "live_version":"v1","live_probability":0.12,"live_is_fraudulent":0,
//    "shadow_version":"v3","shadow_probability":0.2,"shadow_is_fraudulent":0}
// Probabilities in the shortest form that parses back to the same double; a
// NaN or infinite one as null.
struct ShadowScores {
  std::string_view model;
  std::string_view live_version;
  std::string_view shadow_version;
};
void AppendShadowJson(const ScoreResult& live, const ScoreResult& shadow, std::string_view timestamp,
                      const ShadowScores& versions, std::string* out);

// A dead-letter entry:
//   {"reason":"...","stage":"bridge","failed_at":"<ISO ms>","message":"<original>"}
// The original text goes in as a JSON string; if it is not valid UTF-8 it goes
// as "message_base64" (standard alphabet, padded) instead, byte for byte.
//
// Bounded, so that an entry always fits the wire (proto/codec.h,
// kMaxWireBytesPerMessage) whatever came in: an original longer than
// kDeadLetterMessageBytes keeps only its first kDeadLetterMessageBytes (cut
// back to a whole UTF-8 character when it is valid UTF-8) and the entry adds
// its whole size, `"message_bytes":<n>,"message_truncated":true`; a reason
// longer than kDeadLetterReasonBytes is cut the same way.
inline constexpr size_t kDeadLetterMessageBytes = 2048;
inline constexpr size_t kDeadLetterReasonBytes = 1024;
// The most bytes DeadLetterJson writes for a `stage` of at most 256 bytes:
// every byte of the reason, the stage or the message may become a 6-byte
// \u00XX escape.
inline constexpr size_t kMaxDeadLetterJsonBytes =
    6 * (kDeadLetterMessageBytes + kDeadLetterReasonBytes + 256) + 256;
std::string DeadLetterJson(std::string_view reason, std::string_view stage, std::string_view original,
                           int64_t failed_at_us);

// The longest prefix of `text` of at most `max` bytes that does not end
// inside a UTF-8 sequence (for text that is valid UTF-8; other text is cut at
// `max`).
std::string_view Utf8Prefix(std::string_view text, size_t max);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_UPSTREAM_JSON_H_
