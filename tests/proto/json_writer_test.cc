#include "proto/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/proto/json_property_support.h"

namespace scorepipe {
namespace {

using testing::RandomDouble;
using testing::RandomJsonText;
using testing::ReferenceJsonString;

TEST(JsonWriterTest, PutsCommasBetweenMembersAndElementsOnly) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject()
      .Field("a", int64_t{1})
      .Key("b")
      .BeginArray()
      .Int(1)
      .String("x")
      .BeginObject()
      .EndObject();
  json.BeginArray().EndArray().EndArray().Field("c", true).Key("d").Null().EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[1,"x",{},[]],"c":true,"d":null})");
}

TEST(JsonWriterTest, AppendsToWhatIsThere) {
  std::string out = "prefix ";
  JsonWriter(&out).BeginArray().Uint(18446744073709551615ull).Int(-9223372036854775807 - 1).EndArray();
  EXPECT_EQ(out, "prefix [18446744073709551615,-9223372036854775808]");
}

TEST(JsonWriterTest, NumbersAreShortestRoundTripOrFormattedAndNullWhenNotFinite) {
  std::string out;
  JsonWriter json(&out);
  json.BeginArray().Number(0.1).Number(1e300).Number(2.5, "%.1f").Number(1234.5678, "%.6g");
  json.Number(std::nan("")).Number(std::numeric_limits<double>::infinity(), "%.1f").EndArray();
  EXPECT_EQ(out, "[0.1,1e+300,2.5,1234.57,null,null]");
}

// std::to_chars writes a whole double in full when that is no longer than
// its exponent form (up to about 1e22): past 64 bits such a literal is valid
// JSON (JSON.parse and strtod read it) though simdjson refuses integer
// literals beyond 64 bits.
TEST(JsonWriterTest, WholeDoublesPast64BitsAreWrittenInFullAndReadBack) {
  for (const double value :
       {18446744073709551616.0, -9223372036854777856.0, 999999999999999868928.0, -2351273027538038292480.0}) {
    std::string out;
    JsonWriter(&out).Number(value);
    EXPECT_EQ(out.find_first_of(".e"), std::string::npos) << out;
    EXPECT_EQ(std::strtod(out.c_str(), nullptr), value) << out;
  }
}

TEST(JsonWriterTest, KeysAndStringsAreEscapedAndInvalidUtf8Replaced) {
  std::string out;
  JsonWriter(&out).BeginObject().Field(std::string("k\"\n"), std::string("a\\b\x01\xff\xc3\xa9")).EndObject();
  EXPECT_EQ(out, "{\"k\\\"\\n\":\"a\\\\b\\u0001\\ufffd\xc3\xa9\"}");
}

TEST(JsonWriterTest, RawValuesTakeTheirPlaceLikeAnyOther) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("a").Raw(R"({"x":1})").Key("b").Raw("[]").EndObject();
  EXPECT_EQ(out, R"({"a":{"x":1},"b":[]})");
}

// Every printable ASCII character but '"' and '\' may stand in a key literal.
constexpr char kEveryPlainCharacter[] =
    " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";

TEST(JsonWriterTest, LiteralKeysAreWrittenAsTheRunTimeKeysOfTheSameText) {
  static_assert(JsonKeyLiteral("transaction_id").text() == "transaction_id");
  static_assert(JsonKeyLiteral("").text().empty());
  std::string literal;
  JsonWriter(&literal)
      .BeginObject()
      .Key("a")
      .Int(1)
      .Field("", 2)
      .Field(kEveryPlainCharacter, true)
      .EndObject();
  std::string run_time;
  JsonWriter(&run_time)
      .BeginObject()
      .Key(std::string_view("a"))
      .Int(1)
      .Field(std::string(""), 2)
      .Field(static_cast<const char*>(kEveryPlainCharacter), true)
      .EndObject();
  EXPECT_EQ(literal, run_time);
  EXPECT_EQ(literal, std::string(R"({"a":1,"":2,")") + kEveryPlainCharacter + "\":true}");
}

TEST(JsonWriterTest, RunTimeKeysOfEveryStringTypeAreEscaped) {
  const std::string text = "k\"\\\t\x01\xff";
  const std::string escaped = R"("k\"\\\t\u0001\ufffd")";
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key(text).Int(1).Key(std::string_view(text)).Int(2).Key(text.c_str()).Int(3);
  json.Field(text, 4).Field(std::string_view(text), 5).Field(text.c_str(), 6, "%.0f").EndObject();
  std::string expected = "{";
  for (int i = 1; i <= 6; ++i) expected += (i > 1 ? "," : "") + escaped + ":" + std::to_string(i);
  EXPECT_EQ(out, expected + "}");
}

TEST(JsonWriterTest, ValuesAreWrittenByTheirType) {
  std::string out;
  JsonWriter json(&out);
  json.BeginArray().Value(true).Value(false);
  json.Value(int8_t{-128})
      .Value(int16_t{-32768})
      .Value(int32_t{-2147483647 - 1})
      .Value(int64_t{-9223372036854775807 - 1});
  json.Value(uint8_t{255})
      .Value(uint16_t{65535})
      .Value(uint32_t{4294967295u})
      .Value(uint64_t{18446744073709551615u});
  json.Value(size_t{7}).Value(-1LL).Value(1ULL).Value(0.5f).Value(0.1).Value(std::nan(""));
  const std::string s = "s";
  json.Value("literal").Value(s).Value(std::string_view("view")).Value(s.c_str()).EndArray();
  EXPECT_EQ(out,
            "[true,false,-128,-32768,-2147483648,-9223372036854775808,255,65535,4294967295,"
            "18446744073709551615,7,-1,1,0.5,0.1,null,\"literal\",\"s\",\"view\",\"s\"]");
}

TEST(JsonWriterTest, FieldsTakeEveryValueTypeAndAFormat) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Field("b", false)
      .Field("i", -3)
      .Field("u", 3u)
      .Field("d", 0.25)
      .Field("f", 2.0 / 3, "%.3f")
      .Field("s", "x")
      .Field("n", std::numeric_limits<double>::infinity(), "%.3f")
      .EndObject();
  EXPECT_EQ(out, R"({"b":false,"i":-3,"u":3,"d":0.25,"f":0.667,"s":"x","n":null})");
}

TEST(JsonWriterTest, IndentedLayoutPutsEachMemberAndElementOnItsOwnLine) {
  std::string out;
  JsonWriter json(&out, JsonLayout::kIndented);
  json.BeginObject().Field("a", 1).Key("b").BeginArray().Int(1).String("x").BeginObject().EndObject();
  json.BeginArray().EndArray().EndArray().Key("c").BeginObject().Key("d").Null().Key("e").BeginArray();
  json.BeginArray().Bool(true).EndArray().EndArray().EndObject().Field(std::string("f\n"), "g").EndObject();
  EXPECT_EQ(out,
            "{\n"
            "  \"a\": 1,\n"
            "  \"b\": [\n"
            "    1,\n"
            "    \"x\",\n"
            "    {},\n"
            "    []\n"
            "  ],\n"
            "  \"c\": {\n"
            "    \"d\": null,\n"
            "    \"e\": [\n"
            "      [\n"
            "        true\n"
            "      ]\n"
            "    ]\n"
            "  },\n"
            "  \"f\\n\": \"g\"\n"
            "}");
}

TEST(JsonWriterTest, IndentedScalarsAndEmptyContainersStayOnOneLine) {
  for (const auto& [write, expected] : std::vector<std::pair<std::function<void(JsonWriter&)>, std::string>>{
           {[](JsonWriter& json) { json.Int(5); }, "5"},
           {[](JsonWriter& json) { json.String("a b"); }, "\"a b\""},
           {[](JsonWriter& json) { json.BeginObject().EndObject(); }, "{}"},
           {[](JsonWriter& json) { json.BeginArray().EndArray(); }, "[]"},
           {[](JsonWriter& json) { json.BeginArray().Raw("{\"x\":1,\"y\":2}").EndArray(); },
            "[\n  {\"x\":1,\"y\":2}\n]"},
       }) {
    std::string out;
    JsonWriter json(&out, JsonLayout::kIndented);
    write(json);
    EXPECT_EQ(out, expected);
  }
}

// Special bytes at every offset of the 8-byte words the escaper reads, in
// strings of every length up to three words: each written as the
// one-byte-at-a-time reference writes it.
TEST(JsonWriterTest, EscapingFindsEverySpecialByteAtEveryOffset) {
  const std::vector<std::string> specials = {
      std::string(1, '\0'), "\x1f", "\"",   "\\",          "\x7f", "\x80", "\xc3\xa9", "\xe2\x80\xa8",
      "\xf0\x9f\x98\x80",   "\xff", "\xc3", "\xed\xa0\x80"};
  for (size_t length = 0; length <= 24; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (const std::string& special : specials) {
        std::string text(length, 'a');
        text.replace(at, std::min(special.size(), length - at), special.substr(0, length - at));
        std::string out;
        AppendJsonString(text, &out);
        std::string expected;
        ReferenceJsonString(text, &expected);
        ASSERT_EQ(out, expected) << "length " << length << ", at " << at;
      }
    }
  }
}

// Generated: random text of every kind (control characters, quotes,
// UTF-8 of every length, byte sequences that are not UTF-8, any byte) at
// every offset of a word, escaped as the reference escapes it; the result is
// valid UTF-8 and parses back to the text (with U+FFFD for what was not
// UTF-8).
TEST(JsonWriterTest, RandomTextIsEscapedAsTheByteAtATimeReferenceDoes) {
  std::mt19937_64 rng(20261208);
  simdjson::dom::parser parser;
  for (int round = 0; round < 300000; ++round) {
    const std::string text = RandomJsonText(rng);
    std::string out = "x";  // appended after what is there
    AppendJsonString(text, &out);
    std::string expected = "x";
    ReferenceJsonString(text, &expected);
    ASSERT_EQ(out, expected) << round;
    ASSERT_TRUE(simdjson::validate_utf8(out)) << round;
    std::string_view read;
    ASSERT_EQ(parser.parse(out.substr(1)).get(read), simdjson::SUCCESS) << round << ": " << out;
    ASSERT_EQ(read, testing::WithInvalidUtf8Replaced(text)) << round;
  }
}

// simdjson refuses integer literals beyond 64 bits, which std::to_chars
// writes for some whole doubles past 2^63 (see
// WholeDoublesPast64BitsAreWrittenInFullAndReadBack): the random documents
// draw other doubles.
bool SimdjsonReadsAsWritten(double value) {
  char text[32];
  const std::to_chars_result written = std::to_chars(text, text + sizeof text, value);
  const std::string_view number(text, static_cast<size_t>(written.ptr - text));
  if (number.find_first_of(".en") != std::string_view::npos) return true;  // not an integer literal
  int64_t as_int = 0;
  uint64_t as_uint = 0;
  return std::from_chars(number.data(), number.data() + number.size(), as_int).ec == std::errc() ||
         std::from_chars(number.data(), number.data() + number.size(), as_uint).ec == std::errc();
}

// One random document: its shape, keys and values drawn from `seed`, the
// same for the same seed (so that it can be written twice, in both layouts).
// Records the numbers (NaN and infinities, written as null, left out) and
// the keys and strings, in the order written.
struct RandomDocument {
  std::vector<double> numbers;
  std::vector<std::string> strings;  // as they read back: U+FFFD for bytes that are not UTF-8

  void Write(uint64_t seed, JsonWriter& json) {
    std::mt19937_64 rng(seed);
    Value(rng, json, 0);
  }

 private:
  void Value(std::mt19937_64& rng, JsonWriter& json, int depth) {
    switch (rng() % (depth >= 6 ? 6 : 8)) {
      case 0: {
        double d = RandomDouble(rng);
        while (!SimdjsonReadsAsWritten(d)) d = RandomDouble(rng);
        if (rng() % 4 == 0) {
          json.Number(d, "%.6g");
          if (std::isfinite(d)) numbers.push_back(std::strtod(FormatG6(d).c_str(), nullptr));
        } else {
          json.Number(d);
          if (std::isfinite(d)) numbers.push_back(d);
        }
        break;
      }
      case 1: {
        const auto i = static_cast<int64_t>(rng());
        json.Int(i);
        numbers.push_back(static_cast<double>(i));
        break;
      }
      case 2: {
        const uint64_t u = rng();
        json.Uint(u);
        numbers.push_back(static_cast<double>(u));
        break;
      }
      case 3: {
        const std::string s = RandomJsonText(rng);
        json.String(s);
        Record(s);
        break;
      }
      case 4:
        json.Bool(rng() % 2 == 0);
        break;
      case 5:
        json.Null();
        break;
      case 6:
        json.BeginArray();
        for (size_t i = rng() % 5; i > 0; --i) Value(rng, json, depth + 1);
        json.EndArray();
        break;
      default:
        json.BeginObject();
        for (size_t i = rng() % 5; i > 0; --i) {
          switch (rng() % 4) {
            case 0:
              json.Key("transaction_id");
              Record("transaction_id");
              break;
            case 1:
              json.Key("");
              Record("");
              break;
            case 2:
              json.Key(kEveryPlainCharacter);
              Record(kEveryPlainCharacter);
              break;
            default: {
              const std::string key = RandomJsonText(rng, 3);
              json.Key(key);
              Record(key);
            }
          }
          Value(rng, json, depth + 1);
        }
        json.EndObject();
    }
  }

  void Record(std::string_view s) { strings.push_back(testing::WithInvalidUtf8Replaced(s)); }

  static std::string FormatG6(double d) {
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", d);
    return text;
  }
};

// Every string in `e` (keys and values), in document order.
void CollectStrings(simdjson::dom::element e, std::vector<std::string>* out) {
  const auto add = [out](std::string_view s) { out->emplace_back(s); };
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      for (simdjson::dom::element x : e.get_array()) CollectStrings(x, out);
      break;
    case simdjson::dom::element_type::OBJECT:
      for (simdjson::dom::key_value_pair kv : e.get_object()) {
        add(kv.key);
        CollectStrings(kv.value, out);
      }
      break;
    case simdjson::dom::element_type::STRING:
      add(e.get_string().value());
      break;
    default:
      break;
  }
}

void CollectNumbers(simdjson::dom::element e, std::vector<double>* out) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      for (simdjson::dom::element x : e.get_array()) CollectNumbers(x, out);
      break;
    case simdjson::dom::element_type::OBJECT:
      for (simdjson::dom::key_value_pair kv : e.get_object()) CollectNumbers(kv.value, out);
      break;
    case simdjson::dom::element_type::DOUBLE:
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
      out->push_back(e.get_double().value());
      break;
    default:
      break;
  }
}

// `compact` laid out as JsonLayout::kIndented says, apart from the writer's
// code: a line break and two spaces a level after each opening bracket and
// comma and before each closing bracket, `": "` after a key, empty
// containers kept as they are; strings copied untouched.
std::string Reindented(std::string_view compact) {
  std::string out;
  size_t depth = 0;
  const auto new_line = [&] { out += '\n' + std::string(2 * depth, ' '); };
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (c == '"') {  // a string, to its closing quote
      const size_t begin = i;
      for (++i; compact[i] != '"'; ++i) {
        if (compact[i] == '\\') ++i;
      }
      out.append(compact.substr(begin, i + 1 - begin));
    } else if ((c == '{' || c == '[') && i + 1 < compact.size() && compact[i + 1] == (c == '{' ? '}' : ']')) {
      out.append(compact.substr(i++, 2));
    } else if (c == '{' || c == '[') {
      out += c;
      ++depth;
      new_line();
    } else if (c == '}' || c == ']') {
      --depth;
      new_line();
      out += c;
    } else if (c == ',') {
      out += c;
      new_line();
    } else if (c == ':') {
      out += ": ";
    } else {
      out += c;
    }
  }
  return out;
}

// Generated: random documents of every shape, with numbers of every class,
// integers of the whole 64-bit range, and keys and strings of random text.
// What the writer writes parses; the parsed document holds what was written,
// in order; the indented layout is the compact document reindented, and
// parses to the same document.
TEST(JsonWriterTest, RandomDocumentsParseBackToWhatWasWrittenInBothLayouts) {
  std::mt19937_64 seeds(20261207);
  simdjson::dom::parser parser;
  simdjson::dom::parser indented_parser;
  for (int round = 0; round < 100000; ++round) {
    const uint64_t seed = seeds();
    std::string compact;
    JsonWriter compact_writer(&compact);
    RandomDocument written;
    written.Write(seed, compact_writer);
    std::string indented;
    JsonWriter indented_writer(&indented, JsonLayout::kIndented);
    RandomDocument().Write(seed, indented_writer);

    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(compact).get(doc), simdjson::SUCCESS) << compact;
    std::vector<double> numbers;
    CollectNumbers(doc, &numbers);
    ASSERT_EQ(numbers, written.numbers) << compact;
    std::vector<std::string> strings;
    CollectStrings(doc, &strings);
    ASSERT_EQ(strings, written.strings) << compact;

    ASSERT_EQ(indented, Reindented(compact));
    simdjson::dom::element indented_doc;
    ASSERT_EQ(indented_parser.parse(indented).get(indented_doc), simdjson::SUCCESS) << indented;
    ASSERT_EQ(simdjson::minify(indented_doc), simdjson::minify(doc));
  }
}

}  // namespace
}  // namespace scorepipe
