// Shadow scoring through a running cluster: with v1 live and v2 put in shadow
// by `scorepipe model shadow`, every transaction gets exactly one result, from
// v1 (v1's own prediction), while queue.shadow gets one entry per transaction
// holding both versions' scores (v2's own prediction beside v1's). `shadow
// --off` stops new shadow entries, and `scorepipe model shadow-report` reads
// queue.shadow and gives the agreement the test computes itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/shadow_report_command.h"
#include "local_cluster/synthetic_push.h"
#include "tests/integration/registry_cluster.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/result_check.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kShadowInfo[] = "scorepipe_model_shadow_info{name=\"fraud\",version=\"v2\"}";

class ShadowTest : public RegistryClusterTest {
 protected:
  // Starts the cluster and finds both workers' metrics ports.
  void Start() {
    ASSERT_TRUE(h_->StartUp().ok());
    for (const char* worker : {"worker-1", "worker-2"}) {
      int port = 0;
      ASSERT_TRUE(WaitUntil([&] { return (port = MetricsPortFromLog(h_->ReadLog(worker))) > 0; },
                            std::chrono::seconds(30)))
          << h_->LogTail(worker);
      ports_.push_back(port);
    }
  }

  // Waits until every worker's metrics satisfy `ok` (given the exposition).
  bool WaitForWorkers(const std::function<bool(const std::string&)>& ok) {
    return WaitUntil(
        [&] {
          for (int port : ports_) {
            auto metrics = ScrapeMetrics("127.0.0.1", port);
            if (!metrics.ok() || !ok(metrics.value())) return false;
          }
          return true;
        },
        std::chrono::seconds(15), std::chrono::milliseconds(100));
  }

  // The sum over the workers of one sample (absent counts as 0).
  double WorkersSum(const std::string& sample) {
    double sum = 0;
    for (int port : ports_) {
      auto metrics = ScrapeMetrics("127.0.0.1", port);
      EXPECT_TRUE(metrics.ok());
      if (metrics.ok()) sum += SampleValue(metrics.value(), sample).value_or(0);
    }
    return sum;
  }

  // Expects exactly one result per transaction of `pushed`, all from v1 and
  // equal to v1's own prediction, and no dead letter.
  void ExpectOneV1ResultEach(const std::vector<Transaction>& pushed) {
    std::vector<ScoreResult> by_v1;
    Scorer v1 = VersionScorer("v1");
    ASSERT_TRUE(v1.Score(pushed, &by_v1).ok());
    ASSERT_EQ(h_->Length(h_->topology().queue.dead_letter), 0);
    const std::vector<std::string> results = h_->Entries(h_->topology().queue.output);
    ASSERT_EQ(results.size(), pushed.size());
    std::set<int64_t> ids;
    for (const std::string& json : results) {
      auto r = ParseUpstreamResult(json);
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_TRUE(ids.insert(r->transaction_id).second) << "two results for " << r->transaction_id;
      ASSERT_EQ(r->model_version, "v1") << json;
      const ScoreResult& want = by_v1[static_cast<size_t>(r->transaction_id - pushed.front().id)];
      ASSERT_EQ(r->is_fraudulent, want.is_fraudulent) << json;
      ASSERT_NEAR(r->confidence, want.confidence, 1e-12) << json;
    }
  }

  std::vector<int> ports_;
};

TEST_F(ShadowTest, TheVersionInShadowScoresBesideTheLiveOneWithoutTouchingTheResults) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::string out;
  ASSERT_EQ(Model({"shadow", "fraud", "v2", "--note", "shadow test"}, &out), 0);
  ASSERT_TRUE(WaitForWorkers([](const std::string& m) { return SampleValue(m, kShadowInfo) == 1.0; }))
      << h_->LogTail("worker-1");
  // The status says so too, per worker, once their next heartbeats are in.
  ASSERT_TRUE(WaitForEveryWorker(
      [](const WorkerStatus& w) { return w.shadow_version == "v2" && w.model_version == "v1"; }));

  constexpr size_t kTotal = 3000;
  const SyntheticInput input = MakeSyntheticInput(kTotal, 1, 11);
  const Topology& topology = h_->topology();
  ASSERT_TRUE(PushMessages(h_->redis(), topology.queue.input, input.messages).ok());
  ASSERT_TRUE(h_->WaitForOutputs(kTotal, std::chrono::seconds(60))) << h_->LogTail("sink");
  ASSERT_TRUE(WaitUntil([&] { return h_->Length(topology.queue.shadow) >= static_cast<long long>(kTotal); },
                        std::chrono::seconds(10)))
      << h_->Length(topology.queue.shadow) << " shadow entries\n"
      << h_->LogTail("sink");

  std::vector<ScoreResult> by_v1, by_v2;
  Scorer v1 = VersionScorer("v1");
  Scorer v2 = VersionScorer("v2");
  ASSERT_TRUE(v1.Score(input.parsed, &by_v1).ok());
  ASSERT_TRUE(v2.Score(input.parsed, &by_v2).ok());
  size_t differ = 0, agree = 0;
  for (size_t i = 0; i < kTotal; ++i) {
    differ += by_v1[i].fraud_probability != by_v2[i].fraud_probability;
    agree += by_v1[i].is_fraudulent == by_v2[i].is_fraudulent;
  }
  ASSERT_GT(differ, kTotal / 2) << "v1 and v2 must score differently for the test to tell them apart";

  // The results: exactly one per transaction, all from v1, v1's predictions.
  ASSERT_NO_FATAL_FAILURE(ExpectOneV1ResultEach(input.parsed));
  const size_t results = h_->Entries(topology.queue.output).size();

  // queue.shadow: one entry per transaction, v2's own prediction beside v1's.
  const std::vector<std::string> entries = h_->Entries(topology.queue.shadow);
  ASSERT_EQ(entries.size(), kTotal);
  std::set<int64_t> shadowed;
  for (const std::string& json : entries) {
    auto entry = ParseShadowEntry(json);
    ASSERT_TRUE(entry.ok()) << entry.status().message() << ": " << json;
    ASSERT_TRUE(entry->transaction_id >= 1 && entry->transaction_id <= static_cast<int64_t>(kTotal)) << json;
    ASSERT_TRUE(shadowed.insert(entry->transaction_id).second) << "two entries for " << entry->transaction_id;
    EXPECT_EQ(entry->live_version, "v1") << json;
    EXPECT_EQ(entry->shadow_version, "v2") << json;
    const size_t i = static_cast<size_t>(entry->transaction_id - 1);
    ASSERT_NEAR(entry->live_probability, by_v1[i].fraud_probability, 1e-12) << json;
    ASSERT_NEAR(entry->shadow_probability, by_v2[i].fraud_probability, 1e-12) << json;
    ASSERT_EQ(entry->live_fraudulent, by_v1[i].is_fraudulent == 1) << json;
    ASSERT_EQ(entry->shadow_fraudulent, by_v2[i].is_fraudulent == 1) << json;
  }
  EXPECT_EQ(WorkersSum("scorepipe_worker_shadow_transactions_scored_total"), static_cast<double>(kTotal));

  // The report agrees with what the test computes.
  std::string report;
  ASSERT_EQ(RunCommand({ClusterHarness::BinDir() + "/scorepipe", "model", "shadow-report", "-c",
                        h_->topology_path(), "--json"},
                       (h_->dir() / "shadow-report.log").string(), &report),
            0)
      << report;
  const double agreement = static_cast<double>(agree) / kTotal;
  char expected[64];
  std::snprintf(expected, sizeof expected, "\"agreement\":%.6g,", agreement);
  EXPECT_THAT(report, HasSubstr("\"entries\":" + std::to_string(kTotal) + ","));
  EXPECT_THAT(report, HasSubstr(expected));
  const ShadowReport computed = BuildShadowReport(entries);
  EXPECT_DOUBLE_EQ(computed.agreement, agreement);
  std::string text;
  ASSERT_EQ(RunCommand({ClusterHarness::BinDir() + "/scorepipe", "model", "shadow-report", "-c",
                        h_->topology_path()},
                       (h_->dir() / "shadow-report.log").string(), &text),
            0)
      << text;
  EXPECT_THAT(text, HasSubstr("shadow versions:  v2 (" + std::to_string(kTotal) + ")"));
  std::printf("%s", text.c_str());

  // Off: the workers stop scoring in shadow; new transactions add no entries.
  ASSERT_EQ(Model({"shadow", "fraud", "--off"}), 0);
  ASSERT_TRUE(WaitForWorkers([](const std::string& m) { return !SampleValue(m, kShadowInfo).has_value(); }))
      << h_->LogTail("worker-1");
  const SyntheticInput more = MakeSyntheticInput(1000, kTotal + 1, 12);
  ASSERT_TRUE(PushMessages(h_->redis(), topology.queue.input, more.messages).ok());
  ASSERT_TRUE(h_->WaitForOutputs(kTotal + 1000, std::chrono::seconds(60))) << h_->LogTail("sink");
  EXPECT_EQ(h_->Length(topology.queue.shadow), static_cast<long long>(kTotal));
  EXPECT_EQ(WorkersSum("scorepipe_worker_shadow_transactions_scored_total"), static_cast<double>(kTotal));

  std::printf(
      "shadow: %zu transactions, %zu results, %zu shadow entries, agreement %.4f (%zu of %zu), "
      "mean |dp| %.4f, PSI %.4f; after --off: %zu more transactions, %lld shadow entries\n",
      kTotal, results, entries.size(), computed.agreement, agree, kTotal, computed.mean_abs_delta,
      computed.psi, size_t{1000}, h_->Length(topology.queue.shadow));
  RecordProperty("shadow_entries", static_cast<int>(entries.size()));
  RecordProperty("agreement_permille", static_cast<int>(computed.agreement * 1000));
}

TEST_F(ShadowTest, TransactionsTheVersionInShadowCannotScoreHaveNoEntryAndTheirResultsStand) {
  // v3 overflows: +inf from the timestamp, -inf from a vendor id of 2 or more,
  // NaN together; a vendor id of 1 leaves +inf, a probability of 1.
  const std::string overflowing = (h_->dir() / "overflowing.yaml").string();
  std::ofstream(overflowing) << "format: linear\nweights: [1e300, 0, -1.7e308, 0]\nbias: 0\n";
  ASSERT_EQ(Model({"register", "fraud", "--version", "v3", "--model", overflowing, "--features",
                   ClusterHarness::SourceDir() + "/models/demo/features.yaml"}),
            0);
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_EQ(Model({"shadow", "fraud", "v3"}), 0);
  const std::string v3_info = "scorepipe_model_shadow_info{name=\"fraud\",version=\"v3\"}";
  ASSERT_TRUE(WaitForWorkers([&](const std::string& m) { return SampleValue(m, v3_info) == 1.0; }))
      << h_->LogTail("worker-1");

  constexpr size_t kTotal = 2000;
  const SyntheticInput input = MakeSyntheticInput(kTotal, 1, 13);
  std::vector<ScoreResult> by_v3;
  Scorer v3 = VersionScorer("v3");
  ASSERT_TRUE(v3.Score(input.parsed, &by_v3).ok());
  size_t scorable = 0;
  for (const ScoreResult& r : by_v3) scorable += r.error.empty();
  ASSERT_GT(scorable, 0u);
  ASSERT_LT(scorable, kTotal) << "v3 must fail on some transactions for the test to mean anything";

  const Topology& topology = h_->topology();
  ASSERT_TRUE(PushMessages(h_->redis(), topology.queue.input, input.messages).ok());
  ASSERT_TRUE(h_->WaitForOutputs(kTotal, std::chrono::seconds(60))) << h_->LogTail("sink");
  ASSERT_TRUE(WaitUntil([&] { return h_->Length(topology.queue.shadow) >= static_cast<long long>(scorable); },
                        std::chrono::seconds(10)))
      << h_->Length(topology.queue.shadow) << " shadow entries of " << scorable;
  ASSERT_NO_FATAL_FAILURE(ExpectOneV1ResultEach(input.parsed));
  const std::vector<std::string> entries = h_->Entries(topology.queue.shadow);
  ASSERT_EQ(entries.size(), scorable);
  for (const std::string& json : entries) {
    auto entry = ParseShadowEntry(json);
    ASSERT_TRUE(entry.ok()) << json;
    ASSERT_TRUE(by_v3[static_cast<size_t>(entry->transaction_id - 1)].error.empty()) << json;
    ASSERT_EQ(entry->shadow_probability, 1.0) << json;
  }
  std::printf("shadow that cannot score: %zu transactions, %zu results, %zu shadow entries (v3 scores %zu)\n",
              kTotal, h_->Entries(topology.queue.output).size(), entries.size(), scorable);
}

}  // namespace
}  // namespace scorepipe::testing
