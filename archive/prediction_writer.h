// PredictionWriter: puts settled results (ArchiveRecord, proto/archive_record.h)
// into the archive's `predictions` table, each at most once however often the
// same records come again.
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
#include "proto/archive_record.h"
#include "proto/status.h"

namespace scorepipe {

class PredictionWriter {
 public:
  PredictionWriter() = default;
  PredictionWriter(const PredictionWriter&) = delete;
  PredictionWriter& operator=(const PredictionWriter&) = delete;

  // Writes `rows` in one transaction; returns how many were new. Nothing is
  // written when it fails (the transaction is rolled back).
  Result<uint64_t> Write(PgConnection& db, const std::vector<ArchiveRecord>& rows);

  // Forgets the partitions it made (after a reconnect, or a retention drop).
  void Forget() { days_made_.clear(); }

 private:
  std::set<int64_t> days_made_;
};

// COPY's text form of the rows (exposed for the tests).
std::string PredictionCopyText(const std::vector<ArchiveRecord>& rows);

}  // namespace scorepipe

#endif  // SCOREPIPE_ARCHIVE_PREDICTION_WRITER_H_
