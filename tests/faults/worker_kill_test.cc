// Scenario 1: kill -9 a random worker every few hundred milliseconds while
// the stream flows; `scorepipe up` restarts each one. The ventilator gives a
// dead worker's batches to the living (at once when its replacement
// announces itself under the same id, else after interval x liveness).
// Run on both queue kinds.
#include <signal.h>

#include <map>
#include <random>
#include <thread>

#include "tests/faults/fault_fixture.h"

namespace scorepipe::testing {
namespace {

// `scorepipe up` backs a slot off (doubling, up to 10 s) after exits in a row
// within three seconds of its start; the test kills a worker at most twice in
// a row that soon (measured from when it saw the pid, so never sooner than
// the supervisor's clock says), and spreads the kills over four workers, so
// that the workers keep coming back quickly. Kills with no respite:
// worker_crash_loop_test.cc.
constexpr auto kQuickExit = milliseconds(3500);
constexpr int kMaxQuickKills = 3;

class WorkerKillTest : public QueueKindFaultTest {};

struct Incarnation {
  pid_t pid = 0;
  Clock::time_point seen;
  pid_t killed = 0;
  int quick_kills = 0;
};

TEST_P(WorkerKillTest, RandomWorkerKilledEveryFewHundredMillisecondsLosesNothing) {
  constexpr int kWorkers = 4;
  ClusterOptions options = KindOptions();
  options.workers = kWorkers;
  ASSERT_NO_FATAL_FAILURE(MakeCluster(options));
  ASSERT_TRUE(cluster().StartUp().ok());
  StartStream(seconds(10));
  ASSERT_TRUE(WaitForProgress(Step())) << Logs();

  const unsigned seed = std::random_device{}();
  Note("random seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::map<std::string, Incarnation> workers;
  int kills = 0;
  while (!producer_->done()) {
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(200, 500)(random)));
    const auto now = Clock::now();
    std::vector<std::string> eligible;
    for (int i = 1; i <= kWorkers; ++i) {
      const std::string name = "worker-" + std::to_string(i);
      Incarnation& w = workers[name];
      const pid_t pid = cluster().NodePid(name);
      if (pid != w.pid) w = Incarnation{pid, now, w.killed, w.quick_kills};
      const bool quick = now - w.seen < kQuickExit;
      if (pid > 0 && pid != w.killed && (!quick || w.quick_kills < kMaxQuickKills)) eligible.push_back(name);
    }
    if (eligible.empty()) continue;
    const std::string& name = eligible[std::uniform_int_distribution<size_t>(0, eligible.size() - 1)(random)];
    Incarnation& w = workers[name];
    if (kill(w.pid, SIGKILL) != 0) continue;
    w.killed = w.pid;
    w.quick_kills = now - w.seen < kQuickExit ? w.quick_kills + 1 : 0;
    ++kills;
    Note("kill -9 " + name + " (pid " + std::to_string(w.pid) + ")");
  }
  ASSERT_TRUE(cluster().up().Running()) << "scorepipe up gave up\n" << cluster().LogTail("up");
  EXPECT_GE(kills, 10 * plan_.rounds) << "too few kills to call this a fault test";
  for (auto& [name, w] : workers) {
    if (w.killed == w.pid) ExpectRestart(name, w.killed);
  }
  // Every worker that exited was one the test killed, and each came back.
  const std::string up_log = cluster().ReadLog("up");
  EXPECT_EQ(Occurrences(up_log, " exited with code 137"), static_cast<size_t>(kills))
      << cluster().LogTail("up");
  EXPECT_EQ(Occurrences(up_log, " exited with code "), static_cast<size_t>(kills)) << cluster().LogTail("up");
  EXPECT_EQ(Occurrences(up_log, "started worker-"), static_cast<size_t>(kWorkers + kills));
  FinishAndCheck(Scenario("kill -9 a random worker every 200-500 ms"),
                 std::to_string(kills) + " workers killed");
}

SCOREPIPE_FOR_EVERY_REDIS_QUEUE_KIND(WorkerKillTest);

}  // namespace
}  // namespace scorepipe::testing
