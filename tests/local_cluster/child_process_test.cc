// Tests of local_cluster/child_process.h with real programs: exit codes, start
// failures, stopping with SIGTERM and then SIGKILL, and the log file.
#include "local_cluster/child_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Generous: the machine may be loaded. A child that does not exit within this
// is a failure, not a slow machine.
constexpr auto kExitTimeout = std::chrono::seconds(10);

class ChildProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "child_process_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Starts a child that must start; empty (and a failure) when it does not.
  static std::optional<ChildProcess> Start(const std::vector<std::string>& argv,
                                           const std::string& log_path = "") {
    auto child = ChildProcess::Start(argv, log_path);
    if (!child.ok()) {
      ADD_FAILURE() << child.status().message();
      return std::nullopt;
    }
    return std::move(child.value());
  }

  // Runs `script` with /bin/sh and waits for it to exit.
  static std::optional<int> ExitCodeOf(const std::string& script, const std::string& log_path = "") {
    auto child = Start({"/bin/sh", "-c", script}, log_path);
    if (!child) return std::nullopt;
    EXPECT_TRUE(child->WaitFor(kExitTimeout)) << script << " did not exit";
    return child->exit_code();
  }

  [[nodiscard]] std::string Read(const fs::path& path) const {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Polls until `path` contains `text`.
  [[nodiscard]] bool WaitForText(const fs::path& path, const std::string& text) const {
    const auto until = Clock::now() + kExitTimeout;
    while (Clock::now() < until) {
      if (Read(path).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }

  fs::path dir_;
};

TEST_F(ChildProcessTest, TrueExitsWithZero) {
  auto child = Start({"/bin/true"});
  ASSERT_TRUE(child);
  EXPECT_GT(child->pid(), 0);
  ASSERT_TRUE(child->WaitFor(kExitTimeout));
  EXPECT_EQ(child->exit_code(), 0);
  EXPECT_FALSE(child->Running());
}

TEST_F(ChildProcessTest, ExitCodeOfTheChildIsReported) { EXPECT_EQ(ExitCodeOf("exit 3"), 3); }

TEST_F(ChildProcessTest, ArgumentsArePassedAsGiven) {
  const fs::path out = dir_ / "args";
  auto child = Start({"/bin/sh", "-c", R"(printf '%s|' "$0" "$1" > "$2")", "a b", "", out.string()});
  ASSERT_TRUE(child);
  ASSERT_TRUE(child->WaitFor(kExitTimeout));
  EXPECT_EQ(Read(out), "a b||");
}

TEST_F(ChildProcessTest, NoExitCodeWhileRunning) {
  auto child = Start({"/bin/sleep", "60"});
  ASSERT_TRUE(child);
  EXPECT_TRUE(child->Running());
  EXPECT_EQ(child->exit_code(), std::nullopt);
  EXPECT_FALSE(child->WaitFor(milliseconds(50)));
}

TEST_F(ChildProcessTest, MissingProgramIsAnErrorNamingIt) {
  auto child = ChildProcess::Start({"/no/such/program", "x"});
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.status().message(), HasSubstr("/no/such/program"));
  EXPECT_THAT(child.status().message(), HasSubstr("No such file or directory"));
}

TEST_F(ChildProcessTest, FileThatIsNotExecutableIsAnError) {
  const fs::path script = dir_ / "plain.txt";
  std::ofstream(script) << "not a program\n";
  auto child = ChildProcess::Start({script.string()});
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.status().message(), HasSubstr(script.string()));
}

TEST_F(ChildProcessTest, EmptyArgvIsAnError) {
  auto child = ChildProcess::Start({});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().message(), "no program to start");
}

TEST_F(ChildProcessTest, UnwritableLogIsAnErrorNamingIt) {
  const std::string log = (dir_ / "missing-dir" / "x.log").string();
  auto child = ChildProcess::Start({"/bin/true"}, log);
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.status().message(), HasSubstr(log));
}

TEST_F(ChildProcessTest, StopEndsAChildWithSigtermQuickly) {
  auto child = Start({"/bin/sleep", "60"});
  ASSERT_TRUE(child);
  const auto start = Clock::now();
  child->Stop(kExitTimeout);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(child->Running());
  EXPECT_EQ(child->exit_code(), 128 + SIGTERM);
}

TEST_F(ChildProcessTest, ChildIgnoringSigtermIsKilledAfterTheGrace) {
  const fs::path log = dir_ / "stubborn.log";
  // exec: the sleep itself ignores SIGTERM, so SIGKILL leaves no orphan behind.
  auto child = Start({"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 60"}, log.string());
  ASSERT_TRUE(child);
  ASSERT_TRUE(WaitForText(log, "ready")) << "the trap was never set";
  const milliseconds grace(300);
  const auto start = Clock::now();
  child->Stop(grace);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, grace);
  EXPECT_LT(took, grace + kExitTimeout);
  EXPECT_EQ(child->exit_code(), 128 + SIGKILL);
}

TEST_F(ChildProcessTest, StopOnAnExitedChildKeepsItsExitCode) {
  auto child = Start({"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(child);
  ASSERT_TRUE(child->WaitFor(kExitTimeout));
  child->Stop(milliseconds(100));
  EXPECT_EQ(child->exit_code(), 7);
}

TEST_F(ChildProcessTest, SignalReachesTheChild) {
  auto child = Start({"/bin/sleep", "60"});
  ASSERT_TRUE(child);
  child->Signal(SIGINT);
  ASSERT_TRUE(child->WaitFor(kExitTimeout));
  EXPECT_EQ(child->exit_code(), 128 + SIGINT);
}

TEST_F(ChildProcessTest, LogFileReceivesStdoutAndStderr) {
  const fs::path log = dir_ / "child.log";
  EXPECT_EQ(ExitCodeOf("echo to-stdout; echo to-stderr >&2", log.string()), 0);
  EXPECT_EQ(Read(log), "to-stdout\nto-stderr\n");
}

TEST_F(ChildProcessTest, LogFileIsAppendedTo) {
  const fs::path log = dir_ / "child.log";
  std::ofstream(log) << "before\n";
  EXPECT_EQ(ExitCodeOf("echo first", log.string()), 0);
  EXPECT_EQ(ExitCodeOf("echo second", log.string()), 0);
  EXPECT_EQ(Read(log), "before\nfirst\nsecond\n");
}

TEST_F(ChildProcessTest, ChildRunsInItsOwnProcessGroup) {
  auto child = Start({"/bin/sleep", "60"});
  ASSERT_TRUE(child);
  const auto until = Clock::now() + kExitTimeout;
  while (getpgid(child->pid()) != child->pid() && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(getpgid(child->pid()), child->pid());
  EXPECT_NE(getpgid(child->pid()), getpgrp());
}

TEST_F(ChildProcessTest, DestructorKillsAndReapsARunningChild) {
  pid_t pid = -1;
  {
    auto child = Start({"/bin/sleep", "60"});
    ASSERT_TRUE(child);
    pid = child->pid();
  }
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1) << "still there (or a zombie)";
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(ChildProcessTest, MovedFromObjectLeavesTheChildAlone) {
  auto first = Start({"/bin/sleep", "60"});
  ASSERT_TRUE(first);
  const pid_t pid = first->pid();
  ChildProcess second = std::move(*first);
  first.reset();
  EXPECT_EQ(second.pid(), pid);
  EXPECT_TRUE(second.Running());
  second.Stop(kExitTimeout);
  EXPECT_EQ(second.exit_code(), 128 + SIGTERM);
}

}  // namespace
}  // namespace scorepipe
