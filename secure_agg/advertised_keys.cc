#include "secure_agg/advertised_keys.h"

#include <openssl/crypto.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "secure_agg/crypto.h"
#include "secure_agg/identity.h"
#include "secure_agg/protocol.h"

namespace tacit::secagg {
namespace {

using Point = std::array<uint8_t, kKeyBytes>;

// libsodium's blocklist (crypto_scalarmult/curve25519/ref10/x25519_ref10.c).
constexpr std::array<Point, 7> kSmallOrderPoints = {{
    // 0 (order 4)
    {0},
    // 1 (order 1)
    {1},
    // 325606250916557431795983626356110631294008115727848805560023387167927233504 (order 8)
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    // 39382357235489614581723060781553021112529911719440698176882885853963445705823 (order 8)
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
     0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
     0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    // p - 1 (order 2)
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // p (= 0)
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // p + 1 (= 1)
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}};

}  // namespace

bool IsSmallOrderX25519Point(absl::Span<const uint8_t> public_key) {
  if (public_key.size() != kKeyBytes) return false;
  Point key;
  std::copy(public_key.begin(), public_key.end(), key.begin());
  key[kKeyBytes - 1] &= 0x7f;  // X25519 ignores the top bit (RFC 7748)
  bool found = false;
  for (const Point& p : kSmallOrderPoints)
    found |= CRYPTO_memcmp(key.data(), p.data(), kKeyBytes) == 0;
  return found;
}

absl::Status CheckAdvertisedKeyPair(uint32_t client_id, const std::string& encryption_public_key,
                                    const std::string& masking_public_key) {
  if (encryption_public_key.size() != kKeyBytes || masking_public_key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("client ", client_id, "'s advertised public keys must be 32 bytes each, got ",
                     encryption_public_key.size(), " and ", masking_public_key.size()));
  }
  if (IsSmallOrderX25519Point(AsBytes(encryption_public_key)) ||
      IsSmallOrderX25519Point(AsBytes(masking_public_key))) {
    return absl::InvalidArgumentError(
        absl::StrCat("client ", client_id,
                     " advertised a small-order X25519 key; it is dropped from the round"));
  }
  if (ConstantTimeEquals(AsBytes(encryption_public_key), AsBytes(masking_public_key))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "client ", client_id,
        " advertised the same key for encryption and masking; it is dropped from the round"));
  }
  return absl::OkStatus();
}

absl::Status CheckAdvertisementSignature(const IdentityVerifier& verifier,
                                         const v1::SecAggRoundParameters& params,
                                         const v1::SecAggPublicKeys& keys) {
  if (keys.identity().empty() || keys.signature().empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client ", keys.client_id(), " advertised unsigned keys; it is dropped from the round"));
  }
  const Bytes signed_input = AdvertisementSigningInput(
      params, keys.client_id(), keys.encryption_public_key(), keys.masking_public_key());
  absl::Status verified =
      verifier.Verify(AsBytes(keys.identity()), signed_input, AsBytes(keys.signature()));
  if (!verified.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client ", keys.client_id(), "'s advertisement fails its identity check (",
                     verified.message(), "); it is dropped from the round"));
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
