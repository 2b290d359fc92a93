// The upstream transaction's `timestamp`: text -> instant, as the upstream
// read it. Its queue validated timestamps with JavaScript's `Date.parse`
// (V8, in Deno), so a timestamp is whatever V8's date parser reads, and
// ParseTimestamp reads the same strings to the same millisecond as
// `Date.parse` under TZ=UTC, with the refusals listed below. The families it
// accepts (docs/architecture.md has the table):
//
//   1. The ECMAScript Date Time String Format, as V8 extends it:
//      `YYYY[-MM[-DD]][THH:mm[:ss[.f+]][Z|+HH:mm|+HHmm]]`, with an expanded
//      year `+YYYYYY` / `-YYYYYY` (not -000000); 't' and 'z' in either case;
//      the fraction has 1 or more digits (V8 keeps the first three); hour 24
//      only as 24:00[:00[.0]]; day 01-31 in every month (V8 rolls Feb 30 over
//      to Mar 2, so does this).
//   2. V8's legacy date strings (RFC 2822 / HTTP dates and most free forms):
//      `Sun, 01 Jan 2023 12:00:00 GMT`, `01 Jan 2023 12:00 +0200`,
//      `2023-01-01 12:00:00`, `2023/01/01`, `1/2/2023 3:04 PM`,
//      `Jan 1, 2023`, `1 January 2023 10:00 GMT-5`: numbers are sorted into
//      day and time by V8's rules; a month is any word whose first three
//      letters name one; zones Z, UT, UTC, GMT, EST/EDT/CST/CDT/MST/MDT/PST/
//      PDT and +hh, +hhmm, +hh:mm after a time or UTC; am/pm; parenthesised
//      comments and unknown words before the first number are skipped;
//      2-digit years 00-49 are 2000-2049 and 50-99 are 1950-1999.
//
// Refused although V8 reads them:
//   - strings without a year (`Jan 1`, `12/31`, `10:00`): V8 makes one up
//     (2001), which no producer can mean;
// and V8's results that depend on the machine's zone are fixed to UTC:
//   - a date-time without a zone (`2023-01-01T12:00`, `Jan 1 2023 10:00`)
//     is UTC. V8 reads it as local time and Python's fromisoformat(...)
//     .timestamp() as well; scorepipe has no local zone, so it reads what
//     both read on a UTC host (date-only forms are UTC everywhere).
// Instants beyond +-8.64e15 ms (+-275760 years, the range of a JavaScript
// Date) are refused, as Date.parse gives NaN for them.
//
// Stateless: no locale, no global state; any thread may call it.
#ifndef SCOREPIPE_PROTO_TIMESTAMP_H_
#define SCOREPIPE_PROTO_TIMESTAMP_H_

#include <cstdint>
#include <string_view>

#include "proto/status.h"

namespace scorepipe {

struct ParsedTimestamp {
  // What `Date.parse` returns for the text under TZ=UTC: milliseconds since
  // 1970-01-01T00:00:00Z, in [-8.64e15, 8.64e15].
  int64_t unix_ms = 0;
  // The digits of a seconds fraction past the third (up to the ninth) as
  // nanoseconds, 0-999999: Date.parse drops them, the upstream's Python
  // (microseconds) did not. 0 when the text has none.
  int32_t sub_ms_ns = 0;

  // The instant as Unix seconds: the model feature.
  double UnixSeconds() const {
    return static_cast<double>(unix_ms) / 1e3 + static_cast<double>(sub_ms_ns) / 1e9;
  }
};

// Reads `text` as described above. On failure the message says why in a few
// words (it does not repeat the text): e.g. "not a date that Date.parse reads"
// or "no year: ...".
Result<ParsedTimestamp> ParseTimestamp(std::string_view text);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_TIMESTAMP_H_
