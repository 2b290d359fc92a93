// The upstream transaction fields of a labelled file's row (internal to
// training/): their names and the order the writer puts them in, shared by
// the readers of both formats, the reader's option checks and the writer.
//
// Constants; any thread.
#ifndef SCOREPIPE_TRAINING_LABELLED_FIELDS_H_
#define SCOREPIPE_TRAINING_LABELLED_FIELDS_H_

#include <array>
#include <string_view>

namespace scorepipe::labelled_internal {

// The upstream fields, in the order the writer puts them.
enum UpstreamField { kId, kCustomerId, kVendorId, kTimestamp, kStatus, kAmount, kNumFields };
inline constexpr std::array<std::string_view, kNumFields> kFieldNames = {
    "id", "customer_id", "vendor_id", "timestamp", "status", "amount"};

inline bool IsNumericField(int field) { return field != kTimestamp && field != kStatus; }

}  // namespace scorepipe::labelled_internal

#endif  // SCOREPIPE_TRAINING_LABELLED_FIELDS_H_
