// RunBench's checks of its options, before it starts anything.
#include "bench/bench_run.h"

#include <gtest/gtest.h>

namespace scorepipe {
namespace {

TEST(RunBenchTest, AnUnknownRunIsRefusedBeforeAnythingStarts) {
  BenchOptions options;
  options.runs = {"drain", "warp-speed"};
  const Status status = RunBench(options);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'warp-speed'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("memory"), std::string::npos)
      << "lists what is allowed: " << status.message();
}

}  // namespace
}  // namespace scorepipe
