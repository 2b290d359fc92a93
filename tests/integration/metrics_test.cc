// Every node's /metrics endpoint on a running cluster (`scorepipe up`, real
// Redis, real processes), scraped over HTTP as Prometheus does: the counters
// move with the traffic and agree with what reached Redis.
#include <gtest/gtest.h>

#include <numeric>

#include "local_cluster/synthetic_push.h"
#include "runtime/node.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/wait.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

constexpr auto kSettles = std::chrono::seconds(60);

double Sample(const std::string& exposition, const std::string& sample) {
  return SampleValue(exposition, sample).value_or(-1);
}

TEST(MetricsTest, EveryNodesCountersFollowTheTrafficAndAgreeWithRedis) {
  auto created = ClusterHarness::Create(2);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  const MetricsConfig& ports = h.topology().metrics;
  ASSERT_GT(ports.bridge_port, 0);
  ASSERT_TRUE(h.StartUp().ok());

  constexpr int kValid = 3000;
  SyntheticTransactions generator(21, 1);
  std::vector<std::string> messages;
  for (int i = 0; i < kValid; ++i) messages.push_back(generator.Next().json);
  messages.push_back("{not json");
  messages.push_back("[1,2]");
  ASSERT_TRUE(PushMessages(h.redis(), h.topology().queue.input, messages).ok());
  ASSERT_TRUE(h.WaitForOutputs(static_cast<long long>(messages.size()), kSettles)) << h.LogTail("bridge");

  // Counters follow the nodes' own counts about once a second.
  std::string bridge, sink, ventilator;
  const bool caught_up = WaitUntil(
      [&] {
        auto b = ScrapeMetrics("127.0.0.1", ports.bridge_port);
        auto s = ScrapeMetrics("127.0.0.1", ports.sink_port);
        auto v = ScrapeMetrics("127.0.0.1", ports.ventilator_port);
        if (!b.ok() || !s.ok() || !v.ok()) return false;
        bridge = b.value();
        sink = s.value();
        ventilator = v.value();
        // The ventilator's metrics follow it about once a second too: 0 done
        // of 0 received is a scrape from before its first update.
        return Sample(bridge, "scorepipe_bridge_messages_taken_total") == messages.size() &&
               Sample(sink, "scorepipe_sink_results_total") == kValid &&
               Sample(ventilator, "scorepipe_ventilator_batches_received_total") > 0 &&
               Sample(ventilator, "scorepipe_ventilator_batches_done_total") ==
                   Sample(ventilator, "scorepipe_ventilator_batches_received_total") &&
               Sample(ventilator, "scorepipe_ventilator_live_workers") == 2;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(200));
  ASSERT_TRUE(caught_up) << "bridge:\n" << bridge << "\nsink:\n" << sink << "\nventilator:\n" << ventilator;

  EXPECT_EQ(Sample(bridge, "scorepipe_bridge_transactions_sent_total"), kValid);
  EXPECT_EQ(Sample(bridge, "scorepipe_bridge_rejected_total{reason=\"not_json\"}"), 1);
  EXPECT_EQ(Sample(bridge, "scorepipe_bridge_rejected_total{reason=\"not_an_object\"}"), 1);
  EXPECT_GE(Sample(bridge, "scorepipe_queue_waiting_messages"), 0);
  EXPECT_EQ(Sample(sink, "scorepipe_sink_dead_letters_total{stage=\"bridge\"}"), 2);
  EXPECT_EQ(Sample(sink, "scorepipe_sink_dead_letters_total{stage=\"worker\"}"), 0);
  EXPECT_EQ(Sample(sink, "scorepipe_sink_duplicates_total"), 0);
  EXPECT_EQ(Sample(sink, "scorepipe_sink_end_to_end_seconds_count"),
            Sample(sink, "scorepipe_sink_batches_total"));
  EXPECT_GT(Sample(sink, "scorepipe_sink_end_to_end_seconds_sum"), 0);
  EXPECT_EQ(Sample(ventilator, "scorepipe_ventilator_live_workers"), 2);
  EXPECT_EQ(Sample(ventilator, "scorepipe_ventilator_in_flight_batches"), 0);
  for (const char* name : {"worker-1", "worker-2"}) {  // `scorepipe up` names them <host>-worker-N
    const std::string age =
        "scorepipe_worker_heartbeat_age_seconds{worker=\"" + HostName() + "-" + name + "\"}";
    EXPECT_GE(Sample(ventilator, age), 0) << age << " in\n" << ventilator;
    EXPECT_LT(Sample(ventilator, age), 5);
  }

  // Each worker serves its own endpoint (the first free port of its range)
  // and says which model it runs; together they scored every transaction.
  double scored = 0;
  for (const char* name : {"worker-1", "worker-2"}) {
    SCOPED_TRACE(name);
    const int port = MetricsPortFromLog(h.ReadLog(name));
    ASSERT_GE(port, ports.worker_port) << h.LogTail(name);
    ASSERT_LT(port, ports.worker_port + kWorkerMetricsPorts);
    auto worker = ScrapeMetrics("127.0.0.1", port);
    ASSERT_TRUE(worker.ok()) << worker.status().message();
    scored += Sample(worker.value(), "scorepipe_worker_transactions_scored_total");
    EXPECT_EQ(
        Sample(worker.value(), "scorepipe_model_info{format=\"xgboost\",name=\"demo\",version=\"demo-1\"}"),
        1)
        << worker.value();
    EXPECT_EQ(Sample(worker.value(), "scorepipe_worker_scoring_seconds_count"),
              Sample(worker.value(), "scorepipe_worker_batches_scored_total"));
  }
  EXPECT_EQ(scored, kValid);
}

// Every role's /livez and /readyz on a running cluster: all live and ready;
// a worker given --slot N serves on metrics.worker_port + N - 1; with Redis
// gone, the bridge says it is not ready and why (and stays live), and is
// ready again once Redis is back.
TEST(MetricsTest, EveryRoleAnswersHealthProbesAndSaysWhenItCannotWork) {
  auto created = ClusterHarness::Create(1);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  const MetricsConfig& ports = h.topology().metrics;
  ASSERT_TRUE(h.StartUp().ok());
  auto slotted = h.StartRole("worker", {"--id", "slotted", "--slot", "3"}, "slotted");
  ASSERT_TRUE(slotted.ok()) << slotted.status().message();
  const int slotted_port = ports.worker_port + 2;

  const auto probe = [](int port, const std::string& path) {
    Result<HttpReply> reply = HttpGet("127.0.0.1", port, path);
    return reply.ok() ? reply.value() : HttpReply{0, reply.status().message()};
  };
  // Polls `port`'s /readyz until it answers `status`; the last answer.
  const auto await_readiness = [&](int port, int status) {
    HttpReply ready;
    const bool reached = WaitUntil(
        [&] {
          ready = probe(port, "/readyz");
          return ready.status == status;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(100));
    EXPECT_TRUE(reached) << "wanted " << status << ", last: " << ready.status << " " << ready.body;
    return ready;
  };
  struct Role {
    std::string name;
    int port;
  };
  const std::vector<Role> roles = {{"bridge", ports.bridge_port},
                                   {"ventilator", ports.ventilator_port},
                                   {"sink", ports.sink_port},
                                   {"slotted", slotted_port}};
  for (const Role& role : roles) {
    SCOPED_TRACE(role.name);
    const HttpReply ready = await_readiness(role.port, 200);
    EXPECT_EQ(ready.body.rfind("ok: ", 0), 0u) << ready.body << h.LogTail(role.name);
    const HttpReply live = probe(role.port, "/livez");
    EXPECT_EQ(live.status, 200) << live.body;
    EXPECT_EQ(live.body, "ok: the main loop turns\n");
  }
  EXPECT_EQ(MetricsPortFromLog(h.ReadLog("slotted")), slotted_port) << h.LogTail("slotted");

  h.StopRedis();
  const HttpReply down = await_readiness(ports.bridge_port, 503);
  EXPECT_NE(down.body.find("queue: unavailable"), std::string::npos) << down.body;
  EXPECT_EQ(probe(ports.bridge_port, "/livez").status, 200) << "waiting for Redis is not hung";
  ASSERT_TRUE(h.RestartRedis().ok());
  await_readiness(ports.bridge_port, 200);  // ready again once Redis is back
}

}  // namespace
}  // namespace scorepipe::testing
