// The lease journal (queue/lease_journal.h) on its own: the order of ready
// messages, claims and their flocks, splits and merges, and what a crash in
// the middle of a change leaves (files written by hand as a crash leaves them).
#include "queue/lease_journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using Messages = std::vector<std::string>;
using ::testing::HasSubstr;

class LeaseJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.ok()) << "cannot create a temporary directory";
    journal_ = std::make_unique<LeaseJournal>((dir_ / "journal").string());
  }

  void Add(const Messages& messages) {
    Status s = journal_->AddReady(messages);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  // TakeReady that must succeed; returns what this call moved.
  Messages TakeInto(Lease* lease, size_t max) {
    const size_t before = lease->messages.size();
    Result<size_t> moved = journal_->TakeReady(max, lease);
    EXPECT_TRUE(moved.ok()) << moved.status().message();
    return Messages(lease->messages.begin() + static_cast<ptrdiff_t>(before), lease->messages.end());
  }
  Lease Take(size_t max) {
    Lease lease;
    TakeInto(&lease, max);
    return lease;
  }
  std::optional<LeaseClaim> Claim(const std::string& id) {
    auto claimed = journal_->Claim(id);
    EXPECT_TRUE(claimed.ok()) << claimed.status().message();
    return claimed.ok() ? std::move(claimed.value()) : std::nullopt;
  }
  Lease Reclaim(int older_than_ms, size_t max = 100) {
    Lease out;
    Status s = journal_->Reclaim(older_than_ms, max, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }
  int64_t Held() {
    auto held = journal_->MessagesHeld();
    EXPECT_TRUE(held.ok()) << held.status().message();
    return held.ok() ? held.value() : -1;
  }
  // The journal's files, but its lock, sorted.
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_ / "journal")) {
      const std::string name = entry.path().filename().string();
      if (name != "journal.lock") names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  void WriteJournalFile(const std::string& name, const std::string& content) const {
    fs::create_directories(dir_ / "journal");
    std::ofstream(dir_ / "journal" / name, std::ios::binary) << content;
  }
  static std::string FileOf(uint64_t order, const Messages& messages) {
    std::string out = "scorepipe-journal 1\norder " + std::to_string(order) + "\nmessages " +
                      std::to_string(messages.size()) + "\ndone 0\n";
    for (const std::string& m : messages) out += std::to_string(m.size()) + "\n" + m + "\n";
    return out;
  }

  testing::TempDir temp_{"lease-journal"};
  const fs::path& dir_ = temp_.path();
  std::unique_ptr<LeaseJournal> journal_;
};

TEST_F(LeaseJournalTest, ReadyMessagesAreTakenOldestPullFirstOnePullPerTake) {
  Add({"a", "b"});
  Add({"c"});
  EXPECT_EQ(Held(), 3);
  Lease first = Take(10);
  EXPECT_EQ(first.messages, (Messages{"a", "b"}));
  EXPECT_TRUE(LeaseJournal::IsLeaseId(first.id)) << first.id;
  EXPECT_EQ(Take(10).messages, Messages{"c"});
  EXPECT_TRUE(Take(10).messages.empty());
  EXPECT_EQ(Held(), 3) << "taken is still held until settled";
}

TEST_F(LeaseJournalTest, TakingPartOfAPullLeavesTheRestFirstInLine) {
  Add({"a", "b", "c"});
  Add({"d"});
  EXPECT_EQ(Take(2).messages, (Messages{"a", "b"}));
  EXPECT_EQ(Take(10).messages, Messages{"c"});
  EXPECT_EQ(Take(10).messages, Messages{"d"});
  EXPECT_EQ(Held(), 4);
}

TEST_F(LeaseJournalTest, TakeAppendsToAHeldLeaseUnderItsId) {
  Add({"a"});
  Lease lease = Take(10);
  const std::string id = lease.id;
  Add({"b", "c"});
  EXPECT_EQ(TakeInto(&lease, 10), (Messages{"b", "c"}));
  EXPECT_EQ(lease.id, id);
  EXPECT_EQ(lease.messages, (Messages{"a", "b", "c"}));
  std::optional<LeaseClaim> claim = Claim(id);
  ASSERT_TRUE(claim.has_value());
  EXPECT_EQ(claim->messages, 3u);
}

TEST_F(LeaseJournalTest, TakeIntoALeaseNoLongerHeldFailsClearsItAndLeavesTheReadyAlone) {
  Add({"a"});
  Lease lease = Take(10);
  std::optional<LeaseClaim> claim = Claim(lease.id);
  ASSERT_TRUE(claim.has_value());
  ASSERT_TRUE(journal_->Finish(std::move(*claim)).ok());
  Add({"x"});
  Result<size_t> moved = journal_->TakeReady(10, &lease);
  ASSERT_FALSE(moved.ok());
  EXPECT_THAT(moved.status().message(), HasSubstr("no longer held"));
  EXPECT_TRUE(lease.id.empty());
  EXPECT_TRUE(lease.messages.empty());
  EXPECT_EQ(Take(10).messages, Messages{"x"});
}

TEST_F(LeaseJournalTest, ClaimOfALeaseTheJournalDoesNotHoldIsNothing) {
  EXPECT_FALSE(Claim("1-2-3").has_value());
}

TEST_F(LeaseJournalTest, AClaimInProgressCannotBeClaimedAgainNorReclaimed) {
  Add({"a", "b"});
  Lease lease = Take(10);
  std::optional<LeaseClaim> claim = Claim(lease.id);
  ASSERT_TRUE(claim.has_value());
  EXPECT_FALSE(Claim(lease.id).has_value());
  EXPECT_TRUE(Reclaim(0).messages.empty()) << "its claimer holds the flock: alive";
  Result<bool> finished = journal_->Finish(std::move(*claim));
  ASSERT_TRUE(finished.ok());
  EXPECT_TRUE(finished.value());
  EXPECT_EQ(Held(), 0);
  EXPECT_TRUE(Files().empty());
}

// A claim whose process died leaves its settling file without a flock:
// Reclaim takes it over under a new id.
TEST_F(LeaseJournalTest, AClaimLeftByADeadSettlerIsReclaimed) {
  Add({"a", "b"});
  Lease lease = Take(10);
  {
    std::optional<LeaseClaim> claim = Claim(lease.id);
    ASSERT_TRUE(claim.has_value());
  }  // closed without Finish or Unclaim, as at a process's death
  Lease reclaimed = Reclaim(0);
  EXPECT_EQ(reclaimed.messages, (Messages{"a", "b"}));
  EXPECT_NE(reclaimed.id, lease.id);
  EXPECT_FALSE(Claim(lease.id).has_value());
}

TEST_F(LeaseJournalTest, UnclaimKeepsWhatWasPublishedAndReclaimHandsOutOnlyTheRest) {
  Add({"a", "b", "c"});
  Lease lease = Take(10);
  std::optional<LeaseClaim> claim = Claim(lease.id);
  ASSERT_TRUE(claim.has_value());
  claim->done = {true, false, true};
  ASSERT_TRUE(journal_->Unclaim(std::move(*claim)).ok());
  EXPECT_EQ(Held(), 1);
  std::optional<LeaseClaim> again = Claim(lease.id);
  ASSERT_TRUE(again.has_value()) << "given back: a retry claims it";
  EXPECT_EQ(again->messages, 3u);
  EXPECT_EQ(again->done, (std::vector<bool>{true, false, true}));
  ASSERT_TRUE(journal_->Unclaim(std::move(*again)).ok());
  Lease reclaimed = Reclaim(0);
  EXPECT_EQ(reclaimed.messages, Messages{"b"});
}

TEST_F(LeaseJournalTest, AReleasedLeaseIsTakenFirstUnderAnotherId) {
  Add({"a"});
  Lease released = Take(10);
  Add({"b"});
  ASSERT_TRUE(journal_->Release(released.id).ok());
  Lease again = Take(10);
  EXPECT_EQ(again.messages, Messages{"a"});
  EXPECT_NE(again.id, released.id);
  EXPECT_FALSE(Claim(released.id).has_value());
  EXPECT_EQ(Take(10).messages, Messages{"b"});
  EXPECT_TRUE(journal_->Release("9-9-9").ok()) << "releasing what is not held changes nothing";
}

TEST_F(LeaseJournalTest, ReclaimSplitsALargeLeaseAndTheRestStaysOld) {
  Add({"a", "b", "c", "d", "e"});
  Lease old = Take(10);
  EXPECT_TRUE(Reclaim(60000).messages.empty()) << "young";
  Lease first = Reclaim(0, 2);
  EXPECT_EQ(first.messages, (Messages{"a", "b"}));
  EXPECT_TRUE(Reclaim(60000, 10).messages.empty()) << "nothing is a minute old";
  // The rest keeps the old lease's age, so it comes before the new lease.
  Lease rest = Reclaim(0, 10);
  EXPECT_EQ(rest.messages, (Messages{"c", "d", "e"}));
  EXPECT_FALSE(Claim(old.id).has_value());
  EXPECT_EQ(Held(), 5);
}

TEST_F(LeaseJournalTest, TwoJournalsOnOneDirectoryShareTheirLeases) {
  LeaseJournal other((dir_ / "journal").string());
  ASSERT_TRUE(other.AddReady({"a"}).ok());
  Lease lease = Take(10);
  EXPECT_EQ(lease.messages, Messages{"a"});
  auto claimed = other.Claim(lease.id);
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  EXPECT_TRUE(claimed->has_value());
}

// A crash after a change committed (the intent is written) and before it was
// carried out: whoever takes the lock next completes it.
TEST_F(LeaseJournalTest, ACommittedChangeIsCompletedByTheNextUserAfterACrash) {
  WriteJournalFile("lease-1-1-1", FileOf(7, {"a", "b", "c"}));
  WriteJournalFile("new-lease-2-2-2", FileOf(7, {"a", "b"}));
  WriteJournalFile("new-lease-3-3-3", FileOf(7, {"c"}));
  WriteJournalFile("intent", "remove lease-1-1-1\ninstall lease-2-2-2\ninstall lease-3-3-3\n");
  EXPECT_EQ(Held(), 3);
  EXPECT_EQ(Files(), (std::vector<std::string>{"lease-2-2-2", "lease-3-3-3"}));
  std::optional<LeaseClaim> claim = Claim("2-2-2");
  ASSERT_TRUE(claim.has_value());
  EXPECT_EQ(claim->messages, 2u);
}

// A crash while a change was being written (no intent yet): the old files
// stand, and the half-written ones are removed.
TEST_F(LeaseJournalTest, AChangeThatNeverCommittedLeavesTheOldFilesAndNoDebris) {
  WriteJournalFile("lease-1-1-1", FileOf(7, {"a", "b", "c"}));
  WriteJournalFile("new-lease-2-2-2", FileOf(7, {"a", "b"}));
  WriteJournalFile("tmp-99-0", "scorepipe-journal 1\norder");
  EXPECT_EQ(Held(), 3);
  Lease reclaimed = Reclaim(0);
  EXPECT_EQ(reclaimed.messages, (Messages{"a", "b", "c"}));
  EXPECT_EQ(Files(), std::vector<std::string>{"lease-" + reclaimed.id});
}

// --- Deliveries and dead letters ----------------------------------------

TEST_F(LeaseJournalTest, DeliveriesAreKeptInTheFileAndAFileWithoutThemReadsAsOne) {
  WriteJournalFile("lease-1-1-1", FileOf(7, {"a", "b"}));  // written before the count was kept
  Lease second = Reclaim(0);
  EXPECT_EQ(second.messages, (Messages{"a", "b"}));
  EXPECT_EQ(second.deliveries, 2u);
  LeaseJournal other((dir_ / "journal").string());  // another process
  Lease third;
  ASSERT_TRUE(other.Reclaim(0, 1, &third).ok());
  EXPECT_EQ(third.messages, Messages{"a"});
  EXPECT_EQ(third.deliveries, 3u);
  Lease rest = Reclaim(0);
  EXPECT_EQ(rest.messages, Messages{"b"});
  EXPECT_EQ(rest.deliveries, 3u) << "the rest of a split lease kept the count 2 and is delivered once more";
  Add({"c"});
  EXPECT_EQ(Take(10).deliveries, 1u);
}

TEST_F(LeaseJournalTest, FinishAppendsTheDeadLettersAndEndsTheLeaseInOneChange) {
  Add({"a", "b", "c"});
  Lease lease = Take(10);
  std::optional<LeaseClaim> claim = Claim(lease.id);
  ASSERT_TRUE(claim.has_value());
  Result<bool> finished = journal_->Finish(std::move(*claim), {R"({"d":"a"})", R"({"d":"c"})"});
  ASSERT_TRUE(finished.ok()) << finished.status().message();
  EXPECT_TRUE(finished.value());
  EXPECT_EQ(Held(), 0);
  EXPECT_EQ(Files(), std::vector<std::string>{"dead_letters.jsonl"});
  auto entries = journal_->DeadLetters(10);
  ASSERT_TRUE(entries.ok()) << entries.status().message();
  EXPECT_EQ(*entries, (Messages{R"({"d":"a"})", R"({"d":"c"})"}));
  auto newest = journal_->DeadLetters(1);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(*newest, Messages{R"({"d":"c"})"});
  EXPECT_EQ(journal_->dead_letter_path(), (dir_ / "journal" / "dead_letters.jsonl").string());
}

// A crash after the entries were (partly, or wholly) written and before the
// lease file was removed: the next user cuts the file back to its size at
// the commit and writes them again, once.
TEST_F(LeaseJournalTest, ACrashWhileWritingDeadLettersWritesThemExactlyOnce) {
  for (const std::string& written :
       {std::string(""), std::string("{\"d\":1}\n{\"d"), std::string("{\"d\":1}\n{\"d\":2}\n")}) {
    fs::remove_all(dir_ / "journal");
    journal_ = std::make_unique<LeaseJournal>((dir_ / "journal").string());
    WriteJournalFile("settling-1-1-1", FileOf(7, {"a", "b"}));
    WriteJournalFile("dead_letters.jsonl", "{\"old\":0}\n" + written);
    WriteJournalFile("new-dead-letters-2-2-2", "{\"d\":1}\n{\"d\":2}\n");
    WriteJournalFile("intent", "append 10 new-dead-letters-2-2-2\nremove settling-1-1-1\n");
    EXPECT_EQ(Held(), 0) << "after " << written.size() << " bytes";
    auto entries = journal_->DeadLetters(10);
    ASSERT_TRUE(entries.ok()) << entries.status().message();
    EXPECT_EQ(*entries, (Messages{R"({"old":0})", R"({"d":1})", R"({"d":2})"}))
        << "after " << written.size() << " bytes";
    EXPECT_EQ(Files(), std::vector<std::string>{"dead_letters.jsonl"});
  }
}

TEST_F(LeaseJournalTest, ADamagedFileIsAnErrorNamingIt) {
  WriteJournalFile("lease-1-1-1", "scorepipe-journal 1\norder 1\nmessages 2\ndone 0\n1\na\n");
  auto held = journal_->MessagesHeld();
  ASSERT_FALSE(held.ok());
  EXPECT_THAT(held.status().message(), HasSubstr("lease-1-1-1"));
  EXPECT_THAT(held.status().message(), HasSubstr("damaged"));
}

TEST_F(LeaseJournalTest, MessagesKeepEveryByte) {
  const Messages odd = {std::string("nul\0in", 6), "", "line\nbreak\n", "12\n34", std::string(100000, 'x')};
  Add(odd);
  EXPECT_EQ(Take(10).messages, odd);
}

TEST_F(LeaseJournalTest, AnUnusableDirectoryIsAnErrorNamingIt) {
  const std::string file = (dir_ / "a-file").string();
  std::ofstream(file) << "x";
  LeaseJournal broken(file + "/journal");
  Status s = broken.AddReady({"a"});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(file + "/journal"));
}

TEST(LeaseJournalIdsTest, OnlyTheJournalsOwnShapeIsALeaseId) {
  EXPECT_TRUE(LeaseJournal::IsLeaseId("1700000000000000-42-7"));
  for (const char* id : {"", "1", "1-0", "1-2-", "-1-2", "a-1-2", "1-2-3-4", "1 -2-3", "not a lease"}) {
    EXPECT_FALSE(LeaseJournal::IsLeaseId(id)) << id;
  }
}

}  // namespace
}  // namespace scorepipe
