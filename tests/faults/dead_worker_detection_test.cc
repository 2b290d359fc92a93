// Scenario 6: how fast the ventilator sees a worker die, and how fast a new
// worker gets work, read from the status endpoint (what `scorepipe status`
// shows) while the stream flows.
//
// A worker is gone from the live workers within heartbeat interval x
// liveness, plus one interval (the ventilator checks every interval at most)
// plus slack for a loaded machine: whether it was killed with -9 (its
// sockets close, which the ventilator may notice sooner) or frozen with
// SIGSTOP (sockets open, only the missing heartbeats tell). A worker that
// joins gets a batch within about one interval.
#include <signal.h>

#include <algorithm>
#include <zmq.hpp>

#include "proto/codec.h"
#include "tests/faults/fault_fixture.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

constexpr auto kSlack = milliseconds(400);
constexpr auto kPoll = milliseconds(10);

class DeadWorkerDetectionTest : public FaultTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.workers = 0;  // every worker by hand: nobody restarts a killed one
    ASSERT_NO_FATAL_FAILURE(MakeCluster(options));
    ASSERT_TRUE(cluster().StartUp().ok());
    interval_ = milliseconds(cluster().topology().heartbeat.interval_ms);
    detection_bound_ = interval_ * cluster().topology().heartbeat.liveness + interval_ + kSlack;
    work_bound_ = interval_ + kSlack;
    auto security = cluster().security();
    ASSERT_TRUE(security.ok()) << security.status().message();
    probe_ = std::make_unique<StatusProbe>(cluster().topology().ventilator.status.connect, security.value());
  }

  ClusterStatus Status() {
    Result<ClusterStatus> status = probe_->Query(milliseconds(500));
    if (status.ok()) last_ = status.value();
    return last_;
  }

  void StartWorker(const std::string& id) {
    auto worker = cluster().StartRole("worker", {"--id", id}, id);
    ASSERT_TRUE(worker.ok()) << worker.status().message();
    AdoptWorker(std::move(worker.value()));
    ids_.push_back(id);
  }

  // Sends `signal_number` to hand-started worker `index` and measures until
  // the ventilator no longer lists it; fails the test past the bound.
  milliseconds MeasureDeparture(size_t index, int signal_number, const char* how) {
    ChildProcess& victim = workers_.at(index);
    const pid_t pid = victim.pid();
    EXPECT_TRUE(victim.Running());
    victim.Signal(signal_number);
    const auto sent = Clock::now();
    const bool gone = WaitUntil([&] { return Status().FindPid(pid) == nullptr; }, seconds(10), kPoll);
    const milliseconds took(Millis(Clock::now() - sent));
    EXPECT_TRUE(gone) << "the ventilator still counts " << ids_[index] << " as alive\n"
                      << cluster().LogTail("ventilator");
    Note(std::string(how) + " " + ids_[index] + ": gone from the live workers after " +
         std::to_string(took.count()) + " ms (bound " + std::to_string(detection_bound_.count()) + " ms); " +
         Reason(ids_[index]));
    EXPECT_LE(took, detection_bound_) << cluster().LogTail("ventilator");
    if (signal_number != SIGKILL) victim.Signal(SIGKILL);
    return took;
  }

  // Starts worker `id` and measures from its announcement (the ventilator
  // lists it) to its first batch (in flight for it, or its result in the
  // sink's live feed); fails the test past the bound.
  milliseconds MeasureFirstWork(const std::string& id) {
    zmq::context_t context;
    zmq::socket_t feed(context, zmq::socket_type::sub);
    feed.set(zmq::sockopt::subscribe, "");
    feed.set(zmq::sockopt::linger, 0);
    EXPECT_TRUE(cluster().security()->Client(feed).ok());
    feed.connect(cluster().topology().sink.publish.connect);
    const auto started = Clock::now();
    StartWorker(id);
    std::optional<Clock::time_point> joined;
    std::optional<Clock::time_point> working;
    WaitUntil(
        [&] {
          zmq::message_t frame;
          while (feed.recv(frame, zmq::recv_flags::dontwait)) {
            auto batch =
                DecodeResultBatch(std::string_view(static_cast<const char*>(frame.data()), frame.size()));
            if (batch.ok() && batch->worker_id == id && !working) working = Clock::now();
          }
          const ClusterStatus status = Status();  // w points into it
          const WorkerStatus* w = status.FindId(id);
          if (w != nullptr && !joined) joined = Clock::now();
          if (w != nullptr && !working && (w->in_flight_batches > 0 || w->batches_scored > 0)) {
            working = Clock::now();
          }
          return joined && working;
        },
        seconds(30), kPoll);
    EXPECT_TRUE(joined) << id << " never joined\n" << cluster().LogTail(id);
    EXPECT_TRUE(working) << id << " got no work\n" << cluster().LogTail("ventilator");
    if (!joined || !working) return milliseconds::max();
    const milliseconds took(Millis(*working - *joined));
    Note(id + " joined " + std::to_string(Millis(*joined - started)) + " ms after its start and had work " +
         std::to_string(took.count()) + " ms after joining (bound " + std::to_string(work_bound_.count()) +
         " ms)");
    EXPECT_LE(took, work_bound_);
    return took;
  }

  // The ventilator's own words on why the worker left.
  std::string Reason(const std::string& id) const {
    const std::string log = cluster_->ReadLog("ventilator");
    const size_t at = log.rfind("worker " + id + " (");
    if (at == std::string::npos) return "(no line in the ventilator's log)";
    const size_t said = log.find(") ", at);
    return "ventilator: \"" + log.substr(said + 2, log.find(';', said) - said - 2) + "\"";
  }

  milliseconds interval_{};
  milliseconds detection_bound_{};
  milliseconds work_bound_{};
  std::unique_ptr<StatusProbe> probe_;
  ClusterStatus last_;
  std::vector<std::string> ids_;  // of workers_, in order
};

TEST_F(DeadWorkerDetectionTest, DeadWorkerLeavesWithinLivenessAndANewWorkerGetsWorkAtOnce) {
  for (const char* id : {"detect-1", "detect-2"}) ASSERT_NO_FATAL_FAILURE(StartWorker(id));
  ASSERT_TRUE(WaitUntil([&] { return Status().ventilator.live_workers == 2; }, seconds(30)))
      << "the workers did not join\n"
      << Logs() << cluster().LogTail("detect-1") << cluster().LogTail("detect-2");
  StartStream(seconds(8));
  ASSERT_TRUE(WaitForProgress(Step())) << Logs();

  milliseconds killed{0};
  milliseconds frozen{0};
  milliseconds to_work{0};
  for (int round = 0; round < plan_.rounds; ++round) {
    // Two live workers at every step: the oldest goes, a new one comes.
    const size_t oldest = 2 * static_cast<size_t>(round);
    killed = std::max(killed, MeasureDeparture(oldest, SIGKILL, "kill -9"));
    to_work = std::max(to_work, MeasureFirstWork("detect-" + std::to_string(oldest + 3)));
    frozen = std::max(frozen, MeasureDeparture(oldest + 1, SIGSTOP, "SIGSTOP (frozen, sockets open)"));
    to_work = std::max(to_work, MeasureFirstWork("detect-" + std::to_string(oldest + 4)));
  }
  FinishAndCheck("dead-worker detection: kill -9 / SIGSTOP, new worker",
                 "gone after " + std::to_string(killed.count()) + " ms (kill -9), " +
                     std::to_string(frozen.count()) + " ms (SIGSTOP); bound " +
                     std::to_string(detection_bound_.count()) + " ms; new worker busy " +
                     std::to_string(to_work.count()) + " ms after joining");
}

}  // namespace
}  // namespace scorepipe::testing
