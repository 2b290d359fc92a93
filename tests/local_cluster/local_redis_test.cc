// Tests of local_cluster/local_redis.h: a private redis-server that answers on its own
// port, keeps its files in the given directory, and goes away when stopped.
#include "local_cluster/local_redis.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>

#include "queue/redis_client.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class LocalRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "local_redis_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Starts a server that must start; null (and a failure) when it does not.
  std::unique_ptr<LocalRedis> Start(int port = 0) {
    LocalRedisOptions options;
    options.dir = dir_.string();
    options.port = port;
    auto server = LocalRedis::Start(options);
    if (!server.ok()) {
      ADD_FAILURE() << server.status().message();
      return nullptr;
    }
    return std::move(server.value());
  }

  // The reply to PING on `port`, or the error.
  static std::string Ping(int port) {
    RedisConfig config;
    config.port = port;
    RedisClient client(config);
    auto reply = client.Command({"PING"});
    return reply.ok() ? std::string(ReplyText(reply.value().get())) : reply.status().message();
  }

  fs::path dir_;
};

TEST_F(LocalRedisTest, AnswersPingOnItsPort) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(Ping(server->port()), "PONG");
}

TEST_F(LocalRedisTest, TwoInstancesGetDifferentPorts) {
  auto first = Start();
  auto second = Start();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first->port(), second->port());
  EXPECT_NE(first->pid(), second->pid());
  EXPECT_EQ(Ping(first->port()), "PONG");
  EXPECT_EQ(Ping(second->port()), "PONG");
}

TEST_F(LocalRedisTest, StartsOnTheRequestedPort) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  auto server = Start(port.value());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->port(), port.value());
  EXPECT_EQ(Ping(port.value()), "PONG");
}

TEST_F(LocalRedisTest, KeepsItsLogInTheDirectory) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(fs::exists(dir_ / ("redis-" + std::to_string(server->port()) + ".log")));
}

TEST_F(LocalRedisTest, StopEndsTheProcess) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();
  const int port = server->port();
  server->Stop();
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1) << "still there (or a zombie)";
  EXPECT_EQ(errno, ESRCH);
  EXPECT_THAT(Ping(port), HasSubstr("cannot connect"));
}

TEST_F(LocalRedisTest, DestructorStopsTheProcess) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();
  server.reset();
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(LocalRedisTest, PortTakenByAnotherServerIsAnError) {
  auto first = Start();
  ASSERT_NE(first, nullptr);
  LocalRedisOptions options;
  options.dir = dir_.string();
  options.port = first->port();
  auto second = LocalRedis::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("did not come up"));
  EXPECT_EQ(Ping(first->port()), "PONG");
}

TEST_F(LocalRedisTest, MissingServerProgramIsAnError) {
  LocalRedisOptions options;
  options.dir = dir_.string();
  options.server = "scorepipe-no-such-redis-server";
  auto server = LocalRedis::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("scorepipe-no-such-redis-server not found"));
}

TEST(FindFreePortTest, ReturnsAPortInRange) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  EXPECT_GE(port.value(), 20000);
  EXPECT_LT(port.value(), 32000) << "below the ephemeral range, where clients' local ports come from";
}

TEST(FindProgramTest, FindsAProgramOnThePath) {
  Result<std::string> sh = FindProgram("sh");
  ASSERT_TRUE(sh.ok()) << sh.status().message();
  EXPECT_TRUE(fs::path(sh.value()).is_absolute());
}

TEST(FindProgramTest, PathWithASlashIsTakenAsItIs) {
  Result<std::string> program = FindProgram("./anything");
  ASSERT_TRUE(program.ok());
  EXPECT_EQ(program.value(), "./anything");
}

}  // namespace
}  // namespace scorepipe
