#include "client/dashboard/dashboard_token.h"

#include <openssl/crypto.h>

#include <array>
#include <cstdint>

#include "common/secure_random.h"
#include "common/status_macros.h"

namespace tacit::dashboard {

absl::StatusOr<std::string> NewSessionToken() {
  std::array<uint8_t, kTokenBytes> bytes{};
  TACIT_RETURN_IF_ERROR(SecureRandomBytes(absl::MakeSpan(bytes)));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(2 * bytes.size());
  for (uint8_t byte : bytes) {
    token.push_back(kHex[byte >> 4]);
    token.push_back(kHex[byte & 0x0f]);
  }
  Zeroize(absl::MakeSpan(bytes));
  return token;
}

bool TokenMatches(const std::string& expected, const std::string& given) {
  // The length is public (always 64); only the content is compared in constant time.
  if (expected.empty() || given.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace tacit::dashboard
