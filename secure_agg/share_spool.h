#pragma once

// Fixed-size records of a round held outside the heap, in a temporary file
// with no name laid out as a grid: each recipient (or secret) owns a row of
// slots, so what the server keeps in memory is a count per client, not a
// record number per share. Two kinds: the share-keys phase's encrypted
// shares (HeldShare, 128 bytes: 39 KiB per client at the degree the default
// plan picks for 1,000 clients, k = 312) and the unmasking phase's sealed
// Shamir shares (secure_agg/server/unmasking_shares.h); docs/performance.md,
// "Server memory per client".
//
// The share-keys records are ciphertexts under keys only their sender and
// recipient can derive (AES-GCM, secure_agg/crypto.h): the file shows
// nothing the server does not already see. The file is opened with O_TMPFILE
// where the file system supports it, else created and unlinked at once, so
// it has no name, leaves nothing behind after a crash and goes with the last
// reference. Slots never written are holes: they read as zeros and take no
// disk space.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {

// Bytes of one share ciphertext: sender, recipient, two shares, GCM tag.
inline constexpr size_t kShareCiphertextBytes = 16 + 2 * kShamirChunks * 8 + kGcmTagBytes;

// One encrypted share held for its recipient from the share-keys phase until
// its delivery is fetched: a ShareSpool's record. Fixed-size fields:
// a degree-312 round of 1,000 clients holds ~312,000 of them, which as
// protobuf messages cost ~4x the 128 bytes here (measured in the
// coordinator's peak memory).
struct HeldShare {
  uint32_t sender = 0;
  std::array<char, kGcmNonceBytes> nonce{};
  std::array<char, kShareCiphertextBytes> ciphertext{};
};
static_assert(sizeof(HeldShare) == 128, "a held share is one 128-byte record");

// Fixed-size records in a file with no name: the I/O under RecordSpool.
class SpoolFile {
 public:
  // In `dir`, or $TMPDIR (else /tmp) when empty; `what` names the records in
  // errors. FailedPrecondition naming the folder when no file can be made.
  static absl::StatusOr<std::unique_ptr<SpoolFile>> Create(const std::string& dir,
                                                           size_t record_bytes, std::string what);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  // Writes `count` records from `records` at record number `first`. One
  // writer at a time (the server's state machine holds its lock).
  absl::Status WriteAt(uint64_t first, const void* records, size_t count);
  // The `count` consecutive records from `first` into `out` (room for all of
  // them); Internal when they reach past the highest record written. Safe
  // from several threads, and beside WriteAt for records already written.
  absl::Status ReadRun(uint64_t first, size_t count, void* out) const;
  // One past the highest record written.
  uint64_t size() const { return end_.load(); }

 private:
  SpoolFile(int fd, std::string dir, size_t record_bytes, std::string what)
      : fd_(fd), dir_(std::move(dir)), record_bytes_(record_bytes), what_(std::move(what)) {}
  int fd_;
  std::string dir_;  // for error messages
  size_t record_bytes_;
  std::string what_;
  std::atomic<uint64_t> end_{0};
};

// Typed records of one kind: HeldShare for the share-keys phase's encrypted
// shares (ShareSpool), SealedShare for the unmasking phase's Shamir shares
// (secure_agg/server/unmasking_shares.h).
template <typename Record>
class RecordSpool {
  static_assert(std::is_trivially_copyable_v<Record>, "records are written byte for byte");

 public:
  static absl::StatusOr<std::shared_ptr<RecordSpool>> Create(
      const std::string& dir = "", std::string what = "round's encrypted shares") {
    auto file = SpoolFile::Create(dir, sizeof(Record), std::move(what));
    if (!file.ok()) return file.status();
    return std::shared_ptr<RecordSpool>(new RecordSpool(*std::move(file)));
  }
  absl::Status WriteAt(uint64_t first, absl::Span<const Record> records) {
    return file_->WriteAt(first, records.data(), records.size());
  }
  absl::Status ReadRun(uint64_t first, size_t count, std::vector<Record>* out) const {
    out->resize(count);
    return file_->ReadRun(first, count, out->data());
  }
  uint64_t size() const { return file_->size(); }

 private:
  explicit RecordSpool(std::unique_ptr<SpoolFile> file) : file_(std::move(file)) {}
  std::unique_ptr<SpoolFile> file_;
};

using ShareSpool = RecordSpool<HeldShare>;

}  // namespace tacit::secagg
