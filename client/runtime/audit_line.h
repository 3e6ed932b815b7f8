#pragma once

// One audit line (audit_log.h) read the one way every view of the log reads
// it: SumAudit (status, the daily cap, leave) and SummarizeAudit (`tacit-client
// audit`, the local privacy page) add up these counts, so they cannot
// disagree on what a line says. A field the owner or a crash damaged counts
// as absent; it never stops the reader.

#include <cstdint>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"

namespace tacit::runtime {

struct AuditLineCounts {
  // A round line (else a burst of check-ins); lines written before the
  // "kind" key are round lines when they name a round.
  bool round = false;
  std::string task;  // round lines: the task, "(unknown task)" when missing
  std::string time;  // as written, UTC ("2026-11-25 12:00:03 UTC")
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t check_ins = 0;                   // check_in calls
  int64_t downloads = 0;                   // download_model calls
  bool joined = false;                     // round lines: a secure aggregation message left
  bool declined = false;                   // round lines, not joined: refused or paused
  std::optional<double> noise_multiplier;  // round lines: the task's z
};

AuditLineCounts CountAuditLine(const nlohmann::json& line);

}  // namespace tacit::runtime
