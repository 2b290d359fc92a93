#include "proto/text.h"

namespace scorepipe {

std::string WithThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Printable(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out.push_back((c >= 0 && c < 0x20) || c == 0x7f ? '?' : c);
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace scorepipe
