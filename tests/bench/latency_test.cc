#include "bench/latency.h"

#include <gtest/gtest.h>

namespace scorepipe {
namespace {

TEST(SummarizeTest, NearestRankPercentilesInMilliseconds) {
  std::vector<double> micros;
  for (int i = 1000; i >= 1; --i) micros.push_back(i * 10.0);  // 10 us .. 10 ms, unordered
  const LatencySummary s = Summarize(&micros);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 5.0);    // the 500th of 1000
  EXPECT_DOUBLE_EQ(s.p99_ms, 9.9);    // the 990th
  EXPECT_DOUBLE_EQ(s.p999_ms, 9.99);  // the 999th
  EXPECT_DOUBLE_EQ(s.max_ms, 10.0);
}

TEST(SummarizeTest, OneSampleIsEveryPercentile) {
  std::vector<double> micros = {1500};
  const LatencySummary s = Summarize(&micros);
  EXPECT_DOUBLE_EQ(s.p50_ms, 1.5);
  EXPECT_DOUBLE_EQ(s.p999_ms, 1.5);
}

TEST(SummarizeTest, NoSamplesGiveZeros) {
  std::vector<double> micros;
  const LatencySummary s = Summarize(&micros);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.max_ms, 0);
}

}  // namespace
}  // namespace scorepipe
