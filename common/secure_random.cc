#include "common/secure_random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>

namespace tacit {

absl::Status SecureRandomBytes(absl::Span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const size_t step = std::min<size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(step)) != 1) {
      return absl::InternalError(
          "OpenSSL RAND_bytes failed: the system's random source is unavailable");
    }
    done += step;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> SecureRandomU64() {
  uint8_t bytes[8];
  absl::Status status = SecureRandomBytes(absl::MakeSpan(bytes));
  if (!status.ok()) return status;
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  Zeroize(absl::MakeSpan(bytes));
  return value;
}

void Zeroize(absl::Span<uint8_t> bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace tacit
