// Tests of runtime/node.h: back-off, rate-limited logging, the ZeroMQ
// send/receive helpers and SIGHUP's log reopening. The stop flag and the
// signal handlers are process-wide and never reset, so every test that
// raises a signal or the flag runs in a death-test subprocess (the
// StopRequestDeathTest and LogReopenDeathTest suites); the other tests rely
// on the flag staying down.
#include "runtime/node.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/details/log_msg.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Generous: the machine may be loaded; these bound waits that should be short.
constexpr auto kSlack = std::chrono::seconds(3);

// --- Log line formats ---------------------------------------------------------

TEST(JsonLogFormatterTest, WritesOneParsableObjectPerLineWithTheMessageEscaped) {
  std::unique_ptr<spdlog::formatter> formatter = JsonLogFormatter("sink", "head-1");
  const std::string message = "dead-lettering {\"id\":7}\twith a \"quote\" and a\nnewline";
  spdlog::details::log_msg msg(spdlog::source_loc{}, "sink-head-1", spdlog::level::warn, message);
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  const std::string line(out.data(), out.size());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line: " << line;

  simdjson::dom::parser parser;
  simdjson::dom::element entry;
  ASSERT_EQ(parser.parse(line).get(entry), simdjson::SUCCESS) << line;
  std::string_view value;
  ASSERT_EQ(entry["message"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, message);
  ASSERT_EQ(entry["level"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "warning");
  ASSERT_EQ(entry["role"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "sink");
  ASSERT_EQ(entry["id"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "head-1");
  ASSERT_EQ(entry["time"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value.size(), std::string_view("2026-01-01T12:00:00.123Z").size()) << value;
}

TEST(JsonLogFormatterTest, WritesTimeLevelRoleIdAndMessageInThatOrder) {
  std::unique_ptr<spdlog::formatter> formatter = JsonLogFormatter("worker", "w\"1");
  spdlog::details::log_msg msg(spdlog::source_loc{}, "worker", spdlog::level::err, "bad\x01 \xff");
  msg.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'767'268'800'123));
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  EXPECT_EQ(
      std::string(out.data(), out.size()),
      "{\"time\":\"2026-01-01T12:00:00.123Z\",\"level\":\"error\",\"role\":\"worker\",\"id\":\"w\\\"1\","
      "\"message\":\"bad\\u0001 \\ufffd\"}\n");
}

TEST(InitLoggingTest, AnUnknownLevelIsAnErrorNamingTheAllowedOnes) {
  Status s = InitLogging("test", "1", "loud", LogLineFormat::kJson);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("trace, debug, info, warn, error, off"), std::string::npos) << s.message();
}

// --- Backoff ----------------------------------------------------------------

TEST(BackoffTest, DoublesFromTheInitialDelayUpToTheCap) {
  Backoff backoff(50, 1000);
  for (int expected : {50, 100, 200, 400, 800, 1000, 1000}) EXPECT_EQ(backoff.NextDelayMs(), expected);
}

TEST(BackoffTest, CapThatIsNotAPowerOfTwoOfTheInitialIsReachedExactly) {
  Backoff backoff(30, 100);
  for (int expected : {30, 60, 100, 100}) EXPECT_EQ(backoff.NextDelayMs(), expected);
}

TEST(BackoffTest, DefaultsStartAt50AndCapAt2000) {
  Backoff backoff;
  EXPECT_EQ(backoff.NextDelayMs(), 50);
  for (int i = 0; i < 20; ++i) backoff.NextDelayMs();
  EXPECT_EQ(backoff.NextDelayMs(), 2000);
}

TEST(BackoffTest, CountsAttempts) {
  Backoff backoff;
  EXPECT_EQ(backoff.attempts(), 0);
  backoff.NextDelayMs();
  backoff.NextDelayMs();
  EXPECT_EQ(backoff.attempts(), 2);
}

TEST(BackoffTest, ResetStartsOverFromTheInitialDelayWithNoAttempts) {
  Backoff backoff(50, 1000);
  for (int i = 0; i < 4; ++i) backoff.NextDelayMs();
  backoff.Reset();
  EXPECT_EQ(backoff.attempts(), 0) << "callers log 'reachable again' while attempts() > 0";
  EXPECT_EQ(backoff.NextDelayMs(), 50);
  EXPECT_EQ(backoff.NextDelayMs(), 100);
}

// --- RateLimitedLog -----------------------------------------------------------

TEST(RateLimitedLogTest, FirstEventIsLoggedWithNothingHeldBack) {
  RateLimitedLog log(std::chrono::hours(1));
  uint64_t suppressed = 99;
  EXPECT_TRUE(log.ShouldLog(&suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST(RateLimitedLogTest, EventsWithinTheIntervalAreHeldBack) {
  RateLimitedLog log(std::chrono::hours(1));
  uint64_t suppressed = 0;
  ASSERT_TRUE(log.ShouldLog(&suppressed));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(log.ShouldLog(&suppressed));
}

TEST(RateLimitedLogTest, NextLoggedEventComesAfterTheIntervalAndCountsTheHeldBackOnes) {
  const milliseconds interval(200);
  RateLimitedLog log(interval);
  uint64_t suppressed = 0;
  ASSERT_TRUE(log.ShouldLog(&suppressed));
  const auto first = Clock::now();
  uint64_t held_back = 0;
  while (!log.ShouldLog(&suppressed)) {
    ++held_back;
    ASSERT_LT(Clock::now() - first, interval + kSlack) << "nothing logged after the interval";
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(Clock::now() - first, interval);
  EXPECT_GT(held_back, 0u);
  EXPECT_EQ(suppressed, held_back);
}

TEST(RateLimitedLogTest, CountStartsAgainAfterEachLoggedEvent) {
  RateLimitedLog log(milliseconds(0));
  uint64_t suppressed = 99;
  EXPECT_TRUE(log.ShouldLog(&suppressed));
  EXPECT_TRUE(log.ShouldLog(&suppressed));
  EXPECT_EQ(suppressed, 0u);
}

// --- SleepUnlessStopped -------------------------------------------------------

TEST(SleepUnlessStoppedTest, SleepsForTheGivenTime) {
  ASSERT_FALSE(StopRequested());
  const auto start = Clock::now();
  SleepUnlessStopped(200);
  const auto slept = Clock::now() - start;
  EXPECT_GE(slept, milliseconds(200));
  EXPECT_LT(slept, milliseconds(200) + kSlack);
}

TEST(SleepUnlessStoppedTest, ZeroDoesNotSleep) {
  const auto start = Clock::now();
  SleepUnlessStopped(0);
  EXPECT_LT(Clock::now() - start, kSlack);
}

// --- SendFrame and ReceiveFor (inproc) ------------------------------------------

class SendReceiveTest : public ::testing::Test {
 protected:
  // A socket that never blocks the context's shutdown with unsent frames.
  zmq::socket_t Socket(zmq::socket_type type) {
    zmq::socket_t socket(context_, type);
    socket.set(zmq::sockopt::linger, 0);
    return socket;
  }
  static zmq::message_t Frame(const std::string& text) { return {text.data(), text.size()}; }
  static Clock::time_point In(milliseconds ms) { return Clock::now() + ms; }

  zmq::context_t context_;
};

TEST_F(SendReceiveTest, SendFrameGivesUpAtItsDeadlineWhenNoPeerCanTakeTheFrame) {
  zmq::socket_t push = Socket(zmq::socket_type::push);
  push.bind("inproc://nobody");
  zmq::message_t frame = Frame("stuck");
  const auto start = Clock::now();
  EXPECT_FALSE(SendFrame(push, frame, start + milliseconds(200)));
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(200));
  EXPECT_LT(waited, milliseconds(200) + kSlack);
}

TEST_F(SendReceiveTest, SendFrameDeliversToAConnectedPeer) {
  zmq::socket_t push = Socket(zmq::socket_type::push);
  push.bind("inproc://pipe");
  zmq::socket_t pull = Socket(zmq::socket_type::pull);
  pull.connect("inproc://pipe");
  zmq::message_t frame = Frame("hello");
  ASSERT_TRUE(SendFrame(push, frame, In(milliseconds(10000))));
  auto received = ReceiveFor(pull, 10000);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->to_string(), "hello");
}

TEST_F(SendReceiveTest, SendFrameWithoutDeadlineSendsWhileNoStopIsRequested) {
  zmq::socket_t push = Socket(zmq::socket_type::push);
  push.bind("inproc://pipe");
  zmq::socket_t pull = Socket(zmq::socket_type::pull);
  pull.connect("inproc://pipe");
  zmq::message_t frame = Frame("hello");
  ASSERT_TRUE(SendFrame(push, frame));
  auto received = ReceiveFor(pull, 10000);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->to_string(), "hello");
}

TEST_F(SendReceiveTest, SendFrameWaitsForAPeerThatConnectsLater) {
  zmq::socket_t push = Socket(zmq::socket_type::push);
  push.bind("inproc://late");
  zmq::message_t frame = Frame("patient");
  bool sent = false;
  std::thread sender([&] { sent = SendFrame(push, frame, In(milliseconds(10000))); });
  zmq::socket_t pull = Socket(zmq::socket_type::pull);
  pull.connect("inproc://late");
  auto received = ReceiveFor(pull, 10000);
  sender.join();
  EXPECT_TRUE(sent);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->to_string(), "patient");
}

TEST_F(SendReceiveTest, ReceiveForReturnsNothingAfterTheTimeout) {
  zmq::socket_t pull = Socket(zmq::socket_type::pull);
  pull.bind("inproc://silent");
  const auto start = Clock::now();
  EXPECT_FALSE(ReceiveFor(pull, 200).has_value());
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(100));
  EXPECT_LT(waited, milliseconds(200) + kSlack);
}

TEST_F(SendReceiveTest, ReceiveForReturnsAFrameAlreadyWaitingAtOnce) {
  zmq::socket_t pull = Socket(zmq::socket_type::pull);
  pull.bind("inproc://ready");
  zmq::socket_t push = Socket(zmq::socket_type::push);
  push.connect("inproc://ready");
  ASSERT_TRUE(push.send(Frame("waiting"), zmq::send_flags::none));
  auto received = ReceiveFor(pull, 10000);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->to_string(), "waiting");
}

// --- The stop request (each test in its own subprocess) --------------------------

// Exit codes that say which check failed in the subprocess.
constexpr int kPassed = 0;
constexpr int kFailed = 1;

class StopRequestDeathTest : public ::testing::Test {
 protected:
  // "threadsafe" re-runs the test binary for each death test, so the child
  // starts clean even when earlier tests started threads (ZeroMQ's).
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(StopRequestDeathTest, RequestStopIsSeenByStopRequested) {
  EXPECT_FALSE(StopRequested());
  EXPECT_EXIT(
      {
        RequestStop();
        std::_Exit(StopRequested() ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(StopRequestDeathTest, SendFrameWithoutDeadlineGivesUpOnceAStopIsRequested) {
  EXPECT_EXIT(
      {
        zmq::context_t context;
        zmq::socket_t push(context, zmq::socket_type::push);
        push.set(zmq::sockopt::linger, 0);
        push.bind("inproc://nobody");
        zmq::message_t frame(std::string("stuck"));
        RequestStop();
        const auto start = Clock::now();
        const bool sent = SendFrame(push, frame);
        std::_Exit(!sent && Clock::now() - start < kSlack ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(StopRequestDeathTest, SendFrameWithoutDeadlineGivesUpWhenAStopComesWhileItWaits) {
  EXPECT_EXIT(
      {
        zmq::context_t context;
        zmq::socket_t push(context, zmq::socket_type::push);
        push.set(zmq::sockopt::linger, 0);
        push.bind("inproc://nobody");
        zmq::message_t frame(std::string("stuck"));
        bool sent = true;
        std::thread sender([&] { sent = SendFrame(push, frame); });
        RequestStop();
        sender.join();
        std::_Exit(sent ? kFailed : kPassed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(StopRequestDeathTest, SendFrameWithDeadlineKeepsTryingAfterAStopToDrain) {
  EXPECT_EXIT(
      {
        zmq::context_t context;
        zmq::socket_t push(context, zmq::socket_type::push);
        push.set(zmq::sockopt::linger, 0);
        push.bind("inproc://drain");
        zmq::message_t stuck(std::string("stuck"));
        RequestStop();
        const auto start = Clock::now();
        if (SendFrame(push, stuck, start + milliseconds(200))) std::_Exit(10);
        if (Clock::now() - start < milliseconds(200)) std::_Exit(11);  // gave up before its deadline
        zmq::socket_t pull(context, zmq::socket_type::pull);
        pull.set(zmq::sockopt::linger, 0);
        pull.connect("inproc://drain");
        zmq::message_t frame(std::string("drained"));
        if (!SendFrame(push, frame, Clock::now() + std::chrono::seconds(10))) std::_Exit(12);
        auto received = ReceiveFor(pull, 10000);
        std::_Exit(received && received->to_string() == "drained" ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(StopRequestDeathTest, SleepUnlessStoppedReturnsAtOnceAfterAStop) {
  EXPECT_EXIT(
      {
        RequestStop();
        const auto start = Clock::now();
        SleepUnlessStopped(60000);
        std::_Exit(Clock::now() - start < kSlack ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(StopRequestDeathTest, SleepUnlessStoppedWakesUpWhenAStopComesWhileItSleeps) {
  EXPECT_EXIT(
      {
        const auto start = Clock::now();
        std::thread sleeper([] { SleepUnlessStopped(60000); });
        RequestStop();
        sleeper.join();
        std::_Exit(Clock::now() - start < kSlack ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(StopRequestDeathTest, SigtermRequestsAStopAndASecondOneExitsAt130) {
  EXPECT_EXIT(
      {
        InstallStopSignalHandlers();
        std::raise(SIGTERM);
        if (!StopRequested()) std::_Exit(kFailed);
        std::raise(SIGTERM);
        std::_Exit(kFailed);
      },
      ::testing::ExitedWithCode(130), "");
}

TEST_F(StopRequestDeathTest, SigintRequestsAStop) {
  EXPECT_EXIT(
      {
        InstallStopSignalHandlers();
        std::raise(SIGINT);
        std::_Exit(StopRequested() ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

// --- SIGHUP: logs reopened, never a stop (each test in its own subprocess) ---

// What the file at `path` holds; "<missing>" when there is none.
std::string FileText(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return "<missing>";
  std::string text;
  char buffer[256];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  std::fclose(file);
  return text;
}

// Writes `text` to `fd` whole; false when it could not.
bool WriteAll(int fd, const std::string& text) {
  return write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// A fresh path in the temporary directory for a log file (not created).
std::string LogPathForTest() {
  char pattern[] = "/tmp/scorepipe-node-test-XXXXXX";
  const int fd = mkstemp(pattern);
  if (fd >= 0) close(fd);
  unlink(pattern);
  return pattern;
}

using LogReopenDeathTest = StopRequestDeathTest;

TEST_F(LogReopenDeathTest, SighupAfterARenameSendsLaterStderrLinesToANewFileAtTheOldPath) {
  const std::string path = LogPathForTest();
  EXPECT_EXIT(
      {
        const int log = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log < 0 || dup2(log, STDERR_FILENO) < 0) std::_Exit(10);
        close(log);
        InstallStopSignalHandlers();
        if (!WriteAll(STDERR_FILENO, "before the rotation\n")) std::_Exit(11);
        if (std::rename(path.c_str(), (path + ".1").c_str()) != 0) std::_Exit(12);
        std::raise(SIGHUP);
        if (!WriteAll(STDERR_FILENO, "after the rotation\n")) std::_Exit(13);
        if (StopRequested()) std::_Exit(14);  // a reopen is no stop
        if (LogReopenRequests() != 1) std::_Exit(15);
        if (FileText(path + ".1") != "before the rotation\n") std::_Exit(16);
        if (FileText(path) != "after the rotation\n") std::_Exit(17);
        std::_Exit(kPassed);
      },
      ::testing::ExitedWithCode(kPassed), "");
  unlink(path.c_str());
  unlink((path + ".1").c_str());
}

TEST_F(LogReopenDeathTest, SighupMovesStdoutAlongWhenItSharedTheFileWithStderr) {
  const std::string path = LogPathForTest();
  EXPECT_EXIT(
      {
        const int log = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log < 0 || dup2(log, STDERR_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0) std::_Exit(10);
        close(log);
        InstallStopSignalHandlers();
        if (std::rename(path.c_str(), (path + ".1").c_str()) != 0) std::_Exit(12);
        std::raise(SIGHUP);
        if (!WriteAll(STDOUT_FILENO, "out\n") || !WriteAll(STDERR_FILENO, "err\n")) std::_Exit(13);
        if (FileText(path) != "out\nerr\n") std::_Exit(17);
        if (FileText(path + ".1") != "") std::_Exit(16);
        std::_Exit(kPassed);
      },
      ::testing::ExitedWithCode(kPassed), "");
  unlink(path.c_str());
  unlink((path + ".1").c_str());
}

TEST_F(LogReopenDeathTest, SighupLeavesAStderrThatIsNoFileAsItIsAndGoesOn) {
  EXPECT_EXIT(
      {
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0 || dup2(pipe_fds[1], STDERR_FILENO) < 0) std::_Exit(10);
        InstallStopSignalHandlers();
        std::raise(SIGHUP);
        std::raise(SIGHUP);
        if (StopRequested()) std::_Exit(14);
        if (LogReopenRequests() != 2) std::_Exit(15);
        if (!WriteAll(STDERR_FILENO, "still the pipe\n")) std::_Exit(13);
        char read_back[32] = {};
        if (read(pipe_fds[0], read_back, sizeof read_back - 1) != 15) std::_Exit(16);
        std::_Exit(std::string(read_back) == "still the pipe\n" ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

// A pseudo-terminal made the controlling terminal of this process (which
// must be a session leader, after setsid()); returns the master, or -1.
int OpenControllingTerminal() {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return -1;
  const char* name = ptsname(master);
  if (name == nullptr) return -1;
  const int terminal = open(name, O_RDWR);  // without O_NOCTTY: it becomes the controlling terminal
  if (terminal < 0) return -1;
  return master;
}

// Whether this machine has pseudo-terminals to lend (a container may not).
bool PseudoTerminalsAvailable() {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return false;
  close(master);
  return true;
}

TEST_F(LogReopenDeathTest, TheTerminalClosingIsAHangupThatRequestsAStop) {
  if (!PseudoTerminalsAvailable()) GTEST_SKIP() << "no pseudo-terminals here";
  EXPECT_EXIT(
      {
        if (setsid() < 0) std::_Exit(10);
        const int master = OpenControllingTerminal();
        if (master < 0) std::_Exit(11);
        InstallStopSignalHandlers();
        std::raise(SIGHUP);  // kill -HUP while the terminal is there: a reopen
        if (StopRequested() || LogReopenRequests() != 1) std::_Exit(12);
        close(master);  // the terminal window closes: the kernel sends SIGHUP
        const auto until = Clock::now() + kSlack;
        while (!StopRequested() && Clock::now() < until) std::this_thread::sleep_for(milliseconds(5));
        std::_Exit(StopRequested() && LogReopenRequests() == 1 ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(LogReopenDeathTest, UnderNohupTheTerminalClosingStopsNothing) {
  if (!PseudoTerminalsAvailable()) GTEST_SKIP() << "no pseudo-terminals here";
  EXPECT_EXIT(
      {
        if (setsid() < 0) std::_Exit(10);
        const int master = OpenControllingTerminal();
        if (master < 0) std::_Exit(11);
        std::signal(SIGHUP, SIG_IGN);  // what nohup does before it runs the program
        InstallStopSignalHandlers();
        close(master);
        const auto until = Clock::now() + kSlack;
        while (LogReopenRequests() == 0 && Clock::now() < until) std::this_thread::sleep_for(milliseconds(5));
        std::_Exit(!StopRequested() && LogReopenRequests() == 1 ? kPassed : kFailed);
      },
      ::testing::ExitedWithCode(kPassed), "");
}

}  // namespace
}  // namespace scorepipe
