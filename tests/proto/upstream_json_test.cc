#include "proto/upstream_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "proto/codec.h"
#include "proto/timestamp.h"
#include "tests/support/upstream_oracle.h"

namespace scorepipe {
namespace {

constexpr size_t kLimit = 65536;

// The transaction example from UPSTREAM.md, byte for byte.
constexpr std::string_view kUpstreamExample =
    R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":100})";

::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" lacks \"" << part << "\"";
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// The upstream example's keys and raw JSON values, in its order.
Fields ExampleFields() {
  return {{"id", "1"},
          {"customer_id", "1"},
          {"vendor_id", "1"},
          {"timestamp", "\"2023-01-01T12:00:00Z\""},
          {"status", "\"accepted\""},
          {"amount", "100"}};
}

std::string ToJson(const Fields& fields) {
  std::string json = "{";
  for (const auto& [key, value] : fields) {
    if (json.size() > 1) json += ',';
    json += "\"" + key + "\":" + value;
  }
  return json + "}";
}

// The upstream example with `field` set to the raw JSON `value`.
std::string WithField(std::string_view field, std::string_view value) {
  Fields fields = ExampleFields();
  for (auto& [key, old_value] : fields) {
    if (key == field) old_value = value;
  }
  return ToJson(fields);
}

// The upstream example without `field`.
std::string WithoutField(std::string_view field) {
  Fields fields = ExampleFields();
  std::erase_if(fields, [field](const auto& entry) { return entry.first == field; });
  return ToJson(fields);
}

class TransactionParserTest : public ::testing::Test {
 protected:
  std::string Reason(std::string_view text) {
    Result<Transaction> result = parser_.Parse(text);
    EXPECT_FALSE(result.ok()) << text;
    return result.ok() ? "" : result.status().message();
  }

  TransactionParser parser_{kLimit};
};

TEST_F(TransactionParserTest, ParsesTheUpstreamExample) {
  Result<Transaction> t = parser_.Parse(kUpstreamExample);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id, 1);
  EXPECT_EQ(t->customer_id, 1);
  EXPECT_EQ(t->vendor_id, 1);
  EXPECT_EQ(t->amount, 100.0);
  EXPECT_EQ(t->timestamp, "2023-01-01T12:00:00Z");
  EXPECT_EQ(t->timestamp_unix_s, 1672574400.0);
  EXPECT_EQ(t->status, "accepted");
}

TEST_F(TransactionParserTest, ExampleFieldsAreTheUpstreamExample) {
  EXPECT_EQ(ToJson(ExampleFields()), kUpstreamExample);
}

TEST_F(TransactionParserTest, AcceptsEveryStatus) {
  for (std::string_view status : {"accepted", "rejected", "pending"}) {
    std::string literal;
    AppendJsonString(status, &literal);
    Result<Transaction> t = parser_.Parse(WithField("status", literal));
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->status, status);
  }
}

TEST_F(TransactionParserTest, AcceptsIntegerAndFloatAmounts) {
  for (auto [literal, value] :
       std::vector<std::pair<std::string, double>>{{"0", 0.0},
                                                   {"0.0", 0.0},
                                                   {"12.75", 12.75},
                                                   {"1e3", 1000.0},
                                                   {"-0.0", 0.0},
                                                   {"18446744073709551615", 18446744073709551615.0}}) {
    Result<Transaction> t = parser_.Parse(WithField("amount", literal));
    ASSERT_TRUE(t.ok()) << literal << ": " << t.status().message();
    EXPECT_EQ(t->amount, value) << literal;
  }
}

TEST_F(TransactionParserTest, AcceptsTheLargestInt64Id) {
  Result<Transaction> t = parser_.Parse(WithField("id", "9223372036854775807"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id, std::numeric_limits<int64_t>::max());
}

TEST_F(TransactionParserTest, IgnoresUnknownFields) {
  const std::string json =
      R"({"note":{"a":[1,2,{"b":null}]},"id":3,"customer_id":1,"vendor_id":1,"extra":"x",)"
      R"("timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":100})";
  Result<Transaction> t = parser_.Parse(json);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id, 3);
}

TEST_F(TransactionParserTest, LastOfARepeatedKeyCounts) {
  // As Python's json.loads does, which the upstream validates with.
  const std::string json = R"({"id":"bad","id":7,"customer_id":1,"vendor_id":1,)"
                           R"("timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})";
  Result<Transaction> t = parser_.Parse(json);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id, 7);
  EXPECT_EQ(Reason(R"({"id":7,"id":0})"), "field 'id': expected a number >= 1, got 0");
}

TEST_F(TransactionParserTest, KeysWithEscapesMatch) {
  const std::string json = WithField("amount", "2");
  std::string escaped = json;
  escaped.replace(escaped.find("\"amount\""), 8, R"("\u0061mount")");
  Result<Transaction> t = parser_.Parse(escaped);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->amount, 2.0);
}

TEST_F(TransactionParserTest, ParserIsReusableAfterAnError) {
  EXPECT_FALSE(parser_.Parse("{").ok());
  EXPECT_FALSE(parser_.Parse(WithField("id", "0")).ok());
  for (int i = 0; i < 3; ++i) {
    Result<Transaction> t = parser_.Parse(WithField("id", std::to_string(i + 1)));
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->id, i + 1);
  }
}

TEST_F(TransactionParserTest, ReportsEachMissingField) {
  for (std::string_view field : {"id", "customer_id", "vendor_id", "amount", "timestamp", "status"}) {
    EXPECT_EQ(Reason(WithoutField(field)), "missing field '" + std::string(field) + "'");
  }
}

TEST_F(TransactionParserTest, IdFieldsTakeAnyNumberFromOne) {
  for (std::string_view field : {"id", "customer_id", "vendor_id"}) {
    for (std::string_view literal :
         {"1", "1.0", "5005.5", "1e3", "1E+2", "0.99999999999999999", "9223372036854775808",
          "18446744073709551615", "1.7976931348623157e308"}) {
      Result<Transaction> t = parser_.Parse(WithField(field, literal));
      EXPECT_TRUE(t.ok()) << field << "=" << literal << ": " << t.status().message();
    }
  }
}

TEST_F(TransactionParserTest, IdFieldsRefuseNumbersBelowOneAndOtherTypes) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0.999999", "0.999999"}, {"1e-400", "0.0"}, {"\"1\"", "\"1\""},    {"true", "true"},
      {"null", "null"},         {"0", "0"},        {"-1", "-1"},          {"[]", "an array"},
      {"{}", "an object"},      {"-0", "0"},       {"-5005.5", "-5005.5"}};
  for (std::string_view field : {"id", "customer_id", "vendor_id"}) {
    for (const auto& [literal, shown] : bad) {
      EXPECT_EQ(Reason(WithField(field, literal)),
                "field '" + std::string(field) + "': expected a number >= 1, got " + shown);
    }
  }
}

TEST_F(TransactionParserTest, IntegerIdIsKeptWithoutText) {
  Result<Transaction> t = parser_.Parse(WithField("id", "9223372036854775807"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(t->id_text.empty());
}

TEST_F(TransactionParserTest, OtherIdsKeepTheirNumberTokenAsWritten) {
  for (std::string_view literal : {"5005.50", "1.0", "1e3", "1E+2", "0.99999999999999999",
                                   "9223372036854775808", "1.7976931348623157e308"}) {
    Result<Transaction> t = parser_.Parse(WithField("id", literal));
    ASSERT_TRUE(t.ok()) << literal << ": " << t.status().message();
    EXPECT_EQ(t->id, 0) << literal;
    EXPECT_EQ(t->id_text, literal);
  }
}

TEST_F(TransactionParserTest, IdTokenIsTheLastTopLevelIdMember) {
  const std::string json = R"({"id":2.5,"nested":{"id":7.5,"s":"\"id\":9.5"},"customer_id":1,"vendor_id":1,)"
                           R"("timestamp":"2023-01-01","status":"accepted","amount":1, "id" : 3.25 })";
  Result<Transaction> t = parser_.Parse(json);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id_text, "3.25");
  Result<Transaction> escaped = parser_.Parse(
      R"({"\u0069d":4.5,"customer_id":1,"vendor_id":1,"timestamp":"2023","status":"pending","amount":0})");
  ASSERT_TRUE(escaped.ok()) << escaped.status().message();
  EXPECT_EQ(escaped->id_text, "4.5");
}

TEST_F(TransactionParserTest, IdTokenLongerThan64CharactersIsRefused) {
  const std::string at_limit = "1." + std::string(62, '5');
  Result<Transaction> t = parser_.Parse(WithField("id", at_limit));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->id_text, at_limit);
  EXPECT_EQ(Reason(WithField("id", at_limit + "5")),
            "field 'id': the number has 65 characters; at most 64 are kept");
}

TEST_F(TransactionParserTest, NonIntegerVendorIdIsKeptAsItsValue) {
  Result<Transaction> t = parser_.Parse(WithField("vendor_id", "3.75"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->vendor_id, 3.75);
  Result<Transaction> c = parser_.Parse(WithField("customer_id", "1e3"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->customer_id, 1000.0);
}

TEST_F(TransactionParserTest, NumbersBeyondWhatADoubleHoldsAreNotJson) {
  // JSON.parse makes 1e400 Infinity, which zod refuses as well.
  EXPECT_TRUE(Contains(Reason(WithField("id", "1e400")), "not valid JSON"));
  // simdjson refuses integer literals beyond 2^64 (the upstream took them).
  EXPECT_TRUE(Contains(Reason(WithField("id", "99999999999999999999")), "not valid JSON"));
}

TEST_F(TransactionParserTest, AmountMustBeANonNegativeNumber) {
  for (const auto& [literal, shown] : std::vector<std::pair<std::string, std::string>>{{"-1", "-1"},
                                                                                       {"-0.01", "-0.01"},
                                                                                       {"\"100\"", "\"100\""},
                                                                                       {"null", "null"},
                                                                                       {"false", "false"},
                                                                                       {"[1]", "an array"}}) {
    EXPECT_EQ(Reason(WithField("amount", literal)), "field 'amount': expected a number >= 0, got " + shown);
  }
  EXPECT_TRUE(Contains(Reason(WithField("amount", "1e400")), "not valid JSON"));
}

TEST_F(TransactionParserTest, TimestampMustBeADateString) {
  EXPECT_EQ(Reason(WithField("timestamp", "1672574400")),
            "field 'timestamp': expected a date string, got 1672574400");
  EXPECT_EQ(Reason(WithField("timestamp", R"("2023-02-30T00:00:60Z")")),
            "field 'timestamp': \"2023-02-30T00:00:60Z\" is not a date: not a date that Date.parse reads");
  EXPECT_EQ(Reason(WithField("timestamp", R"("yesterday")")),
            "field 'timestamp': \"yesterday\" is not a date: not a date that Date.parse reads");
  EXPECT_EQ(Reason(WithField("timestamp", R"("Jan 1")")),
            "field 'timestamp': \"Jan 1\" is not a date: no year: the date has only a day and a month");
}

TEST_F(TransactionParserTest, TimestampTakesEveryFormTheUpstreamTook) {
  for (const auto& [literal, unix_s] :
       std::vector<std::pair<std::string, double>>{{R"("2023-01-01")", 1672531200.0},
                                                   {R"("2023-01-01T12:00:00+02:00")", 1672567200.0},
                                                   {R"("Sun, 01 Jan 2023 12:00:00 GMT")", 1672574400.0},
                                                   {R"("2023-02-30")", 1677715200.0}}) {
    Result<Transaction> t = parser_.Parse(WithField("timestamp", literal));
    ASSERT_TRUE(t.ok()) << literal << ": " << t.status().message();
    EXPECT_EQ(t->timestamp_unix_s, unix_s) << literal;
  }
}

TEST_F(TransactionParserTest, TimestampKeepsTheOriginalText) {
  Result<Transaction> t = parser_.Parse(WithField("timestamp", R"("2023-01-01 13:00:00.25+01:00")"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->timestamp, "2023-01-01 13:00:00.25+01:00");
  EXPECT_EQ(t->timestamp_unix_s, 1672574400.25);
}

TEST_F(TransactionParserTest, AmountMinusZeroIsAccepted) {
  Result<Transaction> t = parser_.Parse(WithField("amount", "-0"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->amount, 0.0);
  EXPECT_TRUE(parser_.Parse(WithField("amount", "-0.0")).ok());
  EXPECT_TRUE(parser_.Parse(WithField("amount", "1e308")).ok());
}

TEST_F(TransactionParserTest, StatusMustBeOneOfThree) {
  for (const auto& [literal, shown] :
       std::vector<std::pair<std::string, std::string>>{{R"("Accepted")", R"("Accepted")"},
                                                        {R"("submitted")", R"("submitted")"},
                                                        {R"("")", R"("")"},
                                                        {"1", "1"},
                                                        {"null", "null"}}) {
    EXPECT_EQ(Reason(WithField("status", literal)),
              "field 'status': expected one of accepted, rejected, pending; got " + shown);
  }
}

TEST_F(TransactionParserTest, MessageMustBeAJsonObject) {
  EXPECT_EQ(Reason("[1,2]"), "message is not a JSON object, got an array");
  EXPECT_EQ(Reason("\"text\""), "message is not a JSON object, got \"text\"");
  EXPECT_EQ(Reason("42"), "message is not a JSON object, got 42");
  EXPECT_EQ(Reason("null"), "message is not a JSON object, got null");
}

TEST_F(TransactionParserTest, EmptyOrBrokenJsonIsRejected) {
  for (std::string_view text : {"", "   ", "{", "{\"id\":1,}", "not json", "{'id':1}", "{\"id\":\"\xff\"}"}) {
    EXPECT_TRUE(Contains(Reason(text), "not valid JSON: ")) << text;
  }
}

TEST_F(TransactionParserTest, TrailingContentIsRejected) {
  EXPECT_TRUE(Contains(Reason(std::string(kUpstreamExample) + " x"), "not valid JSON"));
  EXPECT_TRUE(Contains(Reason(std::string(kUpstreamExample) + "{}"), "not valid JSON"));
  EXPECT_TRUE(parser_.Parse(std::string(kUpstreamExample) + " \n").ok());
}

TEST_F(TransactionParserTest, EveryRejectionHasAReasonToCountItBy) {
  const std::pair<std::string, RejectReason> cases[] = {
      {std::string(kLimit + 1, ' '), RejectReason::kTooLarge},
      {"{\"id\":", RejectReason::kNotJson},
      {"[1,2]", RejectReason::kNotAnObject},
      {WithoutField("amount"), RejectReason::kMissingField},
      {WithField("amount", "-5"), RejectReason::kBadField},
      {WithField("status", "\"lost\""), RejectReason::kBadField},
  };
  for (const auto& [text, reason] : cases) {
    EXPECT_EQ(ClassifyReject(Reason(text)), reason) << text.substr(0, 40);
  }
  EXPECT_STREQ(RejectReasonName(RejectReason::kNotJson), "not_json");
  EXPECT_STREQ(RejectReasonName(RejectReason::kMissingField), "missing_field");
}

TEST_F(TransactionParserTest, OversizedMessageIsRejectedBeforeParsing) {
  EXPECT_EQ(Reason(std::string(70000, ' ')), "message is 70000 bytes; limit 65536");
  std::string at_limit(kUpstreamExample);
  at_limit.resize(kLimit, ' ');
  EXPECT_TRUE(parser_.Parse(at_limit).ok());
}

TEST_F(TransactionParserTest, ReasonIsOneShortLineWithoutTheWholeMessage) {
  const std::string json =
      WithField("status", "\"" + std::string("line one\\nline two ") + std::string(10000, 'x') + "\"");
  const std::string reason = Reason(json);
  EXPECT_LT(reason.size(), 160u) << reason;
  EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
  EXPECT_TRUE(Contains(reason, R"("line one\nline two xxxxxxxxxxxxxxxxxxxxxx"... (10018 bytes))"));
}

TEST_F(TransactionParserTest, ShortenedValueKeepsWholeCharacters) {
  // 39 ASCII bytes then a 4-byte emoji straddling the 40-byte cut.
  const std::string value = std::string(39, 'a') + "😀" + std::string(20, 'b');
  const std::string reason = Reason(WithField("status", "\"" + value + "\""));
  EXPECT_TRUE(simdjson::validate_utf8(reason)) << reason;
  EXPECT_TRUE(Contains(reason, "\"" + std::string(39, 'a') + "\"..."));
}

// The parser's verdict on whole messages against the upstream's own: zod's
// TransactionSchema.safeParse(JSON.parse(text)) in oracle.mjs --message.
std::vector<std::string> GeneratedMessages(int count) {
  static const std::vector<std::string> kIds = {"1",
                                                "2",
                                                "5005.5",
                                                "5005.50",
                                                "1.0",
                                                "1e3",
                                                "1E+2",
                                                "0.99999999999999999",
                                                "0",
                                                "-0",
                                                "0.999999",
                                                "-1",
                                                "1e-400",
                                                "\"1\"",
                                                "null",
                                                "true",
                                                "[]",
                                                "9223372036854775807",
                                                "9223372036854775808",
                                                "18446744073709551615",
                                                "1.7976931348623157e308",
                                                "1." + std::string(70, '5')};
  static const std::vector<std::string> kAmounts = {"0",  "-0",    "-0.0",  "100",  "12.75", "1e308",
                                                    "-1", "-1e-9", "\"5\"", "null", "{}"};
  static const std::vector<std::string> kTimestamps = {"\"2023-01-01T12:00:00Z\"",
                                                       "\"2023-01-01\"",
                                                       "\"2023\"",
                                                       "\"2023-01-01T12:00\"",
                                                       "\"Sun, 01 Jan 2023 12:00:00 GMT\"",
                                                       "\"01 Jan 2023 12:00 +0200\"",
                                                       "\"2023/01/01\"",
                                                       "\"Jan 1, 2023\"",
                                                       "\"2023-02-30\"",
                                                       "\"2023-13-01\"",
                                                       "\"yesterday\"",
                                                       "\"\"",
                                                       "\"Jan 1\"",
                                                       "\"2023-01-01T25:00Z\"",
                                                       "1672574400",
                                                       "null",
                                                       "\"+275761-01-01\""};
  static const std::vector<std::string> kStatuses = {
      "\"accepted\"", "\"rejected\"", "\"pending\"", "\"Accepted\"", "\"submitted\"", "\"\"", "1"};
  std::mt19937_64 rng(16);
  const auto pick = [&rng](const std::vector<std::string>& options) -> const std::string& {
    return options[rng() % options.size()];
  };
  std::vector<std::string> messages;
  for (int i = 0; i < count; ++i) {
    // Mostly valid fields, so that one bad field decides.
    const auto field = [&](const std::vector<std::string>& options) {
      return rng() % 3 == 0 ? pick(options) : options[rng() % 3];
    };
    Fields fields = {{"id", field(kIds)},          {"customer_id", field(kIds)},
                     {"vendor_id", field(kIds)},   {"timestamp", field(kTimestamps)},
                     {"status", field(kStatuses)}, {"amount", field(kAmounts)}};
    if (rng() % 10 == 0) fields.erase(fields.begin() + static_cast<long>(rng() % fields.size()));
    if (rng() % 5 == 0) fields.push_back({"extra", "{\"id\":0,\"x\":[1,\"}\"]}"});
    if (rng() % 10 == 0) fields.push_back({"id", pick(kIds)});  // a repeated key: the last counts
    std::string json = ToJson(fields);
    if (rng() % 20 == 0) json.resize(rng() % json.size());  // broken JSON
    messages.push_back(json);
  }
  messages.push_back("[1,2]");
  messages.push_back("null");
  return messages;
}

TEST_F(TransactionParserTest, AgreesWithTheUpstreamsZodSchemaOnGeneratedMessages) {
  if (!testing::UpstreamOracleAvailable()) {
    GTEST_SKIP() << testing::kNodePath << " is not installed (scripts/setup.sh)";
  }
  const std::vector<std::string> messages = GeneratedMessages(5000);
  Result<std::vector<std::string>> verdicts = testing::RunUpstreamOracle("--message", messages);
  ASSERT_TRUE(verdicts.ok()) << verdicts.status().message() << " (is zod installed? scripts/setup.sh)";
  int agree = 0;
  int documented = 0;
  int disagree = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const bool valid = (*verdicts)[i].starts_with("{\"valid\":true");
    const Result<Transaction> ours = parser_.Parse(messages[i]);
    if (ours.ok() == valid) {
      ++agree;
      continue;
    }
    // Refusals the docs list: a date without a year, an id token over 64 characters.
    const std::string why = ours.ok() ? "" : ours.status().message();
    if (why.find("no year") != std::string::npos || why.find("at most 64 are kept") != std::string::npos) {
      ++documented;
      continue;
    }
    if (++disagree <= 20) {
      ADD_FAILURE() << messages[i] << ": zod " << (*verdicts)[i] << ", ours "
                    << (ours.ok() ? "accepts" : ours.status().message());
    }
  }
  std::cout << "messages " << messages.size() << ": agree " << agree << ", documented refusals " << documented
            << ", disagree " << disagree << "\n";
  EXPECT_EQ(disagree, 0);
}

// ---------------------------------------------------------------------------

TEST(FormatIso8601MillisTest, WritesUtcWithMilliseconds) {
  EXPECT_EQ(FormatIso8601Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(1'672'574'400'123'456), "2023-01-01T12:00:00.123Z");
  EXPECT_EQ(FormatIso8601Millis(1'767'268'800'123'000), "2026-01-01T12:00:00.123Z");
  EXPECT_EQ(FormatIso8601Millis(1'709'164'800'000'000), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(951'868'799'999'999), "2000-02-29T23:59:59.999Z");
}

TEST(FormatIso8601MillisTest, RoundsDownBeforeAndAfter1970) {
  EXPECT_EQ(FormatIso8601Millis(999), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601Millis(-1000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601Millis(-1001), "1969-12-31T23:59:59.998Z");
}

TEST(FormatIso8601MillisTest, SaturatesOutsideYears1To9999) {
  EXPECT_EQ(FormatIso8601Millis(std::numeric_limits<int64_t>::min()), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(std::numeric_limits<int64_t>::max()), "9999-12-31T23:59:59.999Z");
}

TEST(FormatIso8601MillisTest, ParsesBackToTheSameMillisecond) {
  for (int64_t us : {int64_t{0}, int64_t{1'672'574'400'123'000}, int64_t{-86'400'000'000},
                     int64_t{253'402'300'799'999'000}, int64_t{-62'135'596'800'000'000}}) {
    const std::string text = FormatIso8601Millis(us);
    Result<ParsedTimestamp> parsed = ParseTimestamp(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(parsed->unix_ms, us / 1000) << text;
  }
}

// ---------------------------------------------------------------------------

TEST(AppendResultJsonTest, WritesTheUpstreamResultFormat) {
  ScoreResult result;
  result.transaction_id = 1;
  result.is_fraudulent = 0;
  result.confidence = 0.95;
  std::string out;
  AppendResultJson(result, "2026-01-01T12:00:00.123Z", nullptr, &out);
  EXPECT_EQ(out, R"({"transaction_id":1,"timestamp":"2026-01-01T12:00:00.123Z","is_fraudulent":0,)"
                 R"("confidence":0.95})");
}

TEST(AppendResultJsonTest, EchoesTheIdAsTheMessageWroteIt) {
  ScoreResult result;
  result.transaction_id_text = "5005.50";
  result.confidence = 0.5;
  std::string out;
  AppendResultJson(result, "t", nullptr, &out);
  EXPECT_EQ(out, R"({"transaction_id":5005.50,"timestamp":"t","is_fraudulent":0,"confidence":0.5})");
}

TEST(AppendResultJsonTest, NamesTheModelAfterTheUpstreamFields) {
  ScoreResult result;
  result.transaction_id = 2;
  result.is_fraudulent = 1;
  result.confidence = 0.75;
  const ResultModel model{"fraud \"eu\"", "v10"};
  std::string out;
  AppendResultJson(result, "t", &model, &out);
  EXPECT_EQ(out, R"({"transaction_id":2,"timestamp":"t","is_fraudulent":1,"confidence":0.75,)"
                 R"("model":"fraud \"eu\"","model_version":"v10"})");
  const ResultModel unnamed{"", "v1"};  // from a worker that predates model names
  out.clear();
  AppendResultJson(result, "t", &unnamed, &out);
  EXPECT_EQ(
      out,
      R"({"transaction_id":2,"timestamp":"t","is_fraudulent":1,"confidence":0.75,"model_version":"v1"})");
}

TEST(AppendResultJsonTest, AppendsAfterExistingText) {
  ScoreResult result;
  result.transaction_id = 9223372036854775807;
  result.is_fraudulent = 1;
  result.confidence = 1;
  std::string out = "[";
  AppendResultJson(result, "t", nullptr, &out);
  EXPECT_EQ(out, R"([{"transaction_id":9223372036854775807,"timestamp":"t","is_fraudulent":1,)"
                 R"("confidence":1})");
}

TEST(AppendResultJsonTest, ConfidenceParsesBackToTheSameDouble) {
  for (double confidence : {0.1 + 0.2, 1.0 / 3, 2.0 / 3, 0.95, 0.5, 0.0, 1.0, 0.9999999999999999, 1e-7,
                            5e-324, 0.1234567890123456789}) {
    ScoreResult result;
    result.confidence = confidence;
    std::string out;
    AppendResultJson(result, "t", nullptr, &out);
    const std::string key = "\"confidence\":";
    const std::string number = out.substr(out.find(key) + key.size());
    EXPECT_EQ(std::strtod(number.c_str(), nullptr), confidence) << out;
    simdjson::dom::parser parser;
    double parsed = -1;
    ASSERT_EQ(parser.parse(out)["confidence"].get_double().get(parsed), simdjson::SUCCESS) << out;
    EXPECT_EQ(parsed, confidence) << out;
  }
}

TEST(AppendResultJsonTest, NonFiniteConfidenceIsWrittenAsNull) {
  ScoreResult result;
  result.confidence = std::numeric_limits<double>::quiet_NaN();
  std::string out;
  AppendResultJson(result, "t", nullptr, &out);
  EXPECT_EQ(out, R"({"transaction_id":0,"timestamp":"t","is_fraudulent":0,"confidence":null})");
}

// ---------------------------------------------------------------------------

TEST(AppendJsonStringTest, EscapesWhatJsonRequires) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"C:\\dir", R"("C:\\dir")"},
      {"a\nb\rc\td\be\ff", R"("a\nb\rc\td\be\ff")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
      {"/ stays", R"("/ stays")"},
      {"é😀工", "\"é😀工\""},
  };
  for (const auto& [input, expected] : cases) {
    std::string out;
    AppendJsonString(input, &out);
    EXPECT_EQ(out, expected);
  }
}

TEST(AppendJsonStringTest, InvalidUtf8BecomesReplacementCharacters) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\xff"
       "b",
       R"("a\ufffdb")"},
      {"\xc3", R"("\ufffd")"},                                // cut sequence
      {"\xc0\xaf", R"("\ufffd\ufffd")"},                      // overlong '/'
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},            // surrogate
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // beyond U+10FFFF
  };
  for (const auto& [input, expected] : cases) {
    std::string out;
    AppendJsonString(input, &out);
    EXPECT_EQ(out, expected);
    EXPECT_TRUE(simdjson::validate_utf8(out));
  }
}

// ---------------------------------------------------------------------------

// Parses a dead-letter entry back, failing the test when it is not valid JSON.
simdjson::dom::element ParseDeadLetter(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  return root;
}

TEST(DeadLetterJsonTest, WritesReasonStageTimeAndMessage) {
  EXPECT_EQ(DeadLetterJson("missing field 'id'", "bridge", R"({"amount":1})", 1'767'268'800'123'000),
            R"({"reason":"missing field 'id'","stage":"bridge",)"
            R"("failed_at":"2026-01-01T12:00:00.123Z","message":"{\"amount\":1}"})");
}

TEST(DeadLetterJsonTest, EmbedsAnyValidUtf8OriginalExactly) {
  std::string every_control;
  for (int c = 0; c < 0x20; ++c) every_control.push_back(static_cast<char>(c));
  const std::vector<std::string> originals = {"quote \" backslash \\ slash /",
                                              "line\nbreak\r\n\ttab",
                                              every_control,
                                              "unicode é 😀 工 \u2028",
                                              std::string(kUpstreamExample),
                                              "",
                                              "{\"a\":\"\\u0000\"}"};
  simdjson::dom::parser parser;
  for (const std::string& original : originals) {
    const std::string json = DeadLetterJson("why \"quoted\"\n", "sink", original, 0);
    EXPECT_EQ(json.find('\n'), std::string::npos) << json;
    const simdjson::dom::element root = ParseDeadLetter(parser, json);
    EXPECT_EQ(std::string_view(root["message"]), original);
    EXPECT_EQ(std::string_view(root["reason"]), "why \"quoted\"\n");
    EXPECT_EQ(std::string_view(root["stage"]), "sink");
    EXPECT_EQ(std::string_view(root["failed_at"]), "1970-01-01T00:00:00.000Z");
  }
}

TEST(DeadLetterJsonTest, NonUtf8OriginalGoesAsBase64) {
  const std::vector<std::pair<std::string, std::string_view>> cases = {
      {"\xff", "/w=="},
      {"\xff\xfe", "//4="},
      {"\xff\xfe\xfd", "//79"},
      {"ab\xc3", "YWLD"},
      {std::string("{\"id\":1}\xff\x00", 10), "eyJpZCI6MX3/AA=="}};
  simdjson::dom::parser parser;
  for (const auto& [original, base64] : cases) {
    const std::string json = DeadLetterJson("not valid JSON", "bridge", original, 0);
    const simdjson::dom::element root = ParseDeadLetter(parser, json);
    EXPECT_EQ(std::string_view(root["message_base64"]), base64) << json;
    EXPECT_EQ(root["message"].error(), simdjson::NO_SUCH_FIELD) << json;
  }
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

// A date V8 reads whatever its length (a comment in parentheses is skipped)
// is taken up to kMaxTimestampTextBytes, the wire's share for it, and
// dead-lettered past it.
TEST(TransactionParserTimestampLimitTest, ADateIsTakenUpToTheWiresLimitAndRefusedPastIt) {
  TransactionParser parser(65536);
  const std::string head = "Sun, 01 Jan 2023 12:00:00 GMT (";
  for (size_t length :
       {kMaxTimestampTextBytes - 1, kMaxTimestampTextBytes, kMaxTimestampTextBytes + 1, size_t{4000}}) {
    const std::string date = head + std::string(length - head.size() - 1, 'x') + ")";
    ASSERT_EQ(date.size(), length);
    ASSERT_TRUE(ParseTimestamp(date).ok()) << "V8 reads it";
    Result<Transaction> parsed = parser.Parse(WithField("timestamp", "\"" + date + "\""));
    if (length <= kMaxTimestampTextBytes) {
      ASSERT_TRUE(parsed.ok()) << length << ": " << parsed.status().message();
      EXPECT_EQ(parsed->timestamp, date);
      EXPECT_EQ(parsed->timestamp_unix_s, 1672574400);
    } else {
      ASSERT_FALSE(parsed.ok()) << length;
      EXPECT_EQ(parsed.status().message(), "field 'timestamp': a date of " + std::to_string(length) +
                                               " bytes; scorepipe takes at most 256");
    }
  }
}

}  // namespace
}  // namespace scorepipe
