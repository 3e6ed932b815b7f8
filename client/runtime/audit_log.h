#pragma once

// The owner's record of exactly what left this laptop: one JSON line per
// round in <client dir>/audit.log, appended and fsync'ed before the daemon
// moves on, e.g.
//   {"time":"2026-11-25 12:00:03 UTC","round":3,"round_id":7,"model_version":2,
//    "sent":[{"message":"advertise_keys","bytes":75},...],"bytes_up":1234,
//    "bytes_down":567,"masked":"yes","outcome":"committed","included":true}
// Only secure aggregation messages are ever sent: public keys, encrypted key
// shares for other clients, the masked (clipped, noised) update and key
// shares to unmask the sum; never events or raw updates.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit::runtime {

struct SentMessage {
  std::string message;  // advertise_keys | share_keys | masked_input | unmasking
  int64_t bytes = 0;
};

struct AuditEntry {
  int64_t round = 0;
  uint64_t round_id = 0;
  int64_t model_version = 0;  // the version trained from
  std::vector<SentMessage> sent;
  int64_t bytes_up = 0;    // everything sent in the round, protocol framing included
  int64_t bytes_down = 0;  // everything received, the model download included
  std::string outcome;     // committed | abandoned | left: <reason>
  bool included = false;   // the update is in the committed sum
};

inline constexpr const char* kAuditLogFile = "audit.log";

absl::Status AppendAudit(const std::string& dir, const AuditEntry& entry);
// The newest `limit` lines, oldest first.
absl::StatusOr<std::vector<nlohmann::json>> ReadAudit(const std::string& dir, size_t limit);

}  // namespace tacit::runtime
