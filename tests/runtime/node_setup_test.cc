// Tests of runtime/node_setup.h. SetUpNode installs signal handlers and
// spdlog's default logger, which a process can do only once: its success path
// runs in death-test subprocesses.
#include "runtime/node_setup.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/topology.h"
#include "config/topology_writer.h"
#include "runtime/node.h"
#include "tests/config/topology_test_util.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

using testing::kLocalYaml;
using testing::LocalTopology;

// --- SetUpNode ------------------------------------------------------------------

TEST(SetUpNodeTest, MissingFileReturnsTheLoadersError) {
  const std::string missing = (fs::temp_directory_path() / "scorepipe-no-such-topology.yaml").string();
  auto set_up = SetUpNode("worker", "w1", missing, "");
  ASSERT_FALSE(set_up.ok());
  EXPECT_EQ(set_up.status().message(), LoadTopologyFile(missing).status().message());
}

TEST(SetUpNodeTest, UnknownLogLevelOverrideIsAnErrorNamingTheFlag) {
  // InitLogging rejects the level before it creates a logger, so this call
  // leaves the process as it was.
  auto set_up = SetUpNode("worker", "w1", kLocalYaml, "loud");
  ASSERT_FALSE(set_up.ok());
  EXPECT_EQ(set_up.status().message(),
            "--log-level: log level 'loud' is not known; allowed: trace, debug, info, warn, error, off");
}

class SetUpNodeDeathTest : public ::testing::Test {
 protected:
  // Each death test re-runs the binary, so its child starts without a logger.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// Exit codes that say which check failed in the subprocess.
enum Check : int { kPassed = 0, kNotLoaded, kWrongTopology, kWrongLogger, kWrongLevel, kNoStopHandler };

int SetUpAndCheck(const std::string& level_override, spdlog::level::level_enum expected_level) {
  auto set_up = SetUpNode("bridge", "b7", kLocalYaml, level_override);
  if (!set_up.ok()) return kNotLoaded;
  auto loaded = LoadTopologyFile(kLocalYaml);
  if (!loaded.ok() || TopologyToYaml(set_up.value()) != TopologyToYaml(loaded.value()) ||
      set_up->source != kLocalYaml) {
    return kWrongTopology;
  }
  if (spdlog::default_logger()->name() != "bridge-b7") return kWrongLogger;
  if (spdlog::default_logger()->level() != expected_level) return kWrongLevel;
  std::raise(SIGTERM);  // with the handlers installed: a stop request, not death
  return StopRequested() ? kPassed : kNoStopHandler;
}

TEST_F(SetUpNodeDeathTest, LoadsTheTopologyNamesTheLoggerAndInstallsTheStopHandlers) {
  EXPECT_EXIT(std::_Exit(SetUpAndCheck("", spdlog::level::info)), ::testing::ExitedWithCode(kPassed), "");
}

TEST_F(SetUpNodeDeathTest, LogLevelOverrideWinsOverTheTopology) {
  EXPECT_EXIT(std::_Exit(SetUpAndCheck("warn", spdlog::level::warn)), ::testing::ExitedWithCode(kPassed), "");
}

// local.yaml says security.mode none: the node warns on stderr at start, and
// a curve topology does not.
TEST_F(SetUpNodeDeathTest, PlainLinksAreWarnedAboutAtStart) {
  EXPECT_EXIT(
      std::_Exit(SetUpAndCheck("", spdlog::level::info)), ::testing::ExitedWithCode(kPassed),
      "bridge\\[b7\\] warning security.mode is none: the links between nodes are neither encrypted nor "
      "authenticated");
  Topology curve = LocalTopology();
  curve.security = {SecurityMode::kCurve, "/k/node.key_secret", "/k/head.key", "/k/authorized"};
  const std::string path =
      (fs::temp_directory_path() / ("scorepipe-curve-" + std::to_string(getpid()) + ".yaml")).string();
  std::ofstream(path) << TopologyToYaml(curve);
  EXPECT_EXIT(
      {
        auto set_up = SetUpNode("bridge", "b7", path, "");
        spdlog::default_logger()->flush();
        std::fprintf(stderr, "set up %s\n", set_up.ok() ? "ok" : set_up.status().message().c_str());
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "^[^\n]*set up ok\n$");
  fs::remove(path);
}

}  // namespace
}  // namespace scorepipe
