// PgConnection: one connection to PostgreSQL through libpq, for the
// prediction archive (the archiver, `scorepipe monitor`, `label`,
// `retrain`). Statements run with their parameters sent apart from the text
// (PQexecParams: no quoting of values anywhere); COPY ... FROM STDIN takes
// rows already in COPY's text format (CopyText below writes them).
//
// Every failure is a Status that says what was being done and PostgreSQL's
// own message (with its SQLSTATE), never an exception. A connection that
// broke stays broken: IsBroken() says so and the owner connects anew.
//
// Move-only; one thread at a time (libpq's rule for a PGconn).
#ifndef SCOREPIPE_ARCHIVE_PG_CONNECTION_H_
#define SCOREPIPE_ARCHIVE_PG_CONNECTION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

struct pg_conn;

namespace scorepipe {

// A query's rows, each value as PostgreSQL's text form; nullopt for NULL.
struct PgRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  // Rows a command changed (INSERT, UPDATE, DELETE, COPY), 0 for others.
  uint64_t affected = 0;

  // The first row's first value ("" when there is none or it is NULL).
  std::string Scalar() const;
};

class PgConnection {
 public:
  // Connects with a libpq connection string ("host=... port=... dbname=...")
  // or URI; an error names the server libpq tried and why it refused.
  static Result<PgConnection> Connect(const std::string& conninfo);
  PgConnection(PgConnection&& other) noexcept;
  PgConnection& operator=(PgConnection&& other) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs `sql` (one statement when `params` are given; $1, $2 ... name them,
  // each a text value or NULL) and returns what it gave. A value holding a
  // NUL byte is refused (PostgreSQL's text cannot hold one).
  Result<PgRows> Run(std::string_view sql, const std::vector<std::optional<std::string>>& params = {});
  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  Status Exec(std::string_view sql);
  // COPY ... FROM STDIN (text format): sends `data`, a run of rows each
  // ending in '\n', and returns the rows PostgreSQL took.
  Result<uint64_t> CopyIn(std::string_view copy_sql, std::string_view data);

  // The connection dropped (the server went away or restarted).
  bool IsBroken() const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_ = nullptr;
};

// Runs `body` (returning a Status or a Result) between BEGIN and COMMIT; a
// failure of the body or of the COMMIT rolls back (when the connection
// still stands) and is returned as it is.
template <typename Body>
auto InTransaction(PgConnection& db, Body body) -> decltype(body()) {
  if (Status s = db.Exec("BEGIN"); !s.ok()) return s;
  auto result = body();
  if (result.ok()) {
    Status committed = db.Exec("COMMIT");
    if (committed.ok()) return result;
    result = committed;
  }
  if (!db.IsBroken()) (void)db.Exec("ROLLBACK");
  return result;
}

// COPY's text format: one value made safe for a tab-separated row
// (backslash, tab, newline, carriage return escaped). PostgreSQL's text
// cannot hold NUL: a NUL byte is stored as the six characters \u0000.
void AppendCopyText(std::string_view value, std::string* row);
// The NULL marker of COPY's text format.
inline constexpr std::string_view kCopyNull = "\\N";

}  // namespace scorepipe

#endif  // SCOREPIPE_ARCHIVE_PG_CONNECTION_H_
