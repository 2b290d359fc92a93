// ResolveModel and ModelWatcher: a worker's model from a registry, followed
// through promotions, failed loads and roll-backs.
#include "scoring/model_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "scoring/model_registry.h"
#include "tests/scoring/model_test_util.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::WaitUntil;

constexpr auto kWait = std::chrono::seconds(10);

class ModelWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    config_.registry = (dir_.path() / "registry").string();
    config_.name = "fraud";
    config_.watch_ms = 100;
  }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // `version` of "fraud" from `model_path` (the demo's features).
  void Register(const std::string& version, const std::string& model_path) {
    RegisterRequest request;
    request.name = "fraud";
    request.version = version;
    request.model_path = model_path;
    request.features_path = testing::DemoDir() + "/features.yaml";
    Result<HistoryRecord> record = registry_.Register(request);
    ASSERT_TRUE(record.ok()) << record.status().message();
  }
  void Promote(const std::string& version, bool force = false) {
    Result<PromoteResult> result =
        registry_.Promote(PromoteRequest{"fraud", version, force, std::nullopt, "", ""});
    ASSERT_TRUE(result.ok()) << result.status().message();
  }

  // Overwrites `file` of a registered version: damaged on disk since.
  void Damage(const std::string& version, const std::string& file, const std::string& text) {
    std::ofstream(fs::path(registry_.VersionDir("fraud", version)) / file, std::ios::trunc) << text;
  }

  // A linear model on the demo's four features.
  std::string LinearModel() {
    return Write("linear.yaml", "format: linear\nweights: [0, 0, 0, 0.001]\nbias: -2\n");
  }

  // Waits for the watcher to offer a loaded version; empty when none came.
  std::optional<LoadedModel> WaitForLoaded(ModelWatcher& watcher) {
    std::optional<LoadedModel> loaded;
    WaitUntil([&] { return (loaded = watcher.TakeLoaded()).has_value(); }, kWait);
    return loaded;
  }

  scorepipe::testing::TempDir dir_{"scorepipe-watcher"};
  ModelConfig config_;
  ModelRegistry registry_{(dir_.path() / "registry").string()};
};

TEST(ResolveModelTest, AFilesModelIsItself) {
  const ModelConfig files = testing::DemoModelConfig();
  Result<ModelConfig> resolved = ResolveModel(files);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->path, files.path);
  EXPECT_EQ(resolved->version, files.version);
}

TEST_F(ModelWatcherTest, ResolveFindsTheLiveVersionsFiles) {
  Register("v1", testing::DemoDir() + "/model.json");
  Register("v2", LinearModel());
  Promote("v2");
  Result<ModelConfig> resolved = ResolveModel(config_);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  EXPECT_EQ(resolved->version, "v2");
  EXPECT_EQ(resolved->format, ModelFormat::kLinear);
  EXPECT_EQ(resolved->path, registry_.VersionDir("fraud", "v2") + "/model.yaml");
  EXPECT_EQ(resolved->features, registry_.VersionDir("fraud", "v2") + "/features.yaml");
  EXPECT_EQ(resolved->registry, config_.registry);
  Result<StartingModel> loaded = LoadModelOf(config_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->loaded.scorer.model().version(), "v2");
  EXPECT_TRUE(loaded->skipped.empty());
}

TEST_F(ModelWatcherTest, AtStartTheMostRecentVersionLiveBeforeALiveOneThatDoesNotLoadIsTaken) {
  Register("v1", testing::DemoDir() + "/model.json");
  Register("v2", LinearModel());
  Register("v3", testing::DemoDir() + "/model.json");
  Register("v4", testing::DemoDir() + "/model.json");  // registered after the live one: never a fallback
  Register("v5", testing::DemoDir() + "/model.json");  // registered before it, never live: never a fallback
  Promote("v1");
  Promote("v2");
  Promote("v3");
  Damage("v3", "model.json", "{\"learner\": \"trunc");
  Result<StartingModel> started = LoadModelOf(config_);
  ASSERT_TRUE(started.ok()) << started.status().message();
  EXPECT_EQ(started->loaded.config.version, "v2");
  EXPECT_EQ(started->loaded.scorer.model().version(), "v2");
  EXPECT_EQ(started->loaded.config.format, ModelFormat::kLinear);
  ASSERT_EQ(started->skipped.size(), 1u);
  EXPECT_EQ(started->skipped[0].version, "v3");
  EXPECT_THAT(started->skipped[0].reason, HasSubstr(registry_.VersionDir("fraud", "v3") + "/model.json"));
  EXPECT_THAT(started->skipped[0].reason, HasSubstr("not a valid XGBoost model"));

  Damage("v2", "model.yaml", "format: linear\nweights: [0, 0");
  started = LoadModelOf(config_);
  ASSERT_TRUE(started.ok()) << started.status().message();
  EXPECT_EQ(started->loaded.config.version, "v1");
  ASSERT_EQ(started->skipped.size(), 2u);
  EXPECT_EQ(started->skipped[1].version, "v2");
  EXPECT_EQ(*registry_.LiveVersion("fraud"), "v3") << "the registry is not changed";

  Damage("v1", "features.yaml", "features: []\n");
  Result<StartingModel> none = LoadModelOf(config_);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(),
              HasSubstr("model fraud in the registry " + config_.registry + ": no version loads"));
  for (const char* tried : {"v3 (live): ", "; v2: ", "; v1: "}) {
    EXPECT_THAT(none.status().message(), HasSubstr(tried));
  }
  EXPECT_THAT(none.status().message(), ::testing::Not(HasSubstr("v4")));
  EXPECT_THAT(none.status().message(), ::testing::Not(HasSubstr("v5")));
}

TEST_F(ModelWatcherTest, AFilesModelThatDoesNotLoadIsAnError) {
  ModelConfig files = testing::DemoModelConfig();
  files.path = Write("cut.json", "{\"learner\": ");
  Result<StartingModel> started = LoadModelOf(files);
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.status().message(), HasSubstr(files.path));
}

TEST_F(ModelWatcherTest, NoLiveVersionSaysHowToPutOneLive) {
  Register("v1", testing::DemoDir() + "/model.json");
  Result<ModelConfig> resolved = ResolveModel(config_);
  ASSERT_FALSE(resolved.ok());
  EXPECT_THAT(resolved.status().message(), HasSubstr("model fraud in the registry " + config_.registry +
                                                     ": no version is live; put one live with `scorepipe "
                                                     "model promote fraud VERSION`"));
  config_.name = "unknown";
  EXPECT_FALSE(ResolveModel(config_).ok());
}

TEST_F(ModelWatcherTest, FollowsPromotionsAndRollbacks) {
  Register("v1", testing::DemoDir() + "/model.json");
  Register("v2", LinearModel());
  Promote("v1");
  ModelWatcher watcher(config_, "v1", nullptr);
  watcher.Start();
  Promote("v2");
  std::optional<LoadedModel> v2 = WaitForLoaded(watcher);
  ASSERT_TRUE(v2.has_value()) << "v2 was never offered";
  EXPECT_EQ(v2->scorer.model().version(), "v2");
  EXPECT_EQ(v2->config.format, ModelFormat::kLinear);
  ASSERT_TRUE(registry_.Rollback("fraud", "").ok());
  std::optional<LoadedModel> v1 = WaitForLoaded(watcher);
  ASSERT_TRUE(v1.has_value()) << "v1 was never offered back";
  EXPECT_EQ(v1->scorer.model().version(), "v1");
  EXPECT_EQ(watcher.LastError(), "");
}

TEST_F(ModelWatcherTest, AVersionThatDoesNotLoadIsReportedAndTheOldOneKept) {
  Register("v1", testing::DemoDir() + "/model.json");
  Register("broken", testing::DemoDir() + "/model.json");
  Promote("v1");
  // Live, and damaged on disk since: what a worker that started on v1
  // (LoadModelOf) watches.
  Promote("broken");
  Damage("broken", "model.json", "{\"learner\": \"not a model\"}");
  std::atomic<int> failures{0};
  ModelWatcher watcher(config_, "v1", [&](const Status&) { ++failures; });
  watcher.Start();
  ASSERT_TRUE(WaitUntil([&] { return failures > 0; }, kWait));
  EXPECT_THAT(watcher.LastError(), HasSubstr("version broken"));
  EXPECT_FALSE(watcher.TakeLoaded().has_value());
  // Looked at again every 100 ms, the failed version is not loaded again at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(failures, 1);
  // Rolled back to the running version: the failure is over, nothing to load.
  ASSERT_TRUE(registry_.Rollback("fraud", "").ok());
  ASSERT_TRUE(WaitUntil([&] { return watcher.LastError().empty(); }, kWait));
  EXPECT_FALSE(watcher.TakeLoaded().has_value());
}

TEST_F(ModelWatcherTest, FollowsTheVersionInShadowUntilItEnds) {
  Register("v1", testing::DemoDir() + "/model.json");
  Register("v2", LinearModel());
  Promote("v1");
  ModelWatcher watcher(config_, "v1", nullptr);
  watcher.Start();
  ASSERT_TRUE(registry_.Shadow("fraud", "v2", "").ok());
  std::optional<ModelWatcher::ShadowChange> change;
  ASSERT_TRUE(WaitUntil([&] { return (change = watcher.TakeShadowChange()).has_value(); }, kWait))
      << "v2 was never offered in shadow";
  ASSERT_TRUE(change->model.has_value());
  EXPECT_EQ(change->model->scorer.model().version(), "v2");
  EXPECT_EQ(change->model->config.format, ModelFormat::kLinear);
  EXPECT_FALSE(watcher.TakeLoaded().has_value()) << "the live version did not change";

  ASSERT_TRUE(registry_.Unshadow("fraud", "").ok());
  change.reset();
  ASSERT_TRUE(WaitUntil([&] { return (change = watcher.TakeShadowChange()).has_value(); }, kWait))
      << "the end of the shadowing was never offered";
  EXPECT_FALSE(change->model.has_value());

  // Promoting the version in shadow ends its shadowing and puts it live.
  ASSERT_TRUE(registry_.Shadow("fraud", "v2", "").ok());
  ASSERT_TRUE(WaitUntil([&] { return (change = watcher.TakeShadowChange()).has_value(); }, kWait));
  ASSERT_TRUE(change->model.has_value());
  Promote("v2");
  std::optional<LoadedModel> v2 = WaitForLoaded(watcher);
  ASSERT_TRUE(v2.has_value());
  ASSERT_TRUE(WaitUntil([&] { return (change = watcher.TakeShadowChange()).has_value(); }, kWait));
  EXPECT_FALSE(change->model.has_value());
}

}  // namespace
}  // namespace scorepipe
