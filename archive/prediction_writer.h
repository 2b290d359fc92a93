// PredictionWriter: puts settled results into the archive's `predictions`
// table, each at most once however often the same rows come again.
//
// One Write() is one transaction: the rows go by COPY into a temporary
// staging table, then into `predictions` with ON CONFLICT DO NOTHING on
// (result_key, scored_at). A batch written again after a crash, a lost
// acknowledgement or a restart of PostgreSQL adds only the rows that are not
// there yet, so the caller acknowledges its source only after Write()
// returned: at least once in, at most once stored, exactly once in all
// (docs/architecture.md, "The prediction archive").
//
// It makes the day partitions its rows need first (schema.h) and remembers
// which it made. Owned by one thread with its connection.
#ifndef SCOREPIPE_ARCHIVE_PREDICTION_WRITER_H_
#define SCOREPIPE_ARCHIVE_PREDICTION_WRITER_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "archive/pg_connection.h"
#include "proto/status.h"

namespace scorepipe {

// One row of `predictions`.
struct PredictionRow {
  // Unique per result: the lease and the message's place in it
  // (ArchiveResultKey), the same each time the result comes again.
  std::string result_key;
  int64_t scored_at_us = 0;  // the worker's time of scoring, Unix microseconds (the day partition)
  std::string transaction_id;
  std::optional<int64_t> transaction_at_us;  // the transaction's own time, when it parsed
  std::string timestamp_text;                // its timestamp as the message gave it
  int64_t customer_id = 0;
  int64_t vendor_id = 0;
  double amount = 0;
  std::string status;
  std::vector<float> features;  // the model's input, in the feature spec's order
  double score = 0;             // P(fraud)
  bool is_fraud = false;        // the decision at the threshold
  std::string model_name;
  std::string model_version;
  std::string shadow_version;          // empty: none scored in shadow
  std::optional<double> shadow_score;  // the shadow version's P(fraud)

  bool operator==(const PredictionRow&) const = default;
};

// The result key of message `position` of lease `lease`.
std::string ArchiveResultKey(std::string_view lease, size_t position);

class PredictionWriter {
 public:
  PredictionWriter() = default;
  PredictionWriter(const PredictionWriter&) = delete;
  PredictionWriter& operator=(const PredictionWriter&) = delete;

  // Writes `rows` in one transaction; returns how many were new. Nothing is
  // written when it fails (the transaction is rolled back).
  Result<uint64_t> Write(PgConnection& db, const std::vector<PredictionRow>& rows);

  // Forgets the partitions it made (after a reconnect, or a retention drop).
  void Forget() { days_made_.clear(); }

 private:
  std::set<int64_t> days_made_;
};

// COPY's text form of the rows (exposed for the tests).
std::string PredictionCopyText(const std::vector<PredictionRow>& rows);

}  // namespace scorepipe

#endif  // SCOREPIPE_ARCHIVE_PREDICTION_WRITER_H_
