// `scorepipe status` and `scorepipe push` as a person runs them: the real
// binary against a real cluster (`scorepipe up`) on a private redis-server,
// against a ventilator that is not there, and against both queue kinds.
#include "cli/status_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "local_cluster/child_process.h"
#include "queue/redis_client.h"
#include "runtime/node.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct CliRun {
  int exit_code = -1;  // -1: did not exit in time (it was killed)
  std::string output;  // stdout and stderr
  milliseconds took{0};
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first line of `output` that is a JSON object.
std::string JsonLine(const std::string& output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '{') return line;
  }
  return "";
}

class ScorepipeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = ClusterHarness::Create(1);
    ASSERT_TRUE(created.ok()) << created.status().message();
    h_ = std::move(created.value());
    ASSERT_TRUE(h_->WriteTopology().ok());
  }

  // Runs `scorepipe args...` to its end (or kills it after `timeout`).
  CliRun Run(const std::vector<std::string>& args, milliseconds timeout = milliseconds(30000)) {
    std::vector<std::string> argv = {ClusterHarness::BinDir() + "/scorepipe"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = (h_->dir() / ("cli-" + std::to_string(++runs_) + ".log")).string();
    CliRun run;
    const auto start = Clock::now();
    auto child = ChildProcess::Start(argv, log);
    if (!child.ok()) {
      ADD_FAILURE() << child.status().message();
      return run;
    }
    if (child->WaitFor(timeout)) run.exit_code = child->exit_code().value_or(-1);
    run.took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    child->Stop(milliseconds(1000));
    run.output = ReadFile(log);
    return run;
  }

  // Starts the cluster and waits until the ventilator counts its one worker.
  void StartClusterWithOneWorker() {
    ASSERT_TRUE(h_->StartUp().ok());
    zmq::context_t context;
    const std::string endpoint = h_->topology().ventilator.status.connect;
    auto security = h_->security();
    ASSERT_TRUE(security.ok()) << security.status().message();
    const bool joined = WaitUntil(
        [&] {
          auto reply = QueryVentilator(context, endpoint, milliseconds(500), security.value());
          if (!reply.ok()) return false;
          auto parsed = ParseStatusJson(reply.value());
          return parsed.ok() && parsed->workers.size() == 1;
        },
        milliseconds(60000), milliseconds(100));
    ASSERT_TRUE(joined) << h_->LogTail("up");
    // The bridge and the sink are ready too (status asks their /readyz).
    const MetricsConfig& ports = h_->topology().metrics;
    for (int port : {ports.bridge_port, ports.sink_port}) {
      const bool ready = WaitUntil(
          [&] {
            auto reply = HttpGet("127.0.0.1", port, "/readyz");
            return reply.ok() && reply->status == 200;
          },
          milliseconds(60000), milliseconds(100));
      ASSERT_TRUE(ready) << port << "\n" << h_->LogTail("bridge") << h_->LogTail("sink");
    }
  }

  std::string topology() const { return h_->topology_path(); }

  std::unique_ptr<ClusterHarness> h_;
  int runs_ = 0;
};

TEST_F(ScorepipeCommandTest, JsonShowsTheWorkerOfARunningCluster) {
  StartClusterWithOneWorker();
  CliRun run = Run({"status", "-c", topology(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string json = JsonLine(run.output);
  Result<StatusSnapshot> snapshot = ParseStatusJson(json);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  EXPECT_EQ(snapshot->ventilator.host, HostName());
  EXPECT_EQ(snapshot->ventilator.live_workers, 1);
  ASSERT_EQ(snapshot->workers.size(), 1u);
  const WorkerSnapshot& worker = snapshot->workers[0];
  EXPECT_EQ(worker.id, HostName() + "-worker-1");
  EXPECT_EQ(worker.host, HostName());
  EXPECT_EQ(worker.pid, h_->NodePid("worker-1"));
  EXPECT_EQ(worker.state, "active");
  EXPECT_LT(worker.last_heartbeat_ms, 10000);

  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(int64_t(doc["queue"]["waiting"]), 0);
  EXPECT_EQ(int64_t(doc["queue"]["in_flight"]), 0);
  EXPECT_THAT(std::string(std::string_view(doc["queue"]["description"])),
              HasSubstr("redis-list redis://127.0.0.1:"));
  EXPECT_EQ(simdjson::dom::array(doc["errors"]).size(), 0u);
  simdjson::dom::array head = doc["head"];
  ASSERT_EQ(head.size(), 2u);
  for (simdjson::dom::element node : head) {
    EXPECT_TRUE(bool(node["ready"])) << std::string_view(node["reason"]);
    EXPECT_THAT(std::string(std::string_view(node["url"])), HasSubstr("http://127.0.0.1:"));
  }
  EXPECT_EQ(std::string_view(head.at(0)["role"]), "bridge");
  EXPECT_EQ(std::string_view(head.at(1)["role"]), "sink");
}

TEST_F(ScorepipeCommandTest, TableShowsTheVentilatorTheQueueAndOneRowPerWorker) {
  StartClusterWithOneWorker();
  CliRun run = Run({"status", "-c", topology()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("ventilator  " + HostName() + " pid "));
  EXPECT_THAT(run.output, HasSubstr("1 live worker, "));
  EXPECT_THAT(run.output, HasSubstr("queue       0 waiting, 0 in flight  (redis-list redis://127.0.0.1:"));
  EXPECT_THAT(run.output, HasSubstr("WORKER"));
  EXPECT_THAT(run.output, HasSubstr(HostName() + "-worker-1  " + HostName()));
  EXPECT_THAT(run.output, HasSubstr(std::to_string(h_->NodePid("worker-1")) + "  active"));
  // The bridge and the sink say, through their /readyz, that they work.
  EXPECT_THAT(run.output, HasSubstr("\nbridge      ready: taking from redis-list redis://127.0.0.1:"));
  EXPECT_THAT(run.output, HasSubstr("\nsink        ready: writing results to redis-list redis://127.0.0.1:"));
}

TEST_F(ScorepipeCommandTest, AnUnreachableQueueStillShowsTheWorkersAndExitsOne) {
  StartClusterWithOneWorker();
  h_->StopRedis();
  CliRun run = Run({"status", "-c", topology()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("queue       unreachable: "));
  EXPECT_THAT(run.output, HasSubstr(HostName() + "-worker-1"));
}

TEST_F(ScorepipeCommandTest, ADeadVentilatorExitsOneWithinTheTimeout) {
  CliRun run = Run({"status", "-c", topology(), "--timeout-ms", "300"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_LT(run.took, milliseconds(300 + 2000)) << run.output;
  EXPECT_THAT(run.output, HasSubstr("the ventilator at " + h_->topology().ventilator.status.connect +
                                    " did not answer within 300 ms \xe2\x80\x94 is it running?"));
  // What is known is still shown.
  EXPECT_THAT(run.output, HasSubstr("queue       0 waiting, 0 in flight"));
}

TEST_F(ScorepipeCommandTest, ADeadVentilatorInJsonIsNullWithTheReason) {
  CliRun run = Run({"status", "-c", topology(), "--json", "--timeout-ms", "200"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(JsonLine(run.output), HasSubstr("\"ventilator\":null"));
  EXPECT_THAT(JsonLine(run.output), HasSubstr("did not answer within 200 ms"));
  EXPECT_THAT(run.output, HasSubstr("scorepipe status: the ventilator at "));
}

TEST_F(ScorepipeCommandTest, WatchRefreshesUntilCtrlC) {
  std::vector<std::string> argv = {ClusterHarness::BinDir() + "/scorepipe",
                                   "status",
                                   "-c",
                                   topology(),
                                   "--json",
                                   "--watch",
                                   "--timeout-ms",
                                   "100"};
  const std::string log = (h_->dir() / "watch.log").string();
  auto child = ChildProcess::Start(argv, log);
  ASSERT_TRUE(child.ok()) << child.status().message();
  auto json_lines = [&] {
    std::istringstream lines(ReadFile(log));
    int n = 0;
    for (std::string line; std::getline(lines, line);) n += !line.empty() && line.front() == '{';
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return json_lines() >= 2; }, milliseconds(10000))) << ReadFile(log);
  child->Signal(SIGINT);
  ASSERT_TRUE(child->WaitFor(milliseconds(5000)));
  EXPECT_EQ(child->exit_code(), 1);  // the last refresh found no ventilator
}

TEST_F(ScorepipeCommandTest, BadUsageOrConfigExitsTwo) {
  EXPECT_EQ(Run({"status"}).exit_code, 2);
  EXPECT_EQ(Run({"status", "-c", (h_->dir() / "missing.yaml").string()}).exit_code, 2);
  EXPECT_EQ(Run({"status", "-c", topology(), "--timeout-ms", "0"}).exit_code, 2);
  const std::string bad = (h_->dir() / "bad.yaml").string();
  std::ofstream(bad) << "queue:\n  colour: blue\n";
  CliRun run = Run({"status", "-c", bad});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("bad.yaml:2"));
  EXPECT_EQ(Run({"push", "-c", bad}).exit_code, 2);
}

TEST_F(ScorepipeCommandTest, HelpExplainsStatusAndPush) {
  CliRun status = Run({"status", "--help"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.output, HasSubstr("--timeout-ms"));
  EXPECT_THAT(status.output, HasSubstr("--watch"));
  EXPECT_THAT(status.output, HasSubstr("Exit code"));
  CliRun push = Run({"push", "--help"});
  EXPECT_EQ(push.exit_code, 0);
  EXPECT_THAT(push.output, HasSubstr("redis-stream"));
  EXPECT_THAT(push.output, HasSubstr("once a second"));
}

TEST_F(ScorepipeCommandTest, PushLandsInARedisList) {
  CliRun run = Run({"push", "-c", topology(), "-n", "3000", "--first-id", "500", "--chunk", "700"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("pushed 3,000 transactions (ids 500..3499)"));
  const std::string& input = h_->topology().queue.input;
  EXPECT_EQ(h_->Length(input), 3000);
  auto oldest = h_->redis().Command({"RPOP", input});
  ASSERT_TRUE(oldest.ok()) << oldest.status().message();
  EXPECT_THAT(std::string(ReplyText(oldest.value().get())), HasSubstr("{\"id\":500,"));
}

TEST_F(ScorepipeCommandTest, PushLandsInARedisStream) {
  h_->topology().queue.kind = QueueKind::kRedisStream;
  ASSERT_TRUE(h_->WriteTopology().ok());
  CliRun run = Run({"push", "-c", topology(), "-n", "25000", "--first-id", "1000", "--chunk", "4000"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("pushed 25,000 transactions (ids 1000..25999)"));
  EXPECT_THAT(run.output, HasSubstr("redis-stream"));
  const std::string& input = h_->topology().queue.input;
  auto length = h_->redis().Command({"XLEN", input});
  ASSERT_TRUE(length.ok()) << length.status().message();
  EXPECT_EQ(length.value()->integer, 25000);
  auto first = h_->redis().Command({"XRANGE", input, "-", "+", "COUNT", "1"});
  ASSERT_TRUE(first.ok()) << first.status().message();
  // [[id, [field, value]]]
  const redisReply* entry = first.value()->element[0];
  ASSERT_EQ(entry->element[1]->elements, 2u);
  EXPECT_EQ(ReplyText(entry->element[1]->element[0]), h_->topology().queue.stream_field);
  EXPECT_THAT(std::string(ReplyText(entry->element[1]->element[1])), HasSubstr("{\"id\":1000,"));

  // status sees the backlog even with no cluster running.
  CliRun status = Run({"status", "-c", topology(), "--json", "--timeout-ms", "100"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(JsonLine(status.output), HasSubstr("\"waiting\":25000,\"in_flight\":0"));
}

TEST_F(ScorepipeCommandTest, PushToAQueueThatIsNotThereExitsOne) {
  h_->StopRedis();
  CliRun run = Run({"push", "-c", topology(), "-n", "10"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("scorepipe push: redis-list redis://127.0.0.1:"));
  EXPECT_THAT(run.output, Not(HasSubstr("went in before that")));
}

}  // namespace
}  // namespace scorepipe::testing
