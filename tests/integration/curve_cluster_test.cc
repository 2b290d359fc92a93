// CURVE between the nodes of a running cluster (security.mode curve), over
// TCP so that refusals carry an address: a worker host whose key is
// authorized scores; one whose key is not gets nothing and is logged on the
// head (and the worker says why); a worker whose key is authorized after it
// started scores at once, with every link (no batch goes overdue on it); a
// result pushed to the sink without an authorized key never reaches the
// output; a worker that pins the wrong server key never connects and never
// reports ready; and a node whose key file is unsafe or missing does not start.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <zmq.hpp>

#include "config/topology_writer.h"
#include "local_cluster/synthetic_push.h"
#include "proto/codec.h"
#include "runtime/curve.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/fake_service_manager.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/run_command.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

class CurveClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.workers = 1;  // the head's own worker: the cluster scores whatever the others do
    auto created = ClusterHarness::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().message();
    h_ = std::move(created.value());
    ASSERT_TRUE(h_->UseTcpEndpoints("127.0.0.1").ok());
    ASSERT_TRUE(h_->StartUp().ok());
  }

  // A worker host: its own key pair (authorized on the head or not) and a
  // topology that names it; `server_key` overrides the head's key it pins;
  // `manager`, when given, is its service manager.
  ChildProcess StartWorkerHost(const std::string& name, bool authorized, const std::string& server_key = "",
                               FakeServiceManager* manager = nullptr) {
    const fs::path dir = h_->dir() / name;
    fs::create_directories(dir);
    auto pair = NewCurveKeyPair();
    EXPECT_TRUE(pair.ok());
    const std::string prefix = (dir / "node").string();
    EXPECT_TRUE(WriteKeyPair(prefix, pair.value()).ok());
    if (authorized)
      fs::copy_file(prefix + ".key", fs::path(h_->topology().security.authorized_keys) / (name + ".key"));
    Topology t = h_->topology();
    t.security.secret_key = prefix + ".key_secret";
    if (!server_key.empty()) t.security.server_key = server_key;
    const std::string path = (dir / "topology.yaml").string();
    std::ofstream(path) << TopologyToYaml(t);
    if (manager) manager->Expose(/*watchdog_usec=*/2000000);
    auto started =
        ChildProcess::Start({ClusterHarness::BinDir() + "/scorepipe-worker", "-c", path, "--id", name},
                            (h_->dir() / "logs" / (name + ".log")).string());
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    EXPECT_TRUE(started.ok()) << started.status().message();
    public_keys_[name] = pair->public_key;
    return std::move(started.value());
  }

  // Pushes `n` transactions and waits for their results.
  void PushAndWait(size_t n) {
    SyntheticTransactions generator(seed_++, 1);
    std::vector<std::string> messages;
    for (size_t i = 0; i < n; ++i) messages.push_back(generator.Next().json);
    pushed_ += n;
    ASSERT_TRUE(PushMessages(h_->redis(), h_->topology().queue.input, messages).ok());
    ASSERT_TRUE(h_->WaitForOutputs(static_cast<long long>(pushed_), seconds(60)))
        << h_->LogTail("ventilator");
  }

  void Authorize(const std::string& name) {
    std::ofstream(fs::path(h_->topology().security.authorized_keys) / (name + ".key"))
        << public_keys_[name] << "\n";
  }

  std::optional<ClusterStatus> Cluster() {
    StatusProbe probe(h_->topology().ventilator.status.connect, h_->security().value());
    auto status = probe.Query(milliseconds(2000));
    EXPECT_TRUE(status.ok()) << status.status().message();
    if (!status.ok()) return std::nullopt;
    return status.value();
  }

  std::optional<WorkerStatus> Listed(const std::string& id) {
    std::optional<ClusterStatus> status = Cluster();
    const WorkerStatus* w = status ? status->FindId(id) : nullptr;
    if (w == nullptr) return std::nullopt;
    return *w;
  }

  std::unique_ptr<ClusterHarness> h_;
  std::map<std::string, std::string> public_keys_;
  uint64_t seed_ = 11;
  size_t pushed_ = 0;
};

TEST_F(CurveClusterTest, AWorkerHostWithAnAuthorizedKeyScores) {
  ChildProcess worker = StartWorkerHost("trusted-host", /*authorized=*/true);
  ASSERT_TRUE(WaitUntil([&] { return Listed("trusted-host").has_value(); }, seconds(20)))
      << h_->ReadLog("trusted-host");
  // Enough batches that both workers get some (each holds 2 at a time).
  for (int wave = 0; wave < 10; ++wave) ASSERT_NO_FATAL_FAILURE(PushAndWait(2000));
  // The status shows a worker's count as of its last heartbeat.
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto w = Listed("trusted-host");
        return w && w->batches_scored > 0;
      },
      seconds(5)))
      << h_->ReadLog("trusted-host");
  EXPECT_EQ(h_->Length(h_->topology().queue.output), static_cast<long long>(pushed_));
  EXPECT_EQ(h_->ReadLog("ventilator").find("refused a connection"), std::string::npos);
}

TEST_F(CurveClusterTest, AWorkerHostWithAnUnknownKeyGetsNothingAndIsLogged) {
  ChildProcess rogue = StartWorkerHost("rogue-host", /*authorized=*/false);
  const std::string& key = public_keys_["rogue-host"];
  ASSERT_TRUE(
      WaitUntil([&] { return h_->ReadLog("ventilator").find(key) != std::string::npos; }, seconds(20)))
      << h_->LogTail("ventilator");
  const std::string log = h_->ReadLog("ventilator");
  const size_t line = log.find("refused a connection from 127.0.0.1");
  ASSERT_NE(line, std::string::npos) << log;
  EXPECT_NE(log.find(key, line), std::string::npos) << "the refusal names the key: " << log;

  for (int wave = 0; wave < 5; ++wave) ASSERT_NO_FATAL_FAILURE(PushAndWait(2000));
  EXPECT_FALSE(Listed("rogue-host").has_value()) << "the ventilator never heard of it";
  EXPECT_EQ(h_->Length(h_->topology().queue.output), static_cast<long long>(pushed_));
  EXPECT_TRUE(rogue.Running()) << "it keeps trying, harmlessly: " << h_->ReadLog("rogue-host");
  // The sink refused it too (its results channel), so it could not forge results either.
  EXPECT_NE(h_->ReadLog("sink").find(key), std::string::npos) << h_->LogTail("sink");
  // And the worker says why it gets nothing.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return h_->ReadLog("rogue-host").find("refused this host's CURVE key " + key) != std::string::npos;
      },
      seconds(15)))
      << h_->ReadLog("rogue-host");

  // Both sides count the refusals by reason, and the worker is not ready.
  const MetricsConfig& ports = h_->topology().metrics;
  auto ventilator = ScrapeMetrics("127.0.0.1", ports.ventilator_port);
  ASSERT_TRUE(ventilator.ok()) << ventilator.status().message();
  EXPECT_GT(
      SampleValue(*ventilator, "scorepipe_curve_refused_total{reason=\"key_not_authorized\",side=\"server\"}")
          .value_or(0),
      0)
      << *ventilator;
  const int rogue_port = MetricsPortFromLog(h_->ReadLog("rogue-host"));
  ASSERT_GT(rogue_port, 0) << h_->ReadLog("rogue-host");
  auto worker = ScrapeMetrics("127.0.0.1", rogue_port);
  ASSERT_TRUE(worker.ok()) << worker.status().message();
  EXPECT_GT(SampleValue(*worker, "scorepipe_curve_refused_total{reason=\"own_key_refused\",side=\"client\"}")
                .value_or(0),
            0)
      << *worker;
  auto ready = HttpGet("127.0.0.1", rogue_port, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status().message();
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("refused this host's CURVE key " + key), std::string::npos) << ready->body;
  auto live = HttpGet("127.0.0.1", rogue_port, "/livez");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->status, 200) << live->body;

  // `scorepipe status` run with the rogue host's keys says the head refused it.
  std::string out;
  const int code = RunCommand({ClusterHarness::BinDir() + "/scorepipe", "status", "-c",
                               (h_->dir() / "rogue-host" / "topology.yaml").string()},
                              (h_->dir() / "logs" / "rogue-status.log").string(), &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("the ventilator at " + h_->topology().ventilator.status.connect), std::string::npos)
      << out;
  EXPECT_NE(out.find("refused this host's CURVE key " + key), std::string::npos) << out;
}

TEST_F(CurveClusterTest, AWorkerWhoseKeyIsAuthorizedAfterItStartedScoresOverEveryLink) {
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  ChildProcess worker = StartWorkerHost("late-host", /*authorized=*/false, "", &manager);
  const std::string& key = public_keys_["late-host"];
  // Refused by the sink and by the ventilator; it says so and is not ready.
  ASSERT_TRUE(WaitUntil([&] { return h_->ReadLog("sink").find(key) != std::string::npos; }, seconds(20)))
      << h_->LogTail("sink");
  std::string meanwhile;
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(1000), &meanwhile).has_value()) << meanwhile;
  EXPECT_NE(meanwhile.find("STATUS=waiting for its links"), std::string::npos) << meanwhile;

  Authorize("late-host");
  std::optional<std::string> ready = manager.WaitFor("READY=1", seconds(30));
  ASSERT_TRUE(ready.has_value()) << h_->ReadLog("late-host");
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto w = Listed("late-host");
        return w && w->state == "active";
      },
      seconds(20)))
      << h_->ReadLog("late-host");
  auto before = Cluster();
  ASSERT_TRUE(before.has_value());

  const auto started = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(PushAndWait(10000));
  const double drained_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("late-authorized worker: 10,000 transactions drained in %.2f s\n", drained_s);
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto w = Listed("late-host");
        return w && w->batches_scored > 0;
      },
      seconds(5)))
      << "the late-authorized worker scored nothing: " << h_->ReadLog("late-host");
  auto after = Cluster();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->ventilator.overdue, before->ventilator.overdue)
      << "a batch went overdue on a worker that could not deliver";
  EXPECT_EQ(after->ventilator.redispatched, before->ventilator.redispatched);
  EXPECT_EQ(h_->Length(h_->topology().queue.output), static_cast<long long>(pushed_));
  EXPECT_TRUE(worker.Running()) << h_->ReadLog("late-host");
}

TEST_F(CurveClusterTest, AWorkerTheSinkRefusesTakesNoWorkSaysWhyAndComesBackOnceAuthorized) {
  ChildProcess worker = StartWorkerHost("fickle-host", /*authorized=*/true);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto w = Listed("fickle-host");
        return w && w->state == "active";
      },
      seconds(20)))
      << h_->ReadLog("fickle-host");
  // Its key is withdrawn and the sink restarts: the worker's results link
  // reconnects and is refused, while its ventilator link stays up.
  fs::remove(fs::path(h_->topology().security.authorized_keys) / "fickle-host.key");
  const pid_t sink = h_->NodePid("sink");
  ASSERT_GT(sink, 0);
  ASSERT_EQ(kill(sink, SIGKILL), 0);
  ASSERT_GT(h_->WaitForNodeStart("sink", sink, seconds(20)), 0) << h_->LogTail("up");
  std::optional<WorkerStatus> blocked;
  ASSERT_TRUE(WaitUntil(
      [&] {
        blocked = Listed("fickle-host");  // why comes with its next heartbeat
        return blocked && blocked->state == "blocked" && !blocked->link_error.empty();
      },
      seconds(30)))
      << h_->ReadLog("fickle-host");
  EXPECT_NE(blocked->link_error.find("the sink: the sink at"), std::string::npos) << blocked->link_error;
  EXPECT_NE(blocked->link_error.find("refused this host's CURVE key " + public_keys_["fickle-host"]),
            std::string::npos)
      << blocked->link_error;
  EXPECT_NE(h_->ReadLog("fickle-host").find("cannot deliver results, so taking no work"), std::string::npos);

  auto before = Cluster();
  ASSERT_TRUE(before.has_value());
  ASSERT_NO_FATAL_FAILURE(PushAndWait(4000));
  auto during = Cluster();
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->ventilator.overdue, before->ventilator.overdue)
      << "no batch waits on a worker that cannot deliver";
  ASSERT_NE(during->FindId("fickle-host"), nullptr);
  EXPECT_EQ(during->FindId("fickle-host")->transactions_scored, 0);
  EXPECT_EQ(during->ventilator.live_workers, 1) << "a blocked worker is not live";

  Authorize("fickle-host");
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto w = Listed("fickle-host");
        return w && w->state == "active" && w->link_error.empty();
      },
      seconds(20)))
      << h_->ReadLog("fickle-host");
  for (int wave = 0; wave < 5; ++wave) ASSERT_NO_FATAL_FAILURE(PushAndWait(2000));
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto w = Listed("fickle-host");
        return w && w->batches_scored > 0;
      },
      seconds(5)))
      << h_->ReadLog("fickle-host");
  auto after = Cluster();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->ventilator.overdue, before->ventilator.overdue);
  EXPECT_EQ(h_->Length(h_->topology().queue.output), static_cast<long long>(pushed_));
}

TEST_F(CurveClusterTest, AResultPushedToTheSinkWithoutAnAuthorizedKeyNeverReachesTheOutput) {
  ResultBatch forged;
  forged.batch_id = 4242;
  forged.lease = "1 2 3";
  forged.worker_id = "forger";
  forged.results.push_back(ScoreResult{987654321, 0.0, 0, 0.0, "", ""});
  const std::string frame = Encode(forged);
  zmq::context_t context;
  auto unknown = NewCurveKeyPair();
  ASSERT_TRUE(unknown.ok());
  const std::string server_key = ReadKeyFile(h_->topology().security.server_key).value();
  for (bool with_key : {false, true}) {
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    if (with_key) {
      ASSERT_TRUE(MakeCurveClient(push, unknown.value(), server_key).ok());
    }
    push.connect(h_->topology().sink.results.connect);
    for (int i = 0; i < 20; ++i) push.send(zmq::buffer(frame), zmq::send_flags::dontwait);
    std::this_thread::sleep_for(milliseconds(500));
  }
  ASSERT_NO_FATAL_FAILURE(PushAndWait(1000));
  for (const std::string& entry : h_->Entries(h_->topology().queue.output)) {
    ASSERT_EQ(entry.find("987654321"), std::string::npos) << "forged result in the output: " << entry;
  }
  EXPECT_EQ(h_->Length(h_->topology().queue.output), 1000);
  EXPECT_NE(h_->ReadLog("sink").find(unknown->public_key), std::string::npos)
      << "the unknown key is logged: " << h_->LogTail("sink");
  EXPECT_EQ(h_->ReadLog("sink").find("refusing a"), std::string::npos)
      << "no forged frame even reached the decoder: " << h_->LogTail("sink");
}

TEST_F(CurveClusterTest, AWorkerThatPinsTheWrongServerKeyNeverConnects) {
  auto impostor = NewCurveKeyPair();  // the key a man in the middle would hold
  ASSERT_TRUE(impostor.ok());
  const std::string wrong_pin = (h_->dir() / "impostor.key").string();
  std::ofstream(wrong_pin) << impostor->public_key << "\n";
  FakeServiceManager manager;
  ASSERT_TRUE(manager.error().empty()) << manager.error();
  ChildProcess worker = StartWorkerHost("misled-host", /*authorized=*/true, wrong_pin, &manager);
  for (int wave = 0; wave < 5; ++wave) ASSERT_NO_FATAL_FAILURE(PushAndWait(2000));
  // It never says it is ready, and its service status says why.
  std::string said;
  EXPECT_FALSE(manager.WaitFor("READY=1", milliseconds(500), &said).has_value()) << said;
  EXPECT_NE(said.find("STATUS=waiting for its links"), std::string::npos) << said;
  EXPECT_NE(said.find("does not hold the secret half"), std::string::npos) << said;
  EXPECT_FALSE(Listed("misled-host").has_value()) << h_->ReadLog("misled-host");
  EXPECT_EQ(h_->Length(h_->topology().queue.output), static_cast<long long>(pushed_));
  EXPECT_EQ(h_->ReadLog("misled-host").find("batch"), std::string::npos) << h_->ReadLog("misled-host");
  EXPECT_TRUE(WaitUntil(
      [&] {
        return h_->ReadLog("misled-host")
                   .find("does not hold the secret half of the key security.server_key names") !=
               std::string::npos;
      },
      seconds(15)))
      << h_->ReadLog("misled-host");
}

TEST_F(CurveClusterTest, ANodeWithAnUnsafeOrMissingKeyFileDoesNotStart) {
  Topology t = h_->topology();
  const fs::path dir = h_->dir() / "bad-host";
  fs::create_directories(dir);
  ASSERT_TRUE(WriteKeyPair((dir / "node").string(), NewCurveKeyPair().value()).ok());
  ASSERT_EQ(::chmod((dir / "node.key_secret").c_str(), 0644), 0);
  struct Case {
    std::string secret_key;
    std::string expected;
  };
  for (const Case& c : {Case{(dir / "node.key_secret").string(), "readable by others"},
                        Case{(dir / "missing.key_secret").string(), "cannot read key file"}}) {
    t.security.secret_key = c.secret_key;
    const std::string path = (dir / "topology.yaml").string();
    std::ofstream(path, std::ios::trunc) << TopologyToYaml(t);
    const std::string log = (dir / "worker.log").string();
    auto started = ChildProcess::Start({ClusterHarness::BinDir() + "/scorepipe-worker", "-c", path}, log);
    ASSERT_TRUE(started.ok());
    ASSERT_TRUE(started->WaitFor(seconds(10))) << "a worker with a bad key file kept running";
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("security.secret_key"), std::string::npos) << text;
    EXPECT_NE(text.find(c.expected), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace scorepipe::testing
