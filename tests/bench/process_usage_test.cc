#include "bench/process_usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

namespace scorepipe {
namespace {

TEST(ProcessUsageTest, ReadsCpuAndMemoryOfALiveProcess) {
  // Burn some CPU and touch some memory so that both are clearly non-zero.
  std::vector<char> block(64 << 20, 1);
  volatile double sink = 0;
  const double cpu_start = ThreadCpuSeconds();
  while (ThreadCpuSeconds() - cpu_start < 0.05) sink = sink + 1;
  Result<ProcessUsage> usage = ReadProcessUsage(getpid());
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  EXPECT_GE(usage->cpu_seconds, 0.04);
  EXPECT_GE(usage->rss_bytes, int64_t{60} << 20);
  EXPECT_GE(usage->peak_rss_bytes, usage->rss_bytes);
  EXPECT_LE(usage->cpu_seconds, ProcessCpuSeconds() + 0.02);  // ticks vs the precise clock
  EXPECT_EQ(block[1000], 1);
}

TEST(ProcessUsageTest, AProcessThatIsGoneIsAnError) {
  Result<ProcessUsage> usage = ReadProcessUsage(999999999);
  ASSERT_FALSE(usage.ok());
  EXPECT_NE(usage.status().message().find("/proc/999999999"), std::string::npos) << usage.status().message();
}

}  // namespace
}  // namespace scorepipe
