// A cluster on a Redis that requires a password: every node authenticates
// with the password the topology names by file, and scores as usual.
#include <gtest/gtest.h>

#include "local_cluster/synthetic_push.h"
#include "tests/support/cluster_harness.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

TEST(RedisAuthClusterTest, EveryNodeAuthenticatesWithThePasswordFileAndScores) {
  ClusterOptions options;
  options.redis_password = "cluster-pass-7";
  auto created = ClusterHarness::Create(options);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  ASSERT_FALSE(h.topology().queue.redis.password_file.empty());
  ASSERT_TRUE(h.StartUp().ok());

  constexpr int kCount = 2000;
  SyntheticTransactions generator(31, 1);
  std::vector<std::string> messages;
  for (int i = 0; i < kCount; ++i) messages.push_back(generator.Next().json);
  ASSERT_TRUE(PushMessages(h.redis(), h.topology().queue.input, messages).ok());
  ASSERT_TRUE(h.WaitForOutputs(kCount, std::chrono::seconds(60))) << h.LogTail("bridge") << h.LogTail("sink");
  EXPECT_EQ(h.Length(h.topology().queue.output), kCount);
  EXPECT_EQ(h.ReadLog("bridge").find("NOAUTH"), std::string::npos);
}

}  // namespace
}  // namespace scorepipe::testing
