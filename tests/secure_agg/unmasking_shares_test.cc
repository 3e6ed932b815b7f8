// The unmasking phase's Shamir shares, held sealed in a file with no name:
// every share opens back to its holder and values for any mix of owners,
// holders and kinds; the file never holds a share's values in the clear; a
// record changed on disk is DataLoss, never a wrong secret.

#include "secure_agg/server/unmasking_shares.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/test_seed.h"

namespace tacit::secagg {
namespace {

// Descriptors open on files with no name ("... (deleted)"), by number.
std::set<int> NamelessFiles() {
  std::set<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char target[4096];
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n > 0 &&
        std::string(target, static_cast<size_t>(n)).find("(deleted)") != std::string::npos) {
      fds.insert(std::atoi(entry->d_name));
    }
  }
  ::closedir(dir);
  return fds;
}

// The store and the descriptor of its file, found as the one it opened.
struct StoreAndFile {
  std::unique_ptr<UnmaskingShares> store;
  int fd = -1;
};

StoreAndFile MakeStore(const std::vector<uint32_t>& owners, size_t holders) {
  StoreAndFile out;
  const std::set<int> before = NamelessFiles();
  auto store = UnmaskingShares::Create(owners, holders);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return out;
  out.store = *std::move(store);
  for (int fd : NamelessFiles()) {
    if (!before.count(fd)) out.fd = fd;
  }
  return out;
}

std::string FileBytes(int fd) {
  std::string bytes;
  char buffer[4096];
  off_t at = 0;
  ssize_t got;
  while ((got = ::pread(fd, buffer, sizeof(buffer), at)) > 0) {
    bytes.append(buffer, static_cast<size_t>(got));
    at += got;
  }
  return bytes;
}

struct Held {
  uint32_t holder;
  std::vector<uint64_t> values;
};

TEST(UnmaskingShares, EveryShareOpensBackToItsHolderAndValuesAndNoneIsInTheClear) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  // Random holders reply with shares of random owners of both kinds.
  const uint32_t owners_in_round = 2 + rng() % 100;
  const int replies = 1 + static_cast<int>(rng() % 60);
  std::vector<uint32_t> ids(owners_in_round);
  for (uint32_t o = 0; o < owners_in_round; ++o) ids[o] = o;
  StoreAndFile s = MakeStore(ids, static_cast<size_t>(replies));
  ASSERT_NE(s.store, nullptr);
  ASSERT_GE(s.fd, 0);
  std::map<std::pair<SharedSecret, uint32_t>, std::vector<Held>> expected;
  for (int r = 0; r < replies; ++r) {
    const uint32_t holder = static_cast<uint32_t>(r * 7 + 1);
    for (SharedSecret kind : {SharedSecret::kSelfMaskSeed, SharedSecret::kMaskingKey}) {
      std::vector<uint32_t> owners;
      for (uint32_t o = 0; o < owners_in_round; ++o) {
        if (rng() % 3 == 0) owners.push_back(o);
      }
      std::vector<uint64_t> values;
      for (uint32_t owner : owners) {
        Held held{holder, {}};
        for (size_t c = 0; c < kShamirChunks; ++c) {
          // Eight distinctive bytes each, to look for in the file.
          held.values.push_back((rng() % kShamirPrime) | (uint64_t{1} << 60));
        }
        values.insert(values.end(), held.values.begin(), held.values.end());
        expected[{kind, owner}].push_back(held);
      }
      ASSERT_TRUE(s.store->Add(kind, holder, owners, values).ok());
    }
  }
  const std::string file = FileBytes(s.fd);
  ASSERT_GT(file.size(), 0u);
  for (const auto& [key, held] : expected) {
    const auto [kind, owner] = key;
    ASSERT_EQ(s.store->Count(kind, owner), held.size());
    auto opened = s.store->Open(kind, owner);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_EQ(opened->size(), held.size());
    for (size_t i = 0; i < held.size(); ++i) {
      EXPECT_EQ((*opened)[i].holder_id, held[i].holder);
      EXPECT_EQ((*opened)[i].values, held[i].values);
      for (uint64_t v : held[i].values) {
        EXPECT_EQ(file.find(std::string(reinterpret_cast<const char*>(&v), sizeof(v))),
                  std::string::npos)
            << "a share's value is in the file in the clear";
      }
    }
  }
  EXPECT_EQ(s.store->Count(SharedSecret::kSelfMaskSeed, owners_in_round + 5), 0u);
  // A share beyond the holders of a secret, or of an id outside the round, is a bug.
  std::vector<uint64_t> one(kShamirChunks, 1);
  const std::vector<uint32_t> outside = {owners_in_round + 5};
  EXPECT_EQ(s.store->Add(SharedSecret::kMaskingKey, 1, outside, one).code(),
            absl::StatusCode::kInternal);
  s.store->Clear();
  EXPECT_EQ(s.store->Count(expected.begin()->first.first, expected.begin()->first.second), 0u);
}

TEST(UnmaskingShares, ARecordChangedOnDiskIsDataLossNotAWrongSecret) {
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  const std::vector<uint32_t> owners = {3, 9};
  StoreAndFile s = MakeStore(owners, 4);
  ASSERT_NE(s.store, nullptr);
  ASSERT_GE(s.fd, 0);
  std::vector<uint64_t> values(2 * kShamirChunks);
  for (uint64_t& v : values) v = rng() % kShamirPrime;
  for (uint32_t holder : {1u, 2u, 3u}) {
    ASSERT_TRUE(s.store->Add(SharedSecret::kSelfMaskSeed, holder, owners, values).ok());
  }
  ASSERT_TRUE(s.store->Open(SharedSecret::kSelfMaskSeed, 9).ok());
  // Flip one byte of a random record of owner 9 (the grid's second row of 4
  // slots: records 4, 5, 6), in its holder, its seal number or its sealed part.
  const size_t record = 4 + rng() % 3;
  const size_t offset = record * sizeof(SealedShare) + 4 + rng() % (sizeof(SealedShare) - 4);
  char byte = 0;
  ASSERT_EQ(::pread(s.fd, &byte, 1, static_cast<off_t>(offset)), 1);
  byte = static_cast<char>(byte ^ (1 << (rng() % 8)));
  ASSERT_EQ(::pwrite(s.fd, &byte, 1, static_cast<off_t>(offset)), 1);
  auto opened = s.store->Open(SharedSecret::kSelfMaskSeed, 9);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
  // The other owner's records are untouched.
  EXPECT_TRUE(s.store->Open(SharedSecret::kSelfMaskSeed, 3).ok());
  // A record cannot be read as the other kind's: nothing of owner 3's masking key is held.
  EXPECT_EQ(s.store->Count(SharedSecret::kMaskingKey, 3), 0u);
  // A reply naming one owner twice is refused whole: nothing of it is counted.
  const std::vector<uint32_t> twice = {9, 9};
  EXPECT_EQ(s.store->Add(SharedSecret::kMaskingKey, 7, twice, values).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(s.store->Count(SharedSecret::kMaskingKey, 9), 0u);
  // A fourth holder fits; a fifth share of one secret is beyond its holders.
  const std::vector<uint32_t> owner_3 = {3};
  const std::vector<uint64_t> share(values.begin(), values.begin() + kShamirChunks);
  EXPECT_TRUE(s.store->Add(SharedSecret::kSelfMaskSeed, 4, owner_3, share).ok());
  EXPECT_EQ(s.store->Add(SharedSecret::kSelfMaskSeed, 5, owner_3, share).code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tacit::secagg
