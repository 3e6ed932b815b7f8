#pragma once

// The owner's record of exactly what left this laptop and what came back:
// <client dir>/audit.log, one JSON line per round and one per burst of
// check-ins that did not lead to a round, appended and fsync'ed before the
// daemon moves on. Every RPC is counted, both directions, as the serialized
// size of its protobuf message (ByteSizeLong(); gRPC's and TLS's framing
// excluded), per purpose:
//   check_in        CheckInRequest up, CheckInResponse down
//   download_model  DownloadModelRequest up, every ModelChunk down
//   next_message    NextMessageRequest up, NextMessageResponse down (each
//                   "wait" and re-poll counted)
//   submit          SubmitRequest up (the secure aggregation reply), SubmitResponse down
//   round_result    RoundResultRequest up, RoundResultResponse down (each poll)
// A round line, e.g.
//   {"kind":"round","time":"2026-11-25 12:00:03 UTC","task":"next-command",
//    "noise_multiplier":1.1,"round":3,"round_id":7,
//    "model_version":2,"sent":[{"message":"advertise_keys","bytes":75},...],
//    "rpc":{"check_in":{"calls":1,"up":12,"down":900},"submit":{...},...},
//    "bytes_up":1234,"bytes_down":567,"masked":"yes","outcome":"committed",
//    "included":true}
// counts the check-in that brought the assignment too. Check-ins answered
// with retry-after (or failed) are summed into one line per burst:
//   {"kind":"check_ins","time":"...","since":"...","rpc":{"check_in":{...}},
//    "bytes_up":..,"bytes_down":..,"last_reply":"cohort full"}
// written when the burst ends (an assignment, the daemon stopping) or after
// an hour of check-ins. The only round content ever sent is secure
// aggregation messages: public keys, encrypted key shares for other clients,
// the masked (clipped, noised) update and key shares to unmask the sum; never
// events or raw updates. A round the participation policy refuses has
// outcome "refused: <why>" (a declined round: the line is written whatever
// was or was not sent, the check-in that brought it counted); one the owner
// paused mid-way has outcome "paused: <why>" and lists only what left before.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit::runtime {

// RPC purposes, as the audit log names them.
inline constexpr const char* kRpcCheckIn = "check_in";
inline constexpr const char* kRpcDownloadModel = "download_model";
inline constexpr const char* kRpcNextMessage = "next_message";
inline constexpr const char* kRpcSubmit = "submit";
inline constexpr const char* kRpcRoundResult = "round_result";

struct RpcBytes {
  int64_t calls = 0;
  int64_t up = 0;    // serialized request bytes sent
  int64_t down = 0;  // serialized response bytes received (all stream messages)
};

// Per purpose; Count adds one call.
struct RpcTally {
  std::map<std::string, RpcBytes> by_rpc;
  void Count(const std::string& rpc, int64_t up, int64_t down);
  void Add(const RpcTally& other);
  int64_t up() const;
  int64_t down() const;
  int64_t calls() const;
};

struct SentMessage {
  std::string message;  // advertise_keys | share_keys | masked_input | unmasking
  int64_t bytes = 0;
};

struct AuditEntry {
  std::string task;  // the assigned task's name; empty when the task was unreadable
  // The task's noise multiplier z (the noise of the secure sum, in units of
  // the clip norm); -1 when unknown (the task was refused before it was read).
  double noise_multiplier = -1;
  int64_t round = 0;
  uint64_t round_id = 0;
  int64_t model_version = 0;  // the version trained from
  std::vector<SentMessage> sent;
  RpcTally rpc;           // every call of the round, the check-in included
  std::string outcome;    // committed | abandoned: .. | left: .. | refused: ..
  bool included = false;  // the update is in the committed sum
};

// Check-ins that did not lead to a round.
struct CheckInBurst {
  std::string since;  // the time of the first
  RpcTally rpc;
  std::string last_reply;  // the coordinator's last retry-after reason or the error
};

inline constexpr const char* kAuditLogFile = "audit.log";

absl::Status AppendAudit(const std::string& dir, const AuditEntry& entry);
absl::Status AppendCheckInBurst(const std::string& dir, const CheckInBurst& burst);
// The newest `limit` lines, oldest first.
absl::StatusOr<std::vector<nlohmann::json>> ReadAudit(const std::string& dir, size_t limit);

// The whole log summed, for `tacit-client status` and the daily cap.
struct AuditTotals {
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t check_ins = 0;
  int64_t rounds_joined = 0;        // rounds in which the laptop sent a secure aggregation message
  int64_t rounds_joined_today = 0;  // of them, on the current UTC day
};
absl::StatusOr<AuditTotals> SumAudit(const std::string& dir);

}  // namespace tacit::runtime
