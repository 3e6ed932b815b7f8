#pragma once

// The encrypted shares of a round's share_keys phase, held for their
// recipients until each delivery is fetched, in a temporary file with no
// name: the server keeps 4 bytes per share in memory (the record's number)
// instead of its 128-byte record. At the degree the default plan picks for
// 1,000 clients (k = 312) that is 39 KiB of records per client moved out of
// the coordinator's heap, and the heap then grows by well under 2 KiB per
// client (docs/performance.md, "Server memory per client").
//
// The records are ciphertexts under keys only their sender and recipient can
// derive (AES-GCM, secure_agg/crypto.h): the file shows nothing the server
// does not already see. It is opened with O_TMPFILE where the file system
// supports it, else created and unlinked at once, so it has no name, leaves
// nothing behind after a crash and goes with the last reference.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {

// Bytes of one share ciphertext: sender, recipient, two shares, GCM tag.
inline constexpr size_t kShareCiphertextBytes = 16 + 2 * kShamirChunks * 8 + kGcmTagBytes;

// One encrypted share held for its recipient from the share-keys phase until
// its delivery is fetched: the record a ShareSpool writes. Fixed-size fields:
// a degree-312 round of 1,000 clients holds ~312,000 of them, which as
// protobuf messages cost ~4x the 128 bytes here (measured in the
// coordinator's peak memory).
struct HeldShare {
  uint32_t sender = 0;
  std::array<char, kGcmNonceBytes> nonce{};
  std::array<char, kShareCiphertextBytes> ciphertext{};
};
static_assert(sizeof(HeldShare) == 128, "a held share is one 128-byte record");

class ShareSpool {
 public:
  // In `dir`, or $TMPDIR (else /tmp) when empty. FailedPrecondition naming
  // the folder when no file can be made there.
  static absl::StatusOr<std::shared_ptr<ShareSpool>> Create(const std::string& dir = "");
  ~ShareSpool();
  ShareSpool(const ShareSpool&) = delete;
  ShareSpool& operator=(const ShareSpool&) = delete;

  // Appends `shares` as consecutive records; the first one's number. One
  // writer at a time (the server's state machine holds its lock).
  absl::StatusOr<uint32_t> Append(absl::Span<const HeldShare> shares);
  // The records `numbers`, in that order, into `out` (replaced). Safe to
  // call from several threads, and beside Append for records already
  // appended.
  absl::Status Read(absl::Span<const uint32_t> numbers, std::vector<HeldShare>* out) const;
  uint32_t size() const { return count_.load(); }

 private:
  ShareSpool(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_;
  std::string dir_;  // for error messages
  std::atomic<uint32_t> count_{0};
};

}  // namespace tacit::secagg
