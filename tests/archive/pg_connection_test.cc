// Tests of archive/pg_connection.h against a real PostgreSQL server:
// parameters and COPY's text format carry any text unchanged (generated
// strings with quotes, backslashes, tabs, newlines, Unicode), failures say
// PostgreSQL's reason with its SQLSTATE, and a connection the server cut
// says it is broken.
#include "archive/pg_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/archive/archive_database.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

using PgConnectionTest = testing::ArchiveDatabaseTest;

// Text PostgreSQL's text type holds: any UTF-8 but NUL.
std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {"a",  "Z", "0", " ", "'",  "\"", "\\", "\\N", "\t", "\n",
                                                  "\r", ",", "{", "}", "$1", "é",  "€",  "😀",   ";",  "--"};
  std::uniform_int_distribution<size_t> length(0, 40);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::string out;
  for (size_t n = length(rng); n > 0; --n) out += pieces[pick(rng)];
  return out;
}

TEST_F(PgConnectionTest, ParametersCarryAnyTextAndNullUnchanged) {
  std::mt19937 rng(2026);
  for (int i = 0; i < 300; ++i) {
    const std::string text = RandomText(rng);
    Result<PgRows> back = db_->Run("SELECT $1::text, $2::text IS NULL", {text, std::nullopt});
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->rows.size(), 1u);
    EXPECT_EQ(back->rows[0][0].value_or("<null>"), text);
    EXPECT_EQ(back->rows[0][1].value_or(""), "t");
  }
  Result<PgRows> null = db_->Run("SELECT NULL::text");
  ASSERT_TRUE(null.ok());
  EXPECT_FALSE(null->rows[0][0].has_value());
  EXPECT_EQ(null->Scalar(), "");
}

TEST_F(PgConnectionTest, CopyTextCarriesAnyTextUnchangedAndCountsTheRows) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (n int, s text)").ok());
  std::mt19937 rng(7);
  std::vector<std::string> sent;
  std::string data;
  for (int i = 0; i < 500; ++i) {
    sent.push_back(RandomText(rng));
    data += std::to_string(i) + "\t";
    AppendCopyText(sent.back(), &data);
    data += "\n";
  }
  data += "500\t";
  data += kCopyNull;
  data += "\n";
  Result<uint64_t> rows = db_->CopyIn("COPY t (n, s) FROM STDIN", data);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows.value(), 501u);
  Result<PgRows> back = db_->Run("SELECT n, s FROM t ORDER BY n");
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->rows.size(), 501u);
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(back->rows[i][1].value_or("<null>"), sent[i]) << i;
  EXPECT_FALSE(back->rows[500][1].has_value());
}

TEST_F(PgConnectionTest, ANulByteIsKeptVisibleByCopyAndRefusedAsAParameter) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (s text)").ok());
  std::string data;
  AppendCopyText(std::string("a\0b", 3), &data);
  data += "\n";
  ASSERT_TRUE(db_->CopyIn("COPY t FROM STDIN", data).ok());
  EXPECT_EQ(db_->Run("SELECT s FROM t")->Scalar(), "a\\u0000b");
  Result<PgRows> refused = db_->Run("SELECT $1::text", {std::string("x\0y", 3)});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("parameter $1 holds a NUL byte"));
}

TEST_F(PgConnectionTest, FailuresSayPostgresReasonAndSqlstateAndTheConnectionGoesOn) {
  Result<PgRows> bad = db_->Run("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("syntax error"));
  EXPECT_THAT(bad.status().message(), HasSubstr("SQLSTATE 42601"));
  Status missing = db_->Exec("INSERT INTO nosuch VALUES (1)");
  EXPECT_THAT(missing.message(), HasSubstr("SQLSTATE 42P01"));
  Result<uint64_t> copy = db_->CopyIn("COPY nosuch FROM STDIN", "1\n");
  EXPECT_FALSE(copy.ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE n (v int)").ok());
  Result<uint64_t> wrong = db_->CopyIn("COPY n FROM STDIN", "not a number\n");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("SQLSTATE 22P02"));
  EXPECT_FALSE(db_->IsBroken());
  EXPECT_EQ(db_->Run("SELECT 40 + 2")->Scalar(), "42");
}

TEST_F(PgConnectionTest, AConnectionTheServerCutSaysItIsBroken) {
  Result<PgRows> pid = db_->Run("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto other = PgConnection::Connect(conninfo_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(other->Run("SELECT pg_terminate_backend($1::int)", {pid->Scalar()}).ok());
  EXPECT_FALSE(db_->Run("SELECT 1").ok());
  EXPECT_TRUE(db_->IsBroken());
}

TEST(PgConnectTest, NoServerIsAClearError) {
  auto none = PgConnection::Connect("host=127.0.0.1 port=1 dbname=x user=postgres connect_timeout=2");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("cannot connect to PostgreSQL"));
}

}  // namespace
}  // namespace scorepipe
