#include "proto/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace scorepipe {
namespace {

TEST(JsonWriterTest, PutsCommasBetweenMembersAndElementsOnly) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Field("a", int64_t{1}).Key("b").BeginArray().Int(1).String("x").BeginObject().EndObject();
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

TEST(JsonWriterTest, KeysAndStringsAreEscapedAndInvalidUtf8Replaced) {
  std::string out;
  JsonWriter(&out).BeginObject().Field("k\"\n", std::string("a\\b\x01\xff\xc3\xa9")).EndObject();
  EXPECT_EQ(out, "{\"k\\\"\\n\":\"a\\\\b\\u0001\\ufffd\xc3\xa9\"}");
}

TEST(JsonWriterTest, RawValuesTakeTheirPlaceLikeAnyOther) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("a").Raw(R"({"x":1})").Key("b").Raw("[]").EndObject();
  EXPECT_EQ(out, R"({"a":{"x":1},"b":[]})");
}

// Random documents of every shape: what the writer writes parses, and the
// parsed document holds what was written, in order.
TEST(JsonWriterTest, RandomDocumentsParseBackToWhatWasWritten) {
  std::mt19937_64 rng(20261207);
  simdjson::dom::parser parser;
  for (int round = 0; round < 2000; ++round) {
    std::string out;
    JsonWriter json(&out);
    std::vector<double> numbers;
    std::vector<std::string> strings;
    std::function<void(int)> value = [&](int depth) {
      switch (rng() % (depth >= 6 ? 3 : 5)) {
        case 0: {
          const double d = std::ldexp(static_cast<double>(rng() % 1000000) - 500000, static_cast<int>(rng() % 40) - 20);
          numbers.push_back(d);
          json.Number(d);
          break;
        }
        case 1: {
          std::string s;
          const size_t n = rng() % 12;
          for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(0x20 + rng() % 95));
          strings.push_back(s);
          json.String(s);
          break;
        }
        case 2:
          json.Bool(rng() % 2 == 0);
          break;
        case 3: {
          json.BeginArray();
          for (size_t i = rng() % 4; i > 0; --i) value(depth + 1);
          json.EndArray();
          break;
        }
        default: {
          json.BeginObject();
          for (size_t i = rng() % 4; i > 0; --i) {
            json.Key("k" + std::to_string(i));
            value(depth + 1);
          }
          json.EndObject();
        }
      }
    };
    value(0);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
    // Every number and string comes back, in the order written.
    std::vector<double> read_numbers;
    std::vector<std::string> read_strings;
    std::function<void(simdjson::dom::element)> walk = [&](simdjson::dom::element e) {
      switch (e.type()) {
        case simdjson::dom::element_type::ARRAY:
          for (simdjson::dom::element x : e.get_array()) walk(x);
          break;
        case simdjson::dom::element_type::OBJECT:
          for (simdjson::dom::key_value_pair kv : e.get_object()) walk(kv.value);
          break;
        case simdjson::dom::element_type::DOUBLE:
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
          read_numbers.push_back(e.get_double().value());
          break;
        case simdjson::dom::element_type::STRING:
          read_strings.emplace_back(e.get_string().value());
          break;
        default:
          break;
      }
    };
    walk(doc);
    ASSERT_EQ(read_numbers, numbers) << out;
    ASSERT_EQ(read_strings, strings) << out;
  }
}

}  // namespace
}  // namespace scorepipe
