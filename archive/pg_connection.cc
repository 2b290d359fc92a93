#include "archive/pg_connection.h"

#include <libpq-fe.h>

#include <memory>
#include <utility>

namespace scorepipe {
namespace {

// PostgreSQL's message for a failed result, with its SQLSTATE.
std::string Why(const PGresult* result, PGconn* conn) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr) message += " (SQLSTATE " + std::string(state) + ")";
  return message.empty() ? "no answer from the server" : message;
}

std::string Shorten(std::string_view sql) {
  constexpr size_t kShown = 60;
  std::string out(sql.substr(0, kShown));
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return sql.size() > kShown ? out + "..." : out;
}

// What failed and why, for a statement PostgreSQL refused.
Status Failure(std::string_view sql, const PGresult* result, PGconn* conn) {
  return Status::Error("PostgreSQL: " + Shorten(sql) + ": " + Why(result, conn));
}

// The rows a command changed, from its tag ("INSERT 0 5", "COPY 5"); 0 for others.
uint64_t Affected(PGresult* result) {
  const char* count = PQcmdTuples(result);
  return count != nullptr && *count != '\0' ? std::stoull(count) : 0;
}

// Run and Exec take any statement that did not fail.
bool Succeeded(const PGresult* result) {
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

std::string PgRows::Scalar() const {
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
  return *rows[0][0];
}

Result<PgConnection> PgConnection::Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Status::Error("PostgreSQL: out of memory making a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string why = Why(nullptr, conn);
    PQfinish(conn);
    return Status::Error("cannot connect to PostgreSQL: " + why);
  }
  // PostgreSQL's notices ("already exists, skipping") are not errors; by
  // default libpq prints them on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return PgConnection(conn);
}

PgConnection::PgConnection(PgConnection&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::IsBroken() const { return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK; }

Result<PgRows> PgConnection::Run(std::string_view sql,
                                 const std::vector<std::optional<std::string>>& params) {
  if (conn_ == nullptr) return Status::Error("PostgreSQL: no connection");
  const std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::optional<std::string>& p : params) {
    if (p && p->find('\0') != std::string::npos) {
      return Status::Error("PostgreSQL: " + Shorten(sql) + ": parameter $" +
                           std::to_string(values.size() + 1) +
                           " holds a NUL byte, which PostgreSQL's text cannot");
    }
    values.push_back(p ? p->c_str() : nullptr);
  }
  ResultPtr result(PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                                values.empty() ? nullptr : values.data(), nullptr, nullptr, 0));
  if (!Succeeded(result.get())) return Failure(sql, result.get(), conn_);
  PgRows out;
  const int columns = PQnfields(result.get());
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result.get(), c));
  const int rows = PQntuples(result.get());
  out.rows.reserve(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>>& row = out.rows.emplace_back();
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result.get(), r, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result.get(), r, c),
                                     static_cast<size_t>(PQgetlength(result.get(), r, c))));
      }
    }
  }
  out.affected = Affected(result.get());
  return out;
}

Status PgConnection::Exec(std::string_view sql) {
  if (conn_ == nullptr) return Status::Error("PostgreSQL: no connection");
  const std::string text(sql);
  ResultPtr result(PQexec(conn_, text.c_str()));
  return Succeeded(result.get()) ? Status::Ok() : Failure(sql, result.get(), conn_);
}

Result<uint64_t> PgConnection::CopyIn(std::string_view copy_sql, std::string_view data) {
  if (conn_ == nullptr) return Status::Error("PostgreSQL: no connection");
  const std::string text(copy_sql);
  ResultPtr started(PQexec(conn_, text.c_str()));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) {
    return Failure(copy_sql, started.get(), conn_);
  }
  // Sent in pieces: libpq buffers them; a blocking connection waits for room.
  constexpr size_t kPiece = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kPiece) {
    const std::string_view piece = data.substr(at, kPiece);
    if (PQputCopyData(conn_, piece.data(), static_cast<int>(piece.size())) != 1) {
      return Status::Error("PostgreSQL: sending COPY data: " + Why(nullptr, conn_));
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) {
    return Status::Error("PostgreSQL: ending COPY: " + Why(nullptr, conn_));
  }
  ResultPtr finished(PQgetResult(conn_));
  const bool ok = finished && PQresultStatus(finished.get()) == PGRES_COMMAND_OK;
  Status failed = ok ? Status::Ok() : Failure(copy_sql, finished.get(), conn_);
  const uint64_t rows = ok ? Affected(finished.get()) : 0;
  // Drain what else the COPY left (libpq's rule: read results until none).
  while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  if (!failed.ok()) return failed;
  return rows;
}

void AppendCopyText(std::string_view value, std::string* row) {
  for (char c : value) {
    switch (c) {
      case '\\':
        *row += "\\\\";
        break;
      case '\t':
        *row += "\\t";
        break;
      case '\n':
        *row += "\\n";
        break;
      case '\r':
        *row += "\\r";
        break;
      case '\0':
        *row += "\\\\u0000";  // PostgreSQL's text holds no NUL: kept visible, as JSON writes it
        break;
      default:
        *row += c;
    }
  }
}

}  // namespace scorepipe
