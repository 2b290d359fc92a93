#include "archive/schema.h"

#include <chrono>
#include <cstdio>
#include <optional>

namespace scorepipe {
namespace {

// pg_advisory_xact_lock keys: one for the migrations, one for partitions.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7361290001)";
constexpr const char* kPartitionLock = "SELECT pg_advisory_xact_lock(7361290002)";
constexpr std::string_view kPartitionPrefix = "predictions_";

const char* const kSchemaV1 = R"sql(
CREATE TABLE predictions (
  result_key     text             NOT NULL,
  scored_at      timestamptz      NOT NULL,
  transaction_id text             NOT NULL,
  transaction_at timestamptz,
  timestamp_text text,
  customer_id    double precision,
  vendor_id      double precision,
  amount         double precision,
  status         text,
  features       real[]           NOT NULL,
  score          double precision NOT NULL,
  is_fraud       boolean          NOT NULL,
  model_name     text             NOT NULL,
  model_version  text             NOT NULL,
  shadow_version text,
  shadow_score   double precision,
  archived_at    timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (result_key, scored_at)
) PARTITION BY RANGE (scored_at);
CREATE INDEX predictions_version_time ON predictions (model_name, model_version, scored_at);
CREATE INDEX predictions_transaction ON predictions (transaction_id);

CREATE TABLE label_history (
  id             bigserial   PRIMARY KEY,
  transaction_id text        NOT NULL,
  is_fraud       boolean     NOT NULL,
  labelled_at    timestamptz NOT NULL,
  source         text        NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX label_history_transaction ON label_history (transaction_id, labelled_at);

CREATE TABLE labels (
  transaction_id text        PRIMARY KEY,
  is_fraud       boolean     NOT NULL,
  labelled_at    timestamptz NOT NULL,
  source         text        NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
)sql";

std::string DayText(int64_t day) {
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{day}}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

// The Unix day of a partition's name, if it is one of ours.
std::optional<int64_t> DayOfPartition(std::string_view name) {
  if (name.substr(0, kPartitionPrefix.size()) != kPartitionPrefix) return std::nullopt;
  const std::string_view digits = name.substr(kPartitionPrefix.size());
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (digits.size() != 8 || std::sscanf(std::string(digits).c_str(), "%4d%2u%2u", &year, &month, &day) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                         std::chrono::day{day}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date}.time_since_epoch().count();
}

}  // namespace

const std::vector<Migration>& ArchiveMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "predictions by day, labels and their history", kSchemaV1},
  };
  return migrations;
}

Result<int> SchemaVersion(PgConnection& db) {
  Result<PgRows> exists = db.Run("SELECT to_regclass('scorepipe_migrations') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (exists->Scalar() != "t") return 0;
  Result<PgRows> version = db.Run("SELECT coalesce(max(version), 0) FROM scorepipe_migrations");
  if (!version.ok()) return version.status();
  return std::stoi(version->Scalar());
}

Result<int> Migrate(PgConnection& db) {
  return InTransaction(db, [&]() -> Result<int> {
    if (Status s = db.Exec(kMigrationLock); !s.ok()) return s;
    if (Status s = db.Exec(
            "CREATE TABLE IF NOT EXISTS scorepipe_migrations (version int PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())");
        !s.ok()) {
      return s;
    }
    Result<int> at = SchemaVersion(db);
    if (!at.ok()) return at.status();
    const std::vector<Migration>& all = ArchiveMigrations();
    const int newest = all.empty() ? 0 : all.back().version;
    if (at.value() > newest) {
      return Status::Error("the archive's schema is at version " + std::to_string(at.value()) +
                           ", newer than this scorepipe knows (" + std::to_string(newest) +
                           "): upgrade scorepipe before it touches this database");
    }
    int ran = 0;
    for (const Migration& m : all) {
      if (m.version <= at.value()) continue;
      if (Status s = db.Exec(m.sql); !s.ok()) {
        return Status::Error("archive migration " + std::to_string(m.version) + " (" + m.name +
                             "): " + s.message());
      }
      Result<PgRows> recorded = db.Run("INSERT INTO scorepipe_migrations (version, name) VALUES ($1, $2)",
                                       {std::to_string(m.version), m.name});
      if (!recorded.ok()) return recorded.status();
      ++ran;
    }
    return ran;
  });
}

std::string DayPartitionName(int64_t day) {
  std::string text = DayText(day);  // YYYY-MM-DD
  std::string name(kPartitionPrefix);
  for (char c : text) {
    if (c != '-') name += c;
  }
  return name;
}

Status EnsureDayPartitions(PgConnection& db, int64_t first_day, int64_t last_day) {
  if (last_day < first_day) return Status::Ok();
  Result<int> made = InTransaction(db, [&]() -> Result<int> {
    if (Status s = db.Exec(kPartitionLock); !s.ok()) return s;
    int count = 0;
    for (int64_t day = first_day; day <= last_day; ++day) {
      const std::string sql = "CREATE TABLE IF NOT EXISTS " + DayPartitionName(day) +
                              " PARTITION OF predictions FOR VALUES FROM ('" + DayText(day) +
                              " 00:00:00+00') TO ('" + DayText(day + 1) + " 00:00:00+00')";
      if (Status s = db.Exec(sql); !s.ok()) return s;
      ++count;
    }
    return count;
  });
  return made.ok() ? Status::Ok() : made.status();
}

Result<std::vector<std::string>> DropDayPartitionsBefore(PgConnection& db, int64_t keep_from) {
  return InTransaction(db, [&]() -> Result<std::vector<std::string>> {
    if (Status s = db.Exec(kPartitionLock); !s.ok()) return s;
    Result<PgRows> parts = db.Run(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'predictions' ORDER BY c.relname");
    if (!parts.ok()) return parts.status();
    std::vector<std::string> dropped;
    for (const auto& row : parts->rows) {
      if (!row[0]) continue;
      const std::optional<int64_t> day = DayOfPartition(*row[0]);
      if (!day || *day >= keep_from) continue;
      if (Status s = db.Exec("DROP TABLE " + *row[0]); !s.ok()) return s;
      dropped.push_back(*row[0]);
    }
    return dropped;
  });
}

}  // namespace scorepipe
