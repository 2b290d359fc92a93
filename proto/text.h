// Text for people: counts with thousands separators, and untrusted text
// made safe to print on a terminal.
//
// Free functions; no state.
#ifndef SCOREPIPE_PROTO_TEXT_H_
#define SCOREPIPE_PROTO_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace scorepipe {

// 1234567 -> "1,234,567": reports print counts and rates this way.
std::string WithThousands(int64_t n);

// `text` with control characters (a terminal would act on them) as '?',
// cut to `max` bytes with "..." after.
std::string Printable(std::string_view text, size_t max = std::string_view::npos);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_TEXT_H_
