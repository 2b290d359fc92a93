// Scaling out is starting another worker: one started by hand while the
// cluster runs gets work, and every transaction still gets exactly one result.
#include <gtest/gtest.h>

#include <csignal>
#include <zmq.hpp>

#include "local_cluster/synthetic_push.h"
#include "proto/codec.h"
#include "runtime/node.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/result_check.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST(ScaleOutTest, WorkerStartedByHandAfterTheClusterRunsReceivesWork) {
  auto created = ClusterHarness::Create(1);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  ASSERT_TRUE(h.StartUp().ok());

  // Watch the sink's live feed: each ResultBatch names the worker that scored it.
  zmq::context_t context;
  zmq::socket_t feed(context, zmq::socket_type::sub);
  feed.set(zmq::sockopt::subscribe, "");
  ASSERT_TRUE(h.security()->Client(feed).ok());
  feed.connect(h.topology().sink.publish.connect);

  SyntheticTransactions generator(5, 1);
  std::vector<Transaction> pushed;
  auto push_wave = [&](size_t n) {
    std::vector<std::string> messages;
    for (size_t i = 0; i < n; ++i) {
      LabelledTransaction t = generator.Next();
      messages.push_back(std::move(t.json));
      pushed.push_back(std::move(t.parsed));
    }
    ASSERT_TRUE(PushMessages(h.redis(), h.topology().queue.input, messages).ok());
  };
  auto seen_worker = [&](const std::string& id, Clock::duration within) {
    const auto until = Clock::now() + within;
    while (Clock::now() < until) {
      zmq::message_t frame;
      zmq::pollitem_t item{feed.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!feed.recv(frame, zmq::recv_flags::dontwait)) continue;
      auto batch = DecodeResultBatch(std::string_view(static_cast<const char*>(frame.data()), frame.size()));
      if (batch.ok() && batch->worker_id == id) return true;
    }
    return false;
  };

  // Until the feed shows the first worker's batches, the subscriber is not yet connected.
  const std::string first_id = HostName() + "-worker-1";
  bool first_seen = false;
  for (int wave = 0; wave < 50 && !first_seen; ++wave) {
    push_wave(500);
    first_seen = seen_worker(first_id, std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(first_seen) << h.ReadLog("up");

  auto extra = h.StartRole("worker", {"--id", "joined-by-hand"}, "joined-by-hand");
  ASSERT_TRUE(extra.ok()) << extra.status().message();
  bool extra_seen = false;
  for (int wave = 0; wave < 100 && !extra_seen; ++wave) {
    push_wave(2000);
    extra_seen = seen_worker("joined-by-hand", std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(extra_seen) << h.ReadLog("joined-by-hand");

  ASSERT_TRUE(h.WaitForOutputs(static_cast<long long>(pushed.size()), std::chrono::seconds(120)));
  std::vector<std::string> results = h.Entries(h.topology().queue.output);
  EXPECT_EQ(results.size(), pushed.size());
  Status check = CheckAgainstModel(results, pushed, h.topology_path());
  EXPECT_TRUE(check.ok()) << check.message();

  extra->Signal(SIGTERM);
  ASSERT_TRUE(extra->WaitFor(std::chrono::seconds(30)));
  EXPECT_EQ(extra->exit_code(), 0);
}

}  // namespace
}  // namespace scorepipe::testing
