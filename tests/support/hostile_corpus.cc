#include "tests/support/hostile_corpus.h"

#include <algorithm>
#include <chrono>

namespace scorepipe::testing {
namespace {

// Positions of the six fields in HostileCorpus::Transaction().
constexpr size_t kIdField = 0;
constexpr size_t kCustomerField = 1;
constexpr size_t kVendorField = 2;
constexpr size_t kTimestampField = 3;
constexpr size_t kStatusField = 4;
constexpr size_t kAmountField = 5;
constexpr size_t kFields = 6;
const char* const kFieldNames[kFields] = {"id", "customer_id", "vendor_id", "timestamp", "status", "amount"};

// Ids written over a message's own id where the test must notice the wrong
// one being used (a decoy of a repeated "id"): far from any id a run gives out.
constexpr int64_t kDecoyIdOffset = 500'000'000;

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

// `text` as a JSON string literal; `text` is ASCII.
std::string JsonStringOf(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string TwoDigits(uint64_t value) {
  return std::string(1, static_cast<char>('0' + value / 10 % 10)) + static_cast<char>('0' + value % 10);
}

CorpusMessage Message(HostileKind kind, std::string text, Expect expect, double id, std::string variant) {
  CorpusMessage m;
  m.text = std::move(text);
  m.kind = kind;
  m.expect = expect;
  m.id = id;
  m.variant = std::move(variant);
  return m;
}

}  // namespace

const char* HostileKindName(HostileKind kind) {
  switch (kind) {
    case HostileKind::kRandomBytes:
      return "random_bytes";
    case HostileKind::kEmpty:
      return "empty";
    case HostileKind::kNotAnObject:
      return "not_an_object";
    case HostileKind::kDeepNesting:
      return "deep_nesting";
    case HostileKind::kOversize:
      return "oversize";
    case HostileKind::kLargeValid:
      return "large_valid";
    case HostileKind::kNulAndBadUtf8:
      return "nul_and_bad_utf8";
    case HostileKind::kNumberLimits:
      return "number_limits";
    case HostileKind::kFieldBoundary:
      return "field_boundary";
    case HostileKind::kStatusCase:
      return "status_case";
    case HostileKind::kMissingField:
      return "missing_field";
    case HostileKind::kWrongType:
      return "wrong_type";
    case HostileKind::kTimestamp:
      return "timestamp";
    case HostileKind::kDuplicateKeys:
      return "duplicate_keys";
    case HostileKind::kTrailingGarbage:
      return "trailing_garbage";
    case HostileKind::kBom:
      return "bom";
    case HostileKind::kLongKey:
      return "long_key";
    case HostileKind::kManyKeys:
      return "many_keys";
    case HostileKind::kEscapes:
      return "escapes";
    case HostileKind::kUpstreamForms:
      return "upstream_forms";
  }
  return "unknown";
}

HostileCorpus::HostileCorpus(const HostileCorpusOptions& options)
    : options_(options), random_(options.seed), next_id_(std::max<int64_t>(options.first_id, 2)) {
  for (size_t k = 0; k < kHostileKinds; ++k) {
    const auto kind = static_cast<HostileKind>(k);
    if (kind == HostileKind::kUpstreamForms && !options_.include_upstream_forms) continue;
    kinds_.push_back(kind);
  }
}

CorpusMessage HostileCorpus::Next() { return Next(Pick(kinds_)); }

CorpusMessage HostileCorpus::Next(Expect expect) {
  for (;;) {
    CorpusMessage m = Next();
    if (m.expect == expect) return m;
  }
}

CorpusMessage HostileCorpus::Next(HostileKind kind) {
  switch (kind) {
    case HostileKind::kRandomBytes:
      return RandomBytes();
    case HostileKind::kEmpty:
      return Empty();
    case HostileKind::kNotAnObject:
      return NotAnObject();
    case HostileKind::kDeepNesting:
      return DeepNesting();
    case HostileKind::kOversize:
      return Oversize();
    case HostileKind::kLargeValid:
      return LargeValid();
    case HostileKind::kNulAndBadUtf8:
      return NulAndBadUtf8();
    case HostileKind::kNumberLimits:
      return NumberLimits();
    case HostileKind::kFieldBoundary:
      return FieldBoundary();
    case HostileKind::kStatusCase:
      return StatusCase();
    case HostileKind::kMissingField:
      return MissingField();
    case HostileKind::kWrongType:
      return WrongType();
    case HostileKind::kTimestamp:
      return TimestampForms();
    case HostileKind::kDuplicateKeys:
      return DuplicateKeys();
    case HostileKind::kTrailingGarbage:
      return TrailingGarbage();
    case HostileKind::kBom:
      return Bom();
    case HostileKind::kLongKey:
      return LongKey();
    case HostileKind::kManyKeys:
      return ManyKeys();
    case HostileKind::kEscapes:
      return Escapes();
    case HostileKind::kUpstreamForms:
      return UpstreamForms();
  }
  return RandomBytes();
}

CorpusMessage HostileCorpus::Padded(size_t bytes, bool complete) {
  const int64_t id = TakeId();
  std::vector<Field> fields = Transaction(id);
  if (!complete) fields.erase(fields.begin() + kAmountField);
  std::string text = Render(fields);
  PadTo(std::max<size_t>(bytes, 256), &text);
  const bool fits = text.size() <= options_.max_message_bytes;
  const Expect expect = complete && fits ? Expect::kValid : Expect::kInvalid;
  std::string variant = complete ? "padded" : "padded, no amount";
  variant += text.size() == options_.max_message_bytes ? " to exactly max"
             : fits                                    ? " under max"
                                                       : " over max";
  const HostileKind kind = !fits      ? HostileKind::kOversize
                           : complete ? HostileKind::kLargeValid
                                      : HostileKind::kMissingField;
  return Message(kind, std::move(text), expect, static_cast<double>(id), variant);
}

// ---------------------------------------------------------------------------
// Building blocks

std::vector<HostileCorpus::Field> HostileCorpus::Transaction(int64_t id) {
  static const std::vector<std::string> kStatuses = {"accepted", "rejected", "pending"};
  const uint64_t cents = Below(10'000'000);
  std::string amount = std::to_string(cents / 100);
  if (!OneIn(4)) amount += "." + TwoDigits(cents % 100);
  return {
      {Quote("id"), std::to_string(id)},
      {Quote("customer_id"), std::to_string(1 + Below(50'000))},
      {Quote("vendor_id"), std::to_string(1 + Below(400))},
      {Quote("timestamp"), Quote(SureTimestamp())},
      {Quote("status"), Quote(Pick(kStatuses))},
      {Quote("amount"), amount},
  };
}

std::string HostileCorpus::Render(const std::vector<Field>& fields) {
  static const std::vector<std::string> kSpaces = {" ", "\n", "\t", "\r\n", "  "};
  const bool spaced = OneIn(4);
  auto space = [&]() -> std::string { return spaced && OneIn(2) ? Pick(kSpaces) : ""; };
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ",";
    out += space() + fields[i].key + space() + ":" + space() + fields[i].value + space();
  }
  return out + "}";
}

void HostileCorpus::PadTo(size_t bytes, std::string* object) {
  static const std::vector<std::string> kKeys = {"note", "pad", "comment", "x"};
  // Multi-byte characters and escapes, so that the padding is not all ASCII.
  static const std::vector<std::string> kPieces = {"\xc3\xa9", "\xe2\x82\xac", "\\n", "\\u00e9", "\\\""};
  constexpr size_t kVariedBytes = 4096;  // then a block of letters over and over: megabytes come fast
  const std::string head = ",\"" + Pick(kKeys) + "\":\"";
  const size_t fixed = object->size() + head.size() + 1;
  const size_t length = bytes > fixed ? bytes - fixed : 0;
  std::string value;
  value.reserve(length);
  const bool mixed = OneIn(2);
  while (value.size() < std::min(length, kVariedBytes)) {
    if (mixed && OneIn(8)) {
      const std::string& piece = Pick(kPieces);
      if (value.size() + piece.size() <= length) {
        value += piece;
        continue;
      }
    }
    value += static_cast<char>('a' + Below(26));
  }
  const std::string letters = RandomAscii(kVariedBytes);
  while (value.size() < length) value.append(letters, 0, std::min(letters.size(), length - value.size()));
  object->insert(object->size() - 1, head + value + "\"");
}

std::string HostileCorpus::SureTimestamp() {
  // The two forms Date.parse surely reads (ECMAScript's date-time string
  // format), with and without milliseconds and offset.
  std::string ts = std::to_string(1971 + Below(129)) + "-" + TwoDigits(1 + Below(12)) + "-" +
                   TwoDigits(1 + Below(28)) + "T" + TwoDigits(Below(24)) + ":" + TwoDigits(Below(60)) + ":" +
                   TwoDigits(Below(60));
  if (OneIn(2)) ts += "." + std::to_string(Below(10)) + TwoDigits(Below(100));
  if (OneIn(2)) return ts + "Z";
  static const std::vector<std::string> kMinutes = {"00", "30", "45"};
  return ts + (OneIn(2) ? "+" : "-") + TwoDigits(Below(15)) + ":" + Pick(kMinutes);
}

std::string HostileCorpus::RandomAscii(size_t bytes) {
  std::string out(bytes, ' ');
  for (char& c : out) c = static_cast<char>('a' + Below(26));
  return out;
}

CorpusMessage HostileCorpus::WithField(HostileKind kind, int64_t id, size_t index, const std::string& value,
                                       Expect expect, const std::string& variant) {
  std::vector<Field> fields = Transaction(id);
  fields[index].value = value;
  const bool id_replaced = index == kIdField;
  return Message(kind, Render(fields), expect, id_replaced && expect == Expect::kInvalid ? 0 : id, variant);
}

// ---------------------------------------------------------------------------
// The kinds

CorpusMessage HostileCorpus::RandomBytes() {
  static const std::string kJsonish = "{}[]\":,0123456789.-eE truefalsnu\\";
  const size_t bytes = 1 + (OneIn(4) ? Below(16) : Below(4096));
  std::string text(bytes, ' ');
  const uint64_t how = Below(3);
  for (char& c : text) {
    if (how == 0) {
      c = static_cast<char>(Below(256));
    } else if (how == 1) {
      c = static_cast<char>(32 + Below(95));
    } else {
      c = kJsonish[Below(kJsonish.size())];
    }
  }
  static const char* const kHow[] = {"binary", "printable", "json-ish"};
  return Message(HostileKind::kRandomBytes, std::move(text), Expect::kInvalid, 0, kHow[how]);
}

CorpusMessage HostileCorpus::Empty() {
  if (OneIn(3)) return Message(HostileKind::kEmpty, "", Expect::kInvalid, 0, "empty");
  static const std::string kWhitespace = " \t\r\n";
  std::string text(1 + Below(16), ' ');
  for (char& c : text) c = kWhitespace[Below(kWhitespace.size())];
  return Message(HostileKind::kEmpty, std::move(text), Expect::kInvalid, 0, "whitespace");
}

CorpusMessage HostileCorpus::NotAnObject() {
  const HostileKind kind = HostileKind::kNotAnObject;
  switch (Below(9)) {
    case 0: {
      std::string text = "[";
      const uint64_t n = Below(20);
      for (uint64_t i = 0; i < n; ++i) text += (i > 0 ? "," : "") + std::to_string(Below(1000));
      return Message(kind, text + "]", Expect::kInvalid, 0, "array");
    }
    case 1: {
      const int64_t id = TakeId();
      return Message(kind, "[" + Render(Transaction(id)) + "]", Expect::kInvalid, static_cast<double>(id),
                     "array of a transaction");
    }
    case 2:
      return Message(kind, JsonStringOf(RandomAscii(Below(200))), Expect::kInvalid, 0, "string");
    case 3: {
      // What a producer sends when it JSON-encodes a message twice.
      const int64_t id = TakeId();
      return Message(kind, JsonStringOf(Render(Transaction(id))), Expect::kInvalid, static_cast<double>(id),
                     "string holding a transaction");
    }
    case 4: {
      static const std::vector<std::string> kNumbers = {"0", "1", "-1", "3.25", "1e5", "-2.5E-3"};
      return Message(kind, OneIn(2) ? Pick(kNumbers) : std::to_string(Below(1'000'000)), Expect::kInvalid, 0,
                     "number");
    }
    case 5:
      return Message(kind, "null", Expect::kInvalid, 0, "null");
    case 6:
      return Message(kind, "true", Expect::kInvalid, 0, "true");
    case 7:
      return Message(kind, "false", Expect::kInvalid, 0, "false");
    default:
      return Message(kind, "[]", Expect::kInvalid, 0, "empty array");
  }
}

CorpusMessage HostileCorpus::DeepNesting() {
  const HostileKind kind = HostileKind::kDeepNesting;
  switch (Below(5)) {
    case 0: {
      const size_t depth = 1000 + Below(29'000);
      return Message(kind, std::string(depth, '[') + std::string(depth, ']'), Expect::kInvalid, 0, "arrays");
    }
    case 1:
      return Message(kind, std::string(1000 + Below(60'000), '['), Expect::kInvalid, 0, "unclosed arrays");
    case 2: {
      const size_t depth = 1000 + Below(11'000);
      std::string text;
      text.reserve(depth * 6 + 1);
      for (size_t i = 0; i < depth; ++i) text += "{\"a\":";
      text += "1" + std::string(depth, '}');
      return Message(kind, std::move(text), Expect::kInvalid, 0, "objects");
    }
    case 3: {
      // The transaction's fields inside the innermost of thousands of objects.
      const int64_t id = TakeId();
      const size_t depth = 1000 + Below(4000);
      std::string text;
      for (size_t i = 0; i < depth; ++i) text += "{\"a\":";
      text += Render(Transaction(id)) + std::string(depth, '}');
      return Message(kind, std::move(text), Expect::kInvalid, static_cast<double>(id),
                     "transaction nested deep");
    }
    default: {
      // A few hundred levels in an unknown key: JSON.parse reads them, zod
      // strips the key.
      const int64_t id = TakeId();
      std::vector<Field> fields = Transaction(id);
      const size_t depth = 100 + Below(400);
      fields.insert(fields.begin() + static_cast<std::ptrdiff_t>(Below(fields.size() + 1)),
                    Field{Quote("nested"), std::string(depth, '[') + std::string(depth, ']')});
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id), "nested unknown key");
    }
  }
}

CorpusMessage HostileCorpus::Oversize() {
  const HostileKind kind = HostileKind::kOversize;
  const size_t limit = options_.max_message_bytes;
  const size_t huge = std::max(options_.max_huge_bytes, limit + 2);
  const size_t low = std::min(std::max<size_t>(100u << 10, limit + 1), huge);
  const size_t middle = std::min(std::max<size_t>(2u << 20, low), huge);
  const uint64_t how = Below(20);
  if (how < 4) {
    CorpusMessage m = Padded(limit + 1);
    m.variant = "max + 1";
    return m;
  }
  if (how < 16 || how == 17) {
    const size_t bytes = how < 16 ? low + Below(middle - low + 1) : middle + Below(huge - middle + 1);
    CorpusMessage m = Padded(bytes);
    m.variant = how < 16 ? "100 KB .. 2 MB" : "2 MB .. max huge";
    return m;
  }
  std::string blob(low + Below(std::min(middle, low + (1u << 20)) - low + 1), ' ');
  for (size_t i = 0; i < blob.size(); i += 8) {
    const uint64_t bits = random_();
    for (size_t k = 0; k < 8 && i + k < blob.size(); ++k) blob[i + k] = static_cast<char>(bits >> (8 * k));
  }
  return Message(kind, std::move(blob), Expect::kInvalid, 0, "binary blob");
}

CorpusMessage HostileCorpus::LargeValid() {
  const size_t under = OneIn(3) ? 0 : 1 + Below(64);
  return Padded(options_.max_message_bytes - under);
}

CorpusMessage HostileCorpus::NulAndBadUtf8() {
  const HostileKind kind = HostileKind::kNulAndBadUtf8;
  const int64_t id = TakeId();
  const auto with = [&](size_t field, const std::string& value, const std::string& variant) {
    return WithField(kind, id, field, value, Expect::kInvalid, variant);
  };
  const auto with_key = [&](size_t field, const std::string& key, const std::string& variant) {
    std::vector<Field> fields = Transaction(id);
    fields[field].key = key;
    return Message(kind, Render(fields), Expect::kInvalid, field == kIdField ? 0 : static_cast<double>(id),
                   variant);
  };
  switch (Below(12)) {
    case 0:
      return with(kStatusField, std::string("\"acc\0epted\"", 11), "raw NUL in status");
    case 1:
      return with(kStatusField, "\"accepted\\u0000\"", "escaped NUL in status");
    case 2: {
      std::vector<Field> fields = Transaction(id);
      fields.push_back({Quote("note"), std::string("\"a\0b\"", 5)});
      return Message(kind, Render(fields), Expect::kInvalid, static_cast<double>(id),
                     "raw NUL in unknown value");
    }
    case 3: {
      std::string text = Render(Transaction(id));
      text.insert(1 + Below(text.size() - 1), 1, '\0');
      return Message(kind, std::move(text), Expect::kInvalid, static_cast<double>(id), "NUL byte anywhere");
    }
    case 4:
      return with_key(kIdField, "\"id\\u0000\"", "escaped NUL in key id");
    case 5: {
      const size_t field = Below(kFields);
      return with_key(field, "\"" + std::string(kFieldNames[field]) + std::string("\0\"", 2),
                      "raw NUL in a key");
    }
    case 6:
      return with(kStatusField, "\"accept\xff\"", "invalid UTF-8 in status");
    case 7:
      return with_key(kIdField, "\"i\xc3\"", "truncated UTF-8 in key id");
    case 8:
      return with(kStatusField,
                  "\"\xc0\xaf"
                  "accepted\"",
                  "overlong UTF-8 in status");
    case 9:
      return with(kStatusField, "\"accepted\xed\xa0\x80\"", "UTF-8 surrogate in status");
    case 10:
      return with(kStatusField, "\"accepted\\ud800\"", "lone surrogate escape in status");
    default:
      return Message(kind, std::string(1 + Below(8), '\0'), Expect::kInvalid, 0, "only NUL bytes");
  }
}

CorpusMessage HostileCorpus::OneOf(HostileKind kind, const std::vector<FieldCase>& cases) {
  const FieldCase& c = Pick(cases);
  return WithField(kind, TakeId(), c.field, c.value, c.expect,
                   std::string(kFieldNames[c.field]) + "=" + c.value);
}

CorpusMessage HostileCorpus::NumberLimits() {
  const HostileKind kind = HostileKind::kNumberLimits;
  // 1e309 overflows to Infinity in JSON.parse; zod 3's number() would let an
  // infinite id through, but no result can carry it (JSON has no Infinity).
  // An infinite customer_id or amount is left out: zod 3 takes it, zod 4 not.
  // 1e-400 underflows to 0: below 1 for an id, >= 0 for an amount.
  static const std::vector<FieldCase> kCases = {
      {kIdField, "0", Expect::kInvalid},
      {kIdField, "-1", Expect::kInvalid},
      {kIdField, "0.999", Expect::kInvalid},
      {kIdField, "1e309", Expect::kInvalid},
      {kIdField, "1e-400", Expect::kInvalid},
      {kIdField, "-0", Expect::kInvalid},
      {kIdField, "-0.0", Expect::kInvalid},
      {kIdField, "NaN", Expect::kInvalid},
      {kIdField, "Infinity", Expect::kInvalid},
      {kIdField, "-Infinity", Expect::kInvalid},
      {kIdField, "+7", Expect::kInvalid},
      {kIdField, "07", Expect::kInvalid},
      {kIdField, "0x10", Expect::kInvalid},
      {kIdField, "7.", Expect::kInvalid},
      {kIdField, ".5", Expect::kInvalid},
      {kCustomerField, "0.5", Expect::kInvalid},
      {kVendorField, "-1", Expect::kInvalid},
      {kAmountField, "-1e-300", Expect::kInvalid},
      {kAmountField, "-5e-324", Expect::kInvalid},
      {kAmountField, "-1", Expect::kInvalid},
      {kAmountField, "NaN", Expect::kInvalid},
      {kAmountField, "Infinity", Expect::kInvalid},
      {kAmountField, "-Infinity", Expect::kInvalid},
      {kAmountField, "1e308", Expect::kValid},
      {kAmountField, "1.7976931348623157e308", Expect::kValid},
      {kAmountField, "5e-324", Expect::kValid},
      {kAmountField, "1e-400", Expect::kValid},
      {kAmountField, "-0", Expect::kValid},
      {kAmountField, "1E2", Expect::kValid},
      {kAmountField, "0.1e1", Expect::kValid},
  };
  return OneOf(kind, kCases);
}

CorpusMessage HostileCorpus::FieldBoundary() {
  const HostileKind kind = HostileKind::kFieldBoundary;
  // amount -0: zod's min(0) compares -0 >= 0, which holds in JavaScript.
  static const std::vector<FieldCase> kCases = {
      {kCustomerField, "1", Expect::kValid},
      {kVendorField, "1", Expect::kValid},
      {kAmountField, "0", Expect::kValid},
      {kAmountField, "0.0", Expect::kValid},
      {kAmountField, "-0.0", Expect::kValid},
      {kAmountField, "0.01", Expect::kValid},
      {kStatusField, "\"accepted\"", Expect::kValid},
      {kStatusField, "\"rejected\"", Expect::kValid},
      {kStatusField, "\"pending\"", Expect::kValid},
      {kCustomerField, "9007199254740991", Expect::kValid},
      {kIdField, "0", Expect::kInvalid},
      {kCustomerField, "0", Expect::kInvalid},
      {kVendorField, "0", Expect::kInvalid},
      {kAmountField, "-0.01", Expect::kInvalid},
  };
  if (!id_one_used_ && OneIn(kCases.size() + 1)) {
    id_one_used_ = true;
    return Message(kind, Render(Transaction(1)), Expect::kValid, 1, "id=1");
  }
  return OneOf(kind, kCases);
}

CorpusMessage HostileCorpus::StatusCase() {
  static const std::vector<std::string> kFixed = {"Accepted",  "ACCEPTED",  "Rejected",    "PENDING",
                                                  " accepted", "accepted ", "accepted\\n", "",
                                                  "accept",    "approved",  "submitted",   "acc\xc3\xa9pted"};
  static const std::vector<std::string> kStatuses = {"accepted", "rejected", "pending"};
  std::string status;
  if (OneIn(2)) {
    status = Pick(kFixed);
  } else {
    // Some letters upper case, at least one.
    status = Pick(kStatuses);
    status[Below(status.size())] -= 'a' - 'A';
    for (char& c : status) {
      if (c >= 'a' && OneIn(3)) c = static_cast<char>(c - ('a' - 'A'));
    }
  }
  return WithField(HostileKind::kStatusCase, TakeId(), kStatusField, Quote(status), Expect::kInvalid,
                   "status=" + status);
}

CorpusMessage HostileCorpus::MissingField() {
  const HostileKind kind = HostileKind::kMissingField;
  const int64_t id = TakeId();
  std::vector<Field> fields = Transaction(id);
  if (OneIn(12)) return Message(kind, "{}", Expect::kInvalid, 0, "empty object");
  if (OneIn(3)) {
    // A key spelled the way another language would.
    static const std::vector<std::pair<size_t, std::string>> kRenamed = {
        {kIdField, "ID"},           {kIdField, "Id"},          {kCustomerField, "customerId"},
        {kVendorField, "vendorId"}, {kTimestampField, "time"}, {kStatusField, "state"},
        {kAmountField, "Amount"},   {kAmountField, "amount "}, {kTimestampField, "timestamp\\t"}};
    const auto& [field, key] = Pick(kRenamed);
    fields[field].key = Quote(key);
    return Message(kind, Render(fields), Expect::kInvalid, field == kIdField ? 0 : static_cast<double>(id),
                   std::string(kFieldNames[field]) + " renamed");
  }
  // Leave out a random non-empty subset.
  uint64_t drop = 1 + Below((1u << kFields) - 1);
  if (OneIn(2)) drop = uint64_t{1} << Below(kFields);  // mostly one field
  std::string variant = "missing";
  std::vector<Field> kept;
  for (size_t f = 0; f < kFields; ++f) {
    if (drop & (uint64_t{1} << f)) {
      variant += std::string(" ") + kFieldNames[f];
    } else {
      kept.push_back(fields[f]);
    }
  }
  const bool has_id = (drop & 1) == 0;
  return Message(kind, Render(kept), Expect::kInvalid, has_id ? static_cast<double>(id) : 0, variant);
}

CorpusMessage HostileCorpus::WrongType() {
  static const std::vector<std::string> kValues = {"\"7\"", "true", "false", "null",
                                                   "[]",    "[7]",  "{}",    "{\"v\":7}"};
  // A string is the right type for a timestamp (and Date.parse reads "7"):
  // only non-strings there.
  static const std::vector<std::string> kTimestampValues = {"12345", "1672574400", "true",
                                                            "null",  "[]",         "{}"};
  static const std::vector<std::string> kStatusValues = {
      "1", "0", "true", "null", "[\"accepted\"]", "{\"accepted\":true}"};
  const size_t field = Below(kFields);
  const std::string& value = field == kTimestampField ? Pick(kTimestampValues)
                             : field == kStatusField  ? Pick(kStatusValues)
                                                      : Pick(kValues);
  return WithField(HostileKind::kWrongType, TakeId(), field, value, Expect::kInvalid,
                   std::string(kFieldNames[field]) + " as " + value);
}

CorpusMessage HostileCorpus::TimestampForms() {
  const HostileKind kind = HostileKind::kTimestamp;
  const int64_t id = TakeId();
  switch (Below(6)) {
    case 0:
    case 1:
      return WithField(kind, id, kTimestampField, Quote(SureTimestamp()), Expect::kValid, "full ISO 8601");
    case 2: {
      // Month 13 or more: no reading of Date.parse takes it.
      const std::string ts = std::to_string(1971 + Below(129)) + "-" + TwoDigits(13 + Below(87)) + "-" +
                             TwoDigits(Below(100)) + "T" + TwoDigits(Below(100)) + ":" +
                             TwoDigits(Below(100)) + ":" + TwoDigits(Below(100)) + "Z";
      return WithField(kind, id, kTimestampField, Quote(OneIn(4) ? "2023-13-45T99:99:99Z" : ts),
                       Expect::kInvalid, "month 13+");
    }
    case 3:
      return WithField(kind, id, kTimestampField, Quote("yesterday"), Expect::kInvalid, "yesterday");
    case 4:
      return WithField(kind, id, kTimestampField, "\"\"", Expect::kInvalid, "empty");
    default:
      return WithField(kind, id, kTimestampField, Quote(std::string(1 + Below(8), ' ')), Expect::kInvalid,
                       "spaces");
  }
}

CorpusMessage HostileCorpus::DuplicateKeys() {
  const HostileKind kind = HostileKind::kDuplicateKeys;
  const int64_t id = TakeId();
  std::vector<Field> fields = Transaction(id);
  // A bad value for each field.
  const std::string bad[kFields] = {"0", "\"x\"", "-3", "\"yesterday\"", "\"Accepted\"", "-5"};
  const size_t field = Below(kFields);
  switch (Below(4)) {
    case 0: {
      fields.insert(fields.begin(), Field{fields[field].key, bad[field]});
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id),
                     std::string(kFieldNames[field]) + " bad, then good");
    }
    case 1: {
      fields.push_back(Field{fields[field].key, bad[field]});
      return Message(kind, Render(fields), Expect::kInvalid, field == kIdField ? 0 : static_cast<double>(id),
                     std::string(kFieldNames[field]) + " good, then bad");
    }
    case 2: {
      // Another valid id first: a parser that keeps the first is caught by
      // the result's id.
      fields.insert(fields.begin(), Field{Quote("id"), std::to_string(id + kDecoyIdOffset)});
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id), "id twice, last counts");
    }
    default: {
      std::vector<Field> twice = fields;
      twice.insert(twice.end(), fields.begin(), fields.end());
      return Message(kind, Render(twice), Expect::kValid, static_cast<double>(id), "every field twice");
    }
  }
}

CorpusMessage HostileCorpus::TrailingGarbage() {
  const HostileKind kind = HostileKind::kTrailingGarbage;
  const int64_t id = TakeId();
  const std::string object = Render(Transaction(id));
  static const std::vector<std::string> kGarbage = {
      " x", "}",   "]", ",", "\n" + std::string("{}"), " null", " // comment", std::string("\0", 1),
      "0",  "\"\""};
  switch (Below(4)) {
    case 0:
      return Message(kind, object + " \t\r\n", Expect::kValid, static_cast<double>(id),
                     "trailing whitespace");
    case 1:
      return Message(kind, "\n \t" + object, Expect::kValid, static_cast<double>(id), "leading whitespace");
    case 2:
      return Message(kind, object + Render(Transaction(TakeId())), Expect::kInvalid, static_cast<double>(id),
                     "two objects");
    default: {
      const std::string& garbage = Pick(kGarbage);
      return Message(kind, object + garbage, Expect::kInvalid, static_cast<double>(id), "garbage after");
    }
  }
}

CorpusMessage HostileCorpus::Bom() {
  const HostileKind kind = HostileKind::kBom;
  const int64_t id = TakeId();
  switch (Below(4)) {
    case 0:
    case 1:
      // JSON.parse does not skip U+FEFF, nor does Python's json.loads.
      return Message(kind, "\xef\xbb\xbf" + Render(Transaction(id)), Expect::kInvalid,
                     static_cast<double>(id), "UTF-8 BOM");
    case 2:
      return Message(kind, (OneIn(2) ? "\xff\xfe" : "\xfe\xff") + Render(Transaction(id)), Expect::kInvalid,
                     static_cast<double>(id), "UTF-16 BOM");
    default: {
      // U+FEFF inside a string is just a character.
      std::vector<Field> fields = Transaction(id);
      fields.push_back({Quote("note"),
                        "\"\xef\xbb\xbf"
                        "bom inside\""});
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id), "BOM inside a value");
    }
  }
}

CorpusMessage HostileCorpus::LongKey() {
  const HostileKind kind = HostileKind::kLongKey;
  const int64_t id = TakeId();
  std::vector<Field> fields = Transaction(id);
  const size_t room = options_.max_message_bytes - std::min<size_t>(options_.max_message_bytes, 512);
  switch (Below(3)) {
    case 0:
    case 1: {
      const size_t length = std::min<size_t>(1024 + Below(room), room);
      fields.insert(fields.begin() + static_cast<std::ptrdiff_t>(Below(fields.size() + 1)),
                    Field{Quote(RandomAscii(length)), OneIn(2) ? "1" : "\"v\""});
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id), "long unknown key");
    }
    default: {
      // "amount" followed by a thousand spaces is another key: amount is missing.
      const size_t field = Below(kFields);
      fields[field].key = Quote(std::string(kFieldNames[field]) + std::string(1024 + Below(4096), ' '));
      return Message(kind, Render(fields), Expect::kInvalid, field == kIdField ? 0 : static_cast<double>(id),
                     "known key made long");
    }
  }
}

CorpusMessage HostileCorpus::ManyKeys() {
  const int64_t id = TakeId();
  std::vector<Field> fields = Transaction(id);
  const size_t target = 1000 + Below(9001);
  // Keys of capitals and digits never spell a known field. Short names repeat:
  // 10,000 distinct keys would not fit 64 KB.
  static const std::string kKeyChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::vector<Field> keys;
  size_t bytes = Render(fields).size() + 64;
  while (keys.size() < target) {
    std::string key(1 + (OneIn(4) ? 1 : 0), ' ');
    for (char& c : key) c = kKeyChars[Below(kKeyChars.size())];
    Field f{Quote(key), std::to_string(Below(10))};
    const size_t more = f.key.size() + f.value.size() + 4;  // ':' ',' and up to 2 bytes of spacing
    if (bytes + more > options_.max_message_bytes) break;
    bytes += more;
    keys.push_back(std::move(f));
  }
  const size_t count = keys.size();
  if (OneIn(2)) {
    fields.insert(fields.end(), keys.begin(), keys.end());
  } else {
    keys.insert(keys.end(), fields.begin(), fields.end());
    fields = std::move(keys);
  }
  std::string text = "{";
  for (size_t i = 0; i < fields.size(); ++i)
    text += (i > 0 ? "," : "") + fields[i].key + ":" + fields[i].value;
  text += "}";
  return Message(HostileKind::kManyKeys, std::move(text), Expect::kValid, static_cast<double>(id),
                 count >= 10000 ? "10000 keys" : "thousands of keys");
}

CorpusMessage HostileCorpus::Escapes() {
  const HostileKind kind = HostileKind::kEscapes;
  const int64_t id = TakeId();
  std::vector<Field> fields = Transaction(id);
  switch (Below(3)) {
    case 0: {
      // "id" and "status" written with \u escapes are the same keys.
      fields[kIdField].key = "\"\\u0069d\"";
      fields[kStatusField].key = "\"st\\u0061tus\"";
      fields[kStatusField].value = "\"\\u0061ccepted\"";
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id), "escaped known keys");
    }
    case 1: {
      fields.push_back({Quote("note"), "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000\""});
      return Message(kind, Render(fields), Expect::kValid, static_cast<double>(id),
                     "every escape in a value");
    }
    default: {
      // Raw control bytes are not allowed in a JSON string; each one costs six
      // bytes (\u00XX) in the dead-letter entry.
      std::string raw(2048 + Below(2048), ' ');
      for (char& c : raw) c = static_cast<char>(1 + Below(31));
      fields.push_back({Quote("note"), "\"" + raw + "\""});
      return Message(kind, Render(fields), Expect::kInvalid, static_cast<double>(id), "raw control bytes");
    }
  }
}

CorpusMessage HostileCorpus::UpstreamForms() {
  const HostileKind kind = HostileKind::kUpstreamForms;
  const int64_t id = TakeId();
  switch (Below(6)) {
    case 0: {
      CorpusMessage m = WithField(kind, id, kIdField, std::to_string(id) + ".5", Expect::kValid, "id n.5");
      m.id = static_cast<double>(id) + 0.5;
      return m;
    }
    case 1:
      return WithField(kind, id, kIdField, std::to_string(id) + ".0", Expect::kValid, "id n.0");
    case 2:
      return WithField(kind, id, kIdField, std::to_string(id) + "e0", Expect::kValid, "id ne0");
    case 3:
      return WithField(kind, id, kCustomerField, "5005.5", Expect::kValid, "customer_id=5005.5");
    case 4: {
      const std::string date =
          std::to_string(1971 + Below(129)) + "-" + TwoDigits(1 + Below(12)) + "-" + TwoDigits(1 + Below(28));
      return WithField(kind, id, kTimestampField, Quote(date), Expect::kValid, "date only");
    }
    default: {
      static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
      static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      const int year = 1971 + static_cast<int>(Below(129));
      const unsigned month = 1 + static_cast<unsigned>(Below(12));
      const unsigned day = 1 + static_cast<unsigned>(Below(28));
      const std::chrono::weekday weekday{std::chrono::sys_days{std::chrono::year_month_day{
          std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}}};
      const std::string date = std::string(kDays[weekday.c_encoding()]) + ", " + TwoDigits(day) + " " +
                               kMonths[month - 1] + " " + std::to_string(year) + " " + TwoDigits(Below(24)) +
                               ":" + TwoDigits(Below(60)) + ":" + TwoDigits(Below(60)) + " GMT";
      return WithField(kind, id, kTimestampField, Quote(date), Expect::kValid, "RFC 2822");
    }
  }
}

}  // namespace scorepipe::testing
