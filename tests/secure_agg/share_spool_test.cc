// The round's encrypted shares held in a file with no name: every record
// reads back byte for byte in any order, from several threads, a number
// never written is refused, and the file leaves nothing in its folder.

#include "secure_agg/share_spool.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/test_seed.h"

namespace tacit::secagg {
namespace {

HeldShare RandomShare(std::mt19937_64& rng) {
  HeldShare share;
  share.sender = static_cast<uint32_t>(rng());
  for (char& c : share.nonce) c = static_cast<char>(rng());
  for (char& c : share.ciphertext) c = static_cast<char>(rng());
  return share;
}

bool SameBytes(const HeldShare& a, const HeldShare& b) {
  return std::memcmp(&a, &b, sizeof(HeldShare)) == 0;
}

TEST(ShareSpool, EveryRecordReadsBackInAnyOrderFromSeveralThreads) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  const std::string dir = ::testing::TempDir() + "/spool-" + std::to_string(seed);
  std::filesystem::create_directories(dir);
  auto spool = ShareSpool::Create(dir);
  ASSERT_TRUE(spool.ok()) << spool.status();
  std::vector<HeldShare> written;
  // Senders append runs of random lengths (a sender's k shares at once).
  const int senders = 20 + static_cast<int>(rng() % 200);
  for (int s = 0; s < senders; ++s) {
    std::vector<HeldShare> run(1 + rng() % 60);
    for (HeldShare& share : run) share = RandomShare(rng);
    absl::StatusOr<uint32_t> first = (*spool)->Append(run);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(*first, written.size());
    written.insert(written.end(), run.begin(), run.end());
  }
  EXPECT_EQ((*spool)->size(), written.size());
  // Nothing named in the folder: the records live in a file with no name.
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << dir;

  std::vector<std::thread> readers;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 local(seed + static_cast<uint64_t>(t));
      for (int i = 0; i < 50; ++i) {
        std::vector<uint32_t> numbers(1 + local() % 80);
        for (uint32_t& n : numbers) n = static_cast<uint32_t>(local() % written.size());
        std::vector<HeldShare> read;
        if (!(*spool)->Read(numbers, &read).ok() || read.size() != numbers.size()) {
          ++mismatches[t];
          continue;
        }
        for (size_t j = 0; j < numbers.size(); ++j) {
          mismatches[t] += !SameBytes(read[j], written[numbers[j]]);
        }
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "reader " << t;
}

TEST(ShareSpool, ANumberNeverWrittenIsRefused) {
  auto spool = ShareSpool::Create(::testing::TempDir());
  ASSERT_TRUE(spool.ok()) << spool.status();
  std::mt19937_64 rng(3);
  std::vector<HeldShare> run = {RandomShare(rng), RandomShare(rng)};
  ASSERT_TRUE((*spool)->Append(run).ok());
  std::vector<HeldShare> read;
  const std::vector<uint32_t> past_the_end = {0, 2};
  absl::Status status = (*spool)->Read(past_the_end, &read);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("record 2 of 2"), std::string::npos) << status;
}

TEST(ShareSpool, AFolderThatCannotHoldItIsNamedWithTheFix) {
  auto spool = ShareSpool::Create("/nonexistent/tacit-spool-folder");
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(spool.status().message().find("/nonexistent/tacit-spool-folder"), std::string::npos);
  EXPECT_NE(spool.status().message().find("TMPDIR"), std::string::npos);
}

}  // namespace
}  // namespace tacit::secagg
