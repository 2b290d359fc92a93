// A test cluster that runs a registry model: the fixture of the tests that
// drive `scorepipe model ...` against running workers (model_rollout_test,
// shadow_test). The registry lives in the cluster's folder with two versions
// of "fraud" that score differently: v1 the demo XGBoost model (live), v2 a
// linear model (registered only). The topology names the registry model,
// looked at every kWatchMs; the cluster is not started.
#ifndef SCOREPIPE_TESTS_INTEGRATION_REGISTRY_CLUSTER_H_
#define SCOREPIPE_TESTS_INTEGRATION_REGISTRY_CLUSTER_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scoring/model.h"
#include "scoring/model_registry.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"
#include "tests/support/status_probe.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {

class RegistryClusterTest : public ::testing::Test {
 protected:
  static constexpr int kWatchMs = 200;

  void SetUp() override {
    auto created = ClusterHarness::Create(2);
    ASSERT_TRUE(created.ok()) << created.status().message();
    h_ = std::move(created.value());
    registry_ = (h_->dir() / "registry").string();
    const std::string features = ClusterHarness::SourceDir() + "/models/demo/features.yaml";
    const std::string linear = (h_->dir() / "linear.yaml").string();
    std::ofstream(linear) << "format: linear\nweights: [0, 0, 0, 0.002]\nbias: -1.5\n";
    ASSERT_EQ(Model({"register", "fraud", "--version", "v1", "--model",
                     ClusterHarness::SourceDir() + "/models/demo/model.json", "--features", features}),
              0);
    ASSERT_EQ(Model({"register", "fraud", "--version", "v2", "--model", linear, "--features", features}), 0);
    ASSERT_EQ(Model({"promote", "fraud", "v1"}), 0);
    ModelConfig& model = h_->topology().model;
    model = ModelConfig{};
    model.registry = registry_;
    model.name = "fraud";
    model.watch_ms = kWatchMs;
  }

  // `scorepipe model ARGS --registry <the test's registry>`; its exit code
  // (expected 0), its output in *out when given.
  int Model(std::vector<std::string> args, std::string* out = nullptr) {
    args.insert(args.begin(), {ClusterHarness::BinDir() + "/scorepipe", "model"});
    args.insert(args.begin() + 3, {"--registry", registry_});
    std::string text;
    const int code = RunCommand(args, (h_->dir() / "model-command.log").string(), &text);
    EXPECT_EQ(code, 0) << text;
    if (out != nullptr) *out = text;
    return code;
  }

  // The scorer of one registry version, to check what the cluster wrote.
  Scorer VersionScorer(const std::string& version) {
    auto config = ModelRegistry(registry_).VersionConfig("fraud", version);
    EXPECT_TRUE(config.ok()) << config.status().message();
    auto scorer = LoadScorer(config.value());
    EXPECT_TRUE(scorer.ok()) << scorer.status().message();
    return std::move(scorer.value());
  }

  // Waits until the ventilator's status (`scorepipe status`) lists both
  // workers and each satisfies `ok`; *last, when given, is the last status
  // seen. The cluster must be started.
  bool WaitForEveryWorker(const std::function<bool(const WorkerStatus&)>& ok, ClusterStatus* last = nullptr) {
    if (!probe_) {
      auto security = h_->security();
      if (!security.ok()) return false;
      probe_ = std::make_unique<StatusProbe>(h_->topology().ventilator.status.connect, security.value());
    }
    ClusterStatus seen;
    const bool reached = WaitUntil(
        [&] {
          auto status = probe_->Query();
          if (!status.ok()) return false;
          seen = status.value();
          return seen.workers.size() == 2 && std::all_of(seen.workers.begin(), seen.workers.end(), ok);
        },
        std::chrono::seconds(15), std::chrono::milliseconds(100));
    if (last != nullptr) *last = seen;
    return reached;
  }

  std::unique_ptr<ClusterHarness> h_;
  std::string registry_;
  std::unique_ptr<StatusProbe> probe_;  // made by the first WaitForEveryWorker
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_INTEGRATION_REGISTRY_CLUSTER_H_
