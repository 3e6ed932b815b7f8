#pragma once

// The checks every advertised pair of X25519 public keys must pass, made the
// same way by the server (which drops the client that advertised them) and by
// each client (which drops that neighbour). Without them one enrolled client
// aborts every round it joins: a small-order key makes its neighbours' key
// agreement fail, and a repeated key breaks the session's key separation.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

// True for the encodings of the small-order points of Curve25519 (order 1, 2,
// 4 or 8, and their non-canonical forms p - 1, p, p + 1), compared with the
// ignored top bit cleared, as libsodium's blocklist does. X25519 with such a
// key gives a shared secret every party can predict (all zero).
bool IsSmallOrderX25519Point(absl::Span<const uint8_t> public_key);

// InvalidArgument naming `client_id` when either key is not 32 bytes, is a
// small-order point, or the two keys are equal.
absl::Status CheckAdvertisedKeyPair(uint32_t client_id, const std::string& encryption_public_key,
                                    const std::string& masking_public_key);

class IdentityVerifier;  // secure_agg/identity.h

// Unauthenticated naming `keys.client_id()` unless `keys` carries an identity
// the verifier trusts and that identity's signature over
// AdvertisementSigningInput(params, client id, both keys). A missing
// identity or signature fails too: a verifying party accepts no unsigned key.
absl::Status CheckAdvertisementSignature(const IdentityVerifier& verifier,
                                         const v1::SecAggRoundParameters& params,
                                         const v1::SecAggPublicKeys& keys);

}  // namespace tacit::secagg
