// ModelRegistry: versions on disk that are never replaced, an append-only
// history, and promote checks that use the worker's own loaders.
#include "scoring/model_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/scoring/model_test_util.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The demo model and its features, as `name`.
RegisterRequest DemoRequest(const std::string& name) {
  RegisterRequest request;
  request.name = name;
  request.model_path = testing::DemoDir() + "/model.json";
  request.features_path = testing::DemoDir() + "/features.yaml";
  return request;
}

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // The demo model with its own features, under `version`; `metrics` is
  // YAML text for --metrics (empty: none).
  Result<HistoryRecord> RegisterDemo(const std::string& version, const std::string& metrics = "",
                                     const std::string& features = "") {
    RegisterRequest request;
    request.name = "fraud";
    request.version = version;
    request.model_path = testing::DemoDir() + "/model.json";
    request.features_path = features.empty() ? testing::DemoDir() + "/features.yaml" : features;
    if (!metrics.empty()) request.metrics_path = Write("metrics-" + version + ".yaml", metrics);
    return registry_.Register(request);
  }

  Result<PromoteResult> Promote(const std::string& version, bool force = false,
                                std::optional<double> min_auc = std::nullopt) {
    return registry_.Promote(PromoteRequest{"fraud", version, force, min_auc, "", ""});
  }

  std::optional<std::string> Live() {
    Result<std::optional<std::string>> live = registry_.LiveVersion("fraud");
    EXPECT_TRUE(live.ok()) << live.status().message();
    return live.ok() ? *live : std::nullopt;
  }

  // The demo's features.yaml with `amount` dropped (3 features for a 4-feature model).
  std::string ThreeFeatures() {
    return Write(
        "three.yaml",
        "features:\n"
        "  - {name: timestamp, field: timestamp, transform: unix_seconds}\n"
        "  - {name: status, field: status, transform: index, values: [submitted, accepted, rejected]}\n"
        "  - {name: vendor_id, field: vendor_id, transform: number}\n");
  }

  // Overwrites `file` of a registered version, as a disk or a hand might
  // after it was registered.
  void Damage(const std::string& version, const std::string& file, const std::string& text) {
    const fs::path path = root() / "fraud" / version / file;
    ASSERT_TRUE(fs::exists(path)) << path;
    fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }

  // The registry holds nothing of "fraud": no version folder, no history.
  void ExpectNothingRecorded() {
    Result<std::vector<HistoryRecord>> history = registry_.History("fraud");
    ASSERT_TRUE(history.ok()) << history.status().message();
    EXPECT_TRUE(history->empty()) << history->size() << " records";
    std::error_code error;
    if (fs::exists(root() / "fraud", error)) {
      for (const auto& entry : fs::directory_iterator(root() / "fraud")) {
        EXPECT_EQ(entry.path().filename(), "history.jsonl") << "left behind: " << entry.path();
      }
    }
  }

  fs::path root() const { return dir_.path() / "registry"; }

  scorepipe::testing::TempDir dir_{"scorepipe-registry"};
  ModelRegistry registry_{(dir_.path() / "registry").string()};
};

TEST_F(ModelRegistryTest, AProgramRegistersItsMetricsSummaryAndSourceWithoutFiles) {
  RegisterRequest request = DemoRequest("fraud");
  request.metrics_path = Write("metrics.yaml", "auc: 0.5\nlogloss: 0.2\n");
  request.metrics = {{"auc", 0.91}, {"rows", 200000}, {"ratio", 1e-7}};  // over the file's auc
  request.data_summary = YAML::Load("{file: /data/june.csv, rows: 200000}");
  request.model_source = "scorepipe train --data /data/june.csv";
  ASSERT_TRUE(registry_.Register(request).ok());
  Result<ModelMeta> meta = registry_.ReadMeta("fraud", "v1");
  ASSERT_TRUE(meta.ok()) << meta.status().message();
  EXPECT_EQ(meta->metrics.at("auc"), 0.91);
  EXPECT_EQ(meta->metrics.at("logloss"), 0.2);
  EXPECT_EQ(meta->metrics.at("rows"), 200000);
  EXPECT_EQ(meta->metrics.at("ratio"), 1e-7);
  EXPECT_EQ(meta->data_summary["file"].as<std::string>(), "/data/june.csv");
  EXPECT_EQ(meta->model_source, "scorepipe train --data /data/june.csv");
  // Whole numbers stay whole; others keep their shortest exact form.
  const std::string text = ReadFile(root() / "fraud" / "v1" / "meta.yaml");
  EXPECT_THAT(text, HasSubstr("rows: 200000\n"));
  EXPECT_THAT(text, HasSubstr("ratio: 1e-07\n"));

  request.data_summary = YAML::Load("[not, a, map]");
  request.version = "v2";
  EXPECT_EQ(registry_.Register(request).status().message(), "the data summary must be a map");
}

TEST_F(ModelRegistryTest, RegisterCopiesTheFilesAndWritesMeta) {
  Result<HistoryRecord> record = RegisterDemo("", "auc: 0.91\nlogloss: 0.2\n");
  ASSERT_TRUE(record.ok()) << record.status().message();
  EXPECT_EQ(record->version, "v1");
  EXPECT_EQ(record->action, HistoryAction::kRegister);
  const fs::path v1 = root() / "fraud" / "v1";
  EXPECT_EQ(ReadFile(v1 / "model.json"), ReadFile(testing::DemoDir() + "/model.json"));
  EXPECT_EQ(ReadFile(v1 / "features.yaml"), ReadFile(testing::DemoDir() + "/features.yaml"));

  Result<ModelMeta> meta = registry_.ReadMeta("fraud", "v1");
  ASSERT_TRUE(meta.ok()) << meta.status().message();
  EXPECT_EQ(meta->format, ModelFormat::kXgboost);
  EXPECT_EQ(meta->model_file, "model.json");
  EXPECT_EQ(meta->metrics.at("auc"), 0.91);
  EXPECT_EQ(meta->metrics.at("logloss"), 0.2);
  EXPECT_THAT(meta->created_at, ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
  EXPECT_FALSE(meta->registered_by.empty());
  EXPECT_EQ(meta->model_source, testing::DemoDir() + "/model.json");

  ASSERT_TRUE(RegisterDemo("").ok());
  EXPECT_THAT(*registry_.ListVersions("fraud"), ElementsAre("v1", "v2"));
  EXPECT_THAT(*registry_.ListModels(), ElementsAre("fraud"));
  EXPECT_EQ(Live(), std::nullopt) << "registering puts nothing live";
}

TEST_F(ModelRegistryTest, AnExistingVersionIsNeverReplaced) {
  ASSERT_TRUE(RegisterDemo("2024-06").ok());
  const std::string before = ReadFile(root() / "fraud" / "2024-06" / "meta.yaml");
  Result<HistoryRecord> again = RegisterDemo("2024-06", "auc: 0.99\n");
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("already has a version '2024-06'"));
  EXPECT_EQ(ReadFile(root() / "fraud" / "2024-06" / "meta.yaml"), before);
}

TEST_F(ModelRegistryTest, BadNamesAndVersionsAreRefused) {
  for (const char* bad : {"", ".hidden", "a/b", "..", "sp ace", "ü"}) {
    EXPECT_FALSE(ValidateRegistryName(bad, "model name").ok()) << bad;
    EXPECT_FALSE(registry_.Register(DemoRequest(bad)).ok()) << bad;
  }
  EXPECT_TRUE(ValidateRegistryName("fraud-2.v_1", "model name").ok());
  Result<HistoryRecord> bad_version = RegisterDemo("../escape");
  ASSERT_FALSE(bad_version.ok());
  EXPECT_THAT(bad_version.status().message(), HasSubstr("version '../escape'"));
  EXPECT_FALSE(fs::exists(dir_.path() / "escape"));
}

TEST_F(ModelRegistryTest, NonNumericMetricIsRefusedWithItsLine) {
  Result<HistoryRecord> record = RegisterDemo("v1", "auc: 0.9\nnotes: good\n");
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.status().message(), HasSubstr(":2:"));
  EXPECT_THAT(record.status().message(), HasSubstr("metric 'notes' is not a number"));
  EXPECT_FALSE(fs::exists(root() / "fraud" / "v1"));
}

TEST_F(ModelRegistryTest, PromoteAndRollbackWalkTheChain) {
  for (const char* v : {"v1", "v2", "v3"}) ASSERT_TRUE(RegisterDemo(v).ok());
  Result<HistoryRecord> nothing = registry_.Rollback("fraud", "");
  ASSERT_FALSE(nothing.ok());
  EXPECT_THAT(nothing.status().message(), HasSubstr("no live version"));

  ASSERT_TRUE(Promote("v1").ok());
  Result<HistoryRecord> only_one = registry_.Rollback("fraud", "");
  ASSERT_FALSE(only_one.ok());
  EXPECT_THAT(only_one.status().message(), HasSubstr("nothing to roll back to"));

  Result<PromoteResult> v2 = Promote("v2");
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  EXPECT_EQ(v2->record.from, "v1");
  ASSERT_TRUE(Promote("v3").ok());
  EXPECT_EQ(Live(), "v3");
  EXPECT_FALSE(Promote("v3").ok()) << "already live";

  Result<HistoryRecord> back = registry_.Rollback("fraud", "v3 flags too much");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->version, "v2");
  EXPECT_EQ(back->from, "v3");
  EXPECT_EQ(Live(), "v2");
  back = registry_.Rollback("fraud", "");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->version, "v1");
  EXPECT_EQ(Live(), "v1");
  EXPECT_FALSE(registry_.Rollback("fraud", "").ok()) << "v1 had nothing before it";
  EXPECT_EQ(Live(), "v1");

  Result<std::vector<HistoryRecord>> history = registry_.History("fraud");
  ASSERT_TRUE(history.ok()) << history.status().message();
  std::vector<std::string> actions;
  for (const HistoryRecord& r : *history)
    actions.push_back(std::string(HistoryActionName(r.action)) + " " + r.version);
  EXPECT_THAT(actions, ElementsAre("register v1", "register v2", "register v3", "promote v1", "promote v2",
                                   "promote v3", "rollback v2", "rollback v1"));
  EXPECT_EQ((*history)[6].note, "v3 flags too much");
}

// Records with only an action and a version, for the replay rules.
std::vector<HistoryRecord> Records(const std::vector<std::pair<HistoryAction, std::string>>& steps) {
  std::vector<HistoryRecord> history;
  for (const auto& [action, version] : steps) {
    HistoryRecord record;
    record.action = action;
    record.version = version;
    history.push_back(record);
  }
  return history;
}

TEST(ReplayShadowVersionTest, TheLastShadowHoldsUntilUnshadowedOrPutLive) {
  using A = HistoryAction;
  EXPECT_EQ(ReplayShadowVersion({}), std::nullopt);
  EXPECT_EQ(ReplayShadowVersion(Records({{A::kPromote, "v1"}, {A::kShadow, "v2"}})), "v2");
  EXPECT_EQ(ReplayShadowVersion(Records({{A::kPromote, "v1"}, {A::kShadow, "v2"}, {A::kShadow, "v3"}})),
            "v3");
  EXPECT_EQ(ReplayShadowVersion(Records({{A::kPromote, "v1"}, {A::kShadow, "v2"}, {A::kUnshadow, "v2"}})),
            std::nullopt);
  EXPECT_EQ(ReplayShadowVersion(Records({{A::kPromote, "v1"}, {A::kShadow, "v2"}, {A::kPromote, "v2"}})),
            std::nullopt)
      << "its promotion ends its shadowing";
  EXPECT_EQ(ReplayShadowVersion(Records(
                {{A::kPromote, "v1"}, {A::kShadow, "v2"}, {A::kPromote, "v2"}, {A::kRollback, "v1"}})),
            std::nullopt)
      << "a roll-back does not put it back in shadow";
  EXPECT_EQ(ReplayShadowVersion(Records({{A::kPromote, "v1"}, {A::kShadow, "v2"}, {A::kPromote, "v3"}})),
            "v2")
      << "another version's promotion leaves it in shadow";
  EXPECT_EQ(ReplayShadowVersion(Records(
                {{A::kPromote, "v1"}, {A::kPromote, "v2"}, {A::kShadow, "v1"}, {A::kRollback, "v1"}})),
            std::nullopt)
      << "a roll-back that puts it live ends its shadowing";
  EXPECT_EQ(ReplayLiveVersion(Records({{A::kPromote, "v1"}, {A::kShadow, "v2"}, {A::kUnshadow, "v2"}})), "v1")
      << "shadow records do not move the live version";
}

TEST_F(ModelRegistryTest, ShadowAndUnshadowAreRecordedAndReplayed) {
  for (const char* v : {"v1", "v2", "v3"}) ASSERT_TRUE(RegisterDemo(v).ok());
  Result<HistoryRecord> no_live = registry_.Shadow("fraud", "v2", "");
  ASSERT_FALSE(no_live.ok());
  EXPECT_THAT(no_live.status().message(), HasSubstr("no live version"));
  ASSERT_TRUE(Promote("v1").ok());
  EXPECT_THAT(registry_.Shadow("fraud", "v1", "").status().message(), HasSubstr("is live"));
  EXPECT_THAT(registry_.Shadow("fraud", "v9", "").status().message(), HasSubstr("v9"));
  EXPECT_THAT(registry_.Unshadow("fraud", "").status().message(), HasSubstr("no version in shadow"));

  Result<HistoryRecord> shadow = registry_.Shadow("fraud", "v2", "try v2");
  ASSERT_TRUE(shadow.ok()) << shadow.status().message();
  EXPECT_EQ(shadow->action, HistoryAction::kShadow);
  EXPECT_EQ(shadow->from, "v1");
  EXPECT_EQ(*registry_.ShadowVersion("fraud"), "v2");
  EXPECT_EQ(Live(), "v1");
  EXPECT_THAT(registry_.Shadow("fraud", "v2", "").status().message(), HasSubstr("already in shadow"));
  ASSERT_TRUE(registry_.Shadow("fraud", "v3", "").ok());
  EXPECT_EQ(*registry_.ShadowVersion("fraud"), "v3");

  Result<HistoryRecord> off = registry_.Unshadow("fraud", "enough");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_EQ(off->version, "v3");
  EXPECT_EQ(*registry_.ShadowVersion("fraud"), std::nullopt);

  ASSERT_TRUE(registry_.Shadow("fraud", "v2", "").ok());
  ASSERT_TRUE(Promote("v2").ok());
  EXPECT_EQ(*registry_.ShadowVersion("fraud"), std::nullopt) << "promoted: no longer in shadow";
  Result<std::vector<HistoryRecord>> history = registry_.History("fraud");
  ASSERT_TRUE(history.ok()) << history.status().message();
  std::vector<std::string> actions;
  for (const HistoryRecord& r : *history)
    actions.push_back(std::string(HistoryActionName(r.action)) + " " + r.version);
  EXPECT_THAT(actions, ElementsAre("register v1", "register v2", "register v3", "promote v1", "shadow v2",
                                   "shadow v3", "unshadow v3", "shadow v2", "promote v2"));
}

TEST_F(ModelRegistryTest, ShadowRefusesAVersionThatDoesNotLoad) {
  ASSERT_TRUE(RegisterDemo("v1").ok());
  ASSERT_TRUE(RegisterDemo("three").ok());
  ASSERT_NO_FATAL_FAILURE(Damage("three", "features.yaml", ReadFile(ThreeFeatures())));
  ASSERT_TRUE(Promote("v1").ok());
  Result<HistoryRecord> refused = registry_.Shadow("fraud", "three", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("refusing to shadow fraud three"));
  EXPECT_THAT(refused.status().message(), HasSubstr("does not load with its features"));
  EXPECT_EQ(*registry_.ShadowVersion("fraud"), std::nullopt);
}

TEST_F(ModelRegistryTest, HistoryIsAppendOnly) {
  ASSERT_TRUE(RegisterDemo("v1").ok());
  ASSERT_TRUE(RegisterDemo("v2").ok());
  const fs::path history = root() / "fraud" / "history.jsonl";
  std::string before = ReadFile(history);
  const std::vector<std::function<bool()>> steps = {
      [this] { return Promote("v1").ok(); }, [this] { return Promote("v2").ok(); },
      [this] { return registry_.Rollback("fraud", "").ok(); }, [this] { return RegisterDemo("v3").ok(); }};
  for (const auto& step : steps) {
    ASSERT_TRUE(step());
    const std::string after = ReadFile(history);
    ASSERT_GT(after.size(), before.size());
    EXPECT_EQ(after.substr(0, before.size()), before) << "earlier records changed";
    EXPECT_EQ(after.back(), '\n');
    before = after;
  }
  EXPECT_EQ(std::count(before.begin(), before.end(), '\n'), 6);
}

TEST_F(ModelRegistryTest, RegisterRefusesAFeatureCountTheModelDoesNotTake) {
  const std::string five =
      Write("five.yaml", ReadFile(testing::DemoDir() + "/features.yaml") +
                             "  - {name: customer_id, field: customer_id, transform: number}\n");
  for (const std::string& features : {ThreeFeatures(), five}) {
    Result<HistoryRecord> refused = RegisterDemo("", "", features);
    ASSERT_FALSE(refused.ok()) << features;
    EXPECT_THAT(refused.status().message(), HasSubstr("refusing to register fraud from " +
                                                      testing::DemoDir() + "/model.json with " + features));
    EXPECT_THAT(refused.status().message(), HasSubstr("does not load with its features"));
    EXPECT_THAT(refused.status().message(), HasSubstr("the model takes 4 features"));
  }
  ExpectNothingRecorded();
}

TEST_F(ModelRegistryTest, RegisterRefusesAFieldTheInputDoesNotHave) {
  Result<HistoryRecord> refused = RegisterDemo(
      "v1", "", Write("bad.yaml", "features:\n  - {name: x, field: merchant, transform: number}\n"));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("merchant"));
  ExpectNothingRecorded();
}

// Model files that do not load, each as `format`, with the demo's features.
struct BrokenModel {
  std::string what;
  std::string bytes;
  std::optional<ModelFormat> format;  // empty: by the extension (.json)
};

std::vector<BrokenModel> BrokenModels(uint32_t seed) {
  const std::string demo = ReadFile(testing::DemoDir() + "/model.json");
  const size_t end = demo.find_last_not_of(" \t\r\n");  // its closing '}'
  std::vector<BrokenModel> broken;
  std::mt19937 random(seed);
  for (int i = 0; i < 24; ++i) {
    const size_t cut = std::uniform_int_distribution<size_t>(0, end)(random);  // keeps [0, cut)
    broken.push_back(
        {"the demo model cut at byte " + std::to_string(cut), demo.substr(0, cut), std::nullopt});
  }
  std::string flipped = demo;  // a closing bracket turned into a letter
  flipped[flipped.rfind(']')] = 'x';
  broken.push_back({"a bracket overwritten", flipped, std::nullopt});
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  noise[0] = '{';
  broken.push_back({"random bytes after a '{'", noise, std::nullopt});
  broken.push_back({"JSON that is not a model", "{\"learner\": \"not a model\"}", std::nullopt});
  broken.push_back({"a linear model read as xgboost", "format: linear\nweights: [0, 0, 0, 1]\nbias: 0\n",
                    ModelFormat::kXgboost});
  broken.push_back({"an xgboost model read as linear", demo, ModelFormat::kLinear});
  broken.push_back({"a linear model with 3 weights for 4 features",
                    "format: linear\nweights: [0, 0, 1]\nbias: 0\n", ModelFormat::kLinear});
  return broken;
}

TEST_F(ModelRegistryTest, RegisterRefusesAModelThatDoesNotLoadAndRecordsNothing) {
  for (const BrokenModel& model : BrokenModels(20261124)) {
    SCOPED_TRACE(model.what);
    RegisterRequest request = DemoRequest("fraud");
    request.model_path = Write("broken.json", model.bytes);
    request.format = model.format;
    Result<HistoryRecord> refused = registry_.Register(request);
    ASSERT_FALSE(refused.ok()) << "registered";
    EXPECT_THAT(refused.status().message(),
                HasSubstr("refusing to register fraud from " + request.model_path));
    EXPECT_THAT(refused.status().message(),
                HasSubstr("does not load with its features: " + request.model_path));
  }
  ExpectNothingRecorded();
  // The same register with the whole file goes in.
  ASSERT_TRUE(registry_.Register(DemoRequest("fraud")).ok());
}

TEST_F(ModelRegistryTest, PromoteRefusesAnAucBelowTheMinimum) {
  ASSERT_TRUE(RegisterDemo("low", "auc: 0.70\n").ok());
  ASSERT_TRUE(RegisterDemo("none").ok());
  ASSERT_TRUE(RegisterDemo("good", "auc: 0.91\n").ok());
  Result<PromoteResult> low = Promote("low", false, 0.8);
  ASSERT_FALSE(low.ok());
  EXPECT_THAT(low.status().message(), HasSubstr("auc 0.7 is below the minimum 0.8"));
  Result<PromoteResult> none = Promote("none", false, 0.8);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no metrics.auc"));
  EXPECT_TRUE(Promote("none").ok()) << "no minimum: no auc needed";

  // The registry's own minimum applies when none is given.
  std::ofstream(root() / "registry.yaml") << "min_auc: 0.85\n";
  EXPECT_FALSE(Promote("low").ok());
  Result<PromoteResult> good = Promote("good");
  EXPECT_TRUE(good.ok()) << good.status().message();
  EXPECT_FALSE(good->record.forced);
}

TEST_F(ModelRegistryTest, ForceOverridesTheQualityChecksAndIsRecorded) {
  ASSERT_TRUE(RegisterDemo("low", "auc: 0.5\n").ok());
  Result<PromoteResult> forced = Promote("low", true, 0.8);
  ASSERT_TRUE(forced.ok()) << forced.status().message();
  EXPECT_TRUE(forced->record.forced);
  ASSERT_EQ(forced->overridden.size(), 1u);
  EXPECT_THAT(forced->overridden[0], HasSubstr("below the minimum 0.8"));
  EXPECT_EQ(Live(), "low");
  Result<std::vector<HistoryRecord>> history = registry_.History("fraud");
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->back().forced);
  EXPECT_THAT(ReadFile(root() / "fraud" / "history.jsonl"), HasSubstr("\"forced\":true"));
}

TEST_F(ModelRegistryTest, ForceNeverPromotesAVersionThatNoLongerLoads) {
  ASSERT_TRUE(RegisterDemo("v1").ok());
  ASSERT_TRUE(RegisterDemo("v2").ok());
  ASSERT_TRUE(RegisterDemo("v3").ok());
  ASSERT_TRUE(Promote("v1").ok());
  // Damaged on disk after it was registered: cut short, or features changed.
  const std::string demo = ReadFile(testing::DemoDir() + "/model.json");
  ASSERT_NO_FATAL_FAILURE(Damage("v2", "model.json", demo.substr(0, demo.size() / 2)));
  ASSERT_NO_FATAL_FAILURE(Damage("v3", "features.yaml", ReadFile(ThreeFeatures())));
  const size_t records = registry_.History("fraud")->size();
  for (const char* version : {"v2", "v3"}) {
    for (bool force : {false, true}) {
      Result<PromoteResult> refused = Promote(version, force, 0.99);
      ASSERT_FALSE(refused.ok()) << version << (force ? " --force" : "");
      EXPECT_THAT(refused.status().message(), HasSubstr("refusing to promote fraud " + std::string(version)));
      EXPECT_THAT(refused.status().message(), HasSubstr("does not load with its features"));
      EXPECT_THAT(refused.status().message(),
                  HasSubstr("--force overrides the quality checks, never this one"));
    }
  }
  EXPECT_THAT(Promote("v2", true).status().message(),
              HasSubstr(registry_.VersionDir("fraud", "v2") + "/model.json"));
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(registry_.History("fraud")->size(), records) << "a refusal records nothing";
}

TEST_F(ModelRegistryTest, RollbackRefusesToPutBackAVersionThatNoLongerLoads) {
  ASSERT_TRUE(RegisterDemo("v1").ok());
  ASSERT_TRUE(RegisterDemo("v2").ok());
  ASSERT_TRUE(Promote("v1").ok());
  ASSERT_TRUE(Promote("v2").ok());
  ASSERT_NO_FATAL_FAILURE(Damage("v1", "model.json", "{\"learner\": \"trunc"));
  Result<HistoryRecord> refused = registry_.Rollback("fraud", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("refusing to roll fraud back to v1"));
  EXPECT_THAT(refused.status().message(), HasSubstr("does not load with its features"));
  EXPECT_EQ(Live(), "v2");
}

TEST(LiveBeforeTest, TheVersionsARollbackWouldPutBackMostRecentFirst) {
  using A = HistoryAction;
  const std::vector<HistoryRecord> history = Records({{A::kRegister, "v1"},
                                                      {A::kRegister, "2024-06"},
                                                      {A::kPromote, "v1"},
                                                      {A::kRegister, "v10"},
                                                      {A::kRegister, "v2"},
                                                      {A::kRegister, "v3"},
                                                      {A::kPromote, "v10"},
                                                      {A::kPromote, "v3"},
                                                      {A::kRollback, "v10"},
                                                      {A::kPromote, "v1"},
                                                      {A::kPromote, "v2"}});
  EXPECT_THAT(LiveBefore(history, "v2"), ElementsAre("v1", "v10"))
      << "the order they were live in, each once; never 2024-06 (not promoted) nor v3 (rolled back)";
  EXPECT_TRUE(LiveBefore(history, "v10").empty()) << "not the live version";
  EXPECT_TRUE(LiveBefore(history, "v7").empty()) << "never registered";
  EXPECT_TRUE(LiveBefore(Records({{A::kRegister, "v1"}, {A::kPromote, "v1"}}), "v1").empty());
}

TEST_F(ModelRegistryTest, ConcurrentRegistersFromThreadsAndProcessesAllLand) {
  constexpr int kEach = 5;
  // Another process registers while two threads of this one do. A linear
  // model: Register loads what it registers, and libxgboost's OpenMP pool,
  // started by earlier tests in this process, does not survive a fork.
  const std::string linear = Write("linear.yaml", "format: linear\nweights: [0, 0, 0, 0.001]\nbias: -2\n");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool ok = true;
    for (int i = 0; i < kEach; ++i) {
      RegisterRequest request = DemoRequest("fraud");
      request.model_path = linear;
      request.version = "p" + std::to_string(i);
      ok = registry_.Register(request).ok() && ok;
    }
    _exit(ok ? 0 : 1);
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (const char* prefix : {"a", "b"}) {
    threads.emplace_back([&, prefix] {
      ModelRegistry own((dir_.path() / "registry").string());
      for (int i = 0; i < kEach; ++i) {
        RegisterRequest request = DemoRequest("fraud");
        request.version = prefix + std::to_string(i);
        if (!own.Register(request).ok()) ++failures;
        request.version.clear();  // the next vN: two threads must not take the same one
        if (!own.Register(request).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int child_status = 0;
  ASSERT_EQ(waitpid(child, &child_status, 0), child);
  EXPECT_TRUE(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0);
  EXPECT_EQ(failures.load(), 0);

  Result<std::vector<std::string>> versions = registry_.ListVersions("fraud");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 5u * kEach);
  for (int i = 1; i <= 2 * kEach; ++i) {
    EXPECT_TRUE(fs::exists(root() / "fraud" / ("v" + std::to_string(i)))) << i;
  }
  Result<std::vector<HistoryRecord>> history = registry_.History("fraud");
  ASSERT_TRUE(history.ok()) << history.status().message();
  EXPECT_EQ(history->size(), 5u * kEach) << "every line whole";
}

TEST_F(ModelRegistryTest, DiffShowsFeaturesMetricsAndModelFile) {
  ASSERT_TRUE(RegisterDemo("v1", "auc: 0.90\nlogloss: 0.3\n").ok());
  // Four features still (the model takes four): customer_id for amount.
  const std::string other =
      Write("other.yaml",
            ReadFile(ThreeFeatures()) + "  - {name: customer_id, field: customer_id, transform: number}\n");
  ASSERT_TRUE(RegisterDemo("v2", "auc: 0.92\n", other).ok());
  Result<ModelDiff> diff = registry_.Diff("fraud", "v1", "v2");
  ASSERT_TRUE(diff.ok()) << diff.status().message();
  ASSERT_EQ(diff->features.size(), 2u);
  EXPECT_EQ(diff->features[0].kind, '-');
  EXPECT_EQ(diff->features[0].name, "amount");
  EXPECT_EQ(diff->features[1].kind, '+');
  EXPECT_EQ(diff->features[1].name, "customer_id");
  EXPECT_FALSE(diff->feature_order_differs);
  ASSERT_EQ(diff->metrics.size(), 2u);
  EXPECT_EQ(diff->metrics[0].name, "auc");
  EXPECT_EQ(diff->metrics[0].b, 0.92);
  EXPECT_EQ(diff->metrics[1].b, std::nullopt);
  EXPECT_TRUE(diff->model_files_identical);

  Result<ModelDiff> same = registry_.Diff("fraud", "v1", "v1");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->features.empty());
  EXPECT_FALSE(registry_.Diff("fraud", "v1", "v9").ok());
}

}  // namespace
}  // namespace scorepipe
