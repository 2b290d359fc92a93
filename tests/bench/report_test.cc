#include "bench/report.h"

#include <gtest/gtest.h>

namespace scorepipe {
namespace {

RunFigures Sample() {
  RunFigures run;
  run.name = "pipeline drain redis-list";
  run.detail = "2 workers";
  run.transactions = 2000000;
  run.seconds = 4;
  run.nodes = {NodeFigures{"bridge", 1.5, 10 << 20, 8 << 20},
               NodeFigures{"worker-1", 2.5, 30 << 20, 20 << 20}};
  return run;
}

TEST(RunFiguresTest, RatesAndCostsComeFromTheMeasurements) {
  const RunFigures run = Sample();
  EXPECT_DOUBLE_EQ(run.TransactionsPerSecond(), 500000);
  EXPECT_DOUBLE_EQ(run.CpuSecondsPerMillion(), 2.0);  // 4 CPU s over 2 M
  EXPECT_EQ(run.PeakRssBytes(), 30 << 20);
}

TEST(ReportTest, TableShowsTheRatioToTheReference) {
  const std::string table = FormatTable({Sample()}, 1000000);
  EXPECT_NE(table.find("500,000"), std::string::npos) << table;
  EXPECT_NE(table.find("0.50"), std::string::npos) << table;
  EXPECT_NE(table.find("2.00"), std::string::npos) << table;  // CPU s/M tx
}

TEST(ReportTest, JsonLineCarriesEveryFigureOnOneLine) {
  RunFigures run = Sample();
  run.latency = LatencySummary{10, 0.5, 1.25, 2.5, 3};
  const std::string json = JsonLine(run, 1000000, JsonLineContext{true, 512, 2, 1767268800});
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  for (const char* part :
       {"\"run\":\"pipeline drain redis-list\"", "\"tx_per_s\":500000", "\"vs_redis_move\":0.500",
        "\"p99_ms\":1.2500", "\"cpu_s_per_million\":2.0000", "\"name\":\"worker-1\"", "\"quick\":true"}) {
    EXPECT_NE(json.find(part), std::string::npos) << part << " in " << json;
  }
}

TEST(ReportTest, JsonLineWritesEachFigureInItsFormat) {
  RunFigures run = Sample();
  run.nodes[1].warm_rss_bytes = 3 << 20;
  run.latency = LatencySummary{10, 0.5, 1.25, 2.5, 3};
  run.redis_commands = {RedisCommandStat{"lpush", 4000, 280000}};
  EXPECT_EQ(
      JsonLine(run, 400000, JsonLineContext{false, 512, 2, 1767268800}),
      R"({"run":"pipeline drain redis-list","detail":"2 workers","ceiling":false,"transactions":2000000,)"
      R"("seconds":4,"tx_per_s":500000,"vs_redis_move":1.250,"latency_count":10,"p50_ms":0.5000,)"
      R"("p99_ms":1.2500,"p999_ms":2.5000,"max_ms":3.0000,"cpu_s_per_million":2.0000,)"
      R"("nodes":[{"name":"bridge","cpu_s":1.5000,"rss_bytes":8388608,"peak_rss_bytes":10485760},)"
      R"({"name":"worker-1","cpu_s":2.5000,"rss_bytes":20971520,"peak_rss_bytes":31457280,)"
      R"("warm_rss_bytes":3145728}],"redis_commands":[{"command":"lpush","calls":4000,"usec":280000}],)"
      R"("quick":false,"batch_size":512,"workers":2,"unix_time":1767268800})");
  run.ceiling = true;
  run.latency.reset();
  run.redis_commands.clear();
  run.nodes.clear();
  run.seconds = 0;  // no rate
  EXPECT_EQ(
      JsonLine(run, 0, std::nullopt),
      R"({"run":"pipeline drain redis-list","detail":"2 workers","ceiling":true,"transactions":2000000,)"
      R"("seconds":0,"tx_per_s":0,"cpu_s_per_million":0.0000,"nodes":[]})");
}

TEST(ReportTest, RedisTimeByCommandIsShownPerMillionAndCarriedInTheJsonLine) {
  RunFigures run = Sample();  // 2 M transactions
  run.redis_commands = {RedisCommandStat{"evalsha", 4000, 1500000}, RedisCommandStat{"lpush", 4000, 280000}};
  const std::string nodes = FormatNodes(run);
  EXPECT_NE(nodes.find("redis-server by command"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find("evalsha"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find("0.750"), std::string::npos) << nodes;  // 1.5 s over 2 M
  EXPECT_NE(nodes.find("375.0"), std::string::npos) << nodes;  // us per call
  const std::string json = JsonLine(run, 0, std::nullopt);
  EXPECT_NE(json.find("\"redis_commands\":[{\"command\":\"evalsha\",\"calls\":4000,\"usec\":1500000}"),
            std::string::npos)
      << json;
  EXPECT_EQ(FormatNodes(Sample()).find("by command"), std::string::npos) << "not measured: not shown";
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

TEST(MemoryFlatTest, GrowthBeyondToleranceOrTwoMegabytesIsNamed) {
  RunFigures run;
  run.nodes = {NodeFigures{"bridge", 0, 0, 9 << 20, 8 << 20},            // +1 MB: within 2 MB
               NodeFigures{"worker-1", 0, 0, 200 << 20, 180 << 20},      // +20 MB of 180: over 5%
               NodeFigures{"redis-server", 0, 0, 900 << 20, 10 << 20}};  // Redis holds the backlog: ignored
  std::string why;
  EXPECT_FALSE(MemoryFlat(run, 0.05, &why));
  EXPECT_EQ(why, "worker-1 180.0 -> 200.0 MB");
  run.nodes[1].rss_bytes = 185 << 20;  // +5 MB of 180: under 5% (9 MB)
  why.clear();
  EXPECT_TRUE(MemoryFlat(run, 0.05, &why)) << why;
}

}  // namespace
}  // namespace scorepipe
