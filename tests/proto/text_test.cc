#include "proto/text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace scorepipe {
namespace {

TEST(WithThousandsTest, GroupsDigitsByThree) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(-1234567), "-1,234,567");
  EXPECT_EQ(WithThousands(std::numeric_limits<int64_t>::max()), "9,223,372,036,854,775,807");
}

// Any number: the commas taken out give the number back, and every group
// after the first has three digits.
TEST(WithThousandsTest, RandomNumbersReadBackWithoutTheCommas) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const auto n = static_cast<int64_t>(rng() >> (rng() % 63));
    const std::string text = WithThousands(i % 2 == 0 ? n : -n);
    std::string digits;
    size_t since_comma = 0;
    bool seen_comma = false;
    for (char c : text) {
      if (c == ',') {
        if (seen_comma) {
          EXPECT_EQ(since_comma, 3u) << text;
        }
        seen_comma = true;
        since_comma = 0;
      } else {
        digits.push_back(c);
        if (c != '-') ++since_comma;
      }
    }
    if (seen_comma) {
      EXPECT_EQ(since_comma, 3u) << text;
    }
    EXPECT_EQ(digits, std::to_string(i % 2 == 0 ? n : -n));
  }
}

TEST(PrintableTest, ControlCharactersBecomeQuestionMarksAndLongTextIsCut) {
  EXPECT_EQ(Printable("a\x1b[2Jb\x7f"), "a?[2Jb?");
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
  EXPECT_EQ(Printable("abc", 3), "abc");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace scorepipe
