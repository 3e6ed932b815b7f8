#include "client/runtime/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "client/runtime/audit_line.h"
#include "common/json_parse.h"

namespace tacit::runtime {
namespace {

nlohmann::json RpcJson(const RpcTally& tally) {
  nlohmann::json rpc = nlohmann::json::object();
  for (const auto& [name, bytes] : tally.by_rpc) {
    rpc[name] = {{"calls", bytes.calls}, {"up", bytes.up}, {"down", bytes.down}};
  }
  return rpc;
}

absl::Status AppendLine(const std::string& dir, const nlohmann::json& line) {
  const std::string text = line.dump() + "\n";
  const std::string path = absl::StrCat(dir, "/", kAuditLogFile);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  ssize_t written = ::write(fd, text.data(), text.size());
  int synced = ::fsync(fd);
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()) || synced != 0) {
    return absl::InternalError(absl::StrCat("cannot append to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Calls `visit` with every whole line of the log, oldest first.
template <typename Visit>
void ForEachLine(const std::string& dir, Visit visit) {
  std::ifstream in(absl::StrCat(dir, "/", kAuditLogFile));
  std::string line;
  while (std::getline(in, line)) {
    absl::StatusOr<nlohmann::json> parsed = ParseJson(line, "audit line");
    if (!parsed.ok() || !parsed->is_object()) continue;  // a line torn by a crash
    visit(*std::move(parsed));
  }
}

}  // namespace

void RpcTally::Count(const std::string& rpc, int64_t up_bytes, int64_t down_bytes) {
  RpcBytes& bytes = by_rpc[rpc];
  ++bytes.calls;
  bytes.up += up_bytes;
  bytes.down += down_bytes;
}

void RpcTally::Add(const RpcTally& other) {
  for (const auto& [name, bytes] : other.by_rpc) {
    RpcBytes& mine = by_rpc[name];
    mine.calls += bytes.calls;
    mine.up += bytes.up;
    mine.down += bytes.down;
  }
}

int64_t RpcTally::up() const {
  int64_t sum = 0;
  for (const auto& entry : by_rpc) sum += entry.second.up;
  return sum;
}

int64_t RpcTally::down() const {
  int64_t sum = 0;
  for (const auto& entry : by_rpc) sum += entry.second.down;
  return sum;
}

int64_t RpcTally::calls() const {
  int64_t sum = 0;
  for (const auto& entry : by_rpc) sum += entry.second.calls;
  return sum;
}

absl::Status AppendAudit(const std::string& dir, const AuditEntry& entry) {
  nlohmann::json line;
  line["kind"] = "round";
  line["time"] = cli::FormatTime(cli::NowMs());
  line["task"] = entry.task;
  if (entry.noise_multiplier >= 0) line["noise_multiplier"] = entry.noise_multiplier;
  line["round"] = entry.round;
  line["round_id"] = entry.round_id;
  line["model_version"] = entry.model_version;
  line["sent"] = nlohmann::json::array();
  for (const SentMessage& m : entry.sent) {
    line["sent"].push_back({{"message", m.message}, {"bytes", m.bytes}});
  }
  line["rpc"] = RpcJson(entry.rpc);
  line["bytes_up"] = entry.rpc.up();
  line["bytes_down"] = entry.rpc.down();
  line["masked"] = "yes";
  line["outcome"] = entry.outcome;
  line["included"] = entry.included;
  return AppendLine(dir, line);
}

absl::Status AppendCheckInBurst(const std::string& dir, const CheckInBurst& burst) {
  nlohmann::json line;
  line["kind"] = "check_ins";
  line["time"] = cli::FormatTime(cli::NowMs());
  line["since"] = burst.since;
  line["rpc"] = RpcJson(burst.rpc);
  line["bytes_up"] = burst.rpc.up();
  line["bytes_down"] = burst.rpc.down();
  line["last_reply"] = burst.last_reply;
  return AppendLine(dir, line);
}

absl::StatusOr<std::vector<nlohmann::json>> ReadAudit(const std::string& dir, size_t limit) {
  std::deque<nlohmann::json> lines;
  ForEachLine(dir, [&](nlohmann::json line) {
    lines.push_back(std::move(line));
    if (lines.size() > limit) lines.pop_front();
  });
  return std::vector<nlohmann::json>(lines.begin(), lines.end());
}

absl::StatusOr<AuditTotals> SumAudit(const std::string& dir) {
  AuditTotals totals;
  // "2026-11-25 12:00:03 UTC": the first 10 characters are the UTC day.
  const std::string today = cli::FormatTime(cli::NowMs()).substr(0, 10);
  ForEachLine(dir, [&](const nlohmann::json& json) {
    const AuditLineCounts line = CountAuditLine(json);
    totals.bytes_up += line.bytes_up;
    totals.bytes_down += line.bytes_down;
    totals.check_ins += line.check_ins;
    if (!line.joined) return;
    ++totals.rounds_joined;
    if (line.time.substr(0, 10) == today) ++totals.rounds_joined_today;
  });
  return totals;
}

}  // namespace tacit::runtime
