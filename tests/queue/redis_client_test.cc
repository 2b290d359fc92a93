// Tests of queue/redis_client.h on a real redis-server: replies, errors as
// values naming the command and the address, and picking a restarted server
// up again.
#include "queue/redis_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "local_cluster/local_redis.h"
#include "tests/support/suite_redis.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

RedisConfig ConfigFor(int port) {
  RedisConfig config;
  config.port = port;
  return config;
}

std::string AddressOf(int port) { return "redis://127.0.0.1:" + std::to_string(port) + "/0"; }

class RedisClientTest : public ::testing::Test {
 protected:
  // One redis-server for the suite; each test gets a fresh client and an
  // empty database.
  static void SetUpTestSuite() { suite_.Start(); }
  static void TearDownTestSuite() { suite_.Stop(); }

  void SetUp() override {
    ASSERT_NE(suite_.server(), nullptr) << "cannot start redis-server: " << suite_.error();
    client_ = std::make_unique<RedisClient>(ConfigFor(suite_.server()->port()));
    auto flushed = client_->Command({"FLUSHALL"});
    ASSERT_TRUE(flushed.ok()) << flushed.status().message();
  }

  // Runs a command that must succeed; returns its reply.
  RedisReply Ok(const std::vector<std::string_view>& args) {
    auto reply = client_->Command(args);
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    return reply.ok() ? std::move(reply.value()) : nullptr;
  }

  // Starts a second server on `port`, for the tests that stop one.
  Result<std::unique_ptr<LocalRedis>> StartServerOn(int port) {
    LocalRedisOptions options;
    options.dir = suite_.dir();
    options.port = port;
    return LocalRedis::Start(options);
  }

  static inline testing::SuiteRedis suite_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(RedisClientTest, CommandReturnsTheReply) {
  RedisReply set = Ok({"SET", "k", "v"});
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->type, REDIS_REPLY_STATUS);
  EXPECT_EQ(ReplyText(set.get()), "OK");
  RedisReply get = Ok({"GET", "k"});
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->type, REDIS_REPLY_STRING);
  EXPECT_EQ(ReplyText(get.get()), "v");
}

TEST_F(RedisClientTest, ArgumentsAreBinarySafe) {
  const std::string value("a\0b c\r\n", 7);
  Ok({"SET", "k", value});
  RedisReply get = Ok({"GET", "k"});
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(ReplyText(get.get()), value);
}

TEST_F(RedisClientTest, MissingKeyIsANilReplyNotAnError) {
  RedisReply get = Ok({"GET", "nothing"});
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->type, REDIS_REPLY_NIL);
  EXPECT_EQ(ReplyText(get.get()), "");
}

TEST_F(RedisClientTest, PipelineReturnsEveryReplyInOrder) {
  auto replies = client_->Pipeline({{"RPUSH", "l", "a", "b"}, {"LLEN", "l"}, {"LRANGE", "l", "0", "-1"}});
  ASSERT_TRUE(replies.ok()) << replies.status().message();
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[0]->type, REDIS_REPLY_INTEGER);
  EXPECT_EQ((*replies)[0]->integer, 2);
  EXPECT_EQ((*replies)[1]->integer, 2);
  const redisReply* range = (*replies)[2].get();
  ASSERT_EQ(range->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(range->elements, 2u);
  EXPECT_EQ(ReplyText(range->element[0]), "a");
  EXPECT_EQ(ReplyText(range->element[1]), "b");
}

TEST_F(RedisClientTest, ErrorReplyIsAnErrorValueNamingTheCommandAndTheAddress) {
  Ok({"SET", "s", "text"});
  auto reply = client_->Command({"LPUSH", "s", "x"});
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(),
              StartsWith("LPUSH on " + AddressOf(suite_.server()->port()) + ": WRONGTYPE"));
}

TEST_F(RedisClientTest, UnknownCommandIsAnErrorValue) {
  auto reply = client_->Command({"NOSUCHCOMMAND", "x"});
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(),
              StartsWith("NOSUCHCOMMAND on " + AddressOf(suite_.server()->port()) + ": ERR"));
}

TEST_F(RedisClientTest, PipelineRunsEveryCommandAndReportsTheFirstError) {
  Ok({"SET", "s", "text"});
  auto replies =
      client_->Pipeline({{"SET", "a", "1"}, {"INCR", "s"}, {"LPUSH", "s", "x"}, {"SET", "b", "2"}});
  ASSERT_FALSE(replies.ok());
  EXPECT_THAT(replies.status().message(), StartsWith("INCR on "));
  RedisReply b = Ok({"GET", "b"});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(ReplyText(b.get()), "2") << "the commands after the error ran too";
}

TEST_F(RedisClientTest, ConnectionStaysUsableAfterAnErrorReply) {
  ASSERT_FALSE(client_->Command({"NOSUCHCOMMAND"}).ok());
  RedisReply pong = Ok({"PING"});
  ASSERT_NE(pong, nullptr);
  EXPECT_EQ(ReplyText(pong.get()), "PONG");
}

TEST_F(RedisClientTest, ExchangeReturnsErrorRepliesAsReplies) {
  Ok({"SET", "s", "text"});
  auto replies = client_->Exchange({{"INCR", "s"}, {"GET", "s"}});
  ASSERT_TRUE(replies.ok()) << replies.status().message();
  ASSERT_EQ(replies->size(), 2u);
  EXPECT_EQ((*replies)[0]->type, REDIS_REPLY_ERROR);
  EXPECT_EQ(ReplyText((*replies)[1].get()), "text");
  Status error = client_->ReplyError("INCR", (*replies)[0].get());
  EXPECT_THAT(error.message(), StartsWith("INCR on " + AddressOf(suite_.server()->port()) + ": ERR"));
}

// The number of times the server ran `command` (lower case), from INFO commandstats.
long long Calls(RedisClient& client, const std::string& command) {
  auto reply = client.Command({"INFO", "commandstats"});
  if (!reply.ok()) return -1;
  const std::string text(ReplyText(reply.value().get()));
  const std::string key = "cmdstat_" + command + ":calls=";
  const size_t at = text.find(key);
  return at == std::string::npos ? 0 : std::strtoll(text.c_str() + at + key.size(), nullptr, 10);
}

TEST_F(RedisClientTest, EvalRunsTheScriptByItsDigestAfterTheFirstCall) {
  RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  auto first = client_->Eval(&script, 1, {"counter", "2"});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first.value()->integer, 2);
  const long long evalsha_before = Calls(*client_, "evalsha");
  const long long eval_before = Calls(*client_, "eval");
  auto second = client_->Eval(&script, 1, {"counter", "3"});
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second.value()->integer, 5);
  EXPECT_EQ(Calls(*client_, "evalsha"), evalsha_before + 1);
  EXPECT_EQ(Calls(*client_, "eval"), eval_before);
}

TEST_F(RedisClientTest, EvalSendsTheScriptAgainWhenTheServerForgotIt) {
  RedisScript script("return redis.call('INCR', KEYS[1])");
  ASSERT_TRUE(client_->Eval(&script, 1, {"n"}).ok());
  Ok({"SCRIPT", "FLUSH"});
  auto reply = client_->Eval(&script, 1, {"n"});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(reply.value()->integer, 2) << "ran exactly once more";
  reply = client_->Eval(&script, 1, {"n"});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(reply.value()->integer, 3);
}

TEST_F(RedisClientTest, ScriptErrorIsAnErrorValue) {
  RedisScript script("return redis.error_reply('BROKEN on purpose')");
  for (int call = 0; call < 2; ++call) {  // sent with EVAL, then with EVALSHA
    auto reply = client_->Eval(&script, 0, {});
    ASSERT_FALSE(reply.ok());
    EXPECT_THAT(reply.status().message(), HasSubstr("BROKEN on purpose"));
    EXPECT_THAT(reply.status().message(), HasSubstr(AddressOf(suite_.server()->port())));
  }
}

TEST_F(RedisClientTest, NonZeroDbIsSelectedOnConnect) {
  RedisConfig config = ConfigFor(suite_.server()->port());
  config.db = 5;
  RedisClient db5(config);
  ASSERT_TRUE(db5.Command({"SET", "k", "in5"}).ok());
  RedisReply in0 = Ok({"GET", "k"});
  ASSERT_NE(in0, nullptr);
  EXPECT_EQ(in0->type, REDIS_REPLY_NIL);
  EXPECT_EQ(db5.Address(), "redis://127.0.0.1:" + std::to_string(suite_.server()->port()) + "/5");
}

TEST_F(RedisClientTest, ConnectToNoServerIsAnErrorNamingTheAddress) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  RedisClient nowhere(ConfigFor(port.value()));
  Status s = nowhere.Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), StartsWith("cannot connect to " + AddressOf(port.value()) + ": "));
  auto reply = nowhere.Command({"PING"});
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr(AddressOf(port.value())));
}

TEST_F(RedisClientTest, ConnectsOnceTheServerIsUp) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  RedisClient client(ConfigFor(port.value()));
  ASSERT_FALSE(client.Command({"PING"}).ok());
  auto server = StartServerOn(port.value());
  ASSERT_TRUE(server.ok()) << server.status().message();
  auto reply = client.Command({"PING"});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(ReplyText(reply.value().get()), "PONG");
}

// A restarted Redis closed the old connection; the next call notices and
// reconnects instead of failing.
TEST_F(RedisClientTest, NextCommandAfterAServerRestartReconnects) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  auto server = StartServerOn(port.value());
  ASSERT_TRUE(server.ok()) << server.status().message();
  RedisClient client(ConfigFor(port.value()));
  ASSERT_TRUE(client.Command({"SET", "k", "v"}).ok());

  server.value()->Stop();
  server.value().reset();
  auto reply = client.Command({"PING"});
  ASSERT_FALSE(reply.ok()) << "answered with the server down";
  EXPECT_THAT(reply.status().message(), HasSubstr(AddressOf(port.value())));

  auto restarted = StartServerOn(port.value());
  ASSERT_TRUE(restarted.ok()) << restarted.status().message();
  reply = client.Command({"PING"});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(ReplyText(reply.value().get()), "PONG");
}

TEST_F(RedisClientTest, NextCommandAfterARestartWhileConnectedReconnects) {
  Result<int> port = FindFreePort();
  ASSERT_TRUE(port.ok()) << port.status().message();
  auto server = StartServerOn(port.value());
  ASSERT_TRUE(server.ok()) << server.status().message();
  RedisClient client(ConfigFor(port.value()));
  ASSERT_TRUE(client.Command({"PING"}).ok());

  // Stopped and started again between two calls: the client never saw it down.
  server.value().reset();
  auto restarted = StartServerOn(port.value());
  ASSERT_TRUE(restarted.ok()) << restarted.status().message();
  auto reply = client.Command({"PING"});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(ReplyText(reply.value().get()), "PONG");
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

// Redis AUTH: the password comes from a file or an environment variable the
// topology names, never from the YAML; a wrong or missing one is a clear
// error that never shows the password.
class RedisAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/scorepipe-auth-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    LocalRedisOptions options;
    options.dir = dir_;
    options.password = "s3cret-pass";
    auto server = LocalRedis::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server.value());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<RedisReply> Ping(const RedisConfig& config) {
    RedisClient client(config);
    return client.Command({"PING"});
  }

  std::string dir_;
  std::unique_ptr<LocalRedis> server_;
};

TEST_F(RedisAuthTest, APasswordFromAFileOrAnEnvironmentVariableGetsIn) {
  RedisConfig config = ConfigFor(server_->port());
  config.password_file = server_->password_file();
  EXPECT_TRUE(Ping(config).ok()) << Ping(config).status().message();

  config.password_file.clear();
  config.password_env = "SCOREPIPE_TEST_REDIS_PASSWORD";
  setenv("SCOREPIPE_TEST_REDIS_PASSWORD", "s3cret-pass", 1);
  EXPECT_TRUE(Ping(config).ok());
  unsetenv("SCOREPIPE_TEST_REDIS_PASSWORD");
}

TEST_F(RedisAuthTest, NoWrongOrMissingPasswordIsAClearErrorWithoutThePassword) {
  RedisConfig config = ConfigFor(server_->port());
  Result<RedisReply> none = Ping(config);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("NOAUTH"));

  const std::string wrong_file = dir_ + "/wrong";
  std::ofstream(wrong_file) << "not-it\n";
  config.password_file = wrong_file;
  Result<RedisReply> wrong = Ping(config);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("AUTH on redis://127.0.0.1"));
  EXPECT_THAT(wrong.status().message(), ::testing::Not(HasSubstr("not-it")));

  config.password_file = dir_ + "/missing";
  Result<RedisReply> missing = Ping(config);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/missing"));
  EXPECT_THAT(missing.status().message(), HasSubstr("queue.redis.password_file"));

  config.password_file.clear();
  config.password_env = "SCOREPIPE_TEST_UNSET_VARIABLE";
  Result<RedisReply> unset = Ping(config);
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(unset.status().message(), HasSubstr("SCOREPIPE_TEST_UNSET_VARIABLE"));
}

TEST_F(RedisAuthTest, AnAclUserAuthenticatesWithItsOwnPassword) {
  RedisConfig admin = ConfigFor(server_->port());
  admin.password_file = server_->password_file();
  RedisClient client(admin);
  ASSERT_TRUE(client.Command({"ACL", "SETUSER", "scorer", "on", ">scorer-pass", "~*", "+@all"}).ok());
  RedisConfig config = ConfigFor(server_->port());
  config.user = "scorer";
  config.password_env = "SCOREPIPE_TEST_REDIS_PASSWORD";
  setenv("SCOREPIPE_TEST_REDIS_PASSWORD", "scorer-pass", 1);
  EXPECT_TRUE(Ping(config).ok()) << Ping(config).status().message();
  setenv("SCOREPIPE_TEST_REDIS_PASSWORD", "s3cret-pass", 1);
  Result<RedisReply> wrong = Ping(config);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("AUTH as scorer"));
  unsetenv("SCOREPIPE_TEST_REDIS_PASSWORD");
}

}  // namespace
}  // namespace scorepipe
