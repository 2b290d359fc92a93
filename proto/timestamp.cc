#include "proto/timestamp.h"

#include <climits>
#include <cstddef>

// The reading follows V8's date parser (src/date/dateparser*) step by step, so
// that it accepts and refuses what Date.parse does; the names of its parts
// (tokens, the day, time and zone composers) are V8's.

namespace scorepipe {
namespace {

constexpr int kNone = INT_MAX;  // a field not given
// A numeral's value is built from its first 9 digits; the rest are skipped.
constexpr int kMaxSignificantDigits = 9;

bool Between(int x, int lo, int hi) {
  return static_cast<unsigned>(x) - static_cast<unsigned>(lo) <=
         static_cast<unsigned>(hi) - static_cast<unsigned>(lo);
}
bool IsMonth(int x) { return Between(x, 1, 12); }
bool IsDay(int x) { return Between(x, 1, 31); }
bool IsHour(int x) { return Between(x, 0, 23); }
bool IsMinute(int x) { return Between(x, 0, 59); }
bool IsSecond(int x) { return Between(x, 0, 59); }
bool IsHour12(int x) { return Between(x, 0, 12); }
bool IsMillisecond(int x) { return Between(x, 0, 999); }

enum class Kind : uint8_t { kInvalid, kUnknown, kNumber, kSymbol, kWhiteSpace, kEnd, kKeyword };
enum class Keyword : uint8_t { kNotAKeyword, kMonthName, kTimeZoneName, kTimeSeparator, kAmPm };

struct Token {
  Kind kind = Kind::kEnd;
  Keyword keyword = Keyword::kNotAKeyword;
  int length = 0;  // characters read
  int value = 0;   // number, symbol character, or keyword value
  // A number's digits past the third, up to the ninth, as nanoseconds (for a
  // fraction of a second).
  int32_t sub_ms_ns = 0;

  bool IsNumber() const { return kind == Kind::kNumber; }
  bool IsFixedLengthNumber(int n) const { return IsNumber() && length == n; }
  bool IsSymbol(char c) const { return kind == Kind::kSymbol && value == c; }
  bool IsSign() const { return IsSymbol('+') || IsSymbol('-'); }
  int Sign() const { return value == '+' ? 1 : -1; }
  bool IsKeywordType(Keyword k) const { return kind == Kind::kKeyword && keyword == k; }
  bool IsKeywordZ() const { return IsKeywordType(Keyword::kTimeZoneName) && length == 1 && value == 0; }
};

struct KeywordEntry {
  char prefix[3];
  Keyword type;
  int value;
};
// Lower-case prefixes; a longer word matches only a month name.
constexpr KeywordEntry kKeywords[] = {
    {{'j', 'a', 'n'}, Keyword::kMonthName, 1},
    {{'f', 'e', 'b'}, Keyword::kMonthName, 2},
    {{'m', 'a', 'r'}, Keyword::kMonthName, 3},
    {{'a', 'p', 'r'}, Keyword::kMonthName, 4},
    {{'m', 'a', 'y'}, Keyword::kMonthName, 5},
    {{'j', 'u', 'n'}, Keyword::kMonthName, 6},
    {{'j', 'u', 'l'}, Keyword::kMonthName, 7},
    {{'a', 'u', 'g'}, Keyword::kMonthName, 8},
    {{'s', 'e', 'p'}, Keyword::kMonthName, 9},
    {{'o', 'c', 't'}, Keyword::kMonthName, 10},
    {{'n', 'o', 'v'}, Keyword::kMonthName, 11},
    {{'d', 'e', 'c'}, Keyword::kMonthName, 12},
    {{'a', 'm', 0}, Keyword::kAmPm, 0},
    {{'p', 'm', 0}, Keyword::kAmPm, 12},
    {{'u', 't', 0}, Keyword::kTimeZoneName, 0},
    {{'u', 't', 'c'}, Keyword::kTimeZoneName, 0},
    {{'z', 0, 0}, Keyword::kTimeZoneName, 0},
    {{'g', 'm', 't'}, Keyword::kTimeZoneName, 0},
    {{'c', 'd', 't'}, Keyword::kTimeZoneName, -5},
    {{'c', 's', 't'}, Keyword::kTimeZoneName, -6},
    {{'e', 'd', 't'}, Keyword::kTimeZoneName, -4},
    {{'e', 's', 't'}, Keyword::kTimeZoneName, -5},
    {{'m', 'd', 't'}, Keyword::kTimeZoneName, -6},
    {{'m', 's', 't'}, Keyword::kTimeZoneName, -7},
    {{'p', 'd', 't'}, Keyword::kTimeZoneName, -7},
    {{'p', 's', 't'}, Keyword::kTimeZoneName, -8},
    {{'t', 0, 0}, Keyword::kTimeSeparator, 0},
};

// Splits the text into tokens with one token of look-ahead. A NUL byte ends
// the text, as it ends V8's reader. Bytes >= 'A' (so every byte of a UTF-8
// sequence, as every UTF-16 unit >= 'A' in V8) form words.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) { next_ = Scan(); }

  Token Next() {
    const Token result = next_;
    next_ = Scan();
    return result;
  }
  const Token& Peek() const { return next_; }
  bool SkipSymbol(char c) {
    if (!next_.IsSymbol(c)) return false;
    next_ = Scan();
    return true;
  }

 private:
  char Ch() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsWordChar(char c) { return static_cast<unsigned char>(c) >= 'A'; }

  // The length of the UTF-8 sequence at pos_ when it is a white space or line
  // terminator of JavaScript beyond ASCII (U+00A0, U+1680, U+2000-U+200A,
  // U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF), else 0.
  size_t UnicodeSpaceBytes() const {
    const auto byte = [this](size_t k) {
      return pos_ + k < text_.size() ? static_cast<unsigned char>(text_[pos_ + k]) : 0u;
    };
    const unsigned b0 = byte(0);
    if (b0 == 0xc2) return byte(1) == 0xa0 ? 2 : 0;
    if (b0 < 0xe1 || b0 > 0xef) return 0;
    const unsigned code = (b0 & 0x0fu) << 12 | (byte(1) & 0x3fu) << 6 | (byte(2) & 0x3fu);
    if ((byte(1) & 0xc0u) != 0x80u || (byte(2) & 0xc0u) != 0x80u) return 0;
    const bool space = code == 0x1680 || (code >= 0x2000 && code <= 0x200a) || code == 0x2028 ||
                       code == 0x2029 || code == 0x202f || code == 0x205f || code == 0x3000 || code == 0xfeff;
    return space ? 3 : 0;
  }

  Token Scan() {
    Token t;
    const char c = Ch();
    if (c == '\0') return t;  // kEnd
    if (IsDigit(c)) {
      const size_t start = pos_;
      int value = 0;
      int32_t sub_ms_ns = 0;
      int32_t scale = 100'000;
      // Leading zeros do not count towards the significant digits (V8).
      int significant = 0;
      int count = 0;
      for (; IsDigit(Ch()); ++pos_, ++count) {
        if (significant > 0 || Ch() != '0') {
          if (significant < kMaxSignificantDigits) value = value * 10 + (Ch() - '0');
          ++significant;
        }
        if (count >= 3 && count < kMaxSignificantDigits) {
          sub_ms_ns += (Ch() - '0') * scale;
          scale /= 10;
        }
      }
      t.kind = Kind::kNumber;
      t.value = value;
      t.length = static_cast<int>(pos_ - start);
      t.sub_ms_ns = sub_ms_ns;
      return t;
    }
    if (c == ':' || c == '-' || c == '+' || c == '.' || c == ')') {
      ++pos_;
      t.kind = Kind::kSymbol;
      t.value = static_cast<unsigned char>(c);  // one of the ASCII symbols above
      t.length = 1;
      return t;
    }
    if (const size_t space = UnicodeSpaceBytes(); space > 0) {
      pos_ += space;
      t.kind = Kind::kWhiteSpace;
      t.length = 1;
      return t;
    }
    if (IsWordChar(c)) {
      char prefix[3] = {0, 0, 0};
      int length = 0;
      for (; IsWordChar(Ch()) && UnicodeSpaceBytes() == 0; ++pos_, ++length) {
        if (length < 3) prefix[length] = static_cast<char>(Ch() | 0x20);
      }
      t.kind = Kind::kKeyword;
      t.length = length;
      for (const KeywordEntry& k : kKeywords) {
        if (k.prefix[0] == prefix[0] && k.prefix[1] == prefix[1] && k.prefix[2] == prefix[2] &&
            (length <= 3 || k.type == Keyword::kMonthName)) {
          t.keyword = k.type;
          t.value = k.value;
          break;
        }
      }
      return t;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
      ++pos_;
      t.kind = Kind::kWhiteSpace;
      t.length = 1;
      return t;
    }
    t.kind = Kind::kUnknown;
    t.length = 1;
    if (c == '(') {
      int balance = 0;
      do {
        if (Ch() == ')') {
          --balance;
        } else if (Ch() == '(') {
          ++balance;
        }
        ++pos_;
      } while (balance > 0 && Ch() != '\0');
      return t;
    }
    ++pos_;
    return t;
  }

  std::string_view text_;
  size_t pos_ = 0;
  Token next_;
};

// V8's ReadMilliseconds: the first three significant digits of a fraction.
int ReadMilliseconds(const Token& number) {
  int value = number.value;
  int length = number.length;
  if (length == 1) return value * 100;
  if (length == 2) return value * 10;
  if (length > kMaxSignificantDigits) length = kMaxSignificantDigits;
  while (length > 3) {
    value /= 10;
    --length;
  }
  return value;
}

class TimeZoneComposer {
 public:
  void Set(int offset_hours) {
    sign_ = offset_hours < 0 ? -1 : 1;
    hour_ = offset_hours * sign_;
    minute_ = 0;
  }
  void SetSign(int sign) { sign_ = sign < 0 ? -1 : 1; }
  void SetAbsoluteHour(int hour) { hour_ = hour; }
  void SetAbsoluteMinute(int minute) { minute_ = minute; }
  bool IsExpecting(int n) const { return hour_ != kNone && minute_ == kNone && IsMinute(n); }
  bool IsUtc() const { return hour_ == 0 && minute_ == 0; }
  bool IsEmpty() const { return hour_ == kNone; }
  // Seconds east of UTC; false when V8 refuses the offset (beyond a 32-bit Smi).
  bool Write(int64_t* offset_s, bool* given) const {
    *given = sign_ != kNone;
    if (!*given) return true;
    const int64_t hour = hour_ == kNone ? 0 : hour_;
    const int64_t minute = minute_ == kNone ? 0 : minute_;
    const uint32_t total = static_cast<uint32_t>(hour * 3600U + minute * 60U);
    if (total > static_cast<uint32_t>(INT32_MAX)) return false;
    *offset_s = sign_ < 0 ? -static_cast<int64_t>(total) : total;
    return true;
  }

 private:
  int sign_ = kNone;
  int hour_ = kNone;
  int minute_ = kNone;
};

class TimeComposer {
 public:
  bool IsEmpty() const { return index_ == 0; }
  bool IsExpecting(int n) const {
    return (index_ == 1 && IsMinute(n)) || (index_ == 2 && IsSecond(n)) || (index_ == 3 && IsMillisecond(n));
  }
  bool Add(int n) {
    if (index_ >= kSize) return false;
    comp_[index_++] = n;
    return true;
  }
  bool AddFinal(int n) {
    if (!Add(n)) return false;
    while (index_ < kSize) comp_[index_++] = 0;
    return true;
  }
  void SetHourOffset(int n) { hour_offset_ = n; }
  void SetSubMs(int32_t ns) { sub_ms_ns_ = ns; }

  // Milliseconds of the day (hour 24 allowed as 24:00:00.000).
  bool Write(int64_t* ms, int32_t* sub_ms_ns) {
    while (index_ < kSize) comp_[index_++] = 0;
    int hour = comp_[0];
    const int minute = comp_[1];
    const int second = comp_[2];
    const int millisecond = comp_[3];
    if (hour_offset_ != kNone) {
      if (!IsHour12(hour)) return false;
      hour = hour % 12 + hour_offset_;
    }
    if (!IsHour(hour) || !IsMinute(minute) || !IsSecond(second) || !IsMillisecond(millisecond)) {
      if (hour != 24 || minute != 0 || second != 0 || millisecond != 0) return false;
    }
    *ms = ((hour * 60LL + minute) * 60 + second) * 1000 + millisecond;
    *sub_ms_ns = sub_ms_ns_;
    return true;
  }

 private:
  static constexpr int kSize = 4;
  int comp_[kSize] = {0, 0, 0, 0};
  int index_ = 0;
  int hour_offset_ = kNone;
  int32_t sub_ms_ns_ = 0;
};

enum class DayError : uint8_t { kOk, kInvalid, kNoYear };

class DayComposer {
 public:
  bool IsEmpty() const { return index_ == 0; }
  bool Add(int n) {
    if (index_ >= kSize) return false;
    comp_[index_++] = n;
    return true;
  }
  void SetNamedMonth(int n) { named_month_ = n; }
  void SetIsoDate() { is_iso_date_ = true; }

  DayError Write(int* year_out, int* month_out, int* day_out) {
    if (index_ < 1) return DayError::kInvalid;
    const int given = index_;
    while (index_ < kSize) comp_[index_++] = 1;
    int year = 0;
    int month = kNone;
    int day = kNone;
    // As in V8, the padded components count: a missing day or month is 1,
    // and so is a missing year (which V8 then reads as 2001; see kNoYear).
    bool has_year = true;
    if (named_month_ == kNone) {
      if (is_iso_date_ || !IsDay(comp_[0])) {
        year = comp_[0];
        month = comp_[1];
        day = comp_[2];
      } else {
        month = comp_[0];
        day = comp_[1];
        year = comp_[2];
        has_year = given == 3;
      }
    } else {
      month = named_month_;
      if (!IsDay(comp_[0])) {
        year = comp_[0];
        day = comp_[1];
      } else {
        day = comp_[0];
        year = comp_[1];
        has_year = given >= 2;
      }
    }
    if (!is_iso_date_) {
      if (Between(year, 0, 49)) {
        year += 2000;
      } else if (Between(year, 50, 99)) {
        year += 1900;
      }
    }
    if (!IsMonth(month) || !IsDay(day)) return DayError::kInvalid;
    if (!has_year) return DayError::kNoYear;
    *year_out = year;
    *month_out = month;
    *day_out = day;
    return DayError::kOk;
  }

 private:
  static constexpr int kSize = 3;
  int comp_[kSize] = {0, 0, 0};
  int index_ = 0;
  int named_month_ = kNone;
  bool is_iso_date_ = false;
};

// V8's ParseES5DateTime: reads as much of an ECMAScript Date Time String as
// the text has. Returns kEnd when it read the whole text, kInvalid when the
// text can no longer be a date, else the token the legacy reading goes on
// with.
Token ParseEs5DateTime(Tokenizer& scanner, DayComposer& day, TimeComposer& time, TimeZoneComposer& tz) {
  Token invalid;
  invalid.kind = Kind::kInvalid;
  if (scanner.Peek().IsSign()) {
    const Token sign_token = scanner.Next();
    if (!scanner.Peek().IsFixedLengthNumber(6)) return sign_token;
    const int sign = sign_token.Sign();
    const int year = scanner.Next().value;
    if (sign < 0 && year == 0) return sign_token;
    day.Add(sign * year);
  } else if (scanner.Peek().IsFixedLengthNumber(4)) {
    day.Add(scanner.Next().value);
  } else {
    return scanner.Next();
  }
  if (scanner.SkipSymbol('-')) {
    if (!scanner.Peek().IsFixedLengthNumber(2) || !IsMonth(scanner.Peek().value)) return scanner.Next();
    day.Add(scanner.Next().value);
    if (scanner.SkipSymbol('-')) {
      if (!scanner.Peek().IsFixedLengthNumber(2) || !IsDay(scanner.Peek().value)) return scanner.Next();
      day.Add(scanner.Next().value);
    }
  }
  if (!scanner.Peek().IsKeywordType(Keyword::kTimeSeparator)) {
    if (scanner.Peek().kind != Kind::kEnd) return scanner.Next();
  } else {
    scanner.Next();
    if (!scanner.Peek().IsFixedLengthNumber(2) || !Between(scanner.Peek().value, 0, 24)) return invalid;
    const bool hour_is_24 = scanner.Peek().value == 24;
    time.Add(scanner.Next().value);
    if (!scanner.SkipSymbol(':')) return invalid;
    if (!scanner.Peek().IsFixedLengthNumber(2) || !IsMinute(scanner.Peek().value) ||
        (hour_is_24 && scanner.Peek().value > 0)) {
      return invalid;
    }
    time.Add(scanner.Next().value);
    if (scanner.SkipSymbol(':')) {
      if (!scanner.Peek().IsFixedLengthNumber(2) || !IsSecond(scanner.Peek().value) ||
          (hour_is_24 && scanner.Peek().value > 0)) {
        return invalid;
      }
      time.Add(scanner.Next().value);
      if (scanner.SkipSymbol('.')) {
        if (!scanner.Peek().IsNumber() || (hour_is_24 && scanner.Peek().value > 0)) return invalid;
        const Token fraction = scanner.Next();
        time.Add(ReadMilliseconds(fraction));
        time.SetSubMs(fraction.sub_ms_ns);
      }
    }
    if (scanner.Peek().IsKeywordZ()) {
      scanner.Next();
      tz.Set(0);
    } else if (scanner.Peek().IsSign()) {
      tz.SetSign(scanner.Next().Sign());
      if (scanner.Peek().IsFixedLengthNumber(4)) {
        const int hourmin = scanner.Next().value;
        const int hour = hourmin / 100;
        const int minute = hourmin % 100;
        if (!IsHour(hour) || !IsMinute(minute)) return invalid;
        tz.SetAbsoluteHour(hour);
        tz.SetAbsoluteMinute(minute);
      } else {
        if (!scanner.Peek().IsFixedLengthNumber(2) || !IsHour(scanner.Peek().value)) return invalid;
        tz.SetAbsoluteHour(scanner.Next().value);
        if (!scanner.SkipSymbol(':')) return invalid;
        if (!scanner.Peek().IsFixedLengthNumber(2) || !IsMinute(scanner.Peek().value)) return invalid;
        tz.SetAbsoluteMinute(scanner.Next().value);
      }
    }
    if (scanner.Peek().kind != Kind::kEnd) return invalid;
  }
  // Date-only forms without a zone are UTC; date-time forms are local time
  // in V8, which ParseTimestamp takes as UTC as well (see the header).
  if (tz.IsEmpty() && time.IsEmpty()) tz.Set(0);
  day.SetIsoDate();
  Token end;
  end.kind = Kind::kEnd;
  return end;
}

// Days from 1970-01-01 to year-month-01 (proleptic Gregorian), for any year;
// month 1-12.
int64_t DaysFromCivil(int64_t year, int64_t month) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

constexpr int64_t kMaxTimeMs = 8'640'000'000'000'000;  // a JavaScript Date's range
constexpr int kMaxYear = 1'000'000;                    // V8's MakeDay bound

Status NotADate() { return Status::Error("not a date that Date.parse reads"); }

// The instant of a date and time of day in range (a day past the month's end
// rolls over); false beyond a JavaScript Date's range.
bool ToUnixMs(int year, int month, int day_of_month, int64_t ms_of_day, int64_t offset_s, int64_t* ms) {
  const int64_t days = DaysFromCivil(year, month) + day_of_month - 1;
  *ms = days * 86'400'000 + ms_of_day - offset_s * 1000;
  return *ms >= -kMaxTimeMs && *ms <= kMaxTimeMs;
}

// The common shapes, read without the tokenizer: YYYY-MM-DD, optionally
// followed by THH:mm[:ss[.f{1,9}]] and Z or +HH:mm / +HHmm, every field in
// range (hour 00-23). False for anything else, which the full reading then
// takes; where this succeeds it gives what the full reading gives.
bool ParseCommonIso(std::string_view text, ParsedTimestamp* out) {
  const size_t n = text.size();
  size_t i = 0;
  bool ok = true;
  const auto digits = [&](int count) {
    int value = 0;
    for (int k = 0; k < count; ++k, ++i) {
      if (i >= n || text[i] < '0' || text[i] > '9') {
        ok = false;
        return 0;
      }
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto consume = [&](char c) {
    if (i < n && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  const int year = digits(4);
  if (!consume('-')) return false;
  const int month = digits(2);
  if (!consume('-')) return false;
  const int day = digits(2);
  if (!ok || !IsMonth(month) || !IsDay(day)) return false;
  int64_t ms_of_day = 0;
  int32_t sub_ms_ns = 0;
  int64_t offset_s = 0;
  if (i < n) {
    if (text[i] != 'T' && text[i] != 't') return false;
    ++i;
    const int hour = digits(2);
    if (!consume(':')) return false;
    const int minute = digits(2);
    int second = 0;
    int millisecond = 0;
    if (consume(':')) {
      second = digits(2);
      if (consume('.')) {
        const size_t start = i;
        int scale = 100;
        int32_t ns_scale = 100'000;
        for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
          const size_t k = i - start;
          if (k < 3) {
            millisecond += (text[i] - '0') * scale;
            scale /= 10;
          } else if (k < 9) {
            sub_ms_ns += (text[i] - '0') * ns_scale;
            ns_scale /= 10;
          }
        }
        if (i == start || i - start > 9) return false;
      }
    }
    if (!ok || !IsHour(hour) || !IsMinute(minute) || !IsSecond(second)) return false;
    ms_of_day = ((hour * 60LL + minute) * 60 + second) * 1000 + millisecond;
    if (i < n && (text[i] == 'Z' || text[i] == 'z')) {
      ++i;
    } else if (i < n && (text[i] == '+' || text[i] == '-')) {
      const int sign = text[i++] == '+' ? 1 : -1;
      const int offset_hour = digits(2);
      consume(':');
      const int offset_minute = digits(2);
      if (!ok || !IsHour(offset_hour) || !IsMinute(offset_minute)) return false;
      offset_s = sign * (offset_hour * 3600 + offset_minute * 60);
    }
    if (i != n) return false;
  }
  if (!ToUnixMs(year, month, day, ms_of_day, offset_s, &out->unix_ms)) return false;
  out->sub_ms_ns = sub_ms_ns;
  return true;
}

}  // namespace

Result<ParsedTimestamp> ParseTimestamp(std::string_view text) {
  if (ParsedTimestamp common; ParseCommonIso(text, &common)) return common;
  Tokenizer scanner(text);
  TimeZoneComposer tz;
  TimeComposer time;
  DayComposer day;

  Token token = ParseEs5DateTime(scanner, day, time, tz);
  if (token.kind == Kind::kInvalid) return NotADate();
  bool has_read_number = !day.IsEmpty();
  // V8's legacy reading of what is left.
  for (; token.kind != Kind::kEnd; token = scanner.Next()) {
    if (token.IsNumber()) {
      has_read_number = true;
      const int n = token.value;
      if (scanner.SkipSymbol(':')) {
        if (scanner.SkipSymbol(':')) {
          if (!time.IsEmpty()) return NotADate();
          time.Add(n);
          time.Add(0);
        } else {
          if (!time.Add(n)) return NotADate();
          if (scanner.Peek().IsSymbol('.')) scanner.Next();
        }
      } else if (scanner.SkipSymbol('.') && time.IsExpecting(n)) {
        time.Add(n);
        if (!scanner.Peek().IsNumber()) return NotADate();
        const Token fraction = scanner.Next();
        time.AddFinal(ReadMilliseconds(fraction));
        time.SetSubMs(fraction.sub_ms_ns);
      } else if (tz.IsExpecting(n)) {
        tz.SetAbsoluteMinute(n);
      } else if (time.IsExpecting(n)) {
        time.AddFinal(n);
        const Token& peek = scanner.Peek();
        if (peek.kind != Kind::kEnd && peek.kind != Kind::kWhiteSpace && !peek.IsKeywordZ() &&
            !peek.IsSign()) {
          return NotADate();
        }
      } else {
        if (!day.Add(n)) return NotADate();
        scanner.SkipSymbol('-');
      }
    } else if (token.kind == Kind::kKeyword) {
      if (token.keyword == Keyword::kAmPm && !time.IsEmpty()) {
        time.SetHourOffset(token.value);
      } else if (token.keyword == Keyword::kMonthName) {
        day.SetNamedMonth(token.value);
        scanner.SkipSymbol('-');
      } else if (token.keyword == Keyword::kTimeZoneName && has_read_number) {
        tz.Set(token.value);
      } else {
        // Unknown words are skipped only before the first number, and only
        // when they do not touch it.
        if (has_read_number || scanner.Peek().IsNumber()) return NotADate();
      }
    } else if (token.IsSign() && (tz.IsUtc() || !time.IsEmpty())) {
      tz.SetSign(token.Sign());
      int n = 0;
      int length = 0;
      if (scanner.Peek().IsNumber()) {
        const Token number = scanner.Next();
        length = number.length;
        n = number.value;
      }
      has_read_number = true;
      if (scanner.Peek().IsSymbol(':')) {
        tz.SetAbsoluteHour(n);
        tz.SetAbsoluteMinute(kNone);
      } else if (length == 1 || length == 2) {
        tz.SetAbsoluteHour(n);
        tz.SetAbsoluteMinute(0);
      } else if (length == 3 || length == 4) {
        tz.SetAbsoluteHour(n / 100);
        tz.SetAbsoluteMinute(n % 100);
      } else {
        return NotADate();
      }
    } else if ((token.IsSign() || token.IsSymbol(')')) && has_read_number) {
      return NotADate();
    }
    // Anything else (white space, other characters, comments) is skipped.
  }

  int year = 0;
  int month = 0;
  int day_of_month = 0;
  switch (day.Write(&year, &month, &day_of_month)) {
    case DayError::kOk:
      break;
    case DayError::kInvalid:
      return NotADate();
    case DayError::kNoYear:
      return Status::Error("no year: the date has only a day and a month");
  }
  int64_t ms_of_day = 0;
  int32_t sub_ms_ns = 0;
  if (!time.Write(&ms_of_day, &sub_ms_ns)) return NotADate();
  int64_t offset_s = 0;
  bool has_offset = false;
  if (!tz.Write(&offset_s, &has_offset)) return NotADate();

  if (year < -kMaxYear || year > kMaxYear) return Status::Error("the year is out of range");
  int64_t ms = 0;
  if (!ToUnixMs(year, month, day_of_month, ms_of_day, offset_s, &ms)) {
    return Status::Error("out of range: beyond 8.64e15 ms from 1970");
  }
  return ParsedTimestamp{ms, sub_ms_ns};
}

}  // namespace scorepipe
