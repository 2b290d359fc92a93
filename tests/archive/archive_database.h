// The archive tests' PostgreSQL: one private server for the test program
// (LocalPostgres, started on first use), and a new empty database for each
// test that asks, so that tests never see each other's rows.
//
// Use from the test's thread.
#ifndef SCOREPIPE_TESTS_ARCHIVE_ARCHIVE_DATABASE_H_
#define SCOREPIPE_TESTS_ARCHIVE_ARCHIVE_DATABASE_H_

#include <string>

#include "proto/status.h"

namespace scorepipe::testing {

// A connection string to a new, empty database on the suite's server.
Result<std::string> FreshArchiveDatabase();

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_ARCHIVE_ARCHIVE_DATABASE_H_
