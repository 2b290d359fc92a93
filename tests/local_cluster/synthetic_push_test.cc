// PushSynthetic through the Queue interface: chunks, progress, a stop, and a
// queue that fails, against an in-memory queue.
#include "local_cluster/synthetic_push.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace scorepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Keeps what is pushed; fails the push number `fail_at` (1-based) when set.
class RecordingQueue : public Queue {
 public:
  Status Push(const std::vector<std::string>& messages) override {
    if (++pushes_ == fail_at) return Status::Error("connection refused");
    chunks.push_back(messages.size());
    all.insert(all.end(), messages.begin(), messages.end());
    return Status::Ok();
  }
  Status Append(const std::string&, const std::vector<std::string>&) override {
    return Status::Error("not used");
  }
  Result<std::vector<std::string>> Peek(const std::string&, size_t) override {
    return Status::Error("not used");
  }
  Status Take(size_t, int, Lease*) override { return Status::Error("not used"); }
  Result<Settlement> Settle(const std::string&, const std::vector<Outcome>&) override {
    return Status::Error("not used");
  }
  Status Release(const Lease&) override { return Status::Error("not used"); }
  Status Reclaim(int, size_t, Lease*) override { return Status::Error("not used"); }
  Result<QueueDepth> Depth() override { return QueueDepth{static_cast<int64_t>(all.size()), 0}; }
  std::string Describe() const override { return "recording"; }

  int fail_at = 0;
  std::vector<size_t> chunks;
  std::vector<std::string> all;

 private:
  int pushes_ = 0;
};

TEST(PushSyntheticToQueueTest, PushesEveryTransactionInChunksInOrder) {
  RecordingQueue queue;
  SyntheticTransactions generator(3, 100);
  ASSERT_TRUE(PushSynthetic(queue, generator, 25, 10).ok());
  EXPECT_THAT(queue.chunks, ElementsAre(10, 10, 5));
  SyntheticTransactions same(3, 100);
  for (const std::string& message : queue.all) EXPECT_EQ(message, same.Next().json);
  EXPECT_THAT(queue.all.front(), HasSubstr("{\"id\":100,"));
}

TEST(PushSyntheticToQueueTest, ReportsProgressAfterEachChunk) {
  RecordingQueue queue;
  SyntheticTransactions generator(1);
  std::vector<size_t> seen;
  ASSERT_TRUE(PushSynthetic(queue, generator, 7, 3, [&](size_t pushed) {
                seen.push_back(pushed);
                return true;
              }).ok());
  EXPECT_THAT(seen, ElementsAre(3, 6, 7));
}

TEST(PushSyntheticToQueueTest, StopsWhenProgressSaysSo) {
  RecordingQueue queue;
  SyntheticTransactions generator(1);
  Status s = PushSynthetic(queue, generator, 100, 10, [](size_t pushed) { return pushed < 20; });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "stopped after pushing 20 of 100");
  EXPECT_EQ(queue.all.size(), 20u);
}

TEST(PushSyntheticToQueueTest, AStopAfterTheLastChunkIsNoFailure) {
  RecordingQueue queue;
  SyntheticTransactions generator(1);
  EXPECT_TRUE(PushSynthetic(queue, generator, 5, 5, [](size_t) { return false; }).ok());
  EXPECT_EQ(queue.all.size(), 5u);
}

TEST(PushSyntheticToQueueTest, AQueueErrorSaysHowFarItGot) {
  RecordingQueue queue;
  queue.fail_at = 3;
  SyntheticTransactions generator(1);
  Status s = PushSynthetic(queue, generator, 50, 10);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "after 20 of 50: connection refused");
}

}  // namespace
}  // namespace scorepipe
