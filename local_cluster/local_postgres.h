// LocalPostgres: a private PostgreSQL server for the tests and the demo, as
// LocalRedis is a private redis-server. `initdb` makes a new cluster in a
// folder of its own under the directory it is given; the server listens on
// 127.0.0.1 at a free port and on a Unix socket in that folder, with trust
// authentication for local connections only (nothing else can reach it).
//
// PostgreSQL refuses to run as root. Run as root (as CI does), initdb and the
// server run as the unprivileged `postgres` user that Debian's package
// creates (setpriv(1) drops to it; the data folder is given to it, and the
// directory it sits in is made traversable). Otherwise they run as the
// calling user.
//
// Move-only; use from one thread. The destructor stops the server.
#ifndef SCOREPIPE_LOCAL_CLUSTER_LOCAL_POSTGRES_H_
#define SCOREPIPE_LOCAL_CLUSTER_LOCAL_POSTGRES_H_

#include <memory>
#include <optional>
#include <string>

#include "local_cluster/child_process.h"
#include "proto/status.h"

namespace scorepipe {

struct LocalPostgresOptions {
  std::string dir;                     // where the cluster's folder (`pg/`) goes; must exist
  int port = 0;                        // 0: pick a free one
  std::string database = "scorepipe";  // created at the first start
  // Where PostgreSQL's programs are (initdb, postgres, pg_ctl); empty: the
  // newest /usr/lib/postgresql/<version>/bin, else PATH.
  std::string bin_dir;
  // The unprivileged user to run as when this process is root.
  std::string user = "postgres";
};

class LocalPostgres {
 public:
  // Makes the cluster (once: a folder that already holds one is reused, so a
  // restart keeps the data), starts the server and waits until it accepts
  // connections to `database`.
  static Result<std::unique_ptr<LocalPostgres>> Start(const LocalPostgresOptions& options);
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;
  ~LocalPostgres();

  int port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // A libpq connection string for the options' `database` over TCP on
  // 127.0.0.1; and for another database of the same server.
  std::string conninfo() const { return conninfo(options_.database); }
  std::string conninfo(const std::string& database) const;
  // The folder of the Unix socket (libpq's host= for a socket connection).
  const std::string& socket_dir() const { return socket_dir_; }
  const std::string& data_dir() const { return data_dir_; }

  // A fast shutdown (SIGINT: open sessions are cut, the data is safe).
  void Stop();
  // The server dies at once (SIGKILL), as a crash or an OOM kill would; the
  // next Restart() recovers from its write-ahead log.
  void Kill();
  // Starts the server again on the same folder and port.
  Status Restart();

 private:
  LocalPostgres(LocalPostgresOptions options, std::string bin_dir, std::string data_dir, int port);
  // Starts the server and waits until it answers. `wait_for_old`: a server
  // that exits at once is started again for a while (the backends of one
  // killed a moment ago may still hold its shared memory).
  Status Launch(bool wait_for_old);

  LocalPostgresOptions options_;
  std::string bin_dir_;
  std::string data_dir_;
  std::string socket_dir_;
  int port_;
  std::optional<ChildProcess> process_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_LOCAL_CLUSTER_LOCAL_POSTGRES_H_
