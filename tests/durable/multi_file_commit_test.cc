// MultiFileCommit (durable/multi_file_commit.h): a change of several files
// is there whole or not at all, whatever step or byte a crash cuts it at,
// and however often the completion is itself cut by another crash; the log
// gets appended bytes exactly once; changes it cannot keep are refused
// before anything is written.
#include "durable/multi_file_commit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
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
using testing::Files;
using testing::FolderFiles;
using testing::ForEveryCrashPoint;
using ::testing::HasSubstr;
using testing::LayFolder;
using testing::PutFile;
using testing::RandomBytes;

const MultiFileCommit::Layout kLayout{
    .intent = "intent", .staged_prefix = "new-", .temp_prefix = "tmp-", .log = "log"};

// What a change makes of `files`.
Files Applied(Files files, const MultiFileCommit::Change& change) {
  for (const std::string& name : change.remove) files.erase(name);
  for (const auto& [name, bytes] : change.install) files[name] = bytes;
  if (!change.append.empty()) files["log"] += change.append;
  return files;
}

class MultiFileCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(temp_.ok()); }
  void TearDown() override { SetFaultHook(nullptr); }

  Dir Open() const {
    Result<Dir> dir = Dir::Open(folder_.string());
    EXPECT_TRUE(dir.ok()) << dir.status().message();
    return dir.ok() ? std::move(dir.value()) : Dir();
  }
  bool Commit(const MultiFileCommit::Change& change) const { return commit_.Commit(Open(), change).ok(); }
  bool Recover() const { return commit_.Recover(Open()).ok(); }
  // What the next holder of the lock finds: the change completed or not,
  // and no debris.
  Files AfterRecovery() const {
    const Dir dir = Open();
    Status recovered = commit_.Recover(dir);
    EXPECT_TRUE(recovered.ok()) << recovered.message();
    Status cleared = commit_.RemoveDebris(dir);
    EXPECT_TRUE(cleared.ok()) << cleared.message();
    return FolderFiles(folder_);
  }
  bool Committed() const { return fs::exists(folder_ / "intent"); }

  testing::TempDir temp_{"durable-commit"};
  const fs::path folder_ = temp_.path() / "folder";
  const MultiFileCommit commit_{kLayout};
};

// A random folder of a few files (names that changes also use) and a log.
Files RandomFolder(std::mt19937_64& rng) {
  Files files;
  for (const char* name : {"a", "b", "c", "d"}) {
    if (rng() % 2 == 0) files[name] = RandomBytes(rng, rng() % 8);
  }
  if (rng() % 2 == 0) files["log"] = "{\"n\":1}\n";
  return files;
}

// A random change: each name removed, installed or left alone (whether it
// exists or not), and maybe bytes for the log.
MultiFileCommit::Change RandomChange(std::mt19937_64& rng) {
  MultiFileCommit::Change change;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    switch (rng() % 3) {
      case 0:
        change.remove.push_back(name);
        break;
      case 1:
        change.install.emplace_back(name, RandomBytes(rng, rng() % 8));
        break;
      default:
        break;
    }
  }
  if (rng() % 2 == 0) change.append = RandomBytes(rng, 1 + rng() % 8) + "\n";
  return change;
}

TEST_F(MultiFileCommitTest, ACommitInstallsRemovesAndAppendsAndLeavesNothingElse) {
  LayFolder(folder_, {{"a", "old a"}, {"b", "old b"}, {"log", "1\n"}});
  const MultiFileCommit::Change change{
      .install = {{"a", "new a"}, {"c", "c"}}, .remove = {"b"}, .append = "2\n"};
  ASSERT_TRUE(Commit(change));
  EXPECT_EQ(FolderFiles(folder_), (Files{{"a", "new a"}, {"c", "c"}, {"log", "1\n2\n"}}));
}

// The order of the steps, and every fsync: each staged file is synced
// before the intent names it, the folder is synced at the commit point and
// after the change is carried out, the log before its staged bytes go.
TEST_F(MultiFileCommitTest, TheStepsAndTheirSyncsComeInTheOrderThatMakesACrashSafe) {
  LayFolder(folder_, {{"b", "old b"}, {"log", "1\n"}});
  const MultiFileCommit::Change change{.install = {{"a", "a"}}, .remove = {"b"}, .append = "2\n"};
  testing::recorded_steps.clear();
  SetFaultHook(&testing::RecordStep);
  ASSERT_TRUE(Commit(change));
  SetFaultHook(nullptr);
  EXPECT_THAT(testing::StepNames(testing::recorded_steps),
              ElementsAre("write", "sync-file", "rename",  // new-append-…
                          "write", "sync-file", "rename",  // new-a
                          "write", "sync-file", "rename",  // intent
                          "sync-dir",                      // committed
                          "write", "sync-file", "remove",  // the log, then its staged bytes go
                          "remove",                        // b
                          "rename",                        // new-a -> a
                          "remove", "sync-dir"));          // the intent, and the folder synced
}

// The property: whatever step or byte a crash cuts a commit at, the next
// holder of the lock finds the old files or the new, all of them, the log
// appended once or not at all; and the new ones whenever the crash came
// after the commit point.
TEST_F(MultiFileCommitTest, ACrashAnywhereInACommitLeavesTheOldFilesOrTheNew) {
  std::mt19937_64 rng(21);
  int crash_points = 0;
  for (int round = 0; round < 6 && !HasFailure(); ++round) {
    const Files before = RandomFolder(rng);
    const MultiFileCommit::Change change = RandomChange(rng);
    const Files after = Applied(before, change);
    crash_points += ForEveryCrashPoint([&] { LayFolder(folder_, before); }, [&] { return Commit(change); },
                                       [&](CrashPoint at, ChildEnd end) {
                                         const bool committed = Committed();
                                         const Files now = AfterRecovery();
                                         if (end == ChildEnd::kFinished || committed) {
                                           EXPECT_EQ(now, after) << "round " << round << ", crash at step "
                                                                 << at.step << " byte " << at.byte;
                                         } else {
                                           EXPECT_TRUE(now == before || now == after)
                                               << "round " << round << ", crash at step " << at.step
                                               << " byte " << at.byte;
                                         }
                                       });
  }
  EXPECT_GT(crash_points, 6 * 10);
}

// A crash after the commit point, then another one in the middle of the
// completion, at every step of it: the third holder still finds the change
// whole, the log appended once.
TEST_F(MultiFileCommitTest, ACompletionCutByAnotherCrashIsCompletedOnce) {
  std::mt19937_64 rng(22);
  for (int round = 0; round < 6 && !HasFailure(); ++round) {
    Files before = RandomFolder(rng);
    before["log"] = "{\"n\":1}\n{\"n\":2}\n";
    MultiFileCommit::Change change = RandomChange(rng);
    change.append = "{\"d\":" + std::to_string(round) + "}\n";
    const Files after = Applied(before, change);
    // The first crash: just after the commit point (the folder's sync),
    // whose place in the steps depends on the change.
    Files crashed;
    for (int step = 0; crashed.empty(); ++step) {
      LayFolder(folder_, before);
      const ChildEnd end = testing::RunInChild({step, 0}, [&] { return Commit(change); });
      ASSERT_NE(end, ChildEnd::kFinished) << "the commit point was never crashed at";
      if (Committed()) crashed = FolderFiles(folder_);
    }
    ForEveryCrashPoint([&] { LayFolder(folder_, crashed); }, [&] { return Recover(); },
                       [&](CrashPoint at, ChildEnd) {
                         EXPECT_EQ(AfterRecovery(), after) << "round " << round << ", second crash at step "
                                                           << at.step << " byte " << at.byte;
                       });
  }
}

TEST_F(MultiFileCommitTest, AnIntentLeftByAnOlderProcessIsCompleted) {
  LayFolder(folder_, {{"lease-1", "x"},
                      {"new-lease-2", "y"},
                      {"new-dead-letters-7", "{\"d\":1}\n"},
                      {"log", "{\"old\":0}\n"},
                      {"intent", "append 10 new-dead-letters-7\nremove lease-1\ninstall lease-2\n"}});
  EXPECT_EQ(AfterRecovery(), (Files{{"lease-2", "y"}, {"log", "{\"old\":0}\n{\"d\":1}\n"}}));
}

TEST_F(MultiFileCommitTest, ALogMovedAwayMeanwhileGetsTheBytesAtItsEnd) {
  LayFolder(folder_, {{"new-x", "DEF\n"}, {"log", "abc"}, {"intent", "append 10 new-x\n"}});
  EXPECT_EQ(AfterRecovery(), (Files{{"log", "abcDEF\n"}}));
  LayFolder(folder_, {{"new-x", "DEF\n"}, {"intent", "append 10 new-x\n"}});
  EXPECT_EQ(AfterRecovery(), (Files{{"log", "DEF\n"}})) << "no log at all: a new one";
}

TEST_F(MultiFileCommitTest, ADamagedIntentIsAnErrorNamingItAndChangesNothing) {
  for (const std::string intent : {"frobnicate a\n", "append x new-x\n", "append 10\n"}) {
    LayFolder(folder_, {{"a", "a"}, {"intent", intent}});
    Status s = commit_.Recover(Open());
    ASSERT_FALSE(s.ok()) << intent;
    EXPECT_THAT(s.message(), HasSubstr((folder_ / "intent").string() + " is damaged"));
    EXPECT_EQ(FolderFiles(folder_), (Files{{"a", "a"}, {"intent", intent}}));
  }
}

TEST_F(MultiFileCommitTest, ChangesItCannotKeepAreRefusedBeforeAnythingIsWritten) {
  const Files before = {{"a", "a"}, {"log", "1\n"}};
  const std::vector<MultiFileCommit::Change> refused = {
      {.install = {{"a", "x"}}, .remove = {"a"}},  // both: a crash between would lose it
      {.install = {{"new-a", "x"}}},               // a staged name
      {.install = {{"tmp-1", "x"}}},               // a temporary name
      {.remove = {"intent"}},                      // the intent
      {.install = {{"log", "x"}}},                 // the log
      {.install = {{"sub/a", "x"}}},               // not in the folder
      {.install = {{"", "x"}}},                    // no name
      {.install = {{"a\nremove b", "x"}}},         // a line of its own in the intent
      {.install = {{"b", "1"}, {"b", "2"}}},       // twice
  };
  for (const MultiFileCommit::Change& change : refused) {
    LayFolder(folder_, before);
    EXPECT_FALSE(Commit(change));
    EXPECT_EQ(FolderFiles(folder_), before);
  }
  MultiFileCommit no_log({.log = ""});
  Status s = no_log.Commit(Open(), {.append = "x\n"});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no log file"));
}

TEST_F(MultiFileCommitTest, RemoveDebrisClearsStagedAndTemporaryFilesOnly) {
  LayFolder(folder_, {{"a", "a"}, {"new-a", "x"}, {"tmp-1-2", "y"}, {"new-", "z"}, {"log", "l"}});
  EXPECT_EQ(AfterRecovery(), (Files{{"a", "a"}, {"new-", "z"}, {"log", "l"}}));
}

TEST_F(MultiFileCommitTest, WriteFileReplacesOneFileThroughATemporaryOfTheLayout) {
  LayFolder(folder_, {{"a", "old"}});
  const Dir dir = Open();
  testing::recorded_steps.clear();
  SetFaultHook(&testing::RecordStep);
  ASSERT_TRUE(commit_.WriteFile(dir, "a", "new").ok());
  SetFaultHook(nullptr);
  EXPECT_THAT(testing::StepNames(testing::recorded_steps), ElementsAre("write", "sync-file", "rename"));
  EXPECT_EQ(FolderFiles(folder_), (Files{{"a", "new"}}));
  // A crash in it leaves a tmp- file at most, which RemoveDebris clears.
  const testing::CrashPoint at{0, 2};
  ASSERT_EQ(testing::RunInChild(at, [&] { return commit_.WriteFile(Open(), "a", "newer").ok(); }),
            ChildEnd::kCrashedInWrite);
  EXPECT_EQ(AfterRecovery(), (Files{{"a", "new"}}));
}

}  // namespace
}  // namespace scorepipe
