#include "sink/lease_parts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace scorepipe {
namespace {

using Clock = LeaseParts::Clock;

std::vector<Outcome> OutcomesFor(uint32_t begin, uint32_t end) {
  std::vector<Outcome> outcomes;
  for (uint32_t p = begin; p < end; ++p) {
    outcomes.push_back(Outcome{p % 3 == 0 ? Outcome::Route::kDeadLetter : Outcome::Route::kResult,
                               "outcome " + std::to_string(p)});
  }
  return outcomes;
}

TEST(LeasePartsTest, ALeaseSettlesOnceEveryPositionHasItsOutcomeInLeaseOrder) {
  LeaseParts parts(8, std::chrono::seconds(30));
  const auto now = Clock::now();
  Result<LeasePartsAdded> second = parts.Add("L", LeasePart{3, 5, 5}, OutcomesFor(3, 5), "frame b", now);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_FALSE(second->complete);
  EXPECT_EQ(parts.held(), 1u);
  Result<LeasePartsAdded> first = parts.Add("L", LeasePart{0, 3, 5}, OutcomesFor(0, 3), "frame a", now);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(first->complete);
  ASSERT_EQ(first->complete->size(), 5u);
  for (uint32_t p = 0; p < 5; ++p) EXPECT_EQ((*first->complete)[p].text, "outcome " + std::to_string(p));
  EXPECT_EQ((*first->complete)[0].route, Outcome::Route::kDeadLetter);
  EXPECT_EQ(first->frames, (std::vector<std::string>{"frame b", "frame a"}));
  EXPECT_EQ(parts.held(), 0u);
}

TEST(LeasePartsTest, APositionAnsweredTwiceKeepsItsFirstOutcomeAndCountsADuplicate) {
  LeaseParts parts(8, std::chrono::seconds(30));
  const auto now = Clock::now();
  ASSERT_TRUE(parts.Add("L", LeasePart{0, 2, 4}, OutcomesFor(0, 2), "a", now).ok());
  std::vector<Outcome> again = OutcomesFor(0, 2);
  again[0].text = "second copy";
  Result<LeasePartsAdded> twice = parts.Add("L", LeasePart{0, 2, 4}, again, "a again", now);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->duplicates, 2u);
  Result<LeasePartsAdded> rest = parts.Add("L", LeasePart{2, 4, 4}, OutcomesFor(2, 4), "b", now);
  ASSERT_TRUE(rest.ok());
  ASSERT_TRUE(rest->complete);
  EXPECT_EQ((*rest->complete)[0].text, "outcome 0");
  EXPECT_EQ(rest->frames, (std::vector<std::string>{"a", "b"}));  // the duplicate's frame is not republished
}

TEST(LeasePartsTest, PartsThatDoNotFitAreRefusedAndHoldNothing) {
  LeaseParts parts(1, std::chrono::seconds(30));
  const auto now = Clock::now();
  EXPECT_FALSE(parts.Add("L", LeasePart{}, {}, "", now).ok());                        // whole, not a part
  EXPECT_FALSE(parts.Add("L", LeasePart{2, 2, 4}, {}, "", now).ok());                 // empty
  EXPECT_FALSE(parts.Add("L", LeasePart{2, 5, 4}, OutcomesFor(2, 5), "", now).ok());  // past the lease
  EXPECT_FALSE(parts.Add("L", LeasePart{0, 2, 4}, OutcomesFor(0, 1), "", now).ok());  // too few outcomes
  EXPECT_EQ(parts.held(), 0u);
  ASSERT_TRUE(parts.Add("L", LeasePart{0, 2, 4}, OutcomesFor(0, 2), "", now).ok());
  Result<LeasePartsAdded> other_size = parts.Add("L", LeasePart{2, 5, 5}, OutcomesFor(2, 5), "", now);
  ASSERT_FALSE(other_size.ok());
  EXPECT_NE(other_size.status().message().find("4 messages"), std::string::npos)
      << other_size.status().message();
  Result<LeasePartsAdded> full = parts.Add("M", LeasePart{0, 1, 2}, OutcomesFor(0, 1), "", now);
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.status().message().find("assembled already"), std::string::npos);
}

TEST(LeasePartsTest, AnIncompleteLeaseIsDroppedAfterItsMaxAge) {
  LeaseParts parts(8, std::chrono::milliseconds(1000));
  const auto start = Clock::now();
  ASSERT_TRUE(parts.Add("L", LeasePart{0, 1, 2}, OutcomesFor(0, 1), "", start).ok());
  EXPECT_EQ(parts.Expire(start + std::chrono::milliseconds(999)), 0u);
  EXPECT_EQ(parts.Expire(start + std::chrono::milliseconds(1000)), 1u);
  EXPECT_EQ(parts.held(), 0u);
}

TEST(LeasePartsTest, AnyCutOfALeaseInAnyOrderSettlesItExactlyOnce) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    const uint32_t size = std::uniform_int_distribution<uint32_t>(1, 600)(random);
    std::vector<uint32_t> cuts = {0, size};
    const int extra = std::uniform_int_distribution<int>(0, 12)(random);
    for (int c = 0; c < extra; ++c) cuts.push_back(std::uniform_int_distribution<uint32_t>(1, size)(random));
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<LeasePart> pieces;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) pieces.push_back(LeasePart{cuts[i], cuts[i + 1], size});
    std::shuffle(pieces.begin(), pieces.end(), random);
    LeaseParts parts(8, std::chrono::seconds(30));
    int completed = 0;
    for (size_t i = 0; i < pieces.size(); ++i) {
      Result<LeasePartsAdded> added =
          parts.Add("L", pieces[i], OutcomesFor(pieces[i].begin, pieces[i].end), "", Clock::now());
      ASSERT_TRUE(added.ok()) << added.status().message();
      if (!added->complete) continue;
      ++completed;
      EXPECT_EQ(i, pieces.size() - 1);
      ASSERT_EQ(added->complete->size(), size);
      for (uint32_t p = 0; p < size; ++p)
        EXPECT_EQ((*added->complete)[p].text, "outcome " + std::to_string(p));
    }
    EXPECT_EQ(completed, 1) << "lease of " << size << " in " << pieces.size() << " parts";
  }
}

}  // namespace
}  // namespace scorepipe
