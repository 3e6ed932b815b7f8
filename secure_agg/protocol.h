#pragma once

// Pieces both the client and the server compute the same way: session id,
// derived keys and seeds, associated data, share encoding and the masked
// vector's wire packing. Keeping them in one place keeps the two sides in step.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/bit_packing.h"
#include "secure_agg/crypto.h"
#include "secure_agg/phase.h"
#include "secure_agg/shamir.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

// Distinct error codes the protocol uses on both sides, so callers can tell
// what went wrong without parsing messages.
//   NotFound            message from a client not in the cohort
//   FailedPrecondition  message for another phase (out of phase), or a client dropped earlier
//   AlreadyExists       duplicate message in a phase
//   Unauthenticated     wrong session id or round id (not from this session)
//   DataLoss            a share ciphertext failed authentication (tampered),
//                       reconstructed shares do not match the advertised key, or
//                       the decoded sum lies outside the round's bounds (a
//                       client masked a crafted vector)
//   InvalidArgument     malformed content (sizes, ids, lengths)
//   Aborted             the round failed: fewer than threshold clients survived
//   PermissionDenied    a client refused a request that would reveal both of one
//                       client's secrets (or its own masking key)

// Views a protobuf bytes field as bytes, and back.
inline absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string ToString(absl::Span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// The phase a message belongs to: the server's message opens it (round_start
// opens advertise_keys, ..., unmasking_request opens unmasking) and the
// client's message answers it. nullopt when the message has no step set.
std::optional<Phase> PhaseOf(v1::SecAggServerToClient::StepCase step);
std::optional<Phase> PhaseOf(v1::SecAggClientToServer::StepCase step);
// The message step that opens / answers `phase`.
v1::SecAggServerToClient::StepCase ServerStepOf(Phase phase);
v1::SecAggClientToServer::StepCase ClientStepOf(Phase phase);
// For error messages: the step's field name from the proto descriptor and its
// phase, e.g. "shares_delivery (masked_input)"; "an empty message" when unset.
std::string DescribeStep(const v1::SecAggServerToClient& message);
std::string DescribeStep(const v1::SecAggClientToServer& message);

// SHA-256 over the round's common parameters and every advertised key, each
// field length-prefixed (8-byte little-endian length, then the bytes), clients
// in increasing id order.
absl::StatusOr<Bytes> ComputeSessionId(const v1::SecAggRoundParameters& params,
                                       absl::Span<const v1::SecAggPublicKeys> sorted_keys);

// What a client signs when it advertises its keys (secure_agg/identity.h):
// the label "tacit secagg advertise v1", the round's common parameters as in
// the session id (round, threshold, ..., graph seed; not the per-client
// neighbour list), the client id and both public keys, each field
// length-prefixed as above. Not a protobuf serialization: two encoders must
// never disagree on the bytes signed.
Bytes AdvertisementSigningInput(const v1::SecAggRoundParameters& params, uint32_t client_id,
                                const std::string& encryption_public_key,
                                const std::string& masking_public_key);

// What a client signs in the consistency check: the label "tacit secagg
// survivors v1", the session id, the round and the survivor list (U3) in the
// order given (strictly increasing ids), each field length-prefixed as above.
Bytes SurvivorListSigningInput(absl::Span<const uint8_t> session_id, uint64_t round_id,
                               absl::Span<const uint32_t> survivor_ids);

// Seed of the pairwise mask between a and b (symmetric): HKDF(X25519 secret,
// salt = session id, info = label || round).
absl::StatusOr<SecretKey> PairwiseMaskSeed(const SecretKey& agreed_secret,
                                           absl::Span<const uint8_t> session_id, uint64_t round_id);

// AES-GCM key for shares sent from `sender` to `recipient` (one key per
// direction, so a nonce is never reused under one key).
absl::StatusOr<SecretKey> ShareEncryptionKey(const SecretKey& agreed_secret,
                                             absl::Span<const uint8_t> session_id,
                                             uint64_t round_id, uint32_t sender,
                                             uint32_t recipient);

// Associated data of a share ciphertext: session id, round and both ids.
Bytes ShareAssociatedData(absl::Span<const uint8_t> session_id, uint64_t round_id, uint32_t sender,
                          uint32_t recipient);

// Plaintext of a share: sender, recipient, self-mask share, masking-key share.
Bytes EncodeSharePlaintext(uint32_t sender, uint32_t recipient, const ShamirShare& self_mask,
                           const ShamirShare& masking_key);
struct DecodedShares {
  ShamirShare self_mask;
  ShamirShare masking_key;
};
absl::StatusOr<DecodedShares> DecodeSharePlaintext(absl::Span<const uint8_t> plaintext,
                                                   uint32_t expected_sender,
                                                   uint32_t expected_recipient);

// +1 when a < b, else -1: client a adds +PRG(s_ab) and b adds -PRG(s_ab).
inline int PairSign(uint32_t a, uint32_t b) { return a < b ? 1 : -1; }

// Word width of the mask generator (masking.h): 4 bytes when bits <= 32,
// else 8. Not the wire size: masked inputs are packed at exactly `bits` bits
// per element (bit_packing.h, PackedBytes).
inline size_t ElementWidth(uint32_t bits) { return bits <= 32 ? 4 : 8; }

}  // namespace tacit::secagg
