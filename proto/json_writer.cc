#include "proto/json_writer.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

namespace scorepipe {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0
// when it is not one: bad lead byte, missing continuation, overlong form,
// surrogate, or beyond U+10FFFF.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&s](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  size_t length = 0;
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // overlong
    if (lead == 0xed) second_max = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // overlong
    if (lead == 0xf4) second_max = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  if (byte(i + 1) < second_min || byte(i + 1) > second_max) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xc0u) != 0x80u) return 0;
  }
  return length;
}

// Whether a byte goes into a JSON string as it is without a look at its
// neighbours: printable ASCII (and DEL) but '"' and '\'.
bool PlainByte(uint8_t c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Bit 7 of each byte of the result is set where that byte of `word` is not
// PlainByte. The lowest byte marked is exactly the first such byte: a false
// mark can come only from a borrow, and borrows run from a true mark upwards.
// (The tests of a byte below n and of a zero byte are the classic ones from
// "Bit Twiddling Hacks", exact for n <= 128.)
constexpr uint64_t kOnes = 0x0101010101010101u;
constexpr uint64_t kHighBits = 0x8080808080808080u;
uint64_t NotPlainBytes(uint64_t word) {
  const auto below = [word](uint8_t n) { return (word - kOnes * n) & ~word & kHighBits; };
  const auto zero = [](uint64_t w) { return (w - kOnes) & ~w & kHighBits; };
  return below(0x20) | (word & kHighBits) | zero(word ^ (kOnes * '"')) | zero(word ^ (kOnes * '\\'));
}

// The index of the first byte of s[i, end) that a JSON string cannot hold as
// it is (a control character, '"', '\', a byte that is not part of valid
// UTF-8), or s.size(). Always inlined: most strings are short and need no
// escape, and a call costs as much as scanning them.
[[gnu::always_inline]] inline size_t NextToEscape(std::string_view s, size_t i) {
  while (i < s.size()) {
    // Eight plain bytes at a time: most text is plain ASCII. The word is
    // read little-endian so that its lowest byte is s[i].
    if constexpr (std::endian::native == std::endian::little) {
      if (s.size() - i >= 8) {
        uint64_t word;
        std::memcpy(&word, s.data() + i, sizeof word);
        const uint64_t marks = NotPlainBytes(word);
        if (marks == 0) {
          i += 8;
          continue;
        }
        i += static_cast<size_t>(std::countr_zero(marks)) / 8;  // to the first byte that is not plain
      }
    }
    const auto c = static_cast<uint8_t>(s[i]);
    if (PlainByte(c)) {
      ++i;
    } else if (const size_t length = c >= 0x80 ? Utf8SequenceLength(s, i) : 0; length != 0) {
      i += length;
    } else {
      return i;
    }
  }
  return i;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // The characters with a two-character escape, and the letter after the backslash.
  static constexpr std::string_view kShortEscaped = "\"\\\b\f\n\r\t";
  static constexpr std::string_view kShortEscapes = "\"\\bfnrt";
  out->push_back('"');
  size_t copied = 0;  // s[copied, i) is still to be appended as is
  size_t i = NextToEscape(s, 0);
  while (i < s.size()) {
    out->append(s.data() + copied, i - copied);
    const auto c = static_cast<uint8_t>(s[i]);
    if (const size_t k = kShortEscaped.find(static_cast<char>(c)); k != std::string_view::npos) {
      const char escape[2] = {'\\', kShortEscapes[k]};
      out->append(escape, sizeof(escape));
    } else if (c >= 0x80) {
      out->append("\\ufffd");
    } else {
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out->append(escape, sizeof(escape));
    }
    copied = ++i;
    i = NextToEscape(s, i);
  }
  out->append(s.data() + copied, s.size() - copied);
  out->push_back('"');
}

void JsonWriter::AppendIndentedKey(std::string_view text, bool comma, int depth, std::string* out) {
  if (comma) out->push_back(',');
  NewLine(depth, out);
  out->push_back('"');
  out->append(text);
  out->append("\": ");
}

void JsonWriter::NewLine(int depth, std::string* out) {
  out->push_back('\n');
  out->append(2 * static_cast<size_t>(depth), ' ');
}

void JsonWriter::AppendFormatted(double value, const char* format, std::string* out) {
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof buffer, format, value);
  if (n > 0) out->append(buffer, std::min(static_cast<size_t>(n), sizeof buffer - 1));
}

}  // namespace scorepipe
