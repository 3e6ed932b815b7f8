#pragma once

// SHA-256 through OpenSSL's EVP digest API, the one helper set the tree uses
// (model files, checkpoints, secure aggregation transcripts). Every EVP return
// code is checked: a failure is an Internal error, never a silent wrong digest.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tacit {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// Incremental hashing over several pieces (no concatenated copy needed).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  Sha256Hasher& Update(absl::Span<const uint8_t> bytes);
  Sha256Hasher& Update(std::string_view bytes);
  // The digest; Internal when any EVP call failed. The hasher is spent after.
  absl::StatusOr<Sha256Digest> Finish();

 private:
  struct State;
  State* state_;
};

absl::StatusOr<Sha256Digest> Sha256(absl::Span<const uint8_t> bytes);
absl::StatusOr<Sha256Digest> Sha256(std::string_view bytes);
// Lower-case hex of the digest (64 characters).
absl::StatusOr<std::string> Sha256Hex(std::string_view bytes);
std::string DigestHex(const Sha256Digest& digest);

}  // namespace tacit
