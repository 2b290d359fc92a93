// The prediction archive's schema in PostgreSQL, and the versioned
// migrations that make it (docs/archive.md).
//
// Each migration has a number and runs once, in order, inside one
// transaction with its record in `scorepipe_migrations`; an advisory lock
// makes concurrent archivers (or `monitor` beside one) wait for each other
// instead of racing. A database at a newer version than this build knows is
// refused, not touched.
//
// The tables:
//   predictions      every settled result, partitioned by day of scored_at
//                    (one partition a UTC day, predictions_YYYYMMDD, made
//                    before rows land in it); (result_key, scored_at) unique,
//                    so that a retried batch adds nothing
//   labels           the latest label of each transaction
//   label_history    every label received, in order
//
// Free functions; any thread, each with its own connection.
#ifndef SCOREPIPE_ARCHIVE_SCHEMA_H_
#define SCOREPIPE_ARCHIVE_SCHEMA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "archive/pg_connection.h"
#include "proto/status.h"

namespace scorepipe {

struct Migration {
  int version = 0;
  std::string name;  // what it does, in a few words
  std::string sql;   // the statements, run in one transaction
};

// Every migration this build knows, in order (versions 1, 2, ...).
const std::vector<Migration>& ArchiveMigrations();

// The version the database is at: 0 before the first migration.
Result<int> SchemaVersion(PgConnection& db);

// Brings the database to the newest version; returns how many migrations
// ran (0 when it was there already).
Result<int> Migrate(PgConnection& db);

// Makes the day partitions that hold Unix days [first_day, last_day] (days
// since 1970-01-01, UTC), those that do not exist yet.
Status EnsureDayPartitions(PgConnection& db, int64_t first_day, int64_t last_day);

// Drops the day partitions that end on or before Unix day `keep_from` (the
// first day kept); returns their names. The retention setting's work.
Result<std::vector<std::string>> DropDayPartitionsBefore(PgConnection& db, int64_t keep_from);

// The name of the partition of Unix day `day` (predictions_YYYYMMDD).
std::string DayPartitionName(int64_t day);

}  // namespace scorepipe

#endif  // SCOREPIPE_ARCHIVE_SCHEMA_H_
