// The round's encrypted shares held in a file with no name laid out as a
// grid: every row reads back byte for byte from several threads, a run past
// the last record written is refused, holes read as zeros, and the file
// leaves nothing in its folder.

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

TEST(ShareSpool, EveryRowReadsBackAsWrittenFromSeveralThreads) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  const std::string dir = ::testing::TempDir() + "/spool-" + std::to_string(seed);
  std::filesystem::create_directories(dir);
  auto spool = ShareSpool::Create(dir);
  ASSERT_TRUE(spool.ok()) << spool.status();
  // A grid of rows x slots, filled in a random order of rows, each row's
  // slots in order and only partly (the rest stay holes), as senders' shares
  // reach their recipients.
  const size_t rows = 5 + rng() % 200, slots = 1 + rng() % 60;
  std::vector<std::vector<HeldShare>> written(rows);
  for (size_t writes = rng() % (rows * slots); writes > 0; --writes) {
    const size_t row = rng() % rows;
    if (written[row].size() == slots) continue;
    const HeldShare share = RandomShare(rng);
    ASSERT_TRUE((*spool)->WriteAt(row * slots + written[row].size(), {&share, 1}).ok());
    written[row].push_back(share);
  }
  // Nothing named in the folder: the records live in a file with no name.
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << dir;

  std::vector<std::thread> readers;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 local(seed + static_cast<uint64_t>(t));
      for (int i = 0; i < 50; ++i) {
        const size_t row = local() % rows;
        if (written[row].empty()) continue;
        std::vector<HeldShare> read;
        if (!(*spool)->ReadRun(row * slots, written[row].size(), &read).ok() ||
            read.size() != written[row].size()) {
          ++mismatches[t];
          continue;
        }
        for (size_t j = 0; j < read.size(); ++j)
          mismatches[t] += !SameBytes(read[j], written[row][j]);
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "reader " << t;
}

TEST(ShareSpool, ARunPastTheLastRecordWrittenIsRefused) {
  auto spool = ShareSpool::Create(::testing::TempDir());
  ASSERT_TRUE(spool.ok()) << spool.status();
  std::mt19937_64 rng(3);
  std::vector<HeldShare> run = {RandomShare(rng), RandomShare(rng)};
  ASSERT_TRUE((*spool)->WriteAt(4, run).ok());
  EXPECT_EQ((*spool)->size(), 6u);
  std::vector<HeldShare> read;
  EXPECT_TRUE((*spool)->ReadRun(4, 2, &read).ok());
  absl::Status status = (*spool)->ReadRun(5, 2, &read);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("records 5..7"), std::string::npos) << status;
  // A hole before the last record reads as zeros.
  ASSERT_TRUE((*spool)->ReadRun(0, 1, &read).ok());
  EXPECT_TRUE(SameBytes(read[0], HeldShare{}));
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
