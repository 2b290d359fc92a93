// What the JSON writer's generated tests draw from and compare with: text
// that is hard to escape, doubles of every class, and the string escaper as
// it was before JsonWriter's 8-byte scan (one byte at a time), as the
// reference that the fast one must equal.
#ifndef SCOREPIPE_TESTS_PROTO_JSON_PROPERTY_SUPPORT_H_
#define SCOREPIPE_TESTS_PROTO_JSON_PROPERTY_SUPPORT_H_

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>

namespace scorepipe::testing {

// Appends a code point in UTF-8 (any value up to 0x10FFFF, surrogates too:
// callers that want valid text skip them).
inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Text made of up to `max_pieces` pieces, each one of: a run of plain
// printable ASCII (0 to 20 bytes, so that special bytes fall at every offset
// of an 8-byte word), a control character or DEL, '"' '\' or '/', a valid
// UTF-8 character of 2 to 4 bytes (the range ends included, U+2028 too), a
// byte sequence that is not UTF-8 (a stray continuation byte, an overlong
// form, a surrogate, a code point past U+10FFFF, a lead byte F5..FF, a
// sequence cut short), or any byte at all.
inline std::string RandomJsonText(std::mt19937_64& rng, size_t max_pieces = 12) {
  auto below = [&rng](uint64_t n) { return rng() % n; };
  std::string s;
  for (size_t pieces = below(max_pieces + 1); pieces > 0; --pieces) {
    switch (below(7)) {
      case 0:
      case 1:
        for (size_t n = below(21); n > 0; --n) {
          char c = static_cast<char>(0x20 + below(95));
          if (c == '"' || c == '\\') c = 'x';
          s.push_back(c);
        }
        break;
      case 2: {
        const uint64_t c = below(34);
        s.push_back(static_cast<char>(c < 32 ? c : c == 32 ? 0x7f : 0x20));
        break;
      }
      case 3:
        s.push_back("\"\\/"[below(3)]);
        break;
      case 4: {
        static constexpr uint32_t kEdges[] = {0x80,   0x7ff,  0x800,   0xd7ff,   0xe000,
                                              0xfffd, 0xffff, 0x10000, 0x10ffff, 0x2028};
        uint32_t cp = 0;
        static constexpr uint32_t kRangeStarts[] = {0x80, 0x800, 0x10000, 0x110000};  // by length
        if (const uint64_t length = below(4); length == 3) {
          cp = kEdges[below(std::size(kEdges))];
        } else {
          cp = static_cast<uint32_t>(kRangeStarts[length] +
                                     below(kRangeStarts[length + 1] - kRangeStarts[length]));
        }
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xe9;  // a surrogate is not valid: 'é' instead
        AppendUtf8(cp, &s);
        break;
      }
      case 5: {  // bytes that are not UTF-8
        const auto byte_in = [&below](unsigned low, unsigned high) {
          return static_cast<char>(low + below(high - low + 1));
        };
        switch (below(7)) {
          case 0:  // a stray continuation byte
            s += byte_in(0x80, 0xbf);
            break;
          case 1:  // an overlong 2-byte form
            s += byte_in(0xc0, 0xc1);
            s += byte_in(0x80, 0xbf);
            break;
          case 2:  // an overlong 3-byte form
            s += '\xe0';
            s += byte_in(0x80, 0x9f);
            s += byte_in(0x80, 0xbf);
            break;
          case 3:  // a surrogate
            s += '\xed';
            s += byte_in(0xa0, 0xbf);
            s += byte_in(0x80, 0xbf);
            break;
          case 4:  // past U+10FFFF
            s += '\xf4';
            s += byte_in(0x90, 0xbf);
            s += "\x80\x80";
            break;
          case 5:  // never a lead byte
            s += byte_in(0xf5, 0xff);
            break;
          default: {  // a valid sequence of 2 to 4 bytes without its last byte
            static constexpr uint32_t kFirst[] = {0x80, 0x800, 0x10000};
            std::string whole;
            AppendUtf8(kFirst[below(3)] + static_cast<uint32_t>(below(0x80)), &whole);
            s += whole.substr(0, whole.size() - 1);
          }
        }
        break;
      }
      default:
        s.push_back(static_cast<char>(below(256)));
    }
  }
  return s;
}

// A double of any class: half the time any bit pattern (NaNs with any
// payload and sign, infinities, subnormals, -0), else one of the awkward
// ones by name, a probability in [0, 1), or a whole number.
inline double RandomDouble(std::mt19937_64& rng) {
  using Limits = std::numeric_limits<double>;
  switch (rng() % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
      return std::bit_cast<double>(rng());
    case 4: {
      static constexpr double kNamed[] = {Limits::quiet_NaN(),
                                          -Limits::quiet_NaN(),
                                          Limits::infinity(),
                                          -Limits::infinity(),
                                          0.0,
                                          -0.0,
                                          Limits::denorm_min(),
                                          -Limits::denorm_min(),
                                          Limits::min(),
                                          Limits::max(),
                                          -Limits::max(),
                                          Limits::epsilon(),
                                          1.0,
                                          0.5,
                                          0.1,
                                          1.0 / 3,
                                          0.9999999999999999,
                                          9007199254740993.0,
                                          1e21,
                                          1e-7};
      return kNamed[rng() % std::size(kNamed)];
    }
    case 5:  // a subnormal
      return std::bit_cast<double>((rng() & 0x800fffffffffffffu));
    case 6:
      return std::uniform_real_distribution<double>(0, 1)(rng);
    default:
      return static_cast<double>(static_cast<int64_t>(rng()) >> (rng() % 64));
  }
}

// The length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), or 0:
// RFC 3629's table of well-formed sequences.
inline size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const auto byte = [&s](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  size_t length = 0;
  uint8_t low = 0x80;  // the second byte's range
  uint8_t high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < length || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  return length;
}

// `s` with each byte that is not part of valid UTF-8 replaced by U+FFFD: the
// text a JSON string written by AppendJsonString reads back as.
inline std::string WithInvalidUtf8Replaced(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t length = static_cast<uint8_t>(s[i]) < 0x80 ? 1 : Utf8SequenceAt(s, i);
    out.append(length == 0 ? "\xef\xbf\xbd" : s.substr(i, length));
    i += length == 0 ? 1 : length;
  }
  return out;
}

// AppendJsonString's rules (proto/json_writer.h) spelt out one byte at a
// time, apart from its code: the reference its 8-byte scan must equal.
inline void ReferenceJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      if (const size_t length = Utf8SequenceAt(s, i); length != 0) {
        out->append(s.substr(i, length));
        i += length;
      } else {
        out->append("\\ufffd");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_PROTO_JSON_PROPERTY_SUPPORT_H_
