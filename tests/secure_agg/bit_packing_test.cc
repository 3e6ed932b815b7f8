// The masked vector's wire format (secure_agg/bit_packing.h): residues at
// exactly `bits` bits each, checked against a bit-by-bit reference at every
// width 1..62, and the refusals of a crafted buffer (wrong length, nonzero
// padding) that must leave the server's sum untouched.

#include "secure_agg/bit_packing.h"

#include <map>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/server.h"

namespace tacit::secagg {
namespace {

// Independent model of the layout: bit j of residue i is bit i * bits + j of
// the stream, and stream bit p is bit p % 8 of byte p / 8.
std::vector<uint8_t> ReferencePack(const std::vector<uint64_t>& residues, uint32_t bits) {
  std::vector<uint8_t> out((residues.size() * bits + 7) / 8, 0);
  for (size_t i = 0; i < residues.size(); ++i) {
    for (uint32_t j = 0; j < bits; ++j) {
      const size_t p = i * bits + j;
      if ((residues[i] >> j) & 1) out[p / 8] = static_cast<uint8_t>(out[p / 8] | (1u << (p % 8)));
    }
  }
  return out;
}

// Lengths that end on and off a byte and a 64-bit word, plus random ones.
std::vector<size_t> Lengths(std::mt19937_64& rng) {
  std::vector<size_t> lengths = {0, 1, 2, 3, 5, 7, 8, 9, 63, 64, 65};
  for (int i = 0; i < 6; ++i) lengths.push_back(rng() % 300);
  return lengths;
}

// Random residues below 2^bits, with 0 and 2^bits - 1 among them.
std::vector<uint64_t> Residues(std::mt19937_64& rng, size_t n, uint32_t bits) {
  const uint64_t max = (uint64_t{1} << bits) - 1;
  std::vector<uint64_t> v(n);
  for (uint64_t& x : v) x = rng() & max;
  if (n > 0) v[rng() % n] = 0;
  if (n > 1) v[rng() % n] = max;
  return v;
}

TEST(BitPacking, MatchesTheBitLevelLayoutAndRoundTripsAtEveryWidth) {
  std::mt19937_64 rng(20261130);
  for (uint32_t bits = 1; bits <= kMaxPackedBits; ++bits) {
    for (size_t n : Lengths(rng)) {
      SCOPED_TRACE(testing::Message() << "bits " << bits << ", " << n << " residues");
      const std::vector<uint64_t> v = Residues(rng, n, bits);
      absl::StatusOr<std::vector<uint8_t>> packed = PackResidues(v, bits);
      ASSERT_TRUE(packed.ok()) << packed.status();
      ASSERT_EQ(packed->size(), (n * bits + 7) / 8);
      ASSERT_EQ(PackedBytes(n, bits), packed->size());
      ASSERT_EQ(*packed, ReferencePack(v, bits));
      if (bits <= 32) {  // the client packs 32-bit words when bits <= 32
        const std::vector<uint32_t> narrow(v.begin(), v.end());
        std::vector<uint8_t> from_narrow(packed->size());
        ASSERT_TRUE(PackResiduesInto(narrow, bits, from_narrow.data()).ok());
        ASSERT_EQ(from_narrow, *packed);
      }
      absl::StatusOr<std::vector<uint64_t>> unpacked = UnpackResidues(*packed, n, bits);
      ASSERT_TRUE(unpacked.ok()) << unpacked.status();
      ASSERT_EQ(*unpacked, v);
      std::vector<uint64_t> sum(n, 7);
      ASSERT_TRUE(AddPackedResidues(*packed, bits, absl::MakeSpan(sum)).ok());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(sum[i], v[i] + 7);
    }
  }
}

TEST(BitPacking, HighBitsOfAnUnreducedResidueDoNotSpillIntoItsNeighbour) {
  for (uint32_t bits : {5u, 20u, 32u, 40u, 61u}) {
    const std::vector<uint64_t> v = {~uint64_t{0}, 0, 1};
    auto packed = PackResidues(v, bits);
    ASSERT_TRUE(packed.ok());
    auto unpacked = UnpackResidues(*packed, v.size(), bits);
    ASSERT_TRUE(unpacked.ok()) << unpacked.status();
    EXPECT_EQ(*unpacked, (std::vector<uint64_t>{(uint64_t{1} << bits) - 1, 0, 1})) << bits;
  }
}

TEST(BitPacking, RefusesAWrongLengthWithoutTouchingTheSum) {
  std::mt19937_64 rng(16);
  for (uint32_t bits = 1; bits <= kMaxPackedBits; ++bits) {
    const size_t n = 1 + rng() % 100;
    const std::vector<uint64_t> v = Residues(rng, n, bits);
    std::vector<uint8_t> packed = *PackResidues(v, bits);
    std::vector<uint8_t> longer = packed;
    longer.push_back(0);
    std::vector<uint8_t> shorter(packed.begin(), packed.end() - 1);
    const std::vector<uint64_t> before(n, 3);
    for (const auto& wrong : {longer, shorter}) {
      std::vector<uint64_t> sum = before;
      absl::Status s = AddPackedResidues(wrong, bits, absl::MakeSpan(sum));
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bits << " bits, " << n;
      EXPECT_NE(s.message().find(absl::StrCat("expected ", packed.size())), std::string::npos) << s;
      EXPECT_EQ(sum, before);
      EXPECT_FALSE(UnpackResidues(wrong, n, bits).ok());
    }
  }
}

TEST(BitPacking, RefusesEveryNonzeroPaddingBitWithoutTouchingTheSum) {
  std::mt19937_64 rng(62);
  int padded_cases = 0;
  for (uint32_t bits = 1; bits <= kMaxPackedBits; ++bits) {
    for (size_t n : Lengths(rng)) {
      const uint32_t used = static_cast<uint32_t>(n * bits % 8);
      if (used == 0) continue;  // the last byte is full: no padding
      ++padded_cases;
      const std::vector<uint8_t> packed = *PackResidues(Residues(rng, n, bits), bits);
      for (uint32_t bit = used; bit < 8; ++bit) {
        std::vector<uint8_t> crafted = packed;
        crafted.back() = static_cast<uint8_t>(crafted.back() | (1u << bit));
        std::vector<uint64_t> sum(n, 9);
        absl::Status s = AddPackedResidues(crafted, bits, absl::MakeSpan(sum));
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
            << bits << " bits, " << n << " residues, padding bit " << bit;
        EXPECT_NE(s.message().find("padding"), std::string::npos) << s;
        EXPECT_EQ(sum, std::vector<uint64_t>(n, 9));
        EXPECT_FALSE(UnpackResidues(crafted, n, bits).ok());
      }
    }
  }
  EXPECT_GT(padded_cases, 500);
}

TEST(BitPacking, RefusesWidthsOutsideOneToSixtyTwo) {
  const std::vector<uint64_t> v = {1, 2};
  for (uint32_t bits : {0u, 63u, 64u}) {
    EXPECT_EQ(PackResidues(v, bits).status().code(), absl::StatusCode::kInvalidArgument);
    std::vector<uint64_t> sum(2, 0);
    EXPECT_EQ(AddPackedResidues(std::vector<uint8_t>(16, 0), bits, absl::MakeSpan(sum)).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// A client's masked input on the wire is ceil((vector_length + 1) * bits / 8)
// bytes (the input plus the weight element), at random widths and lengths.
TEST(BitPacking, MaskedInputIsExactlyItsPackedSize) {
  std::mt19937_64 rng(4096);
  for (int trial = 0; trial < 8; ++trial) {
    ServerConfig cfg;
    cfg.round_id = 1 + trial;
    cfg.cohort_ids = {1, 2, 3};
    cfg.threshold = 2;
    cfg.bits = 16 + static_cast<uint32_t>(rng() % 47);
    cfg.clip_bound = 1.0;
    cfg.vector_length = 1 + rng() % 50;
    auto scale = LargestSafeScale(cfg.bits, cfg.clip_bound, cfg.max_weight, 3);
    ASSERT_TRUE(scale.ok()) << scale.status();
    cfg.scale = *scale;
    SCOPED_TRACE(testing::Message() << "bits " << cfg.bits << ", length " << cfg.vector_length);
    auto server = SecAggServer::Create(cfg);
    ASSERT_TRUE(server.ok()) << server.status();
    std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
    for (uint32_t id : cfg.cohort_ids) {
      ClientConfig cc;
      cc.client_id = id;
      cc.min_threshold_fraction = 0.5;
      auto client = SecAggClient::Create(cc, std::vector<float>(cfg.vector_length, 0.5f), 1.0);
      ASSERT_TRUE(client.ok()) << client.status();
      clients[id] = *std::move(client);
    }
    auto phase = (*server)->AdvancePhase();
    ASSERT_TRUE(phase.ok()) << phase.status();
    // Advertise keys, share keys, then the masked input.
    for (int step = 0; step < 3; ++step) {
      for (const auto& [id, message] : phase->messages.ToMap()) {
        auto reply = clients[id]->HandleServerMessage(message);
        ASSERT_TRUE(reply.ok()) << reply.status();
        if (step == 2) {
          ASSERT_TRUE(reply->has_masked_input());
          EXPECT_EQ(reply->masked_input().packed().size(),
                    ((cfg.vector_length + 1) * cfg.bits + 7) / 8);
        }
        ASSERT_TRUE((*server)->HandleClientMessage(id, *reply).ok());
      }
      phase = (*server)->AdvancePhase();
      ASSERT_TRUE(phase.ok()) << phase.status();
    }
  }
}

}  // namespace
}  // namespace tacit::secagg
