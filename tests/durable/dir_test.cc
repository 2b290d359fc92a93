// Files that survive a crash (durable/dir.h): atomic replace, create-new,
// append-a-line and staged folders, each crashed at every step and at every
// byte of each write (tests/durable/crash_child.h), each failed at every
// step, and the fsyncs each takes, in order.
#include "durable/dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "durable/fault_hook.h"
#include "tests/durable/crash_child.h"
#include "tests/durable/durable_test_util.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using testing::ChildEnd;
using testing::CrashPoint;
using ::testing::ElementsAre;
using testing::FileBytes;
using testing::FolderFiles;
using testing::ForEveryCrashPoint;
using ::testing::HasSubstr;
using testing::PutFile;
using testing::RandomBytes;
using testing::StepNames;

class DirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.ok());
    fs::create_directories(folder_);
    testing::recorded_steps.clear();
  }
  void TearDown() override { SetFaultHook(nullptr); }

  std::string Path(const std::string& name) const { return (folder_ / name).string(); }
  // The steps `work` takes.
  std::vector<std::string> StepsOf(const std::function<void()>& work) {
    testing::recorded_steps.clear();
    SetFaultHook(&testing::RecordStep);
    work();
    SetFaultHook(nullptr);
    return StepNames(testing::recorded_steps);
  }
  void ResetFolder(const std::optional<std::string>& file) {
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    if (file) PutFile(folder_ / "file", *file);
  }

  testing::TempDir temp_{"durable-dir"};
  const fs::path folder_ = temp_.path() / "folder";
};

// --- Atomic replace ------------------------------------------------------

TEST_F(DirTest, ReplaceFileWritesTheNewContentAndLeavesNothingElse) {
  PutFile(folder_ / "file", "old");
  ASSERT_TRUE(ReplaceFile(Path("file"), "new content").ok());
  EXPECT_EQ(FolderFiles(folder_), (testing::Files{{"file", "new content"}}));
  ASSERT_TRUE(ReplaceFile(Path("other"), "").ok()) << "a file that was not there";
  EXPECT_EQ(FileBytes(folder_ / "other"), "");
}

TEST_F(DirTest, ReplaceSyncsTheFileBeforeTheRenameAndTheFolderAfter) {
  EXPECT_THAT(StepsOf([&] { ASSERT_TRUE(ReplaceFile(Path("file"), "bytes").ok()); }),
              ElementsAre("write", "sync-file", "rename", "sync-dir"));
  Result<Dir> dir = Dir::Open(folder_.string());
  ASSERT_TRUE(dir.ok());
  EXPECT_THAT(StepsOf([&] { ASSERT_TRUE(dir->Replace("file", "bytes").ok()); }),
              ElementsAre("write", "sync-file", "rename", "sync-dir"));
  EXPECT_THAT(StepsOf([&] { ASSERT_TRUE(dir->WriteAndRename("file", "bytes", "tmp").ok()); }),
              ElementsAre("write", "sync-file", "rename"))
      << "the caller syncs the folder once for many";
}

// The property: whatever step or byte a crash cuts the replace at, the
// file holds the old content or the new, whole; never a mix, never empty
// (unless one of them is).
TEST_F(DirTest, ACrashAnywhereInAReplaceLeavesTheOldContentOrTheNew) {
  std::mt19937_64 rng(11);
  int crash_points = 0;
  for (int round = 0; round < 12 && !HasFailure(); ++round) {
    const std::optional<std::string> old =
        round % 4 == 0 ? std::nullopt : std::optional<std::string>(RandomBytes(rng, rng() % 24));
    const std::string fresh = RandomBytes(rng, rng() % 24);
    crash_points += ForEveryCrashPoint(
        [&] { ResetFolder(old); }, [&] { return ReplaceFile(Path("file"), fresh).ok(); },
        [&](CrashPoint at, ChildEnd end) {
          const std::optional<std::string> now = FileBytes(folder_ / "file");
          if (end == ChildEnd::kFinished) {
            EXPECT_EQ(now, fresh) << "round " << round;
            EXPECT_EQ(FolderFiles(folder_).size(), 1u) << "no temporary file is left";
          } else {
            EXPECT_TRUE(now == old || now == fresh)
                << "round " << round << ", crash at step " << at.step << " byte " << at.byte;
          }
        });
  }
  EXPECT_GT(crash_points, 12 * 5) << "every step and byte was tried";
}

TEST_F(DirTest, ABigReplaceCutAtRandomBytesLeavesTheOldContentOrTheNew) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 40 && !HasFailure(); ++round) {
    const std::string old = RandomBytes(rng, 1 + rng() % 200000);
    const std::string fresh = RandomBytes(rng, 1 + rng() % 200000);
    const CrashPoint at{static_cast<int>(rng() % 3), rng() % (fresh.size() + 1)};
    ResetFolder(old);
    const ChildEnd end = testing::RunInChild(at, [&] { return ReplaceFile(Path("file"), fresh).ok(); });
    ASSERT_NE(end, ChildEnd::kFailed);
    const std::optional<std::string> now = FileBytes(folder_ / "file");
    EXPECT_TRUE(now == old || now == fresh) << "round " << round;
  }
}

// A step that fails (a full disk, an I/O error) leaves the old content and
// no temporary file, and says what failed.
TEST_F(DirTest, AReplaceThatFailsAtAnyStepLeavesTheOldContentAndNoDebris) {
  for (int step = 0; step < 4; ++step) {
    ResetFolder("old");
    testing::fail_at = step;
    testing::fail_error = step == 0 ? ENOSPC : EIO;
    testing::steps_before_failure = 0;
    SetFaultHook(&testing::FailOneStep);
    Status s = ReplaceFile(Path("file"), "new", {}, "file.new");
    SetFaultHook(nullptr);
    ASSERT_FALSE(s.ok()) << "step " << step;
    EXPECT_THAT(s.message(), HasSubstr(folder_.string()));
    EXPECT_THAT(s.message(), HasSubstr(step == 0 ? "No space left on device" : "Input/output error"));
    if (step < 3) {
      EXPECT_EQ(FolderFiles(folder_), (testing::Files{{"file", "old"}})) << "step " << step;
    } else {  // the folder's sync failed after the rename: the new content is there, maybe not on disk
      EXPECT_EQ(FolderFiles(folder_), (testing::Files{{"file", "new"}}));
    }
  }
}

TEST_F(DirTest, AFixedTemporaryNameIsWrittenOverByTheNextReplace) {
  PutFile(folder_ / "file.new", "left by a crash");
  ASSERT_TRUE(ReplaceFile(Path("file"), "bytes", {}, "file.new").ok());
  EXPECT_EQ(FolderFiles(folder_), (testing::Files{{"file", "bytes"}}));
}

TEST_F(DirTest, ExactModeIgnoresTheUmaskAndTheDefaultHonoursIt) {
  const mode_t old_umask = umask(077);
  Status exact = ReplaceFile(Path("program"), "#!", FileOptions{.mode = 0755, .exact_mode = true});
  Status plain = ReplaceFile(Path("data"), "x", FileOptions{.mode = 0644});
  umask(old_umask);
  ASSERT_TRUE(exact.ok() && plain.ok());
  struct stat st {};
  ASSERT_EQ(stat(Path("program").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(stat(Path("data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(DirTest, ReplaceInAFolderThatIsNotThereSaysWhich) {
  Status s = ReplaceFile(Path("missing/file"), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(Path("missing/file.tmp-")));
  EXPECT_THAT(s.message(), HasSubstr("cannot create: No such file or directory"));
}

TEST(UniqueNamesTest, NeverRepeatInAProcess) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(UniqueTempName("f")).second);
  EXPECT_THAT(UniqueTempName("f"), HasSubstr("f.tmp-" + std::to_string(getpid()) + "-"));
}

// --- Create-new ----------------------------------------------------------

TEST_F(DirTest, CreateNewNeverReplacesAFile) {
  Result<bool> created = CreateNewFile(Path("key"), "secret\n", FileOptions{.mode = 0600});
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created.value());
  Result<bool> again = CreateNewFile(Path("key"), "other\n");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value()) << "it exists";
  EXPECT_EQ(FileBytes(folder_ / "key"), "secret\n");
  struct stat st {};
  ASSERT_EQ(stat(Path("key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "mode 0600: nobody else reads it";
}

TEST_F(DirTest, CreateNewSyncsTheFileAndLeavesTheFolderToTheCaller) {
  EXPECT_THAT(StepsOf([&] { ASSERT_TRUE(CreateNewFile(Path("a"), "bytes").value()); }),
              ElementsAre("write", "sync-file"));
}

TEST_F(DirTest, ACreateNewThatFailsRemovesWhatItMadeSoTheNextOneCanTry) {
  for (int step = 0; step < 2; ++step) {
    ResetFolder(std::nullopt);
    testing::fail_at = step;
    testing::fail_error = step == 0 ? ENOSPC : EIO;
    testing::steps_before_failure = 0;
    SetFaultHook(&testing::FailOneStep);
    Result<bool> created = CreateNewFile(Path("key"), "secret\n");
    SetFaultHook(nullptr);
    ASSERT_FALSE(created.ok());
    EXPECT_THAT(created.status().message(), HasSubstr(Path("key")));
    EXPECT_FALSE(fs::exists(folder_ / "key")) << "step " << step;
    EXPECT_TRUE(CreateNewFile(Path("key"), "secret\n").value());
  }
}

TEST_F(DirTest, CreateNewInAFolderThatIsNotThereSaysWhy) {
  Result<bool> created = CreateNewFile(Path("missing/key"), "x");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message(), Path("missing/key") + ": cannot create: No such file or directory");
}

// --- Append a line -------------------------------------------------------

TEST_F(DirTest, AppendLineAddsOneLineAndSyncsIt) {
  ASSERT_TRUE(AppendLine(Path("log"), "first").ok());
  EXPECT_THAT(StepsOf([&] { ASSERT_TRUE(AppendLine(Path("log"), "second").ok()); }),
              ElementsAre("write", "sync-file"));
  EXPECT_EQ(FileBytes(folder_ / "log"), "first\nsecond\n");
}

// Wherever a crash cuts an append, the lines before are untouched and the
// new one is there whole or cut short at its end.
TEST_F(DirTest, ACrashAnywhereInAnAppendLeavesTheEarlierLinesWhole) {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 8 && !HasFailure(); ++round) {
    const std::string before = round == 0 ? "" : "{\"n\":1}\n{\"n\":" + std::to_string(rng() % 1000) + "}\n";
    std::string line = RandomBytes(rng, rng() % 20);
    std::erase(line, '\n');
    ForEveryCrashPoint(
        [&] {
          ResetFolder(std::nullopt);
          if (!before.empty()) PutFile(folder_ / "log", before);
        },
        [&] { return AppendLine(Path("log"), line).ok(); },
        [&](CrashPoint at, ChildEnd end) {
          const std::string now = FileBytes(folder_ / "log").value_or("");
          ASSERT_TRUE(now.starts_with(before)) << "crash at step " << at.step << " byte " << at.byte;
          const std::string added = now.substr(before.size());
          EXPECT_TRUE((line + "\n").starts_with(added)) << "crash at step " << at.step << " byte " << at.byte;
          if (end == ChildEnd::kFinished) {
            EXPECT_EQ(added, line + "\n");
          }
        });
  }
}

// --- Dir -----------------------------------------------------------------

TEST_F(DirTest, ADirNamesItsFilesAndTellsWhatIsNotThere) {
  Result<Dir> dir = Dir::Open(folder_.string());
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->PathOf("x"), Path("x"));
  EXPECT_FALSE(dir->Exists("x").value());
  EXPECT_FALSE(dir->ReadIfPresent("x")->has_value());
  EXPECT_EQ(dir->Read("x").status().message(), Path("x") + ": cannot open: No such file or directory");
  EXPECT_FALSE(dir->Remove("x").value());
  EXPECT_FALSE(dir->RenameIfPresent("x", "y").value());
  EXPECT_EQ(dir->Rename("x", "y").message(), Path("x") + ": cannot rename to y: No such file or directory");
  ASSERT_TRUE(dir->Replace("x", "bytes").ok());
  EXPECT_TRUE(dir->Exists("x").value());
  EXPECT_EQ(dir->Read("x").value(), "bytes");
  EXPECT_TRUE(dir->RenameIfPresent("x", "y").value());
  EXPECT_TRUE(dir->Remove("y").value());
  EXPECT_TRUE(FolderFiles(folder_).empty());
  EXPECT_EQ(Dir::Open(Path("none")).status().message(),
            Path("none") + ": cannot open: No such file or directory");
  EXPECT_FALSE(Dir().Sync().ok()) << "a Dir that holds no folder fails";
}

TEST_F(DirTest, OpenOrCreateMakesTheFolderAndItsParents) {
  Result<Dir> dir = Dir::OpenOrCreate(Path("a/b/c"));
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_TRUE(fs::is_directory(folder_ / "a/b/c"));
  PutFile(folder_ / "plain", "x");
  Result<Dir> under_a_file = Dir::OpenOrCreate(Path("plain/d"));
  ASSERT_FALSE(under_a_file.ok());
  EXPECT_THAT(under_a_file.status().message(), HasSubstr(Path("plain/d") + ": cannot create"));
}

// --- Staged folders ------------------------------------------------------

Status StageAndInstall(const std::string& parent, const testing::Files& files) {
  Result<StagedFolder> staged = StagedFolder::Start(parent, ".tmp-v1");
  if (!staged.ok()) return staged.status();
  for (const auto& [name, bytes] : files) {
    Result<bool> created = staged->dir().CreateNew(name, bytes);
    if (!created.ok()) return created.status();
  }
  return staged->Install("v1");
}

TEST_F(DirTest, AStagedFolderAppearsWholeAtItsPlace) {
  const testing::Files files = {{"model.json", "{}"}, {"meta.yaml", "format: xgboost\n"}};
  EXPECT_THAT(StepsOf([&] { ASSERT_TRUE(StageAndInstall(folder_.string(), files).ok()); }),
              ElementsAre("write", "sync-file", "write", "sync-file", "sync-dir", "rename", "sync-dir"));
  EXPECT_EQ(FolderFiles(folder_ / "v1"), files);
  EXPECT_FALSE(fs::exists(folder_ / ".tmp-v1"));
}

TEST_F(DirTest, AStagedFolderDroppedBeforeInstallLeavesNothing) {
  {
    Result<StagedFolder> staged = StagedFolder::Start(folder_.string(), ".tmp-v1");
    ASSERT_TRUE(staged.ok());
    ASSERT_TRUE(staged->dir().CreateNew("a", "x").value());
    StagedFolder moved(std::move(staged.value()));
    EXPECT_TRUE(fs::exists(folder_ / ".tmp-v1/a"));
  }
  EXPECT_TRUE(fs::is_empty(folder_));
}

TEST_F(DirTest, StartClearsWhatADeadBuilderLeft) {
  fs::create_directories(folder_ / ".tmp-v1");
  PutFile(folder_ / ".tmp-v1" / "half", "cut sh");
  ASSERT_TRUE(StageAndInstall(folder_.string(), {{"a", "x"}}).ok());
  EXPECT_EQ(FolderFiles(folder_ / "v1"), (testing::Files{{"a", "x"}}));
}

TEST_F(DirTest, InstallOverAFolderThatHoldsFilesFailsAndKeepsIt) {
  fs::create_directories(folder_ / "v1");
  PutFile(folder_ / "v1" / "old", "o");
  Status s = StageAndInstall(folder_.string(), {{"a", "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("cannot rename to " + Path("v1")));
  EXPECT_EQ(FolderFiles(folder_ / "v1"), (testing::Files{{"old", "o"}}));
  EXPECT_FALSE(fs::exists(folder_ / ".tmp-v1")) << "the failed stage is removed";
}

TEST_F(DirTest, ACrashAnywhereInAStagedFolderLeavesNoFolderOrAWholeOne) {
  std::mt19937_64 rng(14);
  const testing::Files files = {{"a", RandomBytes(rng, 9)}, {"b", RandomBytes(rng, 5)}, {"c", ""}};
  const int tried = ForEveryCrashPoint(
      [&] { ResetFolder(std::nullopt); }, [&] { return StageAndInstall(folder_.string(), files).ok(); },
      [&](CrashPoint at, ChildEnd) {
        if (!fs::exists(folder_ / "v1")) return;
        EXPECT_EQ(FolderFiles(folder_ / "v1"), files) << "crash at step " << at.step << " byte " << at.byte;
      });
  EXPECT_GT(tried, 14 + 7);
}

}  // namespace
}  // namespace scorepipe
