// `scorepipe model ...` as a person runs it: the real binary on a temporary
// registry, its output and its exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using testing::ClusterHarness;
using ::testing::HasSubstr;
using ::testing::Not;

class ModelCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  // Runs `scorepipe model <args> --registry <temp>`; *out gets stdout and stderr.
  int Model(std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv = {ClusterHarness::BinDir() + "/scorepipe", "model"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--registry");
    argv.push_back(registry().string());
    return Run(argv, out);
  }

  int Run(const std::vector<std::string>& argv, std::string* out) {
    return testing::RunCommand(argv, (dir_.path() / ("run-" + std::to_string(++runs_) + ".log")).string(),
                               out);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // Registers the demo model; `extra` adds flags.
  int RegisterDemo(std::vector<std::string> extra, std::string* out) {
    std::vector<std::string> args = {"register",         "fraud",      "--model",
                                     Demo("model.json"), "--features", Demo("features.yaml")};
    args.insert(args.end(), extra.begin(), extra.end());
    return Model(args, out);
  }

  static std::string Demo(const std::string& file) {
    return ClusterHarness::SourceDir() + "/models/demo/" + file;
  }
  fs::path registry() const { return dir_.path() / "registry"; }

  scorepipe::testing::TempDir dir_{"scorepipe-model-command"};
  int runs_ = 0;
  std::string out_;
};

TEST_F(ModelCommandTest, RegisterListShowPromoteRollback) {
  std::string out;
  // A registry that is not there is an error (a mistyped --registry), an
  // empty one lists nothing.
  ASSERT_EQ(Model({"list"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("scorepipe model list: no registry at " + registry().string()));
  fs::create_directories(registry());
  ASSERT_EQ(Model({"list"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("no models in"));

  const std::string metrics = Write("metrics.yaml", "auc: 0.9067\n");
  const std::string summary = Write("summary.yaml", "rows: 200000\nfraud_rate: 0.031\n");
  ASSERT_EQ(RegisterDemo({"--metrics", metrics, "--data-summary", summary, "--note", "demo"}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("registered fraud v1"));
  ASSERT_EQ(RegisterDemo({"--metrics", metrics}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("registered fraud v2"));

  ASSERT_EQ(Model({"list"}, &out), 0) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("fraud +2 +-"));
  ASSERT_EQ(Model({"show", "fraud"}, &out), 1) << "nothing live yet: " << out;
  EXPECT_THAT(out, HasSubstr("no live version"));

  ASSERT_EQ(Model({"promote", "fraud", "v1", "--note", "first"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("promoted fraud v1 (was none)"));
  ASSERT_EQ(Model({"promote", "fraud", "v2"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("promoted fraud v2 (was v1)"));

  ASSERT_EQ(Model({"list", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("v2 +live +xgboost"));
  EXPECT_THAT(out, HasSubstr("auc 0.9067"));

  ASSERT_EQ(Model({"show", "fraud", "v1"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("version:       v1 (not live)"));
  EXPECT_THAT(out, HasSubstr("rows: 200000"));
  EXPECT_THAT(out, HasSubstr("promote v1 by"));
  EXPECT_THAT(out, HasSubstr("promote v2 by"));  // v2 replaced it

  ASSERT_EQ(Model({"rollback", "fraud", "--note", "v2 misbehaves"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("rolled back fraud: v1 is live again (was v2)"));
  ASSERT_EQ(Model({"show", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("version:       v1 (live)"));
  EXPECT_THAT(out, HasSubstr("v2 misbehaves"));
  ASSERT_EQ(Model({"rollback", "fraud"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("nothing to roll back to"));
}

TEST_F(ModelCommandTest, ShadowPutsAVersionBesideTheLiveOneAndOffEndsIt) {
  std::string out;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(RegisterDemo({}, &out), 0) << out;
  ASSERT_EQ(Model({"promote", "fraud", "v1"}, &out), 0) << out;
  ASSERT_EQ(Model({"shadow", "fraud"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("name the VERSION"));
  ASSERT_EQ(Model({"shadow", "fraud", "v1"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("is live"));
  ASSERT_EQ(Model({"shadow", "fraud", "v2", "--off"}, &out), 2) << "a version or --off: " << out;

  ASSERT_EQ(Model({"shadow", "fraud", "v2", "--note", "candidate"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("fraud v2 is in shadow beside the live v1"));
  ASSERT_EQ(Model({"list"}, &out), 0) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("fraud +3 +v1 +v2"));
  ASSERT_EQ(Model({"list", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("v1 +live +xgboost"));
  EXPECT_THAT(out, ::testing::ContainsRegex("v2 +shadow +xgboost"));
  ASSERT_EQ(Model({"show", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("in shadow:     v2"));
  EXPECT_THAT(out, HasSubstr("shadow v2 by"));
  EXPECT_THAT(out, HasSubstr("(live v1)  \"candidate\""));
  ASSERT_EQ(Model({"show", "fraud", "v2"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("version:       v2 (in shadow beside the live one)"));

  ASSERT_EQ(Model({"shadow", "fraud", "--off"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("fraud v2 is no longer in shadow"));
  ASSERT_EQ(Model({"shadow", "fraud", "--off"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("no version in shadow"));
  ASSERT_EQ(Model({"show", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("in shadow:     none"));
}

TEST_F(ModelCommandTest, PromoteRefusesALowAucUnlessForced) {
  std::string out;
  ASSERT_EQ(RegisterDemo({"--metrics", Write("low.yaml", "auc: 0.6\n"), "--version", "low"}, &out), 0) << out;
  ASSERT_EQ(Model({"promote", "fraud", "low", "--min-auc", "0.8"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("refusing to promote fraud low"));
  EXPECT_THAT(out, HasSubstr("below the minimum 0.8"));
  ASSERT_EQ(Model({"promote", "fraud", "low", "--min-auc", "0.8", "--force"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("forced past: its auc 0.6 is below the minimum 0.8"));
  ASSERT_EQ(Model({"show", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("promote low by"));
  EXPECT_THAT(out, HasSubstr("FORCED"));
}

TEST_F(ModelCommandTest, RegisterRefusesAModelThatDoesNotLoadAndRecordsNothing) {
  std::ifstream in(Demo("model.json"), std::ios::binary);
  const std::string demo((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t end = demo.find_last_not_of(" \t\r\n");  // its closing '}'
  // The demo model cut short at random places, and other ways not to load.
  std::mt19937 random(1124);
  std::vector<std::pair<std::string, std::vector<std::string>>> broken;  // file, extra flags
  for (int i = 0; i < 8; ++i) {
    const size_t cut = std::uniform_int_distribution<size_t>(0, end)(random);
    broken.push_back({Write("cut-" + std::to_string(cut) + ".json", demo.substr(0, cut)), {}});
  }
  broken.push_back(
      {Write("linear.yaml", "format: linear\nweights: [0, 0, 0, 1]\nbias: 0\n"), {"--format", "xgboost"}});
  broken.push_back({Write("narrow.yaml", "format: linear\nweights: [0, 1]\nbias: 0\n"), {}});
  const std::string three = Write("three.yaml",
                                  "features:\n"
                                  "  - {name: timestamp, field: timestamp, transform: unix_seconds}\n"
                                  "  - {name: vendor_id, field: vendor_id, transform: number}\n"
                                  "  - {name: amount, field: amount, transform: number}\n");
  for (const auto& [model, flags] : broken) {
    std::vector<std::string> args = {"register", "fraud",      "--model",
                                     model,      "--features", Demo("features.yaml")};
    args.insert(args.end(), flags.begin(), flags.end());
    ASSERT_EQ(Model(args, &out_), 1) << model << ": " << out_;
    EXPECT_THAT(out_, HasSubstr("scorepipe model register: refusing to register fraud from " + model))
        << model;
    EXPECT_THAT(out_, HasSubstr("does not load with its features: " + model)) << model;
  }
  // The demo model with three features for its four.
  ASSERT_EQ(Model({"register", "fraud", "--model", Demo("model.json"), "--features", three}, &out_), 1)
      << out_;
  EXPECT_THAT(out_, HasSubstr("the model takes 4 features but the feature spec has 3"));

  ASSERT_EQ(Model({"list"}, &out_), 1) << out_;
  EXPECT_THAT(out_, HasSubstr("no registry at")) << "a refused register records nothing";
  ASSERT_EQ(RegisterDemo({}, &out_), 0) << out_;
  EXPECT_THAT(out_, HasSubstr("registered fraud v1")) << "no version number was used up";
}

TEST_F(ModelCommandTest, ForcedPromoteOfAVersionThatNoLongerLoadsIsRefused) {
  std::string out;
  ASSERT_EQ(RegisterDemo({}, &out), 0) << out;
  ASSERT_EQ(RegisterDemo({"--metrics", Write("low.yaml", "auc: 0.6\n")}, &out), 0) << out;
  ASSERT_EQ(Model({"promote", "fraud", "v1"}, &out), 0) << out;
  // v2's file damaged on disk after it was registered.
  const fs::path v2 = registry() / "fraud" / "v2" / "model.json";
  std::ofstream(v2, std::ios::trunc) << "{\"learner\": \"trunc";
  for (std::vector<std::string> flags :
       {std::vector<std::string>{}, {"--force"}, {"--force", "--min-auc", "0.9"}}) {
    std::vector<std::string> args = {"promote", "fraud", "v2"};
    args.insert(args.end(), flags.begin(), flags.end());
    ASSERT_EQ(Model(args, &out), 1) << out;
    EXPECT_THAT(out, HasSubstr("scorepipe model promote: refusing to promote fraud v2: it does not load with "
                               "its features: " +
                               v2.string() + ": not a valid XGBoost model"));
    EXPECT_THAT(out, HasSubstr("--force overrides the quality checks, never this one"));
  }
  ASSERT_EQ(Model({"show", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("version:       v1 (live)"));
  ASSERT_EQ(Model({"show", "fraud", "v2"}, &out), 0) << out;
  EXPECT_THAT(out, Not(HasSubstr("promote v2"))) << "nothing recorded";

  // Nor does a roll-back put back a version that no longer loads.
  ASSERT_EQ(RegisterDemo({}, &out), 0) << out;
  ASSERT_EQ(Model({"promote", "fraud", "v3"}, &out), 0) << out;
  std::ofstream(registry() / "fraud" / "v1" / "features.yaml", std::ios::trunc) << "features: []\n";
  ASSERT_EQ(Model({"rollback", "fraud"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("refusing to roll fraud back to v1"));
  ASSERT_EQ(Model({"show", "fraud"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("version:       v3 (live)"));
}

TEST_F(ModelCommandTest, DiffComparesTwoVersions) {
  std::string out;
  ASSERT_EQ(RegisterDemo({"--metrics", Write("a.yaml", "auc: 0.90\n")}, &out), 0) << out;
  // Four features still (the model takes four): customer_id for amount.
  const std::string other = Write("other.yaml", [] {
    std::ifstream in(Demo("features.yaml"));
    std::ostringstream text;
    text << in.rdbuf();
    std::string features = text.str();
    features.replace(features.find("  - name: amount"), std::string::npos,
                     "  - {name: customer_id, field: customer_id, transform: number}\n");
    return features;
  }());
  ASSERT_EQ(Model({"register", "fraud", "--model", Demo("model.json"), "--features", other, "--metrics",
                   Write("b.yaml", "auc: 0.95\n")},
                  &out),
            0)
      << out;
  ASSERT_EQ(Model({"diff", "fraud", "v1", "v2"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("format:   xgboost -> xgboost (same)"));
  EXPECT_THAT(out, HasSubstr("+ customer_id: customer_id number"));
  EXPECT_THAT(out, HasSubstr("- amount: amount number"));
  EXPECT_THAT(out, ::testing::ContainsRegex("auc +0.9 +0.95 +\\+0.05"));
  EXPECT_THAT(out, HasSubstr("identical"));
  ASSERT_EQ(Model({"diff", "fraud", "v1", "v7"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("no version 'v7'"));
}

TEST_F(ModelCommandTest, BadUsageAndRefusalsHaveTheirExitCodes) {
  std::string out;
  EXPECT_EQ(Model({"register", "fraud", "--model", Demo("model.json")}, &out), 2) << out;  // no --features
  EXPECT_EQ(Model({"promote", "fraud"}, &out), 2) << out;                                  // no version
  EXPECT_EQ(Model({"register", ".hidden", "--model", Demo("model.json"), "--features", Demo("features.yaml")},
                  &out),
            1)
      << out;
  EXPECT_THAT(out, HasSubstr("starts with a dot"));
  ASSERT_EQ(RegisterDemo({"--version", "v1"}, &out), 0) << out;
  EXPECT_EQ(RegisterDemo({"--version", "v1"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("never replaced"));
  EXPECT_EQ(Model({"show", "nope"}, &out), 1) << out;

  std::string help;
  EXPECT_EQ(Run({ClusterHarness::BinDir() + "/scorepipe", "model", "promote", "--help"}, &help), 0);
  EXPECT_THAT(help, HasSubstr("--force"));
  EXPECT_THAT(help, HasSubstr("--min-auc"));
}

TEST_F(ModelCommandTest, RegistryComesFromTheEnvironmentWithoutTheFlag) {
  std::string out;
  ASSERT_EQ(RegisterDemo({}, &out), 0) << out;
  ASSERT_EQ(setenv("SCOREPIPE_REGISTRY", registry().c_str(), 1), 0);
  EXPECT_EQ(Run({ClusterHarness::BinDir() + "/scorepipe", "model", "list"}, &out), 0) << out;
  unsetenv("SCOREPIPE_REGISTRY");
  EXPECT_THAT(out, HasSubstr("fraud"));
  EXPECT_THAT(out, Not(HasSubstr("no models")));
}

}  // namespace
}  // namespace scorepipe
