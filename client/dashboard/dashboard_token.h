#pragma once

// The local privacy page's per-session secret: 32 bytes from the CSPRNG,
// shown as 64 hex characters in the URL `tacit-client dashboard` prints.
// Anything else on the laptop (another user's process, a web page the owner
// visits that aims requests at 127.0.0.1) does not know it, so it cannot read
// the page or press its buttons. Compared in constant time.

#include <string>

#include "absl/status/statusor.h"

namespace tacit::dashboard {

inline constexpr size_t kTokenBytes = 32;

absl::StatusOr<std::string> NewSessionToken();

// Whether `given` is `expected`, in time independent of where they differ
// (CRYPTO_memcmp); false for any other length.
bool TokenMatches(const std::string& expected, const std::string& given);

}  // namespace tacit::dashboard
