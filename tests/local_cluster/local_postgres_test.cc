// Tests of local_cluster/local_postgres.h: a private PostgreSQL server made
// with initdb in a temporary folder, reachable over TCP on its own port and
// over the Unix socket in its folder, that keeps its data across a fast stop
// and across a kill (recovery from the write-ahead log), run as the postgres
// user when the test runs as root.
#include "local_cluster/local_postgres.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

LocalPostgresOptions In(const testing::TempDir& dir) {
  LocalPostgresOptions options;
  options.dir = dir.path().string();
  return options;
}

// One statement's first value, or the error, over a new connection.
std::string Ask(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string out;
  if (PQstatus(conn) != CONNECTION_OK) {
    out = std::string("connect: ") + PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      out = PQgetvalue(r, 0, 0);
    } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      out = std::string("error: ") + PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  PQfinish(conn);
  return out;
}

TEST(LocalPostgresTest, AnswersOverTcpAndItsSocketAndKeepsItsDataAcrossAStopAndAKill) {
  testing::TempDir dir("local_postgres_test");
  ASSERT_TRUE(dir.ok());
  auto pg = LocalPostgres::Start(In(dir));
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  LocalPostgres& server = *pg.value();
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(Ask(server.conninfo(), "SELECT current_database()"), "scorepipe");
  const std::string socket = "host=" + server.socket_dir() + " port=" + std::to_string(server.port()) +
                             " dbname=scorepipe user=postgres";
  EXPECT_EQ(Ask(socket, "SELECT 6 * 7"), "42");
  EXPECT_EQ(Ask(server.conninfo(), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2)"), "");

  // As root the server runs as the postgres user (PostgreSQL refuses root).
  if (::geteuid() == 0) {
    struct stat info {};
    ASSERT_EQ(::stat(("/proc/" + std::to_string(server.pid())).c_str(), &info), 0);
    const passwd* postgres = ::getpwnam("postgres");
    ASSERT_NE(postgres, nullptr);
    EXPECT_EQ(info.st_uid, postgres->pw_uid);
  }

  server.Stop();
  EXPECT_NE(Ask(server.conninfo(), "SELECT 1"), "1");
  ASSERT_TRUE(server.Restart().ok());
  EXPECT_EQ(Ask(server.conninfo(), "SELECT count(*) FROM kept"), "2");

  EXPECT_EQ(Ask(server.conninfo(), "INSERT INTO kept VALUES (3)"), "");
  server.Kill();
  const Status again = server.Restart();
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(Ask(server.conninfo(), "SELECT count(*) FROM kept"), "3");
}

TEST(LocalPostgresTest, AFolderThatHoldsAClusterIsReusedWithItsData) {
  testing::TempDir dir("local_postgres_test");
  ASSERT_TRUE(dir.ok());
  {
    auto pg = LocalPostgres::Start(In(dir));
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    EXPECT_EQ(Ask(pg.value()->conninfo(), "CREATE TABLE t (n int); INSERT INTO t VALUES (7)"), "");
  }
  auto again = LocalPostgres::Start(In(dir));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Ask(again.value()->conninfo(), "SELECT n FROM t"), "7");
}

TEST(LocalPostgresTest, AMissingDirectoryOrProgramFolderIsAClearError) {
  LocalPostgresOptions nowhere;
  nowhere.dir = "/nonexistent/scorepipe";
  auto missing = LocalPostgres::Start(nowhere);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  testing::TempDir dir("local_postgres_test");
  LocalPostgresOptions no_programs = In(dir);
  no_programs.bin_dir = "/nonexistent/bin";
  auto no_bin = LocalPostgres::Start(no_programs);
  ASSERT_FALSE(no_bin.ok());
  EXPECT_NE(no_bin.status().message().find("initdb is not at /nonexistent/bin/initdb"), std::string::npos)
      << no_bin.status().message();
}

}  // namespace
}  // namespace scorepipe
