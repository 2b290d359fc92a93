// Roll-out through a running cluster: the workers run a registry model's
// live version, and `scorepipe model promote` / `rollback` change it while a
// steady stream flows. Every transaction gets exactly one result, scored by
// the version the result names (the two versions score differently), each
// worker switches between batches (never back and forth), the stream never
// stalls, and `scorepipe status` shows which worker runs which version. A
// version that does not load leaves every worker on its version, reported in
// the status, the log and the metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "local_cluster/synthetic_push.h"
#include "proto/codec.h"
#include "proto/timestamp.h"
#include "proto/upstream_json.h"
#include "runtime/node.h"
#include "scoring/model.h"
#include "scoring/model_registry.h"
#include "tests/integration/registry_cluster.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/paced_producer.h"
#include "tests/support/result_check.h"
#include "tests/support/run_command.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A switch reaches every worker within this much after the promote returns:
// the watch interval, the load, and a busy 2-core machine.
constexpr int64_t kSwitchWindowUs = 3'000'000;

class ModelRolloutTest : public RegistryClusterTest {
 protected:
  // Starts the cluster and waits until both workers run v1.
  void StartOnV1() {
    ASSERT_TRUE(h_->StartUp().ok());
    ClusterStatus status;
    ASSERT_TRUE(WaitForStatus("v1", "", &status)) << h_->LogTail("worker-1");
  }

  // Waits until the status shows both workers on `version`, with a
  // model_error that contains `error_part` (or none, when it is empty).
  bool WaitForStatus(const std::string& version, const std::string& error_part, ClusterStatus* last) {
    return WaitForEveryWorker(
        [&](const WorkerStatus& w) {
          return w.model_version == version && error_part.empty() == w.model_error.empty() &&
                 w.model_error.find(error_part) != std::string::npos;
        },
        last);
  }
};

// One batch as the sink's live feed shows it.
struct FedBatch {
  std::string worker;
  std::string version;
  int64_t scored_at_us = 0;
};

TEST_F(ModelRolloutTest, PromoteAndRollbackMidStreamLoseNothingAndEachResultNamesItsVersion) {
  ASSERT_NO_FATAL_FAILURE(StartOnV1());
  ClusterStatus status;

  // The live feed: which worker scored each batch, with which version.
  zmq::context_t context;
  zmq::socket_t feed(context, zmq::socket_type::sub);
  feed.set(zmq::sockopt::subscribe, "");
  feed.set(zmq::sockopt::rcvhwm, 100000);
  auto security = h_->security();
  ASSERT_TRUE(security.ok());
  ASSERT_TRUE(security->Client(feed).ok());
  feed.connect(h_->topology().sink.publish.connect);
  std::vector<FedBatch> fed;
  auto read_feed = [&](milliseconds for_how_long) {
    const auto until = Clock::now() + for_how_long;
    while (Clock::now() < until) {
      zmq::pollitem_t item{feed.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, milliseconds(20));
      zmq::message_t frame;
      while (feed.recv(frame, zmq::recv_flags::dontwait)) {
        auto batch =
            DecodeResultBatch(std::string_view(static_cast<const char*>(frame.data()), frame.size()));
        if (batch.ok()) fed.push_back({batch->worker_id, batch->model_version, batch->scored_at_us});
      }
    }
  };

  // 2,000 transactions a second, pushed 20 at a time: a result every few ms.
  constexpr size_t kTotal = 24000;
  PacedProducer producer(h_->topology().queue, 77, kTotal, std::chrono::seconds(12), 20);
  producer.Start();
  read_feed(milliseconds(4000));
  const int64_t promoted_us = NowUnixMicros();
  ASSERT_EQ(Model({"promote", "fraud", "v2", "--note", "roll-out test"}), 0);
  ASSERT_TRUE(WaitForStatus("v2", "", &status)) << h_->LogTail("worker-1");
  read_feed(milliseconds(4000) - milliseconds((NowUnixMicros() - promoted_us) / 1000));
  const int64_t rolled_back_us = NowUnixMicros();
  ASSERT_EQ(Model({"rollback", "fraud"}), 0);
  ASSERT_TRUE(WaitForStatus("v1", "", &status)) << h_->LogTail("worker-1");
  while (!producer.done()) read_feed(milliseconds(200));
  ASSERT_TRUE(producer.Join().ok());
  const auto settle_until = Clock::now() + std::chrono::seconds(60);
  while (h_->Outputs() < static_cast<long long>(kTotal) && Clock::now() < settle_until)
    read_feed(milliseconds(100));
  read_feed(milliseconds(300));

  // Exactly one result per transaction, no dead letter, nothing left over.
  ASSERT_EQ(h_->Length(h_->topology().queue.dead_letter), 0);
  ASSERT_EQ(h_->Length(h_->topology().queue.input), 0);
  const std::vector<std::string> results = h_->Entries(h_->topology().queue.output);
  ASSERT_EQ(results.size(), kTotal);
  Scorer v1 = VersionScorer("v1");
  Scorer v2 = VersionScorer("v2");
  std::vector<ScoreResult> by_v1, by_v2;
  ASSERT_TRUE(v1.Score(producer.transactions(), &by_v1).ok());
  ASSERT_TRUE(v2.Score(producer.transactions(), &by_v2).ok());

  std::map<std::string, size_t> per_version;
  std::set<int64_t> ids;
  std::vector<int64_t> scored_ms;
  size_t early_v2 = 0, late_v1 = 0, after_rollback_v2 = 0;
  for (const std::string& json : results) {
    auto r = ParseUpstreamResult(json);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(ids.insert(r->transaction_id).second) << "two results for " << r->transaction_id;
    ASSERT_TRUE(r->transaction_id >= 1 && r->transaction_id <= static_cast<int64_t>(kTotal)) << json;
    EXPECT_EQ(r->model, "fraud") << json;
    ++per_version[r->model_version];
    // Scored by the version it names: the two models' scores differ.
    const std::vector<ScoreResult>& want = r->model_version == "v2" ? by_v2 : by_v1;
    const ScoreResult& expected = want[static_cast<size_t>(r->transaction_id - 1)];
    ASSERT_TRUE(r->model_version == "v1" || r->model_version == "v2") << json;
    ASSERT_EQ(r->is_fraudulent, expected.is_fraudulent) << json;
    ASSERT_NEAR(r->confidence, expected.confidence, 1e-12) << json;
    // The version live when it was scored, up to the switch window.
    const auto at = ParseTimestamp(r->timestamp);
    ASSERT_TRUE(at.ok());
    const int64_t at_us = at->unix_ms * 1000;
    scored_ms.push_back(at_us / 1000);
    if (at_us < promoted_us - 1000 && r->model_version == "v2") ++early_v2;
    if (at_us > promoted_us + kSwitchWindowUs && at_us < rolled_back_us && r->model_version == "v1")
      ++late_v1;
    if (at_us > rolled_back_us + kSwitchWindowUs && r->model_version == "v2") ++after_rollback_v2;
  }
  EXPECT_EQ(early_v2, 0u) << "results scored by v2 before it was promoted";
  EXPECT_EQ(late_v1, 0u) << "results scored by v1 while v2 had long been live";
  EXPECT_EQ(after_rollback_v2, 0u) << "results scored by v2 long after the roll-back";
  EXPECT_GT(per_version["v2"], 0u);

  // Each worker switched between batches, once each way: v1..., v2..., v1...
  std::map<std::string, std::vector<const FedBatch*>> per_worker;
  for (const FedBatch& b : fed) per_worker[b.worker].push_back(&b);
  EXPECT_EQ(per_worker.size(), 2u);
  for (auto& [worker, batches] : per_worker) {
    std::sort(batches.begin(), batches.end(),
              [](const FedBatch* a, const FedBatch* b) { return a->scored_at_us < b->scored_at_us; });
    std::string sequence;
    for (const FedBatch* b : batches) {
      if (sequence.empty() || sequence.substr(sequence.rfind(' ') + 1) != b->version) {
        sequence += (sequence.empty() ? "" : " ") + b->version;
      }
    }
    EXPECT_EQ(sequence, "v1 v2 v1") << worker << " switched otherwise";
  }

  // No stall: the largest pause between two results while the stream ran.
  std::sort(scored_ms.begin(), scored_ms.end());
  int64_t largest_gap_ms = 0, largest_at_ms = 0;
  for (size_t i = 1; i < scored_ms.size(); ++i) {
    if (scored_ms[i] - scored_ms[i - 1] > largest_gap_ms) {
      largest_gap_ms = scored_ms[i] - scored_ms[i - 1];
      largest_at_ms = scored_ms[i - 1];
    }
  }
  std::printf(
      "roll-out: %zu transactions, %zu results, %zu by v1, %zu by v2, %zu fed batches; largest gap between "
      "two results %lld ms, %lld ms after the promote\n",
      kTotal, results.size(), per_version["v1"], per_version["v2"], fed.size(),
      static_cast<long long>(largest_gap_ms), static_cast<long long>(largest_at_ms - promoted_us / 1000));
  RecordProperty("largest_gap_ms", static_cast<int>(largest_gap_ms));
  RecordProperty("by_v1", static_cast<int>(per_version["v1"]));
  RecordProperty("by_v2", static_cast<int>(per_version["v2"]));
  // The stream is 2,000 transactions a second: a switch that held scoring
  // back for a load would show as a pause of that load's length.
  EXPECT_LT(largest_gap_ms, 1500);
}

TEST_F(ModelRolloutTest, AVersionThatDoesNotLoadLeavesEveryWorkerOnItsVersionAndSaysWhy) {
  ASSERT_EQ(Model({"register", "fraud", "--version", "v3", "--model",
                   ClusterHarness::SourceDir() + "/models/demo/model.json", "--features",
                   ClusterHarness::SourceDir() + "/models/demo/features.yaml"}),
            0);
  ASSERT_NO_FATAL_FAILURE(StartOnV1());
  ClusterStatus status;

  // v3's file is damaged on disk: `promote --force` refuses it now...
  const std::string v3_file = ModelRegistry(registry_).VersionDir("fraud", "v3") + "/model.json";
  std::ofstream(v3_file, std::ios::trunc) << "{\"learner\": \"truncated";
  std::string out;
  ASSERT_EQ(RunCommand({ClusterHarness::BinDir() + "/scorepipe", "model", "promote", "--registry", registry_,
                        "fraud", "v3", "--force"},
                       (h_->dir() / "model-command.log").string(), &out),
            1)
      << out;
  EXPECT_THAT(out, HasSubstr("refusing to promote fraud v3"));
  // ...but a registry may hold such a promotion from before it did (or the
  // file may break between the check and the workers' load): the history
  // line an earlier `promote --force` wrote.
  std::ofstream(h_->dir() / "registry" / "fraud" / "history.jsonl", std::ios::app)
      << "{\"at\":\"2026-11-24T00:12:34Z\",\"action\":\"promote\",\"version\":\"v3\",\"by\":\"trial\","
         "\"from\":\"v1\",\"forced\":true,\"note\":\"\"}\n";
  ASSERT_TRUE(WaitForStatus("v1", "version v3", &status)) << h_->LogTail("worker-1");
  EXPECT_THAT(status.workers[0].model_error, HasSubstr("not a valid XGBoost model"));
  EXPECT_THAT(h_->ReadLog("worker-1"), HasSubstr("model fraud: keeping version v1: version v3"));
  const int port = MetricsPortFromLog(h_->ReadLog("worker-1"));
  ASSERT_GT(port, 0);
  auto metrics = ScrapeMetrics("127.0.0.1", port);
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(SampleValue(metrics.value(), "scorepipe_worker_model_load_failures_total"), 1.0)
      << metrics.value();
  EXPECT_EQ(
      SampleValue(metrics.value(), "scorepipe_model_info{format=\"xgboost\",name=\"fraud\",version=\"v1\"}"),
      1.0);

  // The cluster keeps scoring with v1 meanwhile.
  SyntheticInput input = MakeSyntheticInput(2000, 1, 5);
  ASSERT_TRUE(PushMessages(h_->redis(), h_->topology().queue.input, input.messages).ok());
  ASSERT_TRUE(h_->WaitForOutputs(2000, std::chrono::seconds(60)));
  for (const std::string& json : h_->Entries(h_->topology().queue.output)) {
    auto r = ParseUpstreamResult(json);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->model_version, "v1") << json;
  }

  // Rolled back: v1 is live again, and the failure is over.
  ASSERT_EQ(Model({"rollback", "fraud"}), 0);
  ASSERT_TRUE(WaitForStatus("v1", "", &status)) << h_->LogTail("worker-1");
}

TEST_F(ModelRolloutTest,
       WorkersStartingWhenTheLiveVersionDoesNotLoadRunTheVersionLiveBeforeAndNameTheSkippedOne) {
  // v2 went live, then its file was damaged on disk: every worker that
  // starts from now on meets it.
  ASSERT_EQ(Model({"promote", "fraud", "v2"}), 0);
  const std::string v2_file = ModelRegistry(registry_).VersionDir("fraud", "v2") + "/model.yaml";
  std::ofstream(v2_file, std::ios::trunc) << "format: linear\nweights: [0, 0";
  ASSERT_TRUE(h_->StartUp().ok());

  // Both run v1, the version live before v2, and say why.
  ClusterStatus status;
  ASSERT_TRUE(WaitForEveryWorker(
      [](const WorkerStatus& w) {
        return w.model_version == "v1" && w.model_error.find("version v2: ") != std::string::npos;
      },
      &status))
      << h_->LogTail("worker-1") << h_->LogTail("up");
  EXPECT_THAT(status.workers[0].model_error, HasSubstr(v2_file));
  for (const char* worker : {"worker-1", "worker-2"}) {
    const std::string log = h_->ReadLog(worker);
    EXPECT_THAT(log, HasSubstr("model fraud: skipping the live version v2: it does not load: " + v2_file))
        << worker;
    EXPECT_THAT(log, HasSubstr("model fraud: starting on version v1, the most recent version live before v2 "
                               "that loads"))
        << worker;
    const int port = MetricsPortFromLog(log);
    ASSERT_GT(port, 0) << worker;
    auto metrics = ScrapeMetrics("127.0.0.1", port);
    ASSERT_TRUE(metrics.ok()) << worker;
    EXPECT_GE(SampleValue(metrics.value(), "scorepipe_worker_model_load_failures_total"), 1.0) << worker;
  }

  // They score, with v1.
  constexpr size_t kTotal = 2000;
  SyntheticInput input = MakeSyntheticInput(kTotal, 1, 9);
  ASSERT_TRUE(PushMessages(h_->redis(), h_->topology().queue.input, input.messages).ok());
  ASSERT_TRUE(h_->WaitForOutputs(kTotal, std::chrono::seconds(60)));
  ASSERT_EQ(h_->Length(h_->topology().queue.dead_letter), 0);
  Scorer v1 = VersionScorer("v1");
  std::vector<ScoreResult> by_v1;
  ASSERT_TRUE(v1.Score(input.parsed, &by_v1).ok());
  std::map<int64_t, const ScoreResult*> expected;
  for (const ScoreResult& r : by_v1) expected[r.transaction_id] = &r;
  const std::vector<std::string> results = h_->Entries(h_->topology().queue.output);
  ASSERT_EQ(results.size(), kTotal);
  for (const std::string& json : results) {
    auto r = ParseUpstreamResult(json);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->model_version, "v1") << json;
    ASSERT_EQ(expected.count(r->transaction_id), 1u) << json;
    ASSERT_EQ(r->is_fraudulent, expected[r->transaction_id]->is_fraudulent) << json;
    ASSERT_NEAR(r->confidence, expected[r->transaction_id]->confidence, 1e-12) << json;
  }

  // Rolled back to v1: v1 is live, and the failure is over.
  ASSERT_EQ(Model({"rollback", "fraud"}), 0);
  ASSERT_TRUE(WaitForStatus("v1", "", &status)) << h_->LogTail("worker-1");
}

TEST_F(ModelRolloutTest,
       AWorkerRestartingAfterTheLiveVersionsFileBrokeRunsThePreviousOneAndTheOtherKeepsItsOwn) {
  // The trial's case: v2 is live and running, then its file breaks on disk.
  ASSERT_EQ(Model({"promote", "fraud", "v2"}), 0);
  ASSERT_TRUE(h_->StartUp().ok());
  ClusterStatus status;
  ASSERT_TRUE(WaitForStatus("v2", "", &status)) << h_->LogTail("worker-1");
  const std::string v2_file = ModelRegistry(registry_).VersionDir("fraud", "v2") + "/model.yaml";
  std::ofstream(v2_file, std::ios::trunc) << "format: linear\nweights: [0, 0";

  // worker-1 dies; `scorepipe up` starts it again, on v1; worker-2 keeps v2.
  const pid_t old_pid = h_->NodePid("worker-1");
  ASSERT_GT(old_pid, 0);
  ASSERT_EQ(kill(old_pid, SIGKILL), 0);
  ASSERT_NE(h_->WaitForNodeStart("worker-1", old_pid, std::chrono::seconds(30)), 0) << h_->LogTail("up");
  auto on_v1 = [](const WorkerStatus& w) {
    return w.model_version == "v1" && w.model_error.find("version v2: ") != std::string::npos;
  };
  auto on_v2 = [](const WorkerStatus& w) { return w.model_version == "v2" && w.model_error.empty(); };
  ASSERT_TRUE(WaitUntil(
      [&] {
        return WaitForEveryWorker([&](const WorkerStatus& w) { return on_v1(w) || on_v2(w); }, &status) &&
               std::count_if(status.workers.begin(), status.workers.end(), on_v1) == 1;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(200)))
      << h_->LogTail("worker-1") << h_->LogTail("up");
  const std::string log = h_->ReadLog("worker-1");
  EXPECT_THAT(log, HasSubstr("model fraud: skipping the live version v2: it does not load: " + v2_file));
  EXPECT_THAT(log, HasSubstr("model fraud: starting on version v1"));

  // Both score, each result by the version it names.
  constexpr size_t kTotal = 2000;
  SyntheticInput input = MakeSyntheticInput(kTotal, 1, 11);
  ASSERT_TRUE(PushMessages(h_->redis(), h_->topology().queue.input, input.messages).ok());
  ASSERT_TRUE(h_->WaitForOutputs(kTotal, std::chrono::seconds(60)));
  ASSERT_EQ(h_->Length(h_->topology().queue.dead_letter), 0);
  std::vector<ScoreResult> by_v1;
  ASSERT_TRUE(VersionScorer("v1").Score(input.parsed, &by_v1).ok());
  std::map<int64_t, const ScoreResult*> v1_expected;
  for (const ScoreResult& r : by_v1) v1_expected[r.transaction_id] = &r;
  std::map<std::string, size_t> per_version;
  for (const std::string& json : h_->Entries(h_->topology().queue.output)) {
    auto r = ParseUpstreamResult(json);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ++per_version[r->model_version];
    ASSERT_TRUE(r->model_version == "v1" || r->model_version == "v2") << json;
    if (r->model_version == "v1") {
      ASSERT_EQ(r->is_fraudulent, v1_expected.at(r->transaction_id)->is_fraudulent) << json;
      ASSERT_NEAR(r->confidence, v1_expected.at(r->transaction_id)->confidence, 1e-12) << json;
    }
  }
  std::printf("after worker-1's restart: %zu results by v1, %zu by v2\n", per_version["v1"],
              per_version["v2"]);
  EXPECT_EQ(per_version["v1"] + per_version["v2"], kTotal);
  EXPECT_GT(per_version["v1"], 0u) << "the restarted worker scored nothing";
}

}  // namespace
}  // namespace scorepipe::testing
