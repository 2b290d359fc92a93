// Distributed evaluation (`scorepipe evaluate --cluster`): a labelled file's
// rows go through a running cluster (ventilator -> 2 workers -> sink), and the
// figures the sink gathers are exactly those `scorepipe evaluate` computes
// locally with the same model on the same file, also when a worker, the
// ventilator or the sink is killed in the middle of the run. Nothing of an
// evaluation run reaches the result or dead-letter queue.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "proto/codec.h"
#include "proto/evaluation_codec.h"
#include "runtime/request.h"
#include "tests/integration/registry_cluster.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kEvaluationKey[] = ",\"evaluation\":";

// Writes `rows` synthetic labelled rows (CSV) into the cluster's folder and
// returns the path.
std::string WriteDataset(ClusterHarness& h, size_t rows) {
  const std::string path = (h.dir() / "labelled.csv").string();
  std::string out;
  EXPECT_EQ(RunCommand({ClusterHarness::BinDir() + "/scorepipe", "dataset", "-n", std::to_string(rows), "-o",
                        path, "--seed", "11"},
                       (h.dir() / "dataset.log").string(), &out),
            0)
      << out;
  return path;
}

// `scorepipe evaluate --cluster` of `data` on the cluster of `h`, with `extra`.
std::vector<std::string> ClusterEvaluateArgv(ClusterHarness& h, const std::string& data,
                                             const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      ClusterHarness::BinDir() + "/scorepipe", "evaluate", "--cluster", h.topology_path(), "--data", data};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// Sends `signal` to node `name` of `scorepipe up` (which starts a killed one again).
void SignalNode(ClusterHarness& h, const std::string& name, int signal) {
  const pid_t pid = h.NodePid(name);
  ASSERT_GT(pid, 0) << name;
  ASSERT_EQ(kill(pid, signal), 0) << name;
}

// What the file at `path` holds now ("" when it cannot be read).
std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class ClusterEvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = ClusterHarness::Create(2);
    ASSERT_TRUE(created.ok()) << created.status().message();
    h_ = std::move(created.value());
    // A batch the ventilator lost is resent after max(5 s, 3 x this).
    h_->topology().ventilator.batch_timeout_ms = 1000;
  }

  std::string Dataset(size_t rows) { return WriteDataset(*h_, rows); }

  void StartAndWaitForWorkers() {
    ASSERT_TRUE(h_->StartUp().ok());
    auto security = h_->security();
    ASSERT_TRUE(security.ok()) << security.status().message();
    StatusProbe probe(h_->topology().ventilator.status.connect, security.value());
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto status = probe.Query();
          return status.ok() && status->workers.size() == 2;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(100)))
        << h_->LogTail("up");
  }

  std::vector<std::string> ClusterEvaluate(const std::string& data, const std::vector<std::string>& extra) {
    return ClusterEvaluateArgv(*h_, data, extra);
  }

  // `scorepipe evaluate --json` on the demo model's files, run here.
  std::string LocalJson(const std::string& data) {
    std::string out;
    const std::string demo = ClusterHarness::SourceDir() + "/models/demo/";
    EXPECT_EQ(RunCommand({ClusterHarness::BinDir() + "/scorepipe", "evaluate", "--model", demo + "model.json",
                          "--features", demo + "features.yaml", "--data", data, "--json"},
                         (h_->dir() / "local.log").string(), &out, std::chrono::seconds(120)),
              0)
        << out;
    return JsonLine(out);
  }

  // The report's JSON line among the progress lines of a command's log.
  static std::string JsonLine(const std::string& log) {
    const size_t start = log.find("{\"model\":");
    if (start == std::string::npos) return "";
    return log.substr(start, log.find('\n', start) - start);
  }

  // The "evaluation" object of a report: the figures.
  static std::string Figures(const std::string& json) {
    const size_t at = json.find(kEvaluationKey);
    return at == std::string::npos ? "(no figures)" : json.substr(at);
  }

  // Runs the cluster evaluation of a file of `rows` rows in the background,
  // with `before` done before it starts and `fault` once it has begun, and
  // expects the figures to equal the local evaluation's. Returns the
  // command's log.
  std::string ExpectSameFiguresDespite(size_t rows, const std::function<void()>& before,
                                       const std::function<void()>& fault) {
    const std::string data = Dataset(rows);
    StartAndWaitForWorkers();
    before();
    const std::string log = (h_->dir() / "cluster-evaluate.log").string();
    auto run = ChildProcess::Start(ClusterEvaluate(data, {"--json", "--batch-rows", "100"}), log);
    EXPECT_TRUE(run.ok()) << run.status().message();
    if (!run.ok()) return "";
    auto read_log = [&] { return ReadText(log); };
    EXPECT_TRUE(WaitUntil([&] { return read_log().find("evaluate: run ") != std::string::npos; },
                          std::chrono::seconds(60), std::chrono::milliseconds(20)))
        << read_log();
    // The fault comes once the run's batches are with every worker (a
    // stopped one holds them, a running one scores them).
    auto security = h_->security();
    EXPECT_TRUE(security.ok());
    StatusProbe probe(h_->topology().ventilator.status.connect, security.value());
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto status = probe.Query();
          if (!status.ok() || status->workers.empty()) return false;
          for (const WorkerStatus& w : status->workers) {
            if (w.in_flight_batches == 0 && w.transactions_scored == 0) return false;
          }
          return true;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(20)));
    EXPECT_TRUE(run->Running()) << "the run ended before the fault\n" << read_log();
    fault();
    run->WaitFor(std::chrono::seconds(180));
    const std::string text = read_log();
    EXPECT_EQ(run->exit_code().value_or(-1), 0) << text;
    const std::string cluster = JsonLine(text);
    EXPECT_THAT(cluster, HasSubstr("\"scored_rows\":" + std::to_string(rows) + ",\"unscored_rows\":0,"));
    EXPECT_EQ(Figures(cluster), Figures(LocalJson(data)));
    const size_t at = cluster.find("\"cluster\":");
    printf("%s\n%s\n", text.substr(0, text.find("{\"model\"")).c_str(),
           at == std::string::npos ? "(no report)" : cluster.substr(at, 200).c_str());
    return text;
  }

  void Signal(const std::string& name, int signal) { SignalNode(*h_, name, signal); }

  std::unique_ptr<ClusterHarness> h_;
};

TEST_F(ClusterEvaluationTest, FiguresEqualTheLocalEvaluationAndNothingReachesTheQueues) {
  const std::string data = Dataset(30000);
  StartAndWaitForWorkers();
  std::string out;
  ASSERT_EQ(RunCommand(ClusterEvaluate(data, {"--json", "--batch-rows", "256"}),
                       (h_->dir() / "cluster-evaluate.log").string(), &out, std::chrono::seconds(120)),
            0)
      << out;
  const std::string cluster = JsonLine(out);
  const std::string local = LocalJson(data);
  ASSERT_FALSE(local.empty());
  EXPECT_EQ(Figures(cluster), Figures(local));
  EXPECT_THAT(cluster,
              HasSubstr("\"model\":{\"source\":\"cluster\",\"name\":\"demo\",\"version\":\"demo-1\","
                        "\"versions\":[{\"name\":\"demo\",\"version\":\"demo-1\",\"rows\":30000}]}"));
  EXPECT_THAT(cluster, HasSubstr("\"scored_rows\":30000,\"unscored_rows\":0,"));
  EXPECT_THAT(cluster, HasSubstr("\"batches\":118,\"batch_rows\":256,"));
  printf("cluster: %s\n", cluster.substr(cluster.find("\"cluster\":"), 160).c_str());
  printf("figures: %s\n", Figures(cluster).substr(0, 200).c_str());

  // The text report, with another threshold: the sink computes the figures for it.
  ASSERT_EQ(RunCommand(ClusterEvaluate(data, {"--threshold", "0.3"}), (h_->dir() / "text.log").string(), &out,
                       std::chrono::seconds(120)),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("model:     demo demo-1, live on the cluster of " + h_->topology_path()));
  EXPECT_THAT(out, HasSubstr("30000 rows scored"));
  EXPECT_THAT(out, HasSubstr("threshold: 0.3 "));
  EXPECT_THAT(out, HasSubstr("cluster:   59 batches of up to 512 rows (59 sent)"));
  EXPECT_THAT(out, HasSubstr("ROC AUC            0."));

  // No evaluation row was written to the upstream's queues.
  auto results = h_->redis().Command({"LLEN", h_->topology().queue.output});
  auto dead = h_->redis().Command({"LLEN", h_->topology().queue.dead_letter});
  ASSERT_TRUE(results.ok() && dead.ok());
  EXPECT_EQ((*results)->integer, 0);
  EXPECT_EQ((*dead)->integer, 0);
}

// worker-2 is stopped, so the batches it took wait in it; then it is killed:
// the ventilator finds it dead and gives them to worker-1.
TEST_F(ClusterEvaluationTest, AWorkerKilledMidRunLosesNoRow) {
  const std::string log = ExpectSameFiguresDespite(
      100000, [&] { Signal("worker-2", SIGSTOP); }, [&] { Signal("worker-2", SIGKILL); });
  // The ventilator alone brought the batches back; the command sent each once.
  EXPECT_THAT(log, HasSubstr("\"batches\":1000,\"batch_rows\":100,\"batches_sent\":1000,"));
  // Overdue, found dead, or replaced by its restarted self: the ventilator
  // says which of worker-2's batches it sent elsewhere.
  EXPECT_THAT(h_->ReadLog("ventilator"),
              ::testing::ContainsRegex(
                  "worker-2 \\(.*(\\): [1-9][0-9]* batches|re-dispatching its [1-9][0-9]* batches)"));
}

// Both workers are stopped, so the ventilator holds batches; it is killed
// with them, and the command sends what is missing again.
TEST_F(ClusterEvaluationTest, AVentilatorKilledMidRunHasItsLostBatchesSentAgain) {
  const std::string log = ExpectSameFiguresDespite(
      100000,
      [&] {
        Signal("worker-1", SIGSTOP);
        Signal("worker-2", SIGSTOP);
      },
      [&] {
        Signal("ventilator", SIGKILL);
        Signal("worker-1", SIGCONT);
        Signal("worker-2", SIGCONT);
      });
  EXPECT_THAT(log, HasSubstr("batches again"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("\"batches_sent\":1000,")));
}

// worker-1 answers most rows while worker-2 is stopped; the sink is killed
// and forgets the run, which the command begins again.
TEST_F(ClusterEvaluationTest, ASinkKilledMidRunHasTheRunBegunAgain) {
  const std::string log = ExpectSameFiguresDespite(
      100000, [&] { Signal("worker-2", SIGSTOP); },
      [&] {
        Signal("sink", SIGKILL);
        Signal("worker-2", SIGCONT);
      });
  EXPECT_THAT(log, HasSubstr("beginning the run again"));
}

// Ctrl-C ends the command, and the sink forgets the run (its rows' memory).
TEST_F(ClusterEvaluationTest, AnInterruptedRunIsForgottenByTheSink) {
  const std::string data = Dataset(20000);
  StartAndWaitForWorkers();
  Signal("worker-1", SIGSTOP);
  Signal("worker-2", SIGSTOP);
  const std::string log = (h_->dir() / "interrupted.log").string();
  auto run = ChildProcess::Start(ClusterEvaluate(data, {}), log);
  ASSERT_TRUE(run.ok()) << run.status().message();
  std::string text;
  uint64_t run_id = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        text = ReadText(log);
        return sscanf(text.c_str(), "evaluate: run %" SCNu64, &run_id) == 1;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(20)))
      << text;
  auto security = h_->security();
  ASSERT_TRUE(security.ok());
  zmq::context_t context;
  auto ask = [&] {
    EvaluationRequest query;
    query.run = run_id;
    Result<std::string> raw = AskOnce(context, h_->topology().sink.status.connect, Encode(query),
                                      std::chrono::seconds(5), security.value(), "the sink");
    EXPECT_TRUE(raw.ok()) << raw.status().message();
    Result<EvaluationReply> reply = raw.ok() ? DecodeEvaluationReply(raw.value()) : raw.status();
    EvaluationReply failed;
    failed.error = "(no answer) " + reply.status().message();
    return reply.ok() ? reply.value() : failed;
  };
  EXPECT_EQ(ask().error, "") << "the sink holds the run while it goes on";

  ASSERT_EQ(kill(run->pid(), SIGINT), 0);
  run->WaitFor(std::chrono::seconds(30));
  text = ReadText(log);
  EXPECT_EQ(run->exit_code().value_or(-1), 1) << text;
  EXPECT_THAT(text, HasSubstr("stopped with the run unfinished"));
  EXPECT_THAT(ask().error, HasSubstr("is not held by this sink"));
  Signal("worker-1", SIGCONT);
  Signal("worker-2", SIGCONT);
}

TEST_F(ClusterEvaluationTest, WithoutACluster) {
  const std::string data = Dataset(100);
  ASSERT_TRUE(h_->WriteTopology().ok());
  std::string out;
  // No sink answers: the run cannot begin, and the command says where it asked.
  EXPECT_EQ(RunCommand(ClusterEvaluate(data, {}), (h_->dir() / "none.log").string(), &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("the sink at " + h_->topology().sink.status.connect + " did not answer within"));
  // A model named beside --cluster is a usage mistake (exit 2).
  EXPECT_EQ(RunCommand(ClusterEvaluate(data, {"--name", "fraud"}), (h_->dir() / "both.log").string(), &out),
            2);
  EXPECT_THAT(out, HasSubstr("--cluster evaluates the model live on the cluster"));
  // Batches larger than bridge.batch_size would break the nodes' frame limits.
  const std::string over = std::to_string(h_->topology().bridge.batch_size + 1);
  EXPECT_EQ(
      RunCommand(ClusterEvaluate(data, {"--batch-rows", over}), (h_->dir() / "over.log").string(), &out), 1);
  EXPECT_THAT(out, HasSubstr("--batch-rows " + over + " is over the topology's bridge.batch_size"));
}

// A promotion during a run: the rows scored before it are v1's, the rest
// v2's, and the report names both with their rows. worker-2 is stopped, so
// the batches it took wait in it; v2 is promoted once worker-1 has scored
// the rest with v1; then worker-2 is killed, and its batches are scored by v2.
class RegistryClusterEvaluationTest : public RegistryClusterTest {};

TEST_F(RegistryClusterEvaluationTest, APromotionDuringARunIsReportedWithTheRowsOfEachVersion) {
  // Nothing is re-dispatched before worker-2 is killed.
  h_->topology().heartbeat.liveness = 60;
  h_->topology().ventilator.batch_timeout_ms = 60000;
  const std::string data = WriteDataset(*h_, 20000);
  ASSERT_TRUE(h_->StartUp().ok());
  ASSERT_TRUE(WaitForEveryWorker([](const WorkerStatus& w) { return w.model_version == "v1"; }));
  SignalNode(*h_, "worker-2", SIGSTOP);
  const std::string log = (h_->dir() / "promoted.log").string();
  auto run = ChildProcess::Start(ClusterEvaluateArgv(*h_, data, {"--batch-rows", "100"}), log);
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_TRUE(WaitUntil([&] { return ReadText(log).find("evaluate: run ") != std::string::npos; },
                        std::chrono::seconds(30), std::chrono::milliseconds(20)));
  auto security = h_->security();
  ASSERT_TRUE(security.ok());
  StatusProbe probe(h_->topology().ventilator.status.connect, security.value());
  // worker-1 scores all it can with v1: nothing waits in the ventilator and
  // it holds nothing, while the stopped worker-2 keeps what it took.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto status = probe.Query();
        if (!status.ok() || status->ventilator.queued_batches != 0) return false;
        int64_t held_by_worker_2 = 0;
        const WorkerStatus* worker_1 = nullptr;
        for (const WorkerStatus& w : status->workers) {
          if (w.id.find("worker-1") != std::string::npos) worker_1 = &w;
          if (w.id.find("worker-2") != std::string::npos) held_by_worker_2 = w.in_flight_batches;
        }
        return worker_1 != nullptr && worker_1->in_flight_batches == 0 && held_by_worker_2 > 0 &&
               worker_1->transactions_scored + 100 * held_by_worker_2 >= 20000;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)))
      << ReadText(log);
  ASSERT_TRUE(run->Running()) << ReadText(log);
  ASSERT_EQ(Model({"promote", "fraud", "v2"}), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto status = probe.Query();
        if (!status.ok()) return false;
        for (const WorkerStatus& w : status->workers) {
          if (w.id.find("worker-1") != std::string::npos && w.model_version == "v2") return true;
        }
        return false;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(100)));
  SignalNode(*h_, "worker-2", SIGKILL);
  run->WaitFor(std::chrono::seconds(120));
  const std::string text = ReadText(log);
  ASSERT_EQ(run->exit_code().value_or(-1), 0) << text;
  EXPECT_THAT(text, ::testing::ContainsRegex("fraud v1 \\([1-9][0-9]* rows\\)"));
  EXPECT_THAT(text, ::testing::ContainsRegex("fraud v2 \\([1-9][0-9]* rows\\)"));
  EXPECT_THAT(text, HasSubstr(": the live version changed during the run\n"));
  EXPECT_THAT(text, HasSubstr("20000 rows scored"));
  printf("%s\n", text.substr(text.find("model:"), 120).c_str());
}

}  // namespace
}  // namespace scorepipe::testing
