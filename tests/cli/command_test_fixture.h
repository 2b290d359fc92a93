// CommandTest: a fixture for tests that run the `scorepipe` binary (or another
// program) as a person does, in a temporary folder: Scorepipe() and Run()
// return the exit code with what the program printed, File() names a file in
// the folder, Demo() one of the committed demo model's files.
//
// Test-only; one per test, used from its thread.
#ifndef SCOREPIPE_TESTS_CLI_COMMAND_TEST_FIXTURE_H_
#define SCOREPIPE_TESTS_CLI_COMMAND_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace scorepipe::testing {

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  // Runs argv (argv[0] a path); *out gets stdout and stderr.
  int Run(const std::vector<std::string>& argv, std::string* out) {
    return RunCommand(argv, File("run-" + std::to_string(++runs_) + ".log"), out);
  }

  // Runs `scorepipe <args>`.
  int Scorepipe(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), ClusterHarness::BinDir() + "/scorepipe");
    return Run(args, out);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(File(name)) << text;
    return File(name);
  }

  std::string File(const std::string& name) const { return (dir_.path() / name).string(); }
  static std::string Demo(const std::string& file) {
    return ClusterHarness::SourceDir() + "/models/demo/" + file;
  }

 private:
  TempDir dir_{"scorepipe-command"};
  int runs_ = 0;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_CLI_COMMAND_TEST_FIXTURE_H_
