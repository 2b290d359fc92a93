#include "tests/faults/fault_fixture.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "config/topology_writer.h"
#include "queue/queue.h"
#include "tests/support/outcome_audit.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

constexpr auto kRestartTimeout = seconds(30);
constexpr auto kStopTimeout = seconds(120);

std::string Seconds(Clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

}  // namespace

FaultPlan PlanFromEnvironment() {
  FaultPlan plan;
  const char* soak = std::getenv("SCOREPIPE_SOAK");
  if (soak != nullptr && std::string(soak) == "1") {
    plan.soak = true;
    plan.transactions = 1000000;
    plan.rounds = 5;
  }
  return plan;
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void UseFaultTimings(Topology* topology) {
  topology->heartbeat.interval_ms = 200;
  topology->heartbeat.liveness = 3;
  topology->ventilator.batch_timeout_ms = 2000;
  topology->queue.inflight_timeout_ms = 3000;
  topology->bridge.block_timeout_ms = 500;
  topology->bridge.batch_size = 256;
}

void FaultTest::TearDown() {
  if (producer_) producer_->Cancel();
  producer_.reset();
  for (ChildProcess& worker : workers_) worker.Stop(seconds(10));
  workers_.clear();
  cluster_.reset();
}

void FaultTest::MakeCluster(const ClusterOptions& options) {
  auto created = ClusterHarness::Create(options);
  ASSERT_TRUE(created.ok()) << created.status().message();
  cluster_ = std::move(created.value());
  UseFaultTimings(&cluster_->topology());
}

void FaultTest::StartStream(milliseconds per_round) {
  stream_started_ = Clock::now();
  producer_ = std::make_unique<PacedProducer>(cluster().topology().queue, /*seed=*/2026, plan_.transactions,
                                              per_round * plan_.rounds);
  producer_->Start();
  Note("pushing " + std::to_string(plan_.transactions) + " transactions over " +
       Seconds(per_round * plan_.rounds));
}

bool FaultTest::WaitForProgress(long long more, milliseconds timeout) {
  long long now = -1;
  WaitUntil(
      [&] {
        now = cluster().Outputs();
        return now >= 0;
      },
      timeout);
  return cluster().WaitForOutputs(now + more, timeout);
}

bool FaultTest::WaitForFaultPoint(int fault, int faults, milliseconds timeout) {
  const size_t due = plan_.transactions * static_cast<size_t>(fault + 1) / static_cast<size_t>(faults + 1);
  return WaitUntil([&] { return producer_->pushed() >= due; }, timeout) && WaitForProgress(Step(), timeout);
}

void FaultTest::Note(const std::string& what) const {
  std::cout << "[ fault    ] +" << Seconds(Clock::now() - test_started_) << " " << what << std::endl;
}

pid_t FaultTest::KillNode(const std::string& name) {
  const pid_t pid = cluster().NodePid(name);
  if (pid <= 0 || kill(pid, SIGKILL) != 0) return 0;
  Note("kill -9 " + name + " (pid " + std::to_string(pid) + ")");
  return pid;
}

pid_t FaultTest::ExpectRestart(const std::string& name, pid_t old_pid) {
  const pid_t pid = cluster().WaitForNodeStart(name, old_pid, kRestartTimeout);
  EXPECT_NE(pid, 0) << "scorepipe up did not start " << name << " again\n" << cluster().LogTail("up");
  if (pid != 0) Note(name + " restarted (pid " + std::to_string(pid) + ")");
  return pid;
}

std::string FaultTest::Logs() const {
  std::string out;
  for (const char* name : {"up", "bridge", "ventilator", "sink", "worker-1", "worker-2"}) {
    out += cluster_->LogTail(name, 15) + "\n";
  }
  return out;
}

void FaultTest::FinishAndCheck(const std::string& scenario, const std::string& notes) {
  ASSERT_TRUE(producer_) << "no stream was started";
  const Status pushing = producer_->Join();
  EXPECT_TRUE(pushing.ok()) << pushing.message();
  const std::vector<Transaction>& pushed = producer_->transactions();
  const long long total = static_cast<long long>(pushed.size());

  // Every transaction answered, and nothing more held in flight.
  auto queue = OpenQueue(cluster().topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  QueueDepth depth;
  long long outputs = 0;
  const bool settled = WaitUntil(
      [&] {
        outputs = cluster().Outputs();
        Result<QueueDepth> d = queue.value()->Depth();
        if (d.ok()) depth = d.value();
        return outputs >= total && d.ok() && depth.waiting == 0 && depth.in_flight == 0;
      },
      plan_.soak ? seconds(400) : seconds(120), milliseconds(50));
  const Clock::time_point settled_at = Clock::now();
  EXPECT_TRUE(settled) << "outputs " << outputs << " of " << total << ", waiting " << depth.waiting
                       << ", in flight " << depth.in_flight << "\n"
                       << Logs();
  Note("settled: " + std::to_string(outputs) + " outputs");

  for (ChildProcess& worker : workers_) worker.Stop(seconds(30));
  cluster().up().Signal(SIGTERM);
  EXPECT_TRUE(cluster().up().WaitFor(kStopTimeout)) << cluster().LogTail("up");
  EXPECT_EQ(cluster().up().exit_code(), 0) << cluster().LogTail("up");

  const OutcomeAudit audit = AuditOutcomes(cluster().Entries(cluster().topology().queue.output),
                                           cluster().Entries(cluster().topology().queue.dead_letter), pushed,
                                           cluster().topology_path());
  std::ostringstream summary;
  summary << "FAULT SUMMARY | " << scenario << (plan_.soak ? " (soak)" : "") << " | pushed " << audit.pushed
          << " | results " << audit.results << " | dead letters " << audit.dead_letters << " | duplicates "
          << audit.duplicates << " | lost " << audit.lost << " | " << Seconds(settled_at - stream_started_)
          << " (settled " << Seconds(settled_at - producer_->finished_at()) << " after the last push)";
  if (!notes.empty()) summary << " | " << notes;
  std::cout << summary.str() << std::endl;

  EXPECT_EQ(audit.pushed, static_cast<size_t>(plan_.transactions));
  EXPECT_EQ(audit.results + audit.dead_letters, audit.pushed);
  EXPECT_EQ(audit.duplicates, 0u);
  EXPECT_EQ(audit.lost, 0u);
  EXPECT_EQ(audit.unknown, 0u) << "e.g. " << audit.first_unknown;
  EXPECT_TRUE(audit.model.ok()) << audit.model.message();
}

ClusterOptions QueueKindFaultTest::KindOptions() const {
  ClusterOptions options;
  options.queue_kind = GetParam();
  return options;
}

std::string QueueKindFaultTest::Scenario(const std::string& what) const {
  return what + " [" + QueueKindName(GetParam()) + "]";
}

std::string QueueKindTestName(const ::testing::TestParamInfo<QueueKind>& info) {
  std::string name = QueueKindName(info.param);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

}  // namespace scorepipe::testing
