// Tests of archive/schema.h against a real PostgreSQL server: the
// migrations run once, in order, also from two archivers at once; a newer
// schema is refused; day partitions take their day's rows and nothing
// else; retention drops whole days; a result is archived at most once.
#include "archive/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/archive/archive_database.h"

namespace scorepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int Or(const Result<int>& r, int fallback) { return r.ok() ? r.value() : fallback; }

class SchemaTest : public testing::ArchiveDatabaseTest {
 protected:
  std::string Ask(const std::string& sql) {
    Result<PgRows> rows = db_->Run(sql);
    return rows.ok() ? rows->Scalar() : "error: " + rows.status().message();
  }
  // A prediction row at `scored_at` (an ISO time) with key `key`.
  Status Insert(const std::string& key, const std::string& scored_at) {
    Result<PgRows> r = db_->Run(
        "INSERT INTO predictions (result_key, scored_at, transaction_id, features, score, is_fraud, "
        "model_name, model_version) VALUES ($1, $2, $1, '{0.5,1}', 0.25, false, 'fraud', 'v1')",
        {key, scored_at});
    return r.ok() ? Status::Ok() : r.status();
  }
};

TEST_F(SchemaTest, MigrationsRunOnceInOrderAndAreRecorded) {
  EXPECT_EQ(Or(SchemaVersion(*db_), -1), 0);
  Result<int> ran = Migrate(*db_);
  ASSERT_TRUE(ran.ok()) << ran.status().message();
  EXPECT_EQ(ran.value(), static_cast<int>(ArchiveMigrations().size()));
  EXPECT_EQ(Or(SchemaVersion(*db_), -1), ArchiveMigrations().back().version);
  EXPECT_EQ(Or(Migrate(*db_), -1), 0);
  for (const char* table : {"predictions", "labels", "label_history", "scorepipe_migrations"}) {
    EXPECT_EQ(Ask(std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t") << table;
  }
  EXPECT_EQ(Ask("SELECT name FROM scorepipe_migrations WHERE version = 1"), ArchiveMigrations()[0].name);
  int expected = 1;
  for (const Migration& m : ArchiveMigrations()) EXPECT_EQ(m.version, expected++);
}

TEST_F(SchemaTest, TwoArchiversMigratingAtOnceRunEachMigrationOnce) {
  std::atomic<int> total{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> archivers;
  for (int i = 0; i < 4; ++i) {
    archivers.emplace_back([&] {
      auto db = PgConnection::Connect(conninfo_);
      Result<int> ran = db.ok() ? Migrate(db.value()) : Result<int>(db.status());
      if (ran.ok()) {
        total += ran.value();
      } else {
        ++failed;
      }
    });
  }
  for (std::thread& t : archivers) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(total, static_cast<int>(ArchiveMigrations().size()));
  EXPECT_EQ(Ask("SELECT count(*) FROM scorepipe_migrations"), std::to_string(ArchiveMigrations().size()));
}

TEST_F(SchemaTest, ADatabaseAtANewerVersionIsRefusedAndLeftAlone) {
  ASSERT_TRUE(Migrate(*db_).ok());
  ASSERT_TRUE(
      db_->Exec("INSERT INTO scorepipe_migrations (version, name) VALUES (999, 'from the future')").ok());
  Result<int> ran = Migrate(*db_);
  ASSERT_FALSE(ran.ok());
  EXPECT_THAT(ran.status().message(), HasSubstr("version 999, newer than this scorepipe knows"));
  EXPECT_EQ(Ask("SELECT count(*) FROM scorepipe_migrations"), std::to_string(ArchiveMigrations().size() + 1));
}

TEST(DayPartitionNameTest, NamesTheUtcDay) {
  EXPECT_EQ(DayPartitionName(0), "predictions_19700101");
  EXPECT_EQ(DayPartitionName(20454), "predictions_20260101");
  EXPECT_EQ(DayPartitionName(11016), "predictions_20000229");  // a leap day
}

TEST_F(SchemaTest, EachDayPartitionTakesItsDaysRowsAndARowWithoutOneIsRefused) {
  ASSERT_TRUE(Migrate(*db_).ok());
  const int64_t day = 20454;  // 2026-01-01
  ASSERT_TRUE(EnsureDayPartitions(*db_, day, day + 2).ok());
  ASSERT_TRUE(EnsureDayPartitions(*db_, day, day + 2).ok());  // again: nothing new, no error
  // The edges: the first and the last microsecond of each day.
  ASSERT_TRUE(Insert("a", "2026-01-01 00:00:00+00").ok());
  ASSERT_TRUE(Insert("b", "2026-01-01 23:59:59.999999+00").ok());
  ASSERT_TRUE(Insert("c", "2026-01-02 00:00:00+00").ok());
  ASSERT_TRUE(Insert("d", "2026-01-03 23:59:59.999999+00").ok());
  // Times in other zones land by their UTC day.
  ASSERT_TRUE(Insert("e", "2026-01-02 01:30:00+02").ok());  // 2026-01-01 23:30 UTC
  EXPECT_EQ(Ask("SELECT string_agg(result_key, ',' ORDER BY result_key) FROM predictions_20260101"), "a,b,e");
  EXPECT_EQ(Ask("SELECT string_agg(result_key, ',' ORDER BY result_key) FROM predictions_20260102"), "c");
  EXPECT_EQ(Ask("SELECT string_agg(result_key, ',' ORDER BY result_key) FROM predictions_20260103"), "d");
  Status outside = Insert("f", "2026-01-04 00:00:00+00");
  EXPECT_THAT(outside.message(), HasSubstr("no partition of relation \"predictions\" found for row"));
}

TEST_F(SchemaTest, AResultIsArchivedAtMostOnce) {
  ASSERT_TRUE(Migrate(*db_).ok());
  ASSERT_TRUE(EnsureDayPartitions(*db_, 20454, 20454).ok());
  ASSERT_TRUE(Insert("lease-1:0", "2026-01-01 10:00:00+00").ok());
  Status again = Insert("lease-1:0", "2026-01-01 10:00:00+00");
  EXPECT_THAT(again.message(), HasSubstr("SQLSTATE 23505"));  // unique_violation
  Result<PgRows> skipped = db_->Run(
      "INSERT INTO predictions (result_key, scored_at, transaction_id, features, score, is_fraud, "
      "model_name, "
      "model_version) VALUES ('lease-1:0', '2026-01-01 10:00:00+00', 'x', '{}', 0, false, 'm', 'v') "
      "ON CONFLICT DO NOTHING");
  ASSERT_TRUE(skipped.ok()) << skipped.status().message();
  EXPECT_EQ(skipped->affected, 0u);
  EXPECT_EQ(Ask("SELECT count(*) FROM predictions"), "1");
}

TEST_F(SchemaTest, RetentionDropsWholeDaysBeforeTheFirstKeptAndKeepsTheRest) {
  ASSERT_TRUE(Migrate(*db_).ok());
  const int64_t first = 20450;
  ASSERT_TRUE(EnsureDayPartitions(*db_, first, first + 4).ok());
  ASSERT_TRUE(Insert("old", "2025-12-28 12:00:00+00").ok());   // day 20450
  ASSERT_TRUE(Insert("kept", "2025-12-30 12:00:00+00").ok());  // day 20452
  Result<std::vector<std::string>> dropped = DropDayPartitionsBefore(*db_, first + 2);
  ASSERT_TRUE(dropped.ok()) << dropped.status().message();
  EXPECT_THAT(dropped.value(), ElementsAre(DayPartitionName(first), DayPartitionName(first + 1)));
  EXPECT_EQ(Ask("SELECT string_agg(result_key, ',') FROM predictions"), "kept");
  EXPECT_TRUE(DropDayPartitionsBefore(*db_, first + 2)->empty());
  // A table that only looks like a partition is not ours to drop.
  ASSERT_TRUE(db_->Exec("CREATE TABLE predictions_notes (n int)").ok());
  EXPECT_TRUE(DropDayPartitionsBefore(*db_, first + 10).ok());
  EXPECT_EQ(Ask("SELECT to_regclass('predictions_notes') IS NOT NULL"), "t");
}

TEST(DayPartitionNameTest, EveryDayOfFourHundredYearsHasItsOwnOrderedName) {
  std::string previous;
  for (int64_t day = -100; day < 146097; day += 1) {  // a whole Gregorian cycle
    const std::string name = DayPartitionName(day);
    ASSERT_EQ(name.size(), std::string("predictions_YYYYMMDD").size()) << day;
    ASSERT_LT(previous, name) << day;
    previous = name;
  }
}

}  // namespace
}  // namespace scorepipe
