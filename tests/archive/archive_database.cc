#include "tests/archive/archive_database.h"

#include <memory>

#include "archive/pg_connection.h"
#include "local_cluster/local_postgres.h"
#include "tests/support/temp_dir.h"

namespace scorepipe::testing {
namespace {

struct Server {
  TempDir dir{"archive_test"};
  std::unique_ptr<LocalPostgres> postgres;
  int databases = 0;
};

}  // namespace

Result<std::string> FreshArchiveDatabase() {
  static Server suite;  // stopped and removed when the program ends
  Server* server = &suite;
  if (!server->postgres) {
    if (!server->dir.ok()) return Status::Error("cannot make a temporary folder");
    LocalPostgresOptions options;
    options.dir = server->dir.path().string();
    auto started = LocalPostgres::Start(options);
    if (!started.ok()) return started.status();
    server->postgres = std::move(started).value();
  }
  Result<PgConnection> admin = PgConnection::Connect(server->postgres->conninfo());
  if (!admin.ok()) return admin.status();
  const std::string name = "t" + std::to_string(++server->databases);
  if (Status s = admin->Exec("CREATE DATABASE " + name); !s.ok()) return s;
  return server->postgres->conninfo(name);
}

}  // namespace scorepipe::testing
