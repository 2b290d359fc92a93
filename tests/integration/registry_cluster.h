// A test cluster that runs a registry model: the fixture of the tests that
// drive `scorepipe model ...` against running workers (model_rollout_test,
// shadow_test). The registry lives in the cluster's folder with two versions
// of "fraud" that score differently: v1 the demo XGBoost model (live), v2 a
// linear model (registered only). The topology names the registry model,
// looked at every kWatchMs; the cluster is not started.
#ifndef SCOREPIPE_TESTS_INTEGRATION_REGISTRY_CLUSTER_H_
#define SCOREPIPE_TESTS_INTEGRATION_REGISTRY_CLUSTER_H_

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"
#include "worker/model.h"
#include "worker/model_registry.h"

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
    const ModelRegistry registry(registry_);
    auto meta = registry.ReadMeta("fraud", version);
    EXPECT_TRUE(meta.ok());
    ModelConfig config;
    config.path = registry.VersionDir("fraud", version) + "/" + meta->model_file;
    config.features = registry.VersionDir("fraud", version) + "/features.yaml";
    config.format = meta->format;
    config.version = version;
    auto scorer = LoadScorer(config);
    EXPECT_TRUE(scorer.ok()) << scorer.status().message();
    return std::move(scorer.value());
  }

  std::unique_ptr<ClusterHarness> h_;
  std::string registry_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_INTEGRATION_REGISTRY_CLUSTER_H_
