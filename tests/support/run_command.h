// RunCommand: runs a program to its end and returns its exit code with what
// it printed, for tests of the `scorepipe` command as a person runs it.
//
// Header-only; a plain function on the calling thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_RUN_COMMAND_H_
#define SCOREPIPE_TESTS_SUPPORT_RUN_COMMAND_H_

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "local_cluster/child_process.h"

namespace scorepipe::testing {

// Runs argv (argv[0] a path) with stdout and stderr to `log`, waits up to
// `timeout`, and puts the log's text in *out. Returns the exit code, or -1
// when the program did not start or did not end in time.
inline int RunCommand(const std::vector<std::string>& argv, const std::string& log, std::string* out,
                      std::chrono::seconds timeout = std::chrono::seconds(30)) {
  Result<ChildProcess> run = ChildProcess::Start(argv, log);
  if (!run.ok()) return -1;
  run->WaitFor(timeout);
  std::ifstream in(log);
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return run->exit_code().value_or(-1);
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_RUN_COMMAND_H_
