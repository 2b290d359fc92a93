// Scenario 4: workers on other hosts. Each worker runs in a network namespace
// of its own, joined to the head (Redis, bridge, ventilator and sink, in this
// namespace) by a veth link over a bridge device. One worker host's link is
// cut mid-stream and later restored; the other's is made slow and lossy.
// The cut worker is declared dead and its batches go to the other; restored,
// it joins again and scores; the degraded one keeps scoring.
#include <thread>

#include "tests/faults/fault_fixture.h"
#include "tests/support/netns_lab.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

constexpr auto kDelay = milliseconds(40);
constexpr double kLossPercent = 2;
// A fault lasts at least this long, and while the cluster answers kHeldFor
// Step()s (10% of the stream) through the other host.
constexpr auto kFaultFor = seconds(5);
constexpr long long kHeldFor = 5;

class NetworkFaultTest : public FaultTest {
 protected:
  void SetUp() override {
    const std::string why = NetnsLab::WhyUnavailable();
    if (why.empty()) return;
    // CI runs as root on a machine that has them: a skip there would hide a
    // broken lab, so it fails; elsewhere (no root, a container) it skips.
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true")
      FAIL() << "cannot make network namespaces under CI: " << why;
    GTEST_SKIP() << "cannot make network namespaces here: " << why;
  }
  void TearDown() override {
    FaultTest::TearDown();  // the workers inside first
    lab_.reset();
  }

  // How many transactions worker `id` had scored by its last heartbeat, or
  // -1 while the ventilator does not count it as alive.
  long long Scored(const std::string& id) {
    Result<ClusterStatus> status = probe_->Query();
    const WorkerStatus* w = status.ok() ? status->FindId(id) : nullptr;
    return w != nullptr ? w->transactions_scored : -1;
  }

  std::unique_ptr<NetnsLab> lab_;
  std::unique_ptr<StatusProbe> probe_;
};

TEST_F(NetworkFaultTest, CutAndDegradedWorkerLinksLoseNothing) {
  auto lab = NetnsLab::Create(2);
  ASSERT_TRUE(lab.ok()) << lab.status().message();
  lab_ = std::move(lab.value());
  ClusterOptions options;
  options.workers = 0;  // the workers run on the worker hosts
  ASSERT_NO_FATAL_FAILURE(MakeCluster(options));
  ASSERT_TRUE(cluster().UseTcpEndpoints(lab_->head_address()).ok());
  ASSERT_TRUE(cluster().StartUp().ok());
  auto security = cluster().security();
  ASSERT_TRUE(security.ok()) << security.status().message();
  probe_ = std::make_unique<StatusProbe>(cluster().topology().ventilator.status.connect, security.value());

  std::vector<std::string> ids;
  for (size_t host = 0; host < lab_->hosts().size(); ++host) {
    const std::string id = "host" + std::to_string(host + 1) + "-worker";
    auto worker = ChildProcess::Start(lab_->InHost(host, cluster().RoleArgv("worker", {"--id", id})),
                                      (cluster().dir() / "logs" / (id + ".log")).string());
    ASSERT_TRUE(worker.ok()) << worker.status().message();
    AdoptWorker(std::move(worker.value()));
    ids.push_back(id);
    Note(id + " in namespace " + lab_->hosts()[host].ns + " at " + lab_->hosts()[host].address +
         ", head at " + lab_->head_address());
  }
  for (const std::string& id : ids) {
    ASSERT_TRUE(WaitUntil([&] { return Scored(id) >= 0; }, seconds(30)))
        << id << " did not reach the ventilator across its link\n"
        << cluster().LogTail(id) << cluster().LogTail("ventilator");
  }
  StartStream(seconds(24));

  const std::string& cut = ids[0];
  const std::string& slow = ids[1];
  std::string notes;
  for (int round = 0; round < plan_.rounds; ++round) {
    // Cut: the ventilator hears nothing more from the worker and gives its
    // batches to the other; the stream goes on.
    ASSERT_TRUE(WaitForFaultPoint(2 * round, 2 * plan_.rounds)) << Logs();
    ASSERT_TRUE(lab_->SetLink(0, false).ok());
    const auto cut_at = Clock::now();
    Note("link of " + cut + " down");
    ASSERT_TRUE(WaitUntil([&] { return Scored(cut) < 0; }, seconds(10), milliseconds(10)))
        << "the ventilator still counts " << cut << " as alive\n"
        << cluster().LogTail("ventilator");
    const long long detected_ms = Millis(Clock::now() - cut_at);
    Note(cut + " declared dead after " + std::to_string(detected_ms) + " ms");
    ASSERT_TRUE(WaitForProgress(kHeldFor * Step())) << "the stream stopped with one host cut off\n" << Logs();
    std::this_thread::sleep_until(cut_at + kFaultFor);  // the length of the fault, not a synchronisation

    // Restore: it joins again and gets work.
    ASSERT_TRUE(lab_->SetLink(0, true).ok());
    const auto restored_at = Clock::now();
    Note("link of " + cut + " up again");
    long long scored = -1;
    ASSERT_TRUE(WaitUntil(
        [&] {
          scored = Scored(cut);
          return scored >= 0;
        },
        seconds(30)))
        << cut << " did not join again\n"
        << cluster().LogTail(cut) << cluster().LogTail("ventilator");
    const long long rejoined_ms = Millis(Clock::now() - restored_at);
    ASSERT_TRUE(WaitUntil([&] { return Scored(cut) > scored; }, seconds(30)))
        << cut << " is not alive and scoring again after its link came back\n"
        << cluster().LogTail(cut) << cluster().LogTail("ventilator");
    Note(cut + " joined again " + std::to_string(rejoined_ms) + " ms after the link came back, and scores");

    // Degrade the other host's link: slow and lossy, but work still flows through it.
    ASSERT_TRUE(WaitForFaultPoint(2 * round + 1, 2 * plan_.rounds)) << Logs();
    Result<std::string> applied = lab_->Degrade(1, kDelay, kLossPercent);
    ASSERT_TRUE(applied.ok()) << applied.status().message();
    Note("link of " + slow + ": " + applied.value());
    long long slow_scored = -1;
    WaitUntil(
        [&] {
          slow_scored = Scored(slow);
          return slow_scored >= 0;
        },
        seconds(10));
    const auto degraded_at = Clock::now();
    ASSERT_TRUE(WaitForProgress(kHeldFor * Step())) << Logs();
    ASSERT_TRUE(WaitUntil([&] { return Scored(slow) > slow_scored; }, seconds(30)))
        << slow << " scores nothing over its degraded link\n"
        << cluster().LogTail(slow);
    std::this_thread::sleep_until(degraded_at + kFaultFor);  // the length of the fault
    ASSERT_TRUE(lab_->Restore(1).ok());
    Note("link of " + slow + " restored");
    if (round == 0) {
      notes = "cut worker dead after " + std::to_string(detected_ms) + " ms, back " +
              std::to_string(rejoined_ms) + " ms after restore; degraded: " + applied.value();
    }
  }
  FinishAndCheck("netns: worker link cut + restored, other link degraded", notes);
}

}  // namespace
}  // namespace scorepipe::testing
