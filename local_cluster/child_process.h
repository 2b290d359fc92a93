// ChildProcess: a program this process started and must stop again.
//
// Used by `scorepipe up` (the node processes), `scorepipe demo` and the tests
// (redis-server, the cluster). The child gets its own process group, so a
// Ctrl-C in the terminal reaches only the supervisor, which then stops its
// children in order; and it receives SIGTERM if its parent dies, so nothing
// is left running behind a killed supervisor. It starts with SIGHUP ignored:
// what a hangup means is the parent's to decide, and a node's own SIGHUP
// handler (reopen its log, runtime/node.h) replaces that once it is installed,
// so a SIGHUP passed on before that is not fatal.
//
// Move-only; the destructor kills (SIGKILL) and reaps a child still running.
// Use from one thread.
#ifndef SCOREPIPE_LOCAL_CLUSTER_CHILD_PROCESS_H_
#define SCOREPIPE_LOCAL_CLUSTER_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the given arguments. With a `log_path`, the
  // child's stdout and stderr are appended to that file; otherwise they are
  // this process's.
  static Result<ChildProcess> Start(const std::vector<std::string>& argv, const std::string& log_path = "");

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // True until the child has exited (and been reaped).
  bool Running();
  // Exit code, or 128 + signal number, once it has exited.
  std::optional<int> exit_code() const { return exit_code_; }
  void Signal(int signal_number);
  // Waits up to `timeout` for the child to exit; returns whether it did.
  bool WaitFor(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL if it has not exited within `grace`.
  void Stop(std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  void Reap(int wait_status);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_LOCAL_CLUSTER_CHILD_PROCESS_H_
