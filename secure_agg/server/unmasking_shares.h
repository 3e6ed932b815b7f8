#pragma once

// The Shamir shares the unmasking phase's replies carry, held until each
// secret is rebuilt: sealed (AES-256-GCM) under a key drawn for this round
// that exists only in the server's memory and is wiped with it, in a file
// with no name (share_spool.h). The file is a grid, one row of `holders`
// slots per (kind, owner), so an owner's shares are one contiguous run and
// the heap holds only a count per owner (8 bytes a client). In the heap a
// share was 48 bytes and a survivor's self-mask seed has k + 1 of them
// (41 x 48 bytes = 1.9 KiB per client at k = 40, 15 KiB at k = 312): the
// largest per-client cost of the round. On disk a share reads as random
// bytes to anyone without the key; the server itself is meant to learn these
// secrets, so the file shows nothing beyond what the protocol gives it. A
// record changed on disk fails to open (DataLoss), never a wrong secret.

#include <array>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"
#include "secure_agg/shamir.h"
#include "secure_agg/share_spool.h"

namespace tacit::secagg {

// The secret a share is of: a survivor's self-mask seed or a dropped
// client's masking key (sealed into the record's associated data, so a
// record cannot be passed off as the other kind).
enum class SharedSecret : uint8_t { kSelfMaskSeed = 0, kMaskingKey = 1 };

// One share as written: owner and holder in the clear (they are the
// associated data), the number of the seal (the GCM nonce: every seal under
// the round's key gets the next number, so a slot written again after a
// failed write never reuses a nonce), the field elements sealed.
struct SealedShare {
  uint32_t owner = 0;
  uint32_t holder = 0;
  uint64_t seal = 0;
  std::array<uint8_t, kShamirChunks * 8 + kGcmTagBytes> sealed{};
};
static_assert(sizeof(SealedShare) == 72, "a sealed share is one 72-byte record");

class UnmaskingShares {
 public:
  // `owners`: every id whose secret can be shared, strictly increasing (the
  // round's cohort; the caller keeps it alive); `holders`: how many clients
  // can hold a share of one secret (the neighbourhood). Draws the sealing
  // key (RAND_bytes) and opens the file in $TMPDIR.
  static absl::StatusOr<std::unique_ptr<UnmaskingShares>> Create(absl::Span<const uint32_t> owners,
                                                                 size_t holders);

  // Holds one reply's shares of `kind` from `holder`: for each i, the share
  // of secret `owners[i]` (distinct) with field elements
  // values[i * kShamirChunks ...]. All or nothing: on an error no share of
  // the reply is counted. Internal for an owner outside the round, an owner
  // twice or more than `holders` shares of one secret (the caller checks
  // what was asked first).
  absl::Status Add(SharedSecret kind, uint32_t holder, absl::Span<const uint32_t> owners,
                   absl::Span<const uint64_t> values);
  // How many shares of `owner`'s secret of `kind` are held.
  size_t Count(SharedSecret kind, uint32_t owner) const;
  // Those shares, opened, in the order they arrived (the caller wipes them).
  absl::StatusOr<std::vector<ShamirShare>> Open(SharedSecret kind, uint32_t owner) const;
  // Forgets every share (their counts); the key goes with the object.
  void Clear();

 private:
  UnmaskingShares(SecretKey key, std::shared_ptr<RecordSpool<SealedShare>> spool,
                  absl::Span<const uint32_t> owners, size_t holders)
      : key_(std::move(key)),
        spool_(std::move(spool)),
        owners_(owners),
        holders_(holders),
        counts_(2 * owners.size(), 0) {}
  // The row of (kind, owner) in the grid, or -1 for an id outside the round.
  int64_t RowOf(SharedSecret kind, uint32_t owner) const;

  SecretKey key_;  // wipes itself
  std::shared_ptr<RecordSpool<SealedShare>> spool_;
  absl::Span<const uint32_t> owners_;
  size_t holders_;
  std::vector<uint32_t> counts_;  // shares held, by row
  uint64_t seals_ = 0;            // seals made under key_: the next nonce
};

}  // namespace tacit::secagg
