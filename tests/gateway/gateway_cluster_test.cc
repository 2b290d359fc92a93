// The gateway in front of a real cluster (`scorepipe up` over CURVE, a
// private Redis, real workers): spoken to with curl and with Python's
// http.client (gateway_api_check.py) as clients of the Open Inference
// Protocol and of the upstream-format API would; TLS and bearer tokens; and
// the faults: a worker killed mid-request, the head killed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "config/topology_writer.h"
#include "local_cluster/local_redis.h"
#include "proto/json_writer.h"
#include "scoring/model.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/result_check.h"
#include "tests/support/run_command.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

struct Curl {
  int exit_code = -1;
  int status = 0;  // the HTTP status, 0 when none came
  std::string body;
};

class GatewayClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = ClusterHarness::Create(2);
    ASSERT_TRUE(h.ok()) << h.status().message();
    h_ = std::move(h).value();
    Result<int> port = FindFreePort();
    ASSERT_TRUE(port.ok());
    h_->topology().gateway.port = port.value();
    h_->topology().gateway.security = GatewaySecurity::kNone;
    h_->topology().gateway.max_queue_delay_us = 100;
  }

  void StartGateway() {
    ASSERT_TRUE(h_->WriteTopology().ok());
    auto gateway = h_->StartRole("gateway", {}, "gateway");
    ASSERT_TRUE(gateway.ok()) << gateway.status().message();
    gateway_.emplace(std::move(gateway).value());
  }

  std::string Url(const std::string& path) const {
    const GatewayConfig& g = h_->topology().gateway;
    return std::string(g.security == GatewaySecurity::kTls ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(g.port) + path;
  }

  // curl as a person runs it; extra arguments before the URL.
  Curl Run(const std::string& method, const std::string& path, const std::string& body = "",
           std::vector<std::string> extra = {}) {
    const std::string body_file = (h_->dir() / "curl-body.json").string();
    std::ofstream(body_file) << body;
    std::vector<std::string> argv = {"/usr/bin/curl",
                                     "-s",
                                     "-k",
                                     "-X",
                                     method,
                                     "--max-time",
                                     "20",
                                     "-w",
                                     "\n%{http_code}",
                                     "-H",
                                     "Content-Type: application/json"};
    if (!body.empty()) {
      argv.push_back("--data-binary");
      argv.push_back("@" + body_file);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(Url(path));
    std::string out;
    Curl curl;
    const std::string log = (h_->dir() / ("curl-" + std::to_string(++curls_) + ".log")).string();
    curl.exit_code = RunCommand(argv, log, &out, seconds(30));
    std::filesystem::remove(log);
    const size_t newline = out.rfind('\n');
    if (newline != std::string::npos) {
      curl.body = out.substr(0, newline);
      curl.status = std::atoi(out.c_str() + newline + 1);
    }
    return curl;
  }

  bool WaitReady(milliseconds timeout) {
    return WaitUntil([&] { return Run("GET", "/v2/health/ready").status == 200; }, timeout);
  }

  std::unique_ptr<ClusterHarness> h_;
  std::optional<ChildProcess> gateway_;
  int curls_ = 0;
};

// Writes the transactions, their feature rows and the model's own
// probabilities for gateway_api_check.py.
std::string WriteExpectations(ClusterHarness& h, const SyntheticInput& input) {
  Result<Scorer> scorer = LoadScorer(h.topology().model);
  EXPECT_TRUE(scorer.ok()) << scorer.status().message();
  std::vector<float> rows;
  scorer->features().Extract(input.parsed, &rows);
  std::vector<ScoreResult> results;
  EXPECT_TRUE(scorer->Score(input.parsed, &results).ok());
  const size_t width = scorer->features().width();
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("transactions").BeginArray();
  for (const std::string& message : input.messages) json.Raw(message);
  json.EndArray().Key("features").BeginArray();
  for (size_t r = 0; r < input.parsed.size(); ++r) {
    json.BeginArray();
    for (size_t c = 0; c < width; ++c) json.Number(static_cast<double>(rows[r * width + c]));
    json.EndArray();
  }
  json.EndArray().Key("probabilities").BeginArray();
  for (const ScoreResult& r : results) json.Number(r.fraud_probability);
  json.EndArray().EndObject();
  const std::string path = (h.dir() / "expect.json").string();
  std::ofstream(path) << out;
  return path;
}

TEST_F(GatewayClusterTest, EveryEndpointAndErrorAnswersAsTheProtocolSaysWithTheModelsOwnScores) {
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway") << h_->LogTail("up");
  const std::string expect = WriteExpectations(*h_, MakeSyntheticInput(40, 1, 7));
  std::string out;
  const int rc = RunCommand(
      {"/usr/bin/python3", ClusterHarness::SourceDir() + "/tests/gateway/gateway_api_check.py", "--port",
       std::to_string(h_->topology().gateway.port), "--model", h_->topology().model.name, "--expect", expect},
      (h_->dir() / "check.log").string(), &out, seconds(120));
  EXPECT_EQ(rc, 0) << out << h_->LogTail("gateway");
}

TEST_F(GatewayClusterTest, CurlGetsScoresAndEachErrorStatus) {
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(3, 100, 9);
  Curl one = Run("POST", "/v1/score", input.messages[0]);
  EXPECT_EQ(one.status, 200) << one.body;
  Result<ParsedResult> parsed = ParseUpstreamResult(one.body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << ": " << one.body;
  Status same = CheckAgainstModel({one.body}, {input.parsed[0]}, h_->topology_path());
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Run("POST", "/v1/score", "{\"id\":1}").status, 422);
  EXPECT_EQ(Run("POST", "/v1/score", "[").status, 400);
  EXPECT_EQ(Run("GET", "/v1/score").status, 405);
  EXPECT_EQ(Run("GET", "/v2/models/nosuch").status, 404);
  EXPECT_EQ(Run("GET", "/v2/health/live").status, 200);
  // The node's own health and metrics port, as every node has one.
  const std::string metrics = "http://127.0.0.1:" + std::to_string(h_->topology().metrics.gateway_port);
  std::string out;
  EXPECT_EQ(
      RunCommand({"/usr/bin/curl", "-sf", metrics + "/readyz"}, (h_->dir() / "readyz.log").string(), &out), 0)
      << out;
  ASSERT_EQ(
      RunCommand({"/usr/bin/curl", "-sf", metrics + "/metrics"}, (h_->dir() / "metrics.log").string(), &out),
      0);
  EXPECT_THAT(out, HasSubstr("scorepipe_gateway_requests_total{code=\"2xx\",endpoint=\"score\"} 1"));
  EXPECT_THAT(out, HasSubstr("scorepipe_gateway_requests_total{code=\"4xx\",endpoint=\"score\"} 3"));
  EXPECT_THAT(out, HasSubstr("scorepipe_gateway_head_up 1"));
  EXPECT_THAT(out, HasSubstr("scorepipe_gateway_rows_total 1"));
}

// Hostile clients at once, against the real gateway in front of a cluster:
// 10,000 idle connections held open, slowloris clients sending a header
// byte at a time, and a client that pipelines requests and never reads its
// answers. Meanwhile an ordinary client's requests are all answered with
// the model's own scores; the slow ones are closed after read_timeout, the
// greedy one once its write times out, and the idle ones after
// idle_timeout, after which the gateway holds no connection.
TEST_F(GatewayClusterTest, TenThousandIdleConnectionsSlowlorisAndANonReaderLeaveOthersServed) {
  constexpr size_t kIdle = 10000;
  // This process holds the idle connections (the gateway, its child, as
  // many in its own table): the soft limit up to the hard one.
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_max, kIdle + 1000)
      << "this test needs an open-file hard limit (ulimit -Hn) of " << kIdle + 1000 << " or more";
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0) << std::strerror(errno);
  GatewayConfig& g = h_->topology().gateway;
  g.read_timeout_ms = 1500;
  g.idle_timeout_ms = 12000;  // the idle ones stay while the others are served
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const int port = g.port;
  const int metrics_port = h_->topology().metrics.gateway_port;
  auto Connections = [&] {
    Result<std::string> text = ScrapeMetrics("127.0.0.1", metrics_port);
    return text.ok() ? SampleValue(text.value(), "scorepipe_gateway_connections").value_or(-1) : -1;
  };

  std::vector<std::unique_ptr<RawHttpClient>> idle;
  idle.reserve(kIdle);
  for (size_t i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<RawHttpClient>(port));
    ASSERT_TRUE(idle.back()->ok()) << "connection " << i << ": " << std::strerror(idle.back()->error());
  }
  ASSERT_TRUE(WaitUntil([&] { return Connections() >= static_cast<double>(kIdle); }, seconds(20)))
      << "the gateway holds " << Connections() << " connections";

  // The greedy client: pipelined 100-transaction requests, never read,
  // behind a small receive buffer.
  const SyntheticInput input = MakeSyntheticInput(100, 1, 33);
  std::string batch = "[";
  for (size_t i = 0; i < input.messages.size(); ++i) batch += (i ? "," : "") + input.messages[i];
  batch += "]";
  const std::string one_post =
      "POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(batch.size()) + "\r\n\r\n" + batch;
  RawHttpClient greedy(port, 4096);
  ASSERT_TRUE(greedy.ok());
  // Far more answers than the sockets' buffers hold (each is some 17 kB):
  // the gateway's writes stop, and so do its reads, so this Send times out
  // with the rest unsent.
  constexpr size_t kPipelined = 1500;
  std::string pipelined;
  for (size_t i = 0; i < kPipelined; ++i) pipelined += one_post;
  greedy.Send(pipelined, milliseconds(2000));

  // Slowloris clients, a header byte every 100 ms, on a thread.
  std::atomic<bool> slow_done{false};
  std::vector<double> slow_closed_after_s(3, -1);
  std::thread slowloris([&] {
    std::vector<std::unique_ptr<RawHttpClient>> slow;
    for (int i = 0; i < 3; ++i) slow.push_back(std::make_unique<RawHttpClient>(port));
    const std::string request = "GET /v2/health/live HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(400, 's');
    const auto start = std::chrono::steady_clock::now();
    for (size_t byte = 0; byte < request.size() && !slow_done; ++byte) {
      for (size_t i = 0; i < slow.size(); ++i) {
        if (slow_closed_after_s[i] >= 0) continue;
        if (!slow[i]->Send(request.substr(byte, 1), milliseconds(100)) ||
            slow[i]->WaitClosed(milliseconds(30))) {
          slow_closed_after_s[i] =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }
      }
      if (std::all_of(slow_closed_after_s.begin(), slow_closed_after_s.end(),
                      [](double t) { return t >= 0; })) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(40));
    }
  });

  // The ordinary client, meanwhile: every answer whole and the model's own.
  std::vector<std::string> answers;
  for (int i = 0; i < 60; ++i) {
    Curl r = Run("POST", "/v1/score", input.messages[static_cast<size_t>(i) % input.messages.size()]);
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    answers.push_back(r.body);
  }
  std::vector<Transaction> asked;
  for (int i = 0; i < 60; ++i) asked.push_back(input.parsed[static_cast<size_t>(i) % input.parsed.size()]);
  Status same = CheckAgainstModel(answers, asked, h_->topology_path());
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_GE(Connections(), static_cast<double>(kIdle)) << "the idle ones went before the others were served";

  slowloris.join();
  for (size_t i = 0; i < slow_closed_after_s.size(); ++i) {
    EXPECT_GE(slow_closed_after_s[i], 1.0) << "slowloris " << i << " closed before read_timeout";
    EXPECT_LE(slow_closed_after_s[i], 6.0) << "slowloris " << i << " held past 4 x read_timeout";
  }
  std::string got;
  EXPECT_TRUE(greedy.WaitClosed(seconds(20), &got)) << "the client that never reads was never closed";
  size_t answered = 0;
  for (size_t at = got.find("HTTP/1.1 "); at != std::string::npos; at = got.find("HTTP/1.1 ", at + 1))
    ++answered;
  EXPECT_LT(answered, kPipelined) << "it was answered everything it asked";
  // Still serving, and the idle ones go after idle_timeout.
  EXPECT_EQ(Run("GET", "/v2/health/ready").status, 200);
  EXPECT_TRUE(idle.front()->WaitClosed(seconds(40))) << "an idle connection outlived idle_timeout";
  EXPECT_TRUE(WaitUntil([&] { return Connections() == 0; }, seconds(20)))
      << "the gateway still holds " << Connections() << " connections";
}

TEST_F(GatewayClusterTest, WithTlsEveryRequestNeedsAKnownTokenAndPlainHttpIsRefusedCleanly) {
  const std::string dir = h_->dir().string();
  std::string out;
  ASSERT_EQ(RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        dir + "/gw.key", "-out", dir + "/gw.crt", "-days", "1", "-subj", "/CN=127.0.0.1"},
                       dir + "/openssl.log", &out),
            0)
      << out;
  std::ofstream(dir + "/tokens") << "# callers\nsecret-one\n\n  secret-two  \n";
  GatewayConfig& g = h_->topology().gateway;
  g.security = GatewaySecurity::kTls;
  g.tls_cert_file = dir + "/gw.crt";
  g.tls_key_file = dir + "/gw.key";
  g.tokens_file = dir + "/tokens";
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  // Probes need no token.
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(1, 1, 3);
  Curl none = Run("POST", "/v1/score", input.messages[0]);
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_THAT(none.body, HasSubstr("no bearer token"));
  EXPECT_EQ(Run("POST", "/v1/score", input.messages[0], {"-H", "Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(Run("POST", "/v1/score", input.messages[0], {"-H", "Authorization: Bearer secret-one"}).status,
            200);
  EXPECT_EQ(Run("POST", "/v1/score", input.messages[0], {"-H", "Authorization: Bearer secret-two"}).status,
            200);
  EXPECT_EQ(Run("GET", "/v2", "", {"-H", "Authorization: Bearer secret-two"}).status, 200);
  // Plain HTTP to the TLS port: no HTTP answer, and the gateway goes on.
  std::string plain_out;
  const int plain = RunCommand({"/usr/bin/curl", "-s", "--max-time", "10", "-w", "%{http_code}",
                                "http://127.0.0.1:" + std::to_string(g.port) + "/v2/health/live"},
                               dir + "/plain.log", &plain_out);
  EXPECT_NE(plain, 0) << plain_out;
  EXPECT_EQ(Run("GET", "/v2/health/live").status, 200);
}

TEST_F(GatewayClusterTest, AWorkerKilledMidRequestStillGetsTheRequestItsAnswer) {
  h_->topology().workers.count = 1;
  // A slow-ish worker is not needed: the kill lands while batches are in
  // flight under load; re-dispatch answers within heartbeat x liveness.
  h_->topology().heartbeat.interval_ms = 200;
  h_->topology().gateway.request_timeout_ms = 20000;
  ASSERT_TRUE(h_->StartUp().ok());
  auto second = h_->StartRole("worker", {"--id", "spare"}, "spare");
  ASSERT_TRUE(second.ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(200, 1, 5);
  std::string body = "[";
  for (size_t i = 0; i < input.messages.size(); ++i) body += (i ? "," : "") + input.messages[i];
  body += "]";
  // Requests in a loop on another thread while worker-1 is killed.
  std::atomic<int> answered{0};
  std::atomic<int> wrong{0};
  std::atomic<bool> stop{false};
  std::thread load([&] {
    while (!stop) {
      Curl c = Run("POST", "/v1/score", body);
      if (c.status == 200 && c.body.find("\"transaction_id\":200") != std::string::npos) {
        ++answered;
      } else {
        ++wrong;
        ADD_FAILURE() << c.status << " " << c.body.substr(0, 300);
      }
    }
  });
  ASSERT_TRUE(WaitUntil([&] { return answered >= 3; }, seconds(30)));
  const pid_t worker = h_->NodePid("worker-1");
  ASSERT_GT(worker, 0);
  ::kill(worker, SIGKILL);
  const int before = answered;
  EXPECT_TRUE(WaitUntil([&] { return answered >= before + 5; }, seconds(30))) << h_->LogTail("gateway");
  stop = true;
  load.join();
  EXPECT_EQ(wrong, 0);
}

// An online batch's results on the work channel are also its BatchDone (the
// worker sends no other): each answer gives the worker its credit back. With
// a credit of 1 and a batch timeout far beyond the test, one lost credit
// would leave every later request waiting until its 504.
TEST_F(GatewayClusterTest, EachOnlineAnswerGivesTheWorkerItsCreditBack) {
  h_->topology().workers.count = 1;
  h_->topology().workers.credit = 1;
  h_->topology().ventilator.batch_timeout_ms = 120000;
  h_->topology().gateway.request_timeout_ms = 10000;
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(4, 1, 41);
  std::string body = "[";
  for (size_t i = 0; i < input.messages.size(); ++i) body += (i ? "," : "") + input.messages[i];
  body += "]";
  constexpr int kClients = 6;
  constexpr int kEach = 40;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", h_->topology().gateway.port);
      client.set_read_timeout(std::chrono::seconds(30));
      for (int i = 0; i < kEach; ++i) {
        httplib::Result r = client.Post("/v1/score", body, "application/json");
        if (!r || r->status != 200 || r->body.find("\"transaction_id\":4") == std::string::npos) {
          ADD_FAILURE() << (r ? std::to_string(r->status) + " " + r->body.substr(0, 200) : "no answer");
          return;  // one stuck request says enough
        }
        ++answered;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered, kClients * kEach) << h_->LogTail("gateway");

  // The ventilator counted each of the gateway's batches done (its metrics
  // follow within a second), none went elsewhere, nothing is left in flight.
  auto Sample = [&](int port, const char* name) {
    Result<std::string> text = ScrapeMetrics("127.0.0.1", port);
    return text.ok() ? SampleValue(text.value(), name).value_or(-1) : -1;
  };
  const int ventilator = h_->topology().metrics.ventilator_port;
  const double sent = Sample(h_->topology().metrics.gateway_port, "scorepipe_gateway_batches_total");
  EXPECT_GE(sent, 1);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Sample(ventilator, "scorepipe_ventilator_batches_done_total") >= sent &&
               Sample(ventilator, "scorepipe_ventilator_in_flight_batches") == 0 &&
               Sample(ventilator, "scorepipe_ventilator_batches_done_total") ==
                   Sample(ventilator, "scorepipe_ventilator_batches_dispatched_total");
      },
      seconds(10)))
      << "the gateway sent " << sent << " batches; the ventilator dispatched "
      << Sample(ventilator, "scorepipe_ventilator_batches_dispatched_total") << ", done "
      << Sample(ventilator, "scorepipe_ventilator_batches_done_total") << ", in flight "
      << Sample(ventilator, "scorepipe_ventilator_in_flight_batches");
  EXPECT_EQ(Sample(ventilator, "scorepipe_ventilator_redispatched_total"), 0);
}

TEST_F(GatewayClusterTest, WithTheHeadKilledRequestsFailFastWith503AndServeAgainWhenItIsBack) {
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(1, 1, 3);
  ASSERT_EQ(Run("POST", "/v1/score", input.messages[0]).status, 200);
  // The head host dies: `up` and every node it started, at once.
  std::vector<pid_t> nodes;
  for (const char* node : {"ventilator", "bridge", "sink", "worker-1", "worker-2"})
    nodes.push_back(h_->NodePid(node));
  h_->up().Signal(SIGKILL);
  for (pid_t pid : nodes) {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  ASSERT_TRUE(WaitUntil([&] { return Run("GET", "/v2/health/ready").status == 400; }, seconds(10)))
      << h_->LogTail("gateway");
  const auto started = std::chrono::steady_clock::now();
  Curl down = Run("POST", "/v1/score", input.messages[0]);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_LT(took, seconds(2));
  // The head comes back: the gateway serves again without a restart.
  ASSERT_TRUE(h_->up().WaitFor(seconds(10)));

  ASSERT_TRUE(h_->StartUp().ok());
  EXPECT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  EXPECT_EQ(Run("POST", "/v1/score", input.messages[0]).status, 200);
}

// The upstream results a task's answer holds (its "results" array).
std::vector<std::string> TaskResults(const std::string& answer, std::string* status) {
  simdjson::dom::parser json;
  simdjson::dom::element doc;
  std::vector<std::string> out;
  if (json.parse(answer).get(doc) != simdjson::SUCCESS) return out;
  std::string_view text;
  if (doc["status"].get(text) == simdjson::SUCCESS) *status = std::string(text);
  simdjson::dom::array results;
  if (doc["results"].get(results) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element result : results) out.push_back(simdjson::minify(result));
  return out;
}

std::string TaskId(const std::string& answer) {
  const size_t at = answer.find("\"task_id\":\"");
  return at == std::string::npos ? "" : answer.substr(at + 11, 32);
}

TEST_F(GatewayClusterTest, ATaskIsAcceptedAt202ThenAnsweredWithTheModelsOwnScores) {
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(5, 10, 4);
  std::string body = "[";
  for (size_t i = 0; i < input.messages.size(); ++i) body += (i ? "," : "") + input.messages[i];
  body += "]";
  Curl accepted = Run("POST", "/v1/tasks", body);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_THAT(accepted.body, HasSubstr("\"status\":\"PENDING\""));
  const std::string id = TaskId(accepted.body);
  ASSERT_EQ(id.size(), 32u) << accepted.body;
  std::string status;
  std::vector<std::string> results;
  ASSERT_TRUE(WaitUntil(
      [&] {
        results = TaskResults(Run("GET", "/v1/tasks/" + id).body, &status);
        return status == "SUCCESS";
      },
      seconds(10)))
      << status;
  Status same = CheckAgainstModel(results, input.parsed, h_->topology_path());
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Run("GET", "/v1/tasks/0123456789abcdef0123456789abcdef").status, 404);
  EXPECT_EQ(Run("POST", "/v1/tasks", "[").status, 400);
  EXPECT_EQ(Run("GET", "/v1/tasks").status, 405);
}

TEST_F(GatewayClusterTest, TheGatewayKilledLosesNoAcceptedTaskAndEachIsAnsweredOnce) {
  h_->topology().queue.inflight_timeout_ms = 2000;  // a dead gateway's tasks are taken over after this
  ASSERT_TRUE(h_->StartUp().ok());
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  const SyntheticInput input = MakeSyntheticInput(3, 1, 8);
  const std::string body = "[" + input.messages[0] + "," + input.messages[1] + "," + input.messages[2] + "]";
  std::vector<std::string> ids;
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    while (!stop) {
      Curl c = Run("POST", "/v1/tasks", body);
      if (c.status == 202) {
        std::lock_guard<std::mutex> lock(mu);
        ids.push_back(TaskId(c.body));
      }
    }
  });
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return ids.size() >= 20;
      },
      seconds(30)));
  stop = true;
  producer.join();
  // The head pauses (the ventilator stopped, not gone): tasks are still
  // accepted (recorded in Redis) but not answered; then the gateway dies.
  const pid_t ventilator = h_->NodePid("ventilator");
  ASSERT_GT(ventilator, 0);
  ::kill(ventilator, SIGSTOP);
  size_t pending = 0;
  for (int i = 0; i < 10; ++i) {
    Curl c = Run("POST", "/v1/tasks", body);
    ASSERT_EQ(c.status, 202) << c.body;
    ids.push_back(TaskId(c.body));
  }
  for (const std::string& id : ids) {
    pending += Run("GET", "/v1/tasks/" + id).body.find("PENDING") != std::string::npos ? 1 : 0;
  }
  EXPECT_GE(pending, 10u);
  gateway_->Signal(SIGKILL);
  ASSERT_TRUE(gateway_->WaitFor(seconds(10)));
  ::kill(ventilator, SIGCONT);
  StartGateway();
  ASSERT_TRUE(WaitReady(seconds(30))) << h_->LogTail("gateway");
  size_t answered = 0;
  for (const std::string& id : ids) {
    std::string status;
    std::vector<std::string> results;
    const bool done = WaitUntil(
        [&] {
          results = TaskResults(Run("GET", "/v1/tasks/" + id).body, &status);
          return status == "SUCCESS" || status == "FAILURE";
        },
        seconds(20));
    EXPECT_TRUE(done && status == "SUCCESS") << id << ": " << status;
    Status same =
        CheckAgainstModel(results, {input.parsed[0], input.parsed[1], input.parsed[2]}, h_->topology_path());
    EXPECT_TRUE(same.ok()) << id << ": " << same.message();
    answered += done ? 1 : 0;
  }
  EXPECT_EQ(answered, ids.size());
  // Nothing left leased.
  EXPECT_EQ(h_->redis().Command({"ZCARD", "scorepipe:pending"}).value()->integer, 0);
  std::cout << ids.size() << " tasks accepted before the kill (" << pending
            << " of them unanswered then), every one answered once\n";
}

}  // namespace
}  // namespace scorepipe::testing
