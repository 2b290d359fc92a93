// LocalRedis: a private redis-server on a free loopback port, for the demo
// and the tests. It keeps its files in the directory it is given and is shut
// down when the object goes away.
//
// Move-only; use from one thread.
#ifndef SCOREPIPE_LOCAL_CLUSTER_LOCAL_REDIS_H_
#define SCOREPIPE_LOCAL_CLUSTER_LOCAL_REDIS_H_

#include <memory>
#include <string>

#include "local_cluster/child_process.h"
#include "proto/status.h"

namespace scorepipe {

struct LocalRedisOptions {
  std::string dir;                      // working directory for its files and log; must exist
  bool append_only = false;             // AOF persistence (for restart tests)
  std::string server = "redis-server";  // looked up on PATH when not a path
  int port = 0;                         // 0: pick a free one
  // Non-empty: the server requires this password (requirepass); it is also
  // written to password_file() (mode 0600) for clients to name.
  std::string password;
};

class LocalRedis {
 public:
  // Starts the server and waits until it answers PING.
  static Result<std::unique_ptr<LocalRedis>> Start(const LocalRedisOptions& options);
  LocalRedis(const LocalRedis&) = delete;
  LocalRedis& operator=(const LocalRedis&) = delete;
  ~LocalRedis();

  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  // The file holding the password (empty when none is required).
  const std::string& password_file() const { return password_file_; }
  // Stops the server (SHUTDOWN semantics via SIGTERM).
  void Stop();

 private:
  LocalRedis(ChildProcess process, int port, std::string password_file)
      : process_(std::move(process)), port_(port), password_file_(std::move(password_file)) {}
  ChildProcess process_;
  int port_;
  std::string password_file_;
};

// A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's
// ephemeral range (so that no outgoing connection takes it meanwhile).
Result<int> FindFreePort();
// The port a server should try: `configured`, or a free one when it is 0.
Result<int> PortToTry(int configured);
// The absolute path of `program` on PATH (or itself when it has a slash).
Result<std::string> FindProgram(const std::string& program);

}  // namespace scorepipe

#endif  // SCOREPIPE_LOCAL_CLUSTER_LOCAL_REDIS_H_
