// ArchiveRecord: one settled result as the prediction archive keeps it, and
// its codec. The sink writes one record for each message it settles (into
// the archive's Redis stream, in the settle script itself); the archiver
// reads them back and writes them to PostgreSQL (archive/prediction_writer.h,
// docs/architecture.md "The prediction archive").
//
// A record is enveloped and versioned like every frame on the wire
// (MessageKind::kArchiveRecord): a record a newer or older scorepipe wrote is
// refused with the reason, never misread.
#ifndef SCOREPIPE_PROTO_ARCHIVE_RECORD_H_
#define SCOREPIPE_PROTO_ARCHIVE_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

struct ArchiveRecord {
  // Unique per result: the lease and the message's place in it
  // (ArchiveResultKey), the same each time the result comes again.
  std::string result_key;
  int64_t scored_at_us = 0;  // the worker's time of scoring, Unix microseconds (the day partition)
  std::string transaction_id;
  std::optional<int64_t> transaction_at_us;  // the transaction's own time, when it parsed
  std::string timestamp_text;                // its timestamp as the message gave it
  double customer_id = 0;                    // as the transaction gave them (the upstream's JSON numbers)
  double vendor_id = 0;
  double amount = 0;
  std::string status;
  std::vector<float> features;  // the model's input, in the feature spec's order
  double score = 0;             // P(fraud)
  bool is_fraud = false;        // the decision at the threshold
  std::string model_name;
  std::string model_version;
  std::string shadow_version;          // empty: none scored in shadow
  std::optional<double> shadow_score;  // the shadow version's P(fraud)

  bool operator==(const ArchiveRecord&) const = default;
};

// The result key of message `position` of lease `lease`: "<lease>:<position>".
std::string ArchiveResultKey(std::string_view lease, size_t position);

std::string Encode(const ArchiveRecord& record);
Result<ArchiveRecord> DecodeArchiveRecord(std::string_view frame);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_ARCHIVE_RECORD_H_
