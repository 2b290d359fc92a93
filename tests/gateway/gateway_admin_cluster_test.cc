// Model administration through the gateway of a running registry cluster:
// a steady stream of /v1/score requests while an admin promotes v2 and rolls
// back to v1 over HTTP. Every item is scored by exactly the version its
// answer names (v1, the demo XGBoost model, and v2, a linear one, score
// differently), both versions answer, the history says who did it, and the
// admin endpoints refuse callers without an admin token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "config/topology_writer.h"
#include "proto/json_writer.h"
#include "scoring/model.h"
#include "tests/integration/registry_cluster.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/result_check.h"
#include "tests/support/run_command.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr const char* kAdminToken = "adm1n-t0ken";

class GatewayAdminClusterTest : public RegistryClusterTest {
 protected:
  void StartClusterAndGateway() {
    Result<int> port = FindFreePort();
    ASSERT_TRUE(port.ok());
    GatewayConfig& g = h_->topology().gateway;
    g.port = port.value();
    g.security = GatewaySecurity::kNone;
    g.max_queue_delay_us = 100;
    g.admin_tokens_file = (h_->dir() / "admin-tokens").string();
    std::ofstream(g.admin_tokens_file) << "# who may promote\nana " << kAdminToken << "\n";
    ASSERT_TRUE(h_->StartUp().ok());
    ASSERT_TRUE(WaitForEveryWorker([](const WorkerStatus& w) { return w.model_version == "v1"; }))
        << h_->LogTail("worker-1");
    auto gateway = h_->StartRole("gateway", {}, "gateway");
    ASSERT_TRUE(gateway.ok()) << gateway.status().message();
    gateway_.emplace(std::move(gateway).value());
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto r = Client().Get("/v2/health/ready");
          return r && r->status == 200;
        },
        std::chrono::seconds(15)))
        << h_->LogTail("gateway");
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", h_->topology().gateway.port);
    client.set_read_timeout(20, 0);
    return client;
  }

  httplib::Result Admin(const std::string& method, const std::string& path, const std::string& body = "",
                        const std::string& token = kAdminToken) {
    httplib::Client client = Client();
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (method == "GET") return client.Get(path, headers);
    return client.Post(path, headers, body, "application/json");
  }

  std::optional<ChildProcess> gateway_;
};

// One answered item: the version named and the confidence given.
struct Scored {
  size_t item = 0;
  std::string version;
  double confidence = 0;
  bool is_fraudulent = false;
};

TEST_F(GatewayAdminClusterTest, PromoteAndRollbackOverHttpWhileScoringEachAnswerNamesTheVersionThatScoredIt) {
  StartClusterAndGateway();
  const SyntheticInput input = MakeSyntheticInput(40, 1, 20);
  std::string body = "[";
  for (size_t i = 0; i < input.messages.size(); ++i) body += (i ? "," : "") + input.messages[i];
  body += "]";

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<Scored> scored;
  std::map<std::string, int> seen;  // version -> items answered
  std::vector<std::string> failures;
  std::thread client([&] {
    httplib::Client c = Client();
    simdjson::dom::parser parser;
    while (!stop.load()) {
      auto r = c.Post("/v1/score", body, "application/json");
      std::lock_guard<std::mutex> lock(mu);
      if (!r || r->status != 200) {
        failures.push_back(r ? std::to_string(r->status) + " " + r->body : "no answer");
        continue;
      }
      simdjson::dom::array items;
      if (parser.parse(r->body).get(items) != simdjson::SUCCESS || items.size() != input.parsed.size()) {
        failures.push_back("bad body " + r->body.substr(0, 200));
        continue;
      }
      size_t i = 0;
      for (simdjson::dom::element item : items) {
        Scored s;
        s.item = i++;
        std::string_view version;
        int64_t fraudulent = -1;  // the upstream's 0 or 1
        if (item["model_version"].get(version) != simdjson::SUCCESS ||
            item["confidence"].get(s.confidence) != simdjson::SUCCESS ||
            item["is_fraudulent"].get(fraudulent) != simdjson::SUCCESS) {
          failures.push_back("an item without model_version, confidence or is_fraudulent: " +
                             std::string(simdjson::minify(item)));
          continue;
        }
        s.version = std::string(version);
        s.is_fraudulent = fraudulent == 1;
        ++seen[s.version];
        scored.push_back(std::move(s));
      }
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, client};
  auto SeenNow = [&](const std::string& version) {
    std::lock_guard<std::mutex> lock(mu);
    return seen[version];
  };
  auto Failures = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return failures.empty() ? std::string() : failures.front() + " (" + std::to_string(failures.size()) + ")";
  };
  ASSERT_TRUE(WaitUntil([&] { return SeenNow("v1") > 0; }, std::chrono::seconds(10))) << Failures();

  auto promoted = Admin("POST", "/v1/models/fraud/promote", R"({"version":"v2","note":"over http"})");
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->status, 200) << promoted->body;
  EXPECT_TRUE(WaitUntil([&] { return SeenNow("v2") > 200; }, std::chrono::seconds(10)));
  const int v1_before_rollback = SeenNow("v1");
  auto rolled = Admin("POST", "/v1/models/fraud/rollback", R"({"note":"back"})");
  ASSERT_TRUE(rolled);
  EXPECT_EQ(rolled->status, 200) << rolled->body;
  EXPECT_TRUE(WaitUntil([&] { return SeenNow("v1") > v1_before_rollback + 200; }, std::chrono::seconds(10)));
  stop = true;
  client.join();

  EXPECT_THAT(failures, ::testing::IsEmpty());
  std::map<std::string, std::vector<ScoreResult>> expected;
  for (const std::string version : {"v1", "v2"}) {
    Scorer scorer = VersionScorer(version);
    ASSERT_TRUE(scorer.Score(input.parsed, &expected[version]).ok());
  }
  size_t mismatches = 0;
  for (const Scored& s : scored) {
    ASSERT_TRUE(expected.count(s.version)) << s.version;
    const ScoreResult& want = expected[s.version][s.item];
    if (std::abs(want.confidence - s.confidence) > 1e-9 || want.is_fraudulent != s.is_fraudulent)
      ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << scored.size() << " items";
  // The versions score differently: otherwise the check above proves nothing.
  size_t differ = 0;
  for (size_t i = 0; i < input.parsed.size(); ++i) {
    differ += std::abs(expected["v1"][i].confidence - expected["v2"][i].confidence) > 1e-6;
  }
  EXPECT_GT(differ, input.parsed.size() / 2);

  auto history = Admin("GET", "/v1/models/fraud/history");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200);
  EXPECT_THAT(history->body, HasSubstr(R"("action":"promote","version":"v2","by":"ana")"));
  EXPECT_THAT(history->body, HasSubstr(R"("action":"rollback","version":"v1","by":"ana")"));
  auto described = Admin("GET", "/v1/models/fraud");
  ASSERT_TRUE(described);
  EXPECT_THAT(described->body, HasSubstr(R"("live":"v1")"));
}

TEST_F(GatewayAdminClusterTest, AdminEndpointsNeedAnAdminToken) {
  StartClusterAndGateway();
  auto none = Admin("GET", "/v1/models", "", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  auto wrong = Admin("POST", "/v1/models/fraud/promote", R"({"version":"v2"})", "not-the-token");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto seed_form = Admin("POST", "/model/promote", R"({"model_name":"fraud","model_version_id":"v2"})", "");
  ASSERT_TRUE(seed_form);
  EXPECT_EQ(seed_form->status, 401);
  auto live = ModelRegistry(registry_).LiveVersion("fraud");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->value_or(""), "v1");
  // Scoring needs no token with security none; the admin token works.
  auto list = Admin("GET", "/v1/models");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200) << list->body;
  EXPECT_THAT(list->body, HasSubstr(R"({"name":"fraud","live":"v1","shadow":null})"));

  // As an operator's scripts call it: curl, and Python's http.client.
  const std::string base = "http://127.0.0.1:" + std::to_string(h_->topology().gateway.port);
  std::string out;
  EXPECT_EQ(RunCommand({"/usr/bin/curl", "-s", "-w", "\n%{http_code}", "-H",
                        std::string("Authorization: Bearer ") + kAdminToken, "-X", "POST", "-d",
                        R"({"version":"v9"})", base + "/v1/models/fraud/promote"},
                       (h_->dir() / "curl-admin.log").string(), &out),
            0);
  EXPECT_THAT(out, HasSubstr("has no version 'v9'"));
  EXPECT_THAT(out, ::testing::EndsWith("\n404"));
  const std::string script =
      "import http.client, json, sys\n"
      "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=20)\n"
      "c.request('GET', '/v1/models/fraud', headers={'Authorization': 'Bearer ' + sys.argv[2]})\n"
      "r = c.getresponse(); body = json.loads(r.read())\n"
      "assert r.status == 200, r.status\n"
      "assert body['live'] == 'v1' and [v['version'] for v in body['versions']] == ['v1', 'v2'], body\n"
      "c.request('GET', '/model/demote?model_name=fraud', headers={'Authorization': 'Bearer ' + "
      "sys.argv[2]})\n"
      "r = c.getresponse(); body = json.loads(r.read())\n"
      "assert r.status == 409 and 'nothing to roll back' in body['error'], (r.status, body)\n"
      "print('ok')\n";
  EXPECT_EQ(
      RunCommand({"/usr/bin/python3", "-c", script, std::to_string(h_->topology().gateway.port), kAdminToken},
                 (h_->dir() / "python-admin.log").string(), &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("ok"));
}

}  // namespace
}  // namespace scorepipe::testing
