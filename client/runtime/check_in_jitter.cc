#include "client/runtime/check_in_jitter.h"

#include "common/secure_random.h"
#include "common/status_macros.h"

namespace tacit::runtime {

absl::StatusOr<double> SecureUnitRandom() {
  TACIT_ASSIGN_OR_RETURN(uint64_t bits, SecureRandomU64());
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace tacit::runtime
