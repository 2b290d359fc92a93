// The reference ceilings on a real redis-server: each moves or scores every
// transaction it is given, and says so in its figures.
#include "bench/ceilings.h"

#include <gtest/gtest.h>

#include "config/topology.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/suite_redis.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

class CeilingsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { redis_.Start(); }
  static void TearDownTestSuite() { redis_.Stop(); }
  void SetUp() override {
    ASSERT_NE(redis_.server(), nullptr) << redis_.error();
    config_.port = redis_.server()->port();
    SyntheticTransactions generator(5, 1);
    for (int i = 0; i < 2000; ++i) {
      LabelledTransaction t = generator.Next();
      messages_.push_back(t.json);
      parsed_.push_back(t.parsed);
    }
  }

  static testing::SuiteRedis redis_;
  RedisConfig config_;
  std::vector<std::string> messages_;
  std::vector<Transaction> parsed_;
};

testing::SuiteRedis CeilingsTest::redis_;

TEST_F(CeilingsTest, RedisMoveMovesEveryMessageInOrderAndCountsTheServersCpu) {
  Result<RunFigures> run = RunRedisMove(config_, redis_.server()->pid(), "in", "out", messages_, 300);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->transactions, messages_.size());
  EXPECT_GT(run->seconds, 0);
  ASSERT_EQ(run->nodes.size(), 2u);
  EXPECT_EQ(run->nodes[1].name, "redis-server");
  EXPECT_GT(run->nodes[1].peak_rss_bytes, 0);
  // Redis' time by command: one RPOP and one LPUSH per batch of 300.
  ASSERT_GE(run->redis_commands.size(), 2u);
  for (const RedisCommandStat& c : run->redis_commands) {
    if (c.command == "rpop" || c.command == "lpush") {
      EXPECT_EQ(c.calls, 7) << c.command;  // 2000 / 300, rounded up
    }
  }
  // It cleans up after itself: nothing left in either list.
  RedisClient redis(config_);
  auto lengths = redis.Pipeline({{"LLEN", "in"}, {"LLEN", "out"}});
  ASSERT_TRUE(lengths.ok());
  EXPECT_EQ(lengths.value()[0]->integer + lengths.value()[1]->integer, 0);
}

TEST_F(CeilingsTest, PreloadKeepsTheOrderAConsumerPopsIn) {
  RedisClient redis(config_);
  QueueConfig list;
  list.redis = config_;
  ASSERT_TRUE(Preload(list, "preloaded", messages_).ok());
  auto first = redis.Command({"RPOP", "preloaded"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(ReplyText(first.value().get()), messages_.front());
  auto length = redis.Command({"LLEN", "preloaded"});
  EXPECT_EQ(length.value()->integer, static_cast<long long>(messages_.size() - 1));
}

TEST_F(CeilingsTest, PreloadIntoAStreamCarriesTheConsumerGroup) {
  QueueConfig stream;
  stream.kind = QueueKind::kRedisStream;
  stream.redis = config_;
  ASSERT_TRUE(Preload(stream, "preloaded-stream", messages_).ok());
  RedisClient redis(config_);
  auto length = redis.Command({"XLEN", "preloaded-stream"});
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(length.value()->integer, static_cast<long long>(messages_.size()));
  auto groups = redis.Command({"XINFO", "GROUPS", "preloaded-stream"});
  ASSERT_TRUE(groups.ok()) << groups.status().message();
  ASSERT_EQ(groups.value()->elements, 1u);
  const redisReply* group = groups.value()->element[0];
  ASSERT_GE(group->elements, 2u);
  EXPECT_EQ(ReplyText(group->element[1]), stream.group);
}

TEST_F(CeilingsTest, ZmqRawRelaysWholeBatches) {
  Result<RunFigures> run = RunZmqRaw(redis_.dir(), 4096, 10000, 512);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->transactions, 20u * 512);  // 20 frames, the last one full too
  EXPECT_GT(run->seconds, 0);
}

TEST_F(CeilingsTest, ScoreOnlyScoresEveryTransactionWithTheTopologysModel) {
  auto topology = LoadTopologyFile(testing::ClusterHarness::SourceDir() + "/config/local.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  Result<RunFigures> run = RunScoreOnly(topology->model, parsed_, 512);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->transactions, parsed_.size());
  EXPECT_NE(run->detail.find(topology->model.version), std::string::npos) << run->detail;
}

TEST_F(CeilingsTest, ScoreOnlyWithAMissingModelSaysWhich) {
  ModelConfig model;
  model.path = "/nonexistent/model.json";
  model.features = "/nonexistent/features.yaml";
  Result<RunFigures> run = RunScoreOnly(model, parsed_, 512);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("/nonexistent/"), std::string::npos) << run.status().message();
}

}  // namespace
}  // namespace scorepipe
