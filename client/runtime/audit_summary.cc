#include "client/runtime/audit_summary.h"

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli_context.h"
#include "client/runtime/audit_line.h"
#include "client/runtime/audit_log.h"
#include "client/runtime/privacy_ledger.h"
#include "common/json_parse.h"
#include "common/status_macros.h"

namespace tacit::runtime {
namespace {

// The lines' times are UTC ("2026-11-25 12:00:03 UTC"); an unreadable time
// lands on the day "unknown" rather than disappearing.
std::string DayOf(const std::string& time) {
  const std::optional<int64_t> ms = cli::ParseFormattedTime(time);
  return ms ? cli::LocalDay(*ms) : "unknown";
}

void AddRound(const AuditLineCounts& line, AuditDay* day) {
  if (line.joined) {
    ++day->joined;
  } else if (line.declined) {
    ++day->declined;
  } else {
    ++day->failed;
  }
  if (line.noise_multiplier) day->noise_multipliers.insert(*line.noise_multiplier);
}

// The ledger as it stood at the end of local day `day`: records written
// later are dropped (an unreadable time is kept: never under-count).
Ledger LedgerUntilEndOf(const Ledger& ledger, const std::string& day) {
  auto by_then = [&day](const std::string& time) {
    const std::optional<int64_t> ms = cli::ParseFormattedTime(time);
    return !ms || cli::LocalDay(*ms) <= day;
  };
  Ledger until;
  for (const CoinRecord& coin : ledger.coins) {
    if (by_then(coin.time)) until.coins.push_back(coin);
  }
  for (const ParticipationRecord& p : ledger.participations) {
    if (by_then(p.time)) until.participations.push_back(p);
  }
  return until;
}

std::string Noise(const std::set<double>& z) {
  if (z.empty()) return "-";
  std::vector<std::string> shown;
  for (double value : z) shown.push_back(absl::StrFormat("%g", value));
  return absl::StrJoin(shown, ",");
}

std::string EpsilonText(double epsilon) {
  if (epsilon < 0) return "-";
  return std::isfinite(epsilon) ? absl::StrFormat("%.3f", epsilon) : std::string("infinite");
}

}  // namespace

absl::StatusOr<std::vector<AuditDay>> SummarizeAudit(const std::string& dir, double delta) {
  std::map<std::pair<std::string, std::string>, AuditDay> rows;
  TACIT_ASSIGN_OR_RETURN(std::vector<nlohmann::json> lines,
                         ReadAudit(dir, std::numeric_limits<size_t>::max()));
  for (const nlohmann::json& json : lines) {
    const AuditLineCounts line = CountAuditLine(json);
    const std::string local_day = DayOf(line.time);
    AuditDay& day = rows[{local_day, line.task}];
    day.day = local_day;
    day.task = line.task;
    day.bytes_up += line.bytes_up;
    day.bytes_down += line.bytes_down;
    day.check_ins += line.check_ins;
    day.downloads += line.downloads;
    if (line.round) AddRound(line, &day);
  }
  TACIT_ASSIGN_OR_RETURN(Ledger ledger, ReadLedger(dir));
  std::vector<AuditDay> days;
  for (auto& [key, day] : rows) {
    if (!day.task.empty()) {
      const Ledger until = LedgerUntilEndOf(ledger, day.day);
      absl::StatusOr<TaskSpending> spent = SpentOnTask(until, day.task, delta);
      if (spent.ok() && spent->participations + spent->windows > 0) day.epsilon = spent->epsilon();
    }
    days.push_back(std::move(day));
  }
  return days;
}

nlohmann::json AuditSummaryJson(const std::vector<AuditDay>& days) {
  nlohmann::json rows = nlohmann::json::array();
  for (const AuditDay& d : days) {
    nlohmann::json row = {{"day", d.day},
                          {"task", d.task},
                          {"rounds_joined", d.joined},
                          {"rounds_declined", d.declined},
                          {"rounds_failed", d.failed},
                          {"model_downloads", d.downloads},
                          {"check_ins", d.check_ins},
                          {"bytes_up", d.bytes_up},
                          {"bytes_down", d.bytes_down},
                          {"noise_multipliers", d.noise_multipliers}};
    // JSON has no infinity: an unbounded epsilon is a string.
    if (d.epsilon >= 0) {
      row["epsilon_by_end_of_day"] =
          std::isfinite(d.epsilon) ? nlohmann::json(d.epsilon) : nlohmann::json("infinite");
    } else {
      row["epsilon_by_end_of_day"] = nullptr;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void PrintAuditSummary(std::ostream& out, const std::vector<AuditDay>& days) {
  if (days.empty()) {
    out << "  nothing has left this laptop: the audit log is empty\n";
    return;
  }
  out << absl::StrFormat("  %-10s  %-18s %6s %8s %6s %9s %9s %10s %10s %6s %8s\n", "day", "task",
                         "joined", "declined", "failed", "downloads", "check-ins", "sent",
                         "received", "z", "epsilon");
  AuditDay total;
  for (const AuditDay& d : days) {
    out << absl::StrFormat("  %-10s  %-18s %6d %8d %6d %9d %9d %10s %10s %6s %8s\n", d.day,
                           d.task.empty() ? "(check-ins only)" : d.task, d.joined, d.declined,
                           d.failed, d.downloads, d.check_ins, cli::FormatBytes(d.bytes_up),
                           cli::FormatBytes(d.bytes_down), Noise(d.noise_multipliers),
                           EpsilonText(d.epsilon));
    total.joined += d.joined;
    total.declined += d.declined;
    total.failed += d.failed;
    total.downloads += d.downloads;
    total.check_ins += d.check_ins;
    total.bytes_up += d.bytes_up;
    total.bytes_down += d.bytes_down;
  }
  out << absl::StrFormat("  %-10s  %-18s %6d %8d %6d %9d %9d %10s %10s\n", "total", "",
                         total.joined, total.declined, total.failed, total.downloads,
                         total.check_ins, cli::FormatBytes(total.bytes_up),
                         cli::FormatBytes(total.bytes_down));
  out << "  (days in local time; z: the task's noise multiplier; epsilon: spent on the task by "
         "the end of the day, computed on this laptop from its privacy ledger)\n";
}

}  // namespace tacit::runtime
