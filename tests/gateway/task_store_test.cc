// TaskStore (gateway/task_store.h) on a real redis-server: a task is
// recorded and leased at once, settles once however often it is scored,
// is taken over once its lease runs out, becomes FAILURE past its attempts,
// and keeps its results for its ttl.
#include "gateway/task_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/support/suite_redis.h"

namespace scorepipe {
namespace {

using testing::SuiteRedis;

class TaskStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { redis_.Start(); }
  static void TearDownTestSuite() { redis_.Stop(); }

  void SetUp() override {
    ASSERT_NE(redis_.server(), nullptr) << redis_.error();
    options_.redis.port = redis_.server()->port();
    // A prefix per test: tests share the server.
    options_.prefix = "t" + std::to_string(++tests_) + ":";
    options_.lease_ms = 1000;
    options_.max_attempts = 3;
    options_.ttl_s = 60;
  }

  RedisClient Client() const { return RedisClient(options_.redis); }

  static SuiteRedis redis_;
  static int tests_;
  TaskStoreOptions options_;
  const int64_t t0_ = 1'700'000'000'000;
};

SuiteRedis TaskStoreTest::redis_;
int TaskStoreTest::tests_ = 0;

TEST_F(TaskStoreTest, ATaskIsPendingLeasedAndSettlesOnce) {
  TaskStore store(options_);
  Result<std::string> id = store.Create(R"([{"id":1}])", t0_);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(id->size(), 32u);
  Result<TaskStore::View> view = store.Get(*id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state, TaskStore::View::State::kPending);
  // Leased to its creator: nothing to take over before the lease runs out.
  Result<std::vector<TaskStore::Leased>> early = store.Reclaim(t0_ + 999, 10);
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->empty());
  EXPECT_EQ(store.Complete(*id, R"([{"ok":1}])", t0_ + 10).value(), true);
  // A second scoring (another gateway's) settles nothing.
  EXPECT_EQ(store.Complete(*id, R"([{"ok":2}])", t0_ + 11).value(), false);
  EXPECT_EQ(store.Fail(*id, "late", t0_ + 12).value(), false);
  view = store.Get(*id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state, TaskStore::View::State::kSuccess);
  EXPECT_EQ(view->results, R"([{"ok":1}])");
  // Settled: out of the pending set, the body dropped, kept for its ttl.
  RedisClient client = Client();
  EXPECT_EQ(client.Command({"ZCARD", options_.prefix + "pending"}).value()->integer, 0);
  EXPECT_EQ(client.Command({"HEXISTS", options_.prefix + "task:" + *id, "body"}).value()->integer, 0);
  const long long ttl = client.Command({"TTL", options_.prefix + "task:" + *id}).value()->integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 60);
}

TEST_F(TaskStoreTest, ATaskWhoseLeaseRanOutIsTakenOverWithItsBodyThenFailsPastItsAttempts) {
  TaskStore store(options_);
  const std::string body = R"({"id":5005.50})";
  Result<std::string> id = store.Create(body, t0_);
  ASSERT_TRUE(id.ok());
  // Attempt 2 and 3: taken over with its body, each for a new lease.
  for (int attempt = 2; attempt <= 3; ++attempt) {
    const int64_t now = t0_ + (attempt - 1) * 1001;
    Result<std::vector<TaskStore::Leased>> leased = store.Reclaim(now, 10);
    ASSERT_TRUE(leased.ok()) << leased.status().message();
    ASSERT_EQ(leased->size(), 1u) << attempt;
    EXPECT_EQ((*leased)[0].id, *id);
    EXPECT_EQ((*leased)[0].body, body);
    EXPECT_TRUE(store.Reclaim(now + 500, 10)->empty()) << "leased again until " << now + 1000;
  }
  // Past max_attempts: FAILURE, never handed out again.
  Result<std::vector<TaskStore::Leased>> last = store.Reclaim(t0_ + 5000, 10);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->empty());
  Result<TaskStore::View> view = store.Get(*id);
  EXPECT_EQ(view->state, TaskStore::View::State::kFailure);
  EXPECT_EQ(view->reason, "poison: leased 3 times without an answer");
  EXPECT_EQ(store.Complete(*id, "[]", t0_ + 6000).value(), false);
}

TEST_F(TaskStoreTest, ManyTasksAreTakenOverInBoundedRoundsAndEachOnce) {
  TaskStore store(options_);
  std::set<std::string> ids;
  for (int i = 0; i < 150; ++i) ids.insert(store.Create("[" + std::to_string(i) + "]", t0_ + i).value());
  ASSERT_EQ(ids.size(), 150u);
  std::set<std::string> taken;
  for (int round = 0; round < 5; ++round) {
    Result<std::vector<TaskStore::Leased>> leased = store.Reclaim(t0_ + 2000, 64);
    ASSERT_TRUE(leased.ok());
    EXPECT_LE(leased->size(), 64u);
    for (const TaskStore::Leased& task : *leased) EXPECT_TRUE(taken.insert(task.id).second) << task.id;
  }
  EXPECT_EQ(taken, ids);
}

TEST_F(TaskStoreTest, AnUnknownTaskIsUnknownAndAGoneOneLeavesThePendingSet) {
  TaskStore store(options_);
  Result<TaskStore::View> view = store.Get("0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state, TaskStore::View::State::kUnknown);
  Result<std::string> id = store.Create("[]", t0_);
  ASSERT_TRUE(id.ok());
  RedisClient client = Client();
  ASSERT_TRUE(client.Command({"DEL", options_.prefix + "task:" + *id}).ok());
  EXPECT_TRUE(store.Reclaim(t0_ + 5000, 10)->empty());
  EXPECT_EQ(client.Command({"ZCARD", options_.prefix + "pending"}).value()->integer, 0);
}

TEST_F(TaskStoreTest, WithoutRedisEachCallIsAnErrorNamingWhatFailed) {
  options_.redis.port = 1;  // nothing listens there
  options_.redis.connect_timeout_ms = 200;
  TaskStore store(options_);
  Result<std::string> id = store.Create("[]", t0_);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), ::testing::HasSubstr("cannot record the task"));
  EXPECT_FALSE(store.Get("x").ok());
  EXPECT_FALSE(store.Reclaim(t0_, 1).ok());
}

}  // namespace
}  // namespace scorepipe
