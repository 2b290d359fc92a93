// A node's metrics endpoint, scraped over HTTP as Prometheus does.
#include "runtime/metrics_endpoint.h"

#include <gtest/gtest.h>
#include <prometheus/gauge.h>

#include <ctime>
#include <string>

#include "proto/build_info.h"
#include "runtime/curve.h"
#include "runtime/node_health.h"
#include "tests/support/metrics_scrape.h"

namespace scorepipe {
namespace {

using testing::HttpGet;
using testing::HttpReply;
using testing::SampleValue;
using testing::ScrapeMetrics;

TEST(MetricsEndpointTest, ServesTheRegistryAndFollowsItsChanges) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::Counter& taken =
      prometheus::BuildCounter().Name("scorepipe_test_taken_total").Help("taken").Register(*registry).Add({});
  Result<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  const int port = endpoint.value()->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ(endpoint.value()->url(), "http://127.0.0.1:" + std::to_string(port) + "/metrics");

  FollowCount(taken, 41);
  Result<std::string> first = ScrapeMetrics("127.0.0.1", port);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(SampleValue(first.value(), "scorepipe_test_taken_total"), 41);
  FollowCount(taken, 40);  // a count never goes down
  FollowCount(taken, 45);
  Result<std::string> second = ScrapeMetrics("127.0.0.1", port);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(SampleValue(second.value(), "scorepipe_test_taken_total"), 45);
}

TEST(MetricsEndpointTest, ATakenPortIsAnErrorNamingItAndARangeTakesTheNextFree) {
  auto registry = std::make_shared<prometheus::Registry>();
  Result<std::unique_ptr<MetricsEndpoint>> first = MetricsEndpoint::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(first.ok()) << first.status().message();
  const int taken = first.value()->port();
  Result<std::unique_ptr<MetricsEndpoint>> again = MetricsEndpoint::Start("127.0.0.1", taken, registry);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("127.0.0.1:" + std::to_string(taken)), std::string::npos)
      << again.status().message();
  Result<std::unique_ptr<MetricsEndpoint>> next =
      MetricsEndpoint::StartInRange("127.0.0.1", taken, 64, registry);
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_GT(next.value()->port(), taken);
  EXPECT_LT(next.value()->port(), taken + 64);
}

// /livez and /readyz answer 200 or 503 as the process's health says, with
// the reason as the body.
TEST(MetricsEndpointTest, ServesLivenessAndReadinessFromTheNodesHealth) {
  auto registry = std::make_shared<prometheus::Registry>();
  Result<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  const int port = endpoint.value()->port();
  auto get = [&](const std::string& path) {
    Result<HttpReply> reply = HttpGet("127.0.0.1", port, path);
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    return reply.ok() ? reply.value() : HttpReply{};
  };
  // This process has not said it started: live, not ready.
  EXPECT_EQ(get("/livez").status, 200);
  HttpReply ready = get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "not ok: starting\n");

  ProcessHealth().Started("taking from redis://127.0.0.1:6379");
  ready = get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ok: taking from redis://127.0.0.1:6379\n");
  ProcessHealth().SetProblem("queue", "unavailable: Connection refused");
  ready = get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "not ok: queue: unavailable: Connection refused\n");
  ProcessHealth().SetProblem("queue", "");
  EXPECT_EQ(get("/readyz").status, 200);

  // A loop that turned long ago is not live.
  ProcessHealth().Beat(NodeHealth::Clock::now() - NodeHealth::kStallAfter - std::chrono::seconds(5));
  HttpReply live = get("/livez");
  EXPECT_EQ(live.status, 503);
  EXPECT_NE(live.body.find("has not turned for"), std::string::npos) << live.body;
  ProcessHealth().Beat();
  EXPECT_EQ(get("/livez").status, 200);
  EXPECT_EQ(get("/nosuch").status, 404);
}

// Beside the registry, every endpoint serves the process's own metrics, the
// build and the CURVE refusals, every reason present before any happened.
TEST(MetricsEndpointTest, ServesTheProcessBuildAndCurveRefusals) {
  auto registry = std::make_shared<prometheus::Registry>();
  Result<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  const double refused_before = CurveRefusals(CurveRefusal::kOwnKeyRefused);
  CountCurveRefusal(CurveRefusal::kOwnKeyRefused);
  Result<std::string> text = ScrapeMetrics("127.0.0.1", endpoint.value()->port());
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_GT(SampleValue(*text, "process_cpu_seconds_total").value_or(-1), 0) << *text;
  EXPECT_GT(SampleValue(*text, "process_resident_memory_bytes").value_or(-1), 1e6);
  EXPECT_GT(SampleValue(*text, "process_virtual_memory_bytes").value_or(-1), 1e6);
  EXPECT_GE(SampleValue(*text, "process_open_fds").value_or(-1), 3);
  EXPECT_GT(SampleValue(*text, "process_max_fds").value_or(-1), 0);
  const double start = SampleValue(*text, "process_start_time_seconds").value_or(-1);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(start, now - 3600) << "this test process started within the hour";
  EXPECT_LE(start, now + 1);
  const BuildInfo& b = ThisBuild();
  EXPECT_EQ(
      SampleValue(*text, "scorepipe_build_info{build_type=\"" + std::string(b.build_type) + "\",commit=\"" +
                             std::string(b.commit) + "\",version=\"" + std::string(b.version) + "\"}"),
      1)
      << *text;
  for (size_t i = 0; i < kCurveRefusalKinds; ++i) {
    const CurveRefusalLabels labels = LabelsOf(static_cast<CurveRefusal>(i));
    const std::string sample = "scorepipe_curve_refused_total{reason=\"" + std::string(labels.reason) +
                               "\",side=\"" + std::string(labels.side) + "\"}";
    ASSERT_TRUE(SampleValue(*text, sample).has_value()) << sample << " in\n" << *text;
  }
  EXPECT_EQ(SampleValue(*text, "scorepipe_curve_refused_total{reason=\"own_key_refused\",side=\"client\"}"),
            refused_before + 1);
}

TEST(SampleValueTest, FindsExactlyTheNamedSample) {
  const std::string text = "# TYPE a_total counter\na_total 3\na_total_other 9\nb{reason=\"x\"} 1.5\n";
  EXPECT_EQ(SampleValue(text, "a_total"), 3);
  EXPECT_EQ(SampleValue(text, "b{reason=\"x\"}"), 1.5);
  EXPECT_EQ(SampleValue(text, "b"), std::nullopt);
  EXPECT_EQ(SampleValue(text, "missing"), std::nullopt);
}

}  // namespace
}  // namespace scorepipe
