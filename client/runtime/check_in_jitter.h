#pragma once

// Timing randomness for the fleet client: the jitter before each check-in
// and the spread of backoff and retry-after waits.
//
// Why jitter the check-in: a laptop checks in only when its own eligibility
// holds (idle, on AC, unmetered, not paused). Checking in the moment that
// becomes true would tell the coordinator when the owner stopped typing or
// plugged in, to the second, under the device certificate: presence
// tracking by another name. A uniform delay in [0, max) drawn afresh each
// time hides that moment within the window; eligibility is read again after
// the delay, so the laptop still never checks in while ineligible. The
// draw comes from the OS CSPRNG (RAND_bytes), so the coordinator cannot
// predict it from earlier check-ins as it could a seeded <random> engine.

#include "absl/status/statusor.h"

namespace tacit::runtime {

// Uniform in [0, 1), 53 random bits from RAND_bytes.
absl::StatusOr<double> SecureUnitRandom();

}  // namespace tacit::runtime
