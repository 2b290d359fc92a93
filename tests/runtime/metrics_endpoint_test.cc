// A node's metrics endpoint, scraped over HTTP as Prometheus does.
#include "runtime/metrics_endpoint.h"

#include <gtest/gtest.h>
#include <prometheus/gauge.h>

#include "tests/support/metrics_scrape.h"

namespace scorepipe {
namespace {

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

TEST(SampleValueTest, FindsExactlyTheNamedSample) {
  const std::string text = "# TYPE a_total counter\na_total 3\na_total_other 9\nb{reason=\"x\"} 1.5\n";
  EXPECT_EQ(SampleValue(text, "a_total"), 3);
  EXPECT_EQ(SampleValue(text, "b{reason=\"x\"}"), 1.5);
  EXPECT_EQ(SampleValue(text, "b"), std::nullopt);
  EXPECT_EQ(SampleValue(text, "missing"), std::nullopt);
}

}  // namespace
}  // namespace scorepipe
