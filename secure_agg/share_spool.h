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

  // Appends `count` records from `records` consecutively; the first one's
  // number. One writer at a time (the server's state machine holds its lock).
  absl::StatusOr<uint32_t> Append(const void* records, size_t count);
  // The records `numbers`, in that order, into `out` (room for all of them).
  // Safe from several threads, and beside Append for records already appended.
  absl::Status Read(absl::Span<const uint32_t> numbers, void* out) const;
  // Writes `count` records at record number `first` (a file laid out as a
  // grid: the slots never written read as zeros and take no disk space).
  absl::Status WriteAt(uint64_t first, const void* records, size_t count);
  // The `count` consecutive records from `first`, into `out`.
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

  absl::Status WriteBytes(const void* records, size_t count, uint64_t at_record);
  absl::Status ReadBytes(uint64_t at_record, size_t count, void* out) const;
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
  absl::StatusOr<uint32_t> Append(absl::Span<const Record> records) {
    return file_->Append(records.data(), records.size());
  }
  absl::Status Read(absl::Span<const uint32_t> numbers, std::vector<Record>* out) const {
    out->resize(numbers.size());
    return file_->Read(numbers, out->data());
  }
  absl::Status WriteAt(uint64_t first, absl::Span<const Record> records) {
    return file_->WriteAt(first, records.data(), records.size());
  }
  absl::Status ReadRun(uint64_t first, size_t count, std::vector<Record>* out) const {
    out->resize(count);
    return file_->ReadRun(first, count, out->data());
  }
  uint32_t size() const { return static_cast<uint32_t>(file_->size()); }

 private:
  explicit RecordSpool(std::unique_ptr<SpoolFile> file) : file_(std::move(file)) {}
  std::unique_ptr<SpoolFile> file_;
};

using ShareSpool = RecordSpool<HeldShare>;

}  // namespace tacit::secagg
