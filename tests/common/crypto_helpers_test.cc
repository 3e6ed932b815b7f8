// The common crypto helpers: SHA-256 against FIPS 180-2 vectors (one-shot and
// incremental over arbitrary splits), the CSPRNG and zeroization.

#include <random>
#include <string>

#include "common/secure_random.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(*Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(*Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(*Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalEqualsOneShotForRandomSplits) {
  std::mt19937 rng(7);  // test data layout only; nothing secret
  for (int trial = 0; trial < 50; ++trial) {
    std::string data(rng() % 3000, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    Sha256Hasher hasher;
    size_t at = 0;
    while (at < data.size()) {
      size_t n = std::min<size_t>(data.size() - at, rng() % 200);
      hasher.Update(std::string_view(data).substr(at, n));
      at += n;
    }
    auto incremental = hasher.Finish();
    ASSERT_TRUE(incremental.ok());
    EXPECT_EQ(DigestHex(*incremental), *Sha256Hex(data)) << "trial " << trial;
  }
}

TEST(Sha256Test, SpentHasherReportsAnError) {
  Sha256Hasher hasher;
  ASSERT_TRUE(hasher.Update("x").Finish().ok());
  EXPECT_EQ(hasher.Finish().status().code(), absl::StatusCode::kInternal);
}

TEST(SecureRandomTest, FillsAndDiffers) {
  std::array<uint8_t, 64> a{}, b{};
  ASSERT_TRUE(SecureRandomBytes(absl::MakeSpan(a)).ok());
  ASSERT_TRUE(SecureRandomBytes(absl::MakeSpan(b)).ok());
  EXPECT_NE(a, b);
  auto x = SecureRandomU64(), y = SecureRandomU64();
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_NE(*x, *y);
  Zeroize(absl::MakeSpan(a));
  EXPECT_EQ(a, (std::array<uint8_t, 64>{}));
}

}  // namespace
}  // namespace tacit
