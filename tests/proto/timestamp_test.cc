// ParseTimestamp against a table of forms, and against V8's own Date.parse
// (tests/support/upstream_oracle/oracle.mjs under /usr/bin/node, TZ=UTC) on
// thousands of generated strings.
#include "proto/timestamp.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/upstream_oracle.h"

namespace scorepipe {
namespace {

struct Form {
  const char* text;
  int64_t unix_ms;
};

// Every value here is what `TZ=UTC node -e 'Date.parse(...)'` (Node 20) gives.
constexpr Form kAcceptedForms[] = {
    // ECMAScript Date Time String Format, and V8's extensions of it.
    {"2023-01-01T12:00:00Z", 1672574400000},
    {"2023-01-01", 1672531200000},
    {"2023-01", 1672531200000},
    {"2023", 1672531200000},
    {"2023-01-01T12:00", 1672574400000},  // no zone: UTC (V8: local)
    {"2023-01-01T12:00:00", 1672574400000},
    {"2023-01-01t12:00:00z", 1672574400000},
    {"2023-01-01T12:00:00+02:00", 1672567200000},
    {"2023-01-01T12:00:00+0200", 1672567200000},
    {"2023-01-01T12:00:00.5+01:30", 1672569000500},
    {"2023-01-01T12:00:00.123Z", 1672574400123},
    {"2023-01-01T12:00:00.123456Z", 1672574400123},
    {"+002023-01-01", 1672531200000},
    {"-000001-01-01T00:00:00Z", -62198755200000},
    {"2023-01-01T24:00:00Z", 1672617600000},
    {"2023-02-30", 1677715200000},  // V8 rolls over into March
    {"1969-12-31T23:59:59.5Z", -500},
    {"+275760-09-13T00:00:00Z", 8640000000000000},
    {"-271821-04-20T00:00:00Z", -8640000000000000},
    // V8's legacy forms: RFC 2822 / HTTP dates and the rest.
    {"Sun, 01 Jan 2023 12:00:00 GMT", 1672574400000},
    {"Sun, 01 Jan 2023 12:00:00 UT", 1672574400000},
    {"01 Jan 2023 12:00:00 +0200", 1672567200000},
    {"Sun, 01 Jan 2023 12:00 EST", 1672592400000},
    {"01 Jan 23 12:00 PDT", 1672599600000},
    {"Sun, 01 Jan 2023 12:00:00 GMT (a comment)", 1672574400000},
    {"Thu, 01 Jan 1970 00:00:00 GMT+0100", -3600000},
    {"1 January 2023 10:00 GMT", 1672567200000},
    {"1 January 2023 10:00 GMT-5", 1672585200000},
    {"2023-01-01 12:00:00", 1672574400000},
    {"2023-01-01 12:00:00+02", 1672567200000},
    {"2023/01/01", 1672531200000},
    {"Jan 1, 2023", 1672531200000},
    {"1/2/2023 3:04 PM", 1672671840000},
    {"Jan 1 2023 12:00 am", 1672531200000},
    {"12/31/99", 946598400000},  // 2-digit years 50-99: 19xx
    {"2023-001", 1672531200000},
};

TEST(ParseTimestampTest, ReadsEveryFormOfTheTableAsDateParseDoes) {
  for (const Form& form : kAcceptedForms) {
    Result<ParsedTimestamp> parsed = ParseTimestamp(form.text);
    ASSERT_TRUE(parsed.ok()) << form.text << ": " << parsed.status().message();
    EXPECT_EQ(parsed->unix_ms, form.unix_ms) << form.text;
  }
}

TEST(ParseTimestampTest, GivesUnixSecondsWithTheDigitsPastTheMillisecond) {
  EXPECT_EQ(ParseTimestamp("2023-01-01T12:00:00Z")->UnixSeconds(), 1672574400.0);
  EXPECT_EQ(ParseTimestamp("2023-01-01")->UnixSeconds(), 1672531200.0);
  const ParsedTimestamp micro = *ParseTimestamp("2023-01-01T12:00:00.123456Z");
  EXPECT_EQ(micro.unix_ms, 1672574400123);
  EXPECT_EQ(micro.sub_ms_ns, 456000);
  EXPECT_NEAR(micro.UnixSeconds(), 1672574400.123456, 1e-6);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.999999999Z")->sub_ms_ns, 999999);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.9999999999Z")->sub_ms_ns, 999999);
}

TEST(ParseTimestampTest, RefusesWhatDateParseRefuses) {
  for (const char* text :
       {"", "yesterday", "2023-13-01", "2023-01-32", "2023-01-01T12:00:60Z", "2023-01-01T25:00Z",
        "2023-01-01T24:00:01Z", "2023-01-01T12:00:00+02", "2023-01-01T12:00:00Zjunk", "20230101",
        "+275760-09-13T00:00:00.001Z", "-271821-04-19T23:59:59.999Z", "-000000-01-01", "Jan 2023 13:00 pm",
        "2023-01-01 12:00 +12345"}) {
    EXPECT_FALSE(ParseTimestamp(text).ok()) << text;
  }
}

TEST(ParseTimestampTest, RefusesADateWithoutAYear) {
  // Date.parse makes the year 2001 up for these.
  for (const char* text : {"Jan 1", "12/31", "1 January 10:00 GMT", "Sun, 01 Jan 12:00:00 GMT"}) {
    EXPECT_EQ(ParseTimestamp(text).status().message(), "no year: the date has only a day and a month")
        << text;
  }
}

TEST(ParseTimestampTest, RefusesYearsBeyondTheRangeOfADate) {
  EXPECT_EQ(ParseTimestamp("Jan 1 999999999").status().message(), "the year is out of range");
  EXPECT_EQ(ParseTimestamp("+275761-01-01").status().message(), "out of range: beyond 8.64e15 ms from 1970");
}

TEST(ParseTimestampTest, StopsAtANulByteAsV8Does) {
  EXPECT_EQ(ParseTimestamp(std::string_view("2023-01-01\0junk", 15))->unix_ms, 1672531200000);
}

// ---------------------------------------------------------------------------
// Generated strings against V8.

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::string Next() {
    std::string s;
    switch (Pick(5)) {
      case 0:
      case 1:
        s = Iso();
        break;
      case 2:
        s = Rfc2822();
        break;
      case 3:
        s = Legacy();
        break;
      default:
        s = Noise();
        break;
    }
    const int mutations = Pick(3) == 0 ? 0 : 1 + Pick(3);
    for (int i = 0; i < mutations; ++i) Mutate(&s);
    return s;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  std::string Num(int lo, int hi, int width) {
    std::string digits = std::to_string(lo + Pick(hi - lo + 1));
    while (static_cast<int>(digits.size()) < width) digits.insert(0, "0");
    return digits;
  }
  template <size_t N>
  const char* OneOf(const char* const (&options)[N]) {
    return options[Pick(N)];
  }

  std::string Year() {
    if (Chance(10)) return std::string(Chance(50) ? "+" : "-") + Num(0, 300000, 6);
    if (Chance(10)) return Num(0, 9999, 4);
    return Num(1900, 2100, 4);
  }
  std::string Zone() {
    static constexpr const char* kZones[] = {"",      "Z",   "z",      "+02:00", "-05:30", "+0200",
                                             "-1200", "+02", "+24:00", "+23:59", "-00:00"};
    return OneOf(kZones);
  }

  std::string Iso() {
    std::string s = Year();
    if (Chance(85)) {
      s += "-" + Num(0, 13, 2);
      if (Chance(85)) s += "-" + Num(0, 32, 2);
    }
    if (Chance(75)) {
      s += OneOf({"T", "t", " ", "T", "T"});
      s += Num(0, 25, 2) + ":" + Num(0, 60, 2);
      if (Chance(75)) s += ":" + Num(0, 60, 2);
      if (Chance(40)) s += "." + Num(0, 999999, 1 + Pick(9)).substr(0, 1 + Pick(10));
      s += Zone();
    }
    return s;
  }

  std::string Month() {
    static constexpr const char* kMonths[] = {"Jan",     "Feb",       "Mar",      "Apr",  "May",   "Jun",
                                              "Jul",     "Aug",       "Sep",      "Oct",  "Nov",   "Dec",
                                              "January", "september", "DECEMBER", "Juno", "Mayday"};
    return OneOf(kMonths);
  }

  std::string Rfc2822() {
    static constexpr const char* kDays[] = {"Sun, ", "Mon, ", "Thu, ", "", "", "Sunday, ", "Xyz, "};
    static constexpr const char* kZones[] = {"GMT", "UT",    "UTC",      "EST",       "EDT",   "CST",   "CDT",
                                             "MST", "MDT",   "PST",      "PDT",       "+0200", "-0800", "Z",
                                             "",    "GMT+1", "GMT-0530", "UTC+02:00", "CET",   "(EST)"};
    std::string s = OneOf(kDays);
    s += Num(0, 32, Chance(50) ? 2 : 1) + " " + Month() + " ";
    s += Chance(20) ? Num(0, 99, 2) : Year();
    if (Chance(85)) {
      s += " " + Num(0, 24, 2) + ":" + Num(0, 60, 2);
      if (Chance(70)) s += ":" + Num(0, 60, 2);
    }
    if (Chance(85)) s += std::string(" ") + OneOf(kZones);
    return s;
  }

  std::string Legacy() {
    std::string date;
    switch (Pick(6)) {
      case 0:
        date = Num(1, 2100, 4) + "/" + Num(0, 13, 2) + "/" + Num(0, 32, 2);
        break;
      case 1:
        date = Num(0, 13, 1) + "/" + Num(0, 32, 1) + "/" + (Chance(30) ? Num(0, 99, 2) : Year());
        break;
      case 2:
        date = Month() + " " + Num(0, 32, 1) + (Chance(70) ? ", " + Year() : "");
        break;
      case 3:
        date = Num(0, 32, 1) + " " + Month() + (Chance(80) ? " " + Year() : "");
        break;
      case 4:
        date = Year() + "-" + Num(0, 13, 2) + "-" + Num(0, 32, 2);
        break;
      default:
        date = Month() + "-" + Num(0, 32, 2) + "-" + Year();
        break;
    }
    if (Chance(70)) {
      date += " " + Num(0, 24, 1 + Pick(2)) + ":" + Num(0, 60, 2);
      if (Chance(50)) date += ":" + Num(0, 60, 2);
      if (Chance(20)) date += "." + Num(0, 999, 1 + Pick(4));
      if (Chance(30)) date += OneOf({" AM", " pm", "am", " PM"});
      if (Chance(50)) date += std::string(" ") + OneOf({"GMT", "UTC", "Z", "EST", "+01:00", "-3", "(x)"});
    }
    if (Chance(15)) date.insert(0, OneOf({"Date: ", "(note) ", "on ", "x"}));
    return date;
  }

  std::string Noise() {
    static constexpr const char* kPieces[] = {
        "0", "1", "12", "2023", "99", "-",   "+",   ":",  ".", "/",        " ",    ",",           "(",
        ")", "T", "Z",  "jan",  "pm", "GMT", "abc", "\t", "é", "\xc2\xa0", "0000", "123456789012"};
    std::string s;
    const int n = 1 + Pick(10);
    for (int i = 0; i < n; ++i) s += OneOf(kPieces);
    return s;
  }

  void Mutate(std::string* s) {
    static constexpr const char* kInserts[] = {
        "0",   "5",  "9", "-", "+", ":", ".", " ", "/",  ",", "(",
        ")",   "T",  "t", "Z", "z", "a", "M", "x", "\n", "é", "\xe2\x80\x83",
        "GMT", "12", "00"};
    if (s->empty()) {
      *s = OneOf(kInserts);
      return;
    }
    const size_t at = static_cast<size_t>(Pick(static_cast<int>(s->size()) + 1));
    switch (Pick(5)) {
      case 0:  // replace one ASCII character
        if (at < s->size() && static_cast<unsigned char>((*s)[at]) < 0x80) {
          s->replace(at, 1, OneOf(kInserts));
        }
        break;
      case 1:  // delete one ASCII character
        if (at < s->size() && static_cast<unsigned char>((*s)[at]) < 0x80) s->erase(at, 1);
        break;
      case 2:  // insert
        if (at == s->size() || static_cast<unsigned char>((*s)[at]) < 0x80) s->insert(at, OneOf(kInserts));
        break;
      case 3:  // truncate at an ASCII character
        if (at < s->size() && static_cast<unsigned char>((*s)[at]) < 0x80) s->resize(at);
        break;
      default:  // junk suffix
        *s += OneOf({" junk", "Z", "  ", ")", " (c)", "0", " GMT", "+01", ":"});
        break;
    }
  }

  std::mt19937_64 rng_;
};

// Date.parse of each string under TZ=UTC, nullopt for NaN.
Result<std::vector<std::optional<int64_t>>> DateParseAll(const std::vector<std::string>& texts) {
  Result<std::vector<std::string>> lines = testing::RunUpstreamOracle("--date", texts);
  if (!lines.ok()) return lines.status();
  std::vector<std::optional<int64_t>> out;
  out.reserve(lines->size());
  for (const std::string& line : *lines) {
    if (line == "{\"ms\":null}") {
      out.emplace_back();
    } else if (line.starts_with("{\"ms\":")) {
      out.emplace_back(std::strtoll(line.c_str() + 6, nullptr, 10));
    } else {
      return Status::Error("unexpected oracle line: " + line);
    }
  }
  return out;
}

TEST(ParseTimestampTest, AgreesWithV8DateParseOnGeneratedStrings) {
  if (!testing::UpstreamOracleAvailable()) {
    GTEST_SKIP() << testing::kNodePath << " is not installed (scripts/setup.sh)";
  }
  constexpr int kStrings = 30000;
  Generator generator(20261206);
  std::vector<std::string> texts;
  texts.reserve(kStrings);
  for (int i = 0; i < kStrings; ++i) texts.push_back(generator.Next());
  Result<std::vector<std::optional<int64_t>>> v8 = DateParseAll(texts);
  ASSERT_TRUE(v8.ok()) << v8.status().message();

  int both_accept = 0;
  int both_refuse = 0;
  int refused_no_year = 0;
  int disagreements = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const Result<ParsedTimestamp> ours = ParseTimestamp(texts[i]);
    const std::optional<int64_t>& theirs = (*v8)[i];
    std::string why;
    if (ours.ok() && theirs.has_value()) {
      if (ours->unix_ms == *theirs) {
        ++both_accept;
        continue;
      }
      why = "ours " + std::to_string(ours->unix_ms) + " ms, V8 " + std::to_string(*theirs);
    } else if (!ours.ok() && !theirs.has_value()) {
      ++both_refuse;
      continue;
    } else if (!ours.ok() && ours.status().message().starts_with("no year")) {
      ++refused_no_year;  // the documented refusal
      continue;
    } else if (ours.ok()) {
      why = "ours " + std::to_string(ours->unix_ms) + " ms, V8 NaN";
    } else {
      why = "ours refused (" + ours.status().message() + "), V8 " + std::to_string(*theirs);
    }
    if (++disagreements <= 30) ADD_FAILURE() << "\"" << texts[i] << "\": " << why;
  }
  std::cout << "generated " << texts.size() << ": both accept (same ms) " << both_accept << ", both refuse "
            << both_refuse << ", refused as without a year " << refused_no_year << ", disagree "
            << disagreements << "\n";
  EXPECT_EQ(disagreements, 0);
  // The generator must reach each verdict often, or the test proves little.
  EXPECT_GT(both_accept, kStrings / 5);
  EXPECT_GT(both_refuse, kStrings / 5);
}

}  // namespace
}  // namespace scorepipe
