// HostileCorpus: a seeded generator of input-queue messages that try every
// way a producer can get a transaction wrong (and a few ways of getting it
// right that look wrong), each labelled with what must become of it:
//   - kValid: exactly one result in queue.output whose transaction_id is the
//     message's id;
//   - kInvalid: exactly one dead-letter entry with a non-empty reason whose
//     message (or message_base64) starts with the message's first bytes
//     (proto/upstream_json.h, DeadLetterJson).
// The labels follow the upstream (/work/shared/UPSTREAM.md: zod's
// TransactionSchema over JSON.parse, unknown keys stripped, the last of a
// repeated key counting), not this repository's parser, so that a test
// built on them can catch the parser being wrong.
//
// Every message of a corpus carries its own id (from options.first_id up;
// id 1 at most once, for the boundary case), so that ids are unique within
// a corpus and a result can be traced back to the message that caused it.
//
// Deterministic: the same options give the same messages on every run
// (std::mt19937_64, no std::*_distribution). One instance per thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_HOSTILE_CORPUS_H_
#define SCOREPIPE_TESTS_SUPPORT_HOSTILE_CORPUS_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace scorepipe::testing {

// What must become of a message.
enum class Expect : uint8_t {
  kValid,    // one result with its id
  kInvalid,  // one dead-letter entry with a reason
};

// The families of messages; each varies at random within its family.
enum class HostileKind : uint8_t {
  kRandomBytes,      // noise of 1 byte to 4 KB (binary or printable)
  kEmpty,            // "" or whitespace only
  kNotAnObject,      // arrays (one holding a valid transaction), strings, numbers, null, true, false
  kDeepNesting,      // thousands of [[[[ or {"a":{"a":...}}; a few hundred levels in an unknown key: valid
  kOversize,         // over max_message_bytes: max + 1, 100 KB .. 2 MB, up to max_huge_bytes
  kLargeValid,       // a valid transaction padded to just under (or exactly) max_message_bytes
  kNulAndBadUtf8,    // NUL (raw or \u0000), invalid UTF-8, lone surrogates in known keys and values
  kNumberLimits,     // 0, -1, 0.999, 1e309, 1e-400, -0, -1e-300, 1e308, NaN/Infinity literals
  kFieldBoundary,    // each field at its bound: id/customer_id/vendor_id 1 and 0, amount 0, -0, -0.01
  kStatusCase,       // "Accepted", "PENDING", " accepted", ...
  kMissingField,     // one or more of the six fields left out or renamed
  kWrongType,        // a field as the string "7", a bool, null, an array or an object
  kTimestamp,        // full ISO 8601 forms (valid); "yesterday", month 13, "", "   " (invalid)
  kDuplicateKeys,    // a repeated field: the last counts
  kTrailingGarbage,  // "{...} x", "{...}}", two objects; trailing whitespace is valid
  kBom,              // a UTF-8 (or UTF-16) byte order mark before the object
  kLongKey,          // an unknown key of 1 KB up to nearly the limit (valid), or a known key made long
  kManyKeys,         // up to 10,000 unknown keys under the size limit: valid
  kEscapes,          // keys and values written with \u escapes (valid); KBs of raw control bytes (invalid)
  kUpstreamForms,    // only with include_upstream_forms: see HostileCorpusOptions
};
inline constexpr size_t kHostileKinds = 20;
const char* HostileKindName(HostileKind kind);

struct CorpusMessage {
  std::string text;
  HostileKind kind = HostileKind::kRandomBytes;
  Expect expect = Expect::kInvalid;
  // The id a result must carry (kValid; of a non-integer id, its value); of
  // a kInvalid message the id written into it, 0 when it has none.
  double id = 0;
  // Which variation of its kind, in a few words ("id=0", "missing amount").
  std::string variant;
};

struct HostileCorpusOptions {
  uint64_t seed = 1;
  // Ids are given out from here up (> 1: id 1 is the boundary case's).
  int64_t first_id = 2;
  size_t max_message_bytes = 65536;  // bridge.max_message_bytes: valid messages are at most this long
  size_t max_huge_bytes = 3u << 20;  // the largest oversize message
  // Forms the upstream accepts beyond the common ones: timestamps that only
  // Date.parse reads ("2023-01-01", RFC 2822 dates such as "Sun, 01 Jan 2023
  // 12:00:00 GMT") and ids that zod's number().min(1) lets through (5005.5,
  // 7.0, 7e0). Valid per the upstream, and scored by scorepipe; off, they are
  // not generated.
  bool include_upstream_forms = true;
};

class HostileCorpus {
 public:
  explicit HostileCorpus(const HostileCorpusOptions& options);

  // A message of a kind drawn at random.
  CorpusMessage Next();
  // A message of `kind`.
  CorpusMessage Next(HostileKind kind);
  // A message of a random kind that carries `expect`.
  CorpusMessage Next(Expect expect);
  // A valid transaction padded with an unknown string field to exactly
  // `bytes` (at least 256): valid up to max_message_bytes, too large after.
  // `complete` false leaves out "amount": invalid at any size. Its kind is
  // kLargeValid, kOversize or (without "amount") kMissingField.
  CorpusMessage Padded(size_t bytes, bool complete = true);

  // The kinds Next() draws from.
  const std::vector<HostileKind>& kinds() const { return kinds_; }
  const HostileCorpusOptions& options() const { return options_; }

 private:
  // One field of a transaction object: the key and the value as JSON text.
  struct Field {
    std::string key;    // JSON text of the key, quotes included
    std::string value;  // JSON text of the value
  };

  uint64_t Below(uint64_t n) { return random_() % n; }
  bool OneIn(uint64_t n) { return Below(n) == 0; }
  template <typename T>
  const T& Pick(const std::vector<T>& choices) {
    return choices[Below(choices.size())];
  }
  int64_t TakeId() { return next_id_++; }

  // A valid transaction with id `id` and random other fields.
  std::vector<Field> Transaction(int64_t id);
  // Writes an object, with random JSON whitespace between tokens.
  std::string Render(const std::vector<Field>& fields);
  // Inserts an unknown key with a string value before the object's last '}'
  // so that `object` becomes exactly `bytes` long (or the least it can).
  void PadTo(size_t bytes, std::string* object);
  std::string SureTimestamp();
  std::string RandomAscii(size_t bytes);

  CorpusMessage RandomBytes();
  CorpusMessage Empty();
  CorpusMessage NotAnObject();
  CorpusMessage DeepNesting();
  CorpusMessage Oversize();
  CorpusMessage LargeValid();
  CorpusMessage NulAndBadUtf8();
  CorpusMessage NumberLimits();
  CorpusMessage FieldBoundary();
  CorpusMessage StatusCase();
  CorpusMessage MissingField();
  CorpusMessage WrongType();
  CorpusMessage TimestampForms();
  CorpusMessage DuplicateKeys();
  CorpusMessage TrailingGarbage();
  CorpusMessage Bom();
  CorpusMessage LongKey();
  CorpusMessage ManyKeys();
  CorpusMessage Escapes();
  CorpusMessage UpstreamForms();

  // One value of one field (`field` in the order of Transaction()) and its label.
  struct FieldCase {
    size_t field;
    const char* value;
    Expect expect;
  };
  // A transaction of `kind` with one of `cases` picked at random.
  CorpusMessage OneOf(HostileKind kind, const std::vector<FieldCase>& cases);
  // A transaction of `kind` with id `id` whose field at `index` (in the
  // order of Transaction(): id, customer_id, vendor_id, timestamp, status,
  // amount) is `value`, labelled `expect`.
  CorpusMessage WithField(HostileKind kind, int64_t id, size_t index, const std::string& value, Expect expect,
                          const std::string& variant);

  HostileCorpusOptions options_;
  std::mt19937_64 random_;
  int64_t next_id_;
  bool id_one_used_ = false;
  std::vector<HostileKind> kinds_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_HOSTILE_CORPUS_H_
