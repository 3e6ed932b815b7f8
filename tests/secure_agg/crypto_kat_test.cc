// Known-answer tests for the EVP wrappers: RFC 7748 (X25519), RFC 5869 (HKDF),
// NIST GCM spec test cases (AES-256-GCM) and SP 800-38A F.5.5 (AES-256-CTR).

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "secure_agg/crypto.h"

namespace tacit::secagg {
namespace {

Bytes Hex(const std::string& hex) {
  std::string raw = absl::HexStringToBytes(hex);
  return Bytes(raw.begin(), raw.end());
}
std::string ToHex(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(std::string(b.begin(), b.end()));
}

TEST(X25519Kat, Rfc7748Section5_2ScalarMult) {
  SecretKey scalar(Hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
  Bytes u = Hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  auto out = X25519Agree(scalar, u);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ToHex(out->span()), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST(X25519Kat, Rfc7748Section6_1DiffieHellman) {
  SecretKey alice(Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  SecretKey bob(Hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  auto alice_pub = X25519PublicFromPrivate(alice);
  auto bob_pub = X25519PublicFromPrivate(bob);
  ASSERT_TRUE(alice_pub.ok() && bob_pub.ok());
  EXPECT_EQ(ToHex(*alice_pub), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(*bob_pub), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const std::string shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  auto ab = X25519Agree(alice, *bob_pub);
  auto ba = X25519Agree(bob, *alice_pub);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(ToHex(ab->span()), shared);
  EXPECT_EQ(ToHex(ba->span()), shared);
}

TEST(X25519Kat, RejectsLowOrderPointAndBadLength) {
  SecretKey alice(Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  EXPECT_FALSE(X25519Agree(alice, Bytes(32, 0)).ok());  // the zero point: all-zero secret
  EXPECT_EQ(X25519Agree(alice, Bytes(31, 9)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(X25519, GeneratedPairsAgree) {
  auto a = GenerateX25519KeyPair();
  auto b = GenerateX25519KeyPair();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*X25519PublicFromPrivate(a->private_key), a->public_key);
  auto ab = X25519Agree(a->private_key, b->public_key);
  auto ba = X25519Agree(b->private_key, a->public_key);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_TRUE(ConstantTimeEquals(ab->span(), ba->span()));
}

TEST(HkdfKat, Rfc5869TestCase1) {
  auto okm = HkdfSha256(Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                        Hex("000102030405060708090a0b0c"), Hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(ToHex(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfKat, Rfc5869TestCase3EmptySaltAndInfo) {
  auto okm = HkdfSha256(Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), {}, {}, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(ToHex(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(AesGcmKat, NistTestCase13EmptyPlaintext) {
  SecretKey key(Bytes(32, 0));
  auto sealed = AesGcmSeal(key, Bytes(12, 0), {}, {});
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(ToHex(*sealed), "530f8afbc74536b9a963b4f1c4cb738b");
}

TEST(AesGcmKat, NistTestCase14OneBlock) {
  SecretKey key(Bytes(32, 0));
  auto sealed = AesGcmSeal(key, Bytes(12, 0), Bytes(16, 0), {});
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(ToHex(*sealed), "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
}

TEST(AesGcmKat, NistTestCase16WithAssociatedData) {
  SecretKey key(Hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  Bytes iv = Hex("cafebabefacedbaddecaf888");
  Bytes pt = Hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b39");
  Bytes aad = Hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056"
      "828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b";
  auto sealed = AesGcmSeal(key, iv, pt, aad);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(ToHex(*sealed), expected);
  auto opened = AesGcmOpen(key, iv, *sealed, aad);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, pt);
  // Any flipped bit in ciphertext, tag or associated data fails authentication.
  for (size_t i : {size_t{0}, sealed->size() - 1}) {
    Bytes bad = *sealed;
    bad[i] ^= 1;
    EXPECT_EQ(AesGcmOpen(key, iv, bad, aad).status().code(), absl::StatusCode::kDataLoss);
  }
  Bytes bad_aad = aad;
  bad_aad[3] ^= 0x80;
  EXPECT_EQ(AesGcmOpen(key, iv, *sealed, bad_aad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(AesCtrKat, Sp800_38aF55Aes256Ctr) {
  SecretKey key(Hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"));
  auto stream = AesCtrStream::CreateWithCounterBlock(key, Hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
  ASSERT_TRUE(stream.ok());
  Bytes data = Hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a"
      "52eff69f2445df4f9b17ad2b417be66c3710");
  // Applied in two uneven pieces: the stream must continue across calls.
  ASSERT_TRUE(stream->Apply(absl::MakeSpan(data).subspan(0, 20)).ok());
  ASSERT_TRUE(stream->Apply(absl::MakeSpan(data).subspan(20)).ok());
  EXPECT_EQ(ToHex(data),
            "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017"
            "ba2d84988ddfc9c58db67aada613c2dd08457941a6");
}

TEST(AesCtr, SeekingToABlockMatchesTheContinuousStream) {
  SecretKey key(Hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"));
  auto stream = AesCtrStream::Create(key, 0);
  ASSERT_TRUE(stream.ok());
  Bytes all(64);
  ASSERT_TRUE(stream->Generate(absl::MakeSpan(all)).ok());
  auto seeked = AesCtrStream::Create(key, 3);
  ASSERT_TRUE(seeked.ok());
  Bytes last(16);
  ASSERT_TRUE(seeked->Generate(absl::MakeSpan(last)).ok());
  EXPECT_EQ(Bytes(all.begin() + 48, all.end()), last);
}

TEST(Sha256Kat, Abc) {
  const std::string abc = "abc";
  auto d = Sha256(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ToHex(*d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tacit::secagg
