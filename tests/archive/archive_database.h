// The archive tests' PostgreSQL: one private server for the test program
// (LocalPostgres, started on first use), and a new empty database for each
// test that asks, so that tests never see each other's rows.
//
// Use from the test's thread.
#ifndef SCOREPIPE_TESTS_ARCHIVE_ARCHIVE_DATABASE_H_
#define SCOREPIPE_TESTS_ARCHIVE_ARCHIVE_DATABASE_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "archive/pg_connection.h"
#include "proto/status.h"

namespace scorepipe::testing {

// A connection string to a new, empty database on the suite's server.
Result<std::string> FreshArchiveDatabase();

// A fixture with a fresh database and a connection to it.
class ArchiveDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> conninfo = FreshArchiveDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status().message();
    conninfo_ = conninfo.value();
    auto db = PgConnection::Connect(conninfo_);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.emplace(std::move(db).value());
  }
  std::string conninfo_;
  std::optional<PgConnection> db_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_ARCHIVE_ARCHIVE_DATABASE_H_
