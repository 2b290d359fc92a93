// Redis' time by command: the INFO commandstats parser on Redis' own text,
// the subtraction of two readings, and a reading from a real redis-server
// that counts exactly the commands a client sent.
#include "bench/redis_stats.h"

#include <gtest/gtest.h>

#include "queue/redis_client.h"
#include "tests/support/suite_redis.h"

namespace scorepipe {
namespace {

TEST(ParseCommandStatsTest, ReadsCallsAndMicrosecondsOfEachCommand) {
  const std::string info =
      "# Commandstats\r\n"
      "cmdstat_rpop:calls=1954,usec=84621,usec_per_call=43.31,rejected_calls=0,failed_calls=0\r\n"
      "cmdstat_config|resetstat:calls=1,usec=54,usec_per_call=54.00,rejected_calls=0,failed_calls=0\r\n"
      "\r\n";
  Result<std::vector<RedisCommandStat>> stats = ParseCommandStats(info);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ((*stats)[0].command, "rpop");
  EXPECT_EQ((*stats)[0].calls, 1954);
  EXPECT_EQ((*stats)[0].usec, 84621);
  EXPECT_EQ((*stats)[1].command, "config|resetstat");
  EXPECT_EQ((*stats)[1].usec, 54);
}

TEST(ParseCommandStatsTest, ACommandLineWithoutItsFiguresIsAnErrorNamingIt) {
  Result<std::vector<RedisCommandStat>> stats =
      ParseCommandStats("cmdstat_lpush:calls=3,usec_per_call=1.0\r\n");
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("'lpush'"), std::string::npos) << stats.status().message();
  EXPECT_FALSE(ParseCommandStats("cmdstat_lpush:calls=x,usec=2\r\n").ok());
}

TEST(CommandStatsSpentTest, SubtractsDropsIdleCommandsAndPutsTheCostliestFirst) {
  const std::vector<RedisCommandStat> before = {{"rpop", 10, 100}, {"info", 1, 50}, {"lpush", 5, 500}};
  const std::vector<RedisCommandStat> after = {
      {"rpop", 30, 400}, {"info", 1, 50}, {"lpush", 15, 2500}, {"evalsha", 2, 900}};
  const std::vector<RedisCommandStat> spent = CommandStatsSpent(before, after);
  ASSERT_EQ(spent.size(), 3u) << "info had no new calls";
  EXPECT_EQ(spent[0].command, "lpush");
  EXPECT_EQ(spent[0].calls, 10);
  EXPECT_EQ(spent[0].usec, 2000);
  EXPECT_EQ(spent[1].command, "evalsha");  // new since the first reading: counted whole
  EXPECT_EQ(spent[1].usec, 900);
  EXPECT_EQ(spent[2].command, "rpop");
  EXPECT_EQ(spent[2].calls, 20);
}

TEST(ReadCommandStatsTest, CountsWhatAClientSentToARealServer) {
  testing::SuiteRedis redis;
  redis.Start();
  ASSERT_NE(redis.server(), nullptr) << redis.error();
  RedisConfig config;
  config.port = redis.server()->port();
  RedisClient client(config);
  Result<std::vector<RedisCommandStat>> before = ReadCommandStats(client);
  ASSERT_TRUE(before.ok()) << before.status().message();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(client.Command({"LPUSH", "stats-test", "x"}).ok());
  ASSERT_TRUE(client.Command({"RPOP", "stats-test", "7"}).ok());
  Result<std::vector<RedisCommandStat>> after = ReadCommandStats(client);
  ASSERT_TRUE(after.ok()) << after.status().message();
  int64_t lpush = -1;
  int64_t rpop = -1;
  for (const RedisCommandStat& s : CommandStatsSpent(before.value(), after.value())) {
    if (s.command == "lpush") lpush = s.calls;
    if (s.command == "rpop") rpop = s.calls;
  }
  EXPECT_EQ(lpush, 7);
  EXPECT_EQ(rpop, 1);
  redis.Stop();
}

}  // namespace
}  // namespace scorepipe
