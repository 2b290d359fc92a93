// Tests of scoring/registry_files.h: the model registry's files written and
// read back, and what each read refuses, with the file and line.
#include "scoring/registry_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using registry_internal::AppendHistoryRecord;
using registry_internal::MetaYaml;
using registry_internal::NamedSubfolders;
using registry_internal::NumberText;
using registry_internal::ReadHistoryFile;
using registry_internal::ReadMetaFile;
using registry_internal::ReadMinAuc;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RegistryFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string History() const { return (dir_.path() / registry_internal::kHistoryFile).string(); }

  testing::TempDir dir_{"registry-files-test"};
};

TEST_F(RegistryFilesTest, HistoryRecordsReadBackAsAppended) {
  const HistoryRecord registered{
      "2026-11-24T00:12:34Z", HistoryAction::kRegister, "v1", "ana", std::nullopt, false, ""};
  const HistoryRecord promoted{"2026-11-24T00:13:00Z",
                               HistoryAction::kPromote,
                               "v2",
                               "bo",
                               "v1",
                               true,
                               "a \"quoted\" note\nover two lines"};
  EXPECT_THAT(*ReadHistoryFile(History()), ElementsAre()) << "no file: no history";
  ASSERT_TRUE(AppendHistoryRecord(dir_.path().string(), registered).ok());
  ASSERT_TRUE(AppendHistoryRecord(dir_.path().string(), promoted).ok());
  Result<std::vector<HistoryRecord>> history = ReadHistoryFile(History());
  ASSERT_TRUE(history.ok()) << history.status().message();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version, "v1");
  EXPECT_FALSE((*history)[0].from.has_value());
  EXPECT_EQ((*history)[1].action, HistoryAction::kPromote);
  EXPECT_EQ((*history)[1].by, "bo");
  EXPECT_EQ((*history)[1].from, "v1");
  EXPECT_TRUE((*history)[1].forced);
  EXPECT_EQ((*history)[1].note, promoted.note);
}

TEST_F(RegistryFilesTest, ALastLineStillBeingAppendedIsLeftForTheNextRead) {
  const std::string line =
      R"({"at":"t","action":"register","version":"v1","by":"ana","from":null,"forced":false,"note":""})";
  Write(registry_internal::kHistoryFile, line + "\n" + line.substr(0, 20));
  Result<std::vector<HistoryRecord>> history = ReadHistoryFile(History());
  ASSERT_TRUE(history.ok()) << history.status().message();
  EXPECT_EQ(history->size(), 1u);
}

TEST_F(RegistryFilesTest, ABadHistoryLineIsNamedWithItsLine) {
  const std::string line =
      R"({"at":"t","action":"register","version":"v1","by":"ana","from":null,"forced":false,"note":""})";
  Write(registry_internal::kHistoryFile,
        line + "\n\n" + R"({"at":"t","action":"deploy","version":"v1",)" + R"("by":"ana","note":""})" + "\n");
  EXPECT_EQ(
      ReadHistoryFile(History()).status().message(),
      History() + ":3: unknown action 'deploy'; allowed: register, promote, rollback, shadow, unshadow");
  Write(registry_internal::kHistoryFile, "{\"at\":1}\n");
  EXPECT_THAT(ReadHistoryFile(History()).status().message(), HasSubstr(History() + ":1: key 'at'"));
}

TEST_F(RegistryFilesTest, MetaReadsBackAsWritten) {
  ModelMeta meta;
  meta.format = ModelFormat::kLinear;
  meta.model_file = "model.yaml";
  meta.created_at = "2026-11-24T00:12:34Z";
  meta.registered_by = "ana";
  meta.model_source = "/src/model.yaml";
  meta.features_source = "/src/features.yaml";
  meta.data_summary = YAML::Load("{rows: 200000, fraud: 0.03}");
  meta.metrics = {{"auc", 0.9067665616831914}, {"rows", 200000}};
  meta.note = "first: try";
  const std::string path = Write(registry_internal::kMetaFile, MetaYaml(meta));
  Result<ModelMeta> back = ReadMetaFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->format, meta.format);
  EXPECT_EQ(back->model_file, meta.model_file);
  EXPECT_EQ(back->created_at, meta.created_at);
  EXPECT_EQ(back->registered_by, meta.registered_by);
  EXPECT_EQ(back->model_source, meta.model_source);
  EXPECT_EQ(back->features_source, meta.features_source);
  EXPECT_EQ(back->data_summary["rows"].as<int>(), 200000);
  EXPECT_EQ(back->metrics, meta.metrics);
  EXPECT_EQ(back->note, meta.note);
  EXPECT_THAT(MetaYaml(meta), HasSubstr("rows: 200000\n")) << "a whole number as such";
}

TEST_F(RegistryFilesTest, MetaRefusesWhatItCannotUseAtItsLine) {
  const std::string path = Write(registry_internal::kMetaFile, "format: onnx\nmodel_file: m\n");
  EXPECT_EQ(ReadMetaFile(path).status().message(), path + ":1:1: format 'onnx'; allowed: xgboost, linear");
  Write(registry_internal::kMetaFile, "format: xgboost\nmodel_file: m\nmetrics: {auc: high}\n");
  EXPECT_EQ(ReadMetaFile(path).status().message(), path + ":3:16: metric 'auc' is not a number");
  Write(registry_internal::kMetaFile, "format: xgboost\nmodle_file: m\n");
  EXPECT_THAT(ReadMetaFile(path).status().message(), HasSubstr(path + ":2:1: unknown key 'modle_file'"));
}

TEST_F(RegistryFilesTest, MinAucIsOptionalAndAProbability) {
  const std::string path = (dir_.path() / registry_internal::kSettingsFile).string();
  EXPECT_EQ(*ReadMinAuc(path), std::nullopt) << "no settings file";
  Write(registry_internal::kSettingsFile, "{}\n");
  EXPECT_EQ(*ReadMinAuc(path), std::nullopt);
  Write(registry_internal::kSettingsFile, "min_auc: 0.85\n");
  EXPECT_EQ(*ReadMinAuc(path), 0.85);
  Write(registry_internal::kSettingsFile, "min_auc: 1.5\n");
  EXPECT_EQ(ReadMinAuc(path).status().message(), path + ":1:10: min_auc '1.5' is not a number in [0, 1]");
}

TEST_F(RegistryFilesTest, VersionFoldersListInNaturalOrderWithoutHiddenOnes) {
  for (const char* name : {"v10", "v2", "v1", ".tmp-v3", "v02b"}) fs::create_directory(dir_.path() / name);
  Write("v4", "a file, not a folder");
  EXPECT_THAT(*NamedSubfolders(dir_.path().string()), ElementsAre("v1", "v2", "v02b", "v10"));
  EXPECT_THAT(NamedSubfolders((dir_.path() / "missing").string()).status().message(),
              HasSubstr("cannot list"));
}

TEST(RegistryNumberTextTest, WholeNumbersAsSuchOthersShortest) {
  EXPECT_EQ(NumberText(200000), "200000");
  EXPECT_EQ(NumberText(0.85), "0.85");
  EXPECT_EQ(NumberText(1e-7), "1e-07");
  EXPECT_EQ(NumberText(1e20), "1e+20");
}

}  // namespace
}  // namespace scorepipe
